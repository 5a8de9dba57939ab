"""The SLA settings endpoints: policies, the business-hours calendar, the audit trail, access."""

from datetime import date, timedelta

import pytest

from tests.factories import API, CUSTOMER_ROLES, DEFAULT_SLA, count_rows
from ticketdesk.sla.models import SettingsAudit

SLA = f"{API}/tickets/sla"
CONFIG = f"{SLA}/config"
HOURS = f"{SLA}/business-hours"
AUDIT = f"{SLA}/audit"

DEFAULT_POLICIES = [
    {
        "priority": "urgent",
        "first_response_time": 15,
        "resolution_time": 240,
        "applies_business_hours_only": False,
    },
    {
        "priority": "high",
        "first_response_time": 60,
        "resolution_time": 480,
        "applies_business_hours_only": False,
    },
    {
        "priority": "medium",
        "first_response_time": 240,
        "resolution_time": 1440,
        "applies_business_hours_only": False,
    },
    {
        "priority": "low",
        "first_response_time": 480,
        "resolution_time": 2880,
        "applies_business_hours_only": False,
    },
]
NINE_TO_FIVE = [["09:00", "17:00"]]
DEFAULT_HOURS = {
    "timezone": "UTC",
    "weekly": {
        "mon": NINE_TO_FIVE,
        "tue": NINE_TO_FIVE,
        "wed": NINE_TO_FIVE,
        "thu": NINE_TO_FIVE,
        "fri": NINE_TO_FIVE,
        "sat": [],
        "sun": [],
    },
    "holidays": [],
}
SPLIT_DAY = [["08:00", "12:00"], ["13:00", "17:30"]]
BERLIN_HOURS = {
    "timezone": "Europe/Berlin",
    "weekly": {
        "mon": SPLIT_DAY,
        "tue": SPLIT_DAY,
        "wed": SPLIT_DAY,
        "thu": SPLIT_DAY,
        "fri": [["08:00", "12:00"], ["13:00", "15:00"]],
        "sat": [["10:00", "14:00"]],
        "sun": [],
    },
    "holidays": ["2025-12-25", "2025-12-26"],
}


def policy_body(**fields):
    return {
        "priority": "high",
        "first_response_time": 30,
        "resolution_time": 300,
        "applies_business_hours_only": True,
        **fields,
    }


def hours_body(**fields):
    return {**BERLIN_HOURS, **fields}


def with_day(day, windows):
    return hours_body(weekly={**BERLIN_HOURS["weekly"], day: windows})


def get_ok(client, path, actor):
    response = client.get(path, headers=actor.headers)
    assert response.status_code == 200, response.text
    return response.json()


def assert_422_naming(response, field):
    assert response.status_code == 422, response.text
    locs = [error["loc"] for error in response.json()["detail"]]
    assert any(loc[:2] == ["body", field] for loc in locs), locs


def assert_unchanged(client, admin):
    assert get_ok(client, CONFIG, admin) == DEFAULT_POLICIES
    assert get_ok(client, HOURS, admin) == DEFAULT_HOURS
    assert count_rows(client, SettingsAudit) == 0


# --- policies ---------------------------------------------------------------------------------


def test_defaults_most_urgent_first(client, people):
    assert get_ok(client, CONFIG, people["super_admin"]) == DEFAULT_POLICIES
    # The shared test defaults say the same thing as API.md.
    assert {
        p["priority"]: (p["first_response_time"], p["resolution_time"]) for p in DEFAULT_POLICIES
    } == DEFAULT_SLA


@pytest.mark.parametrize("spelling", ["high", "HIGH", "High"])
def test_change_one_policy(client, people, spelling):
    admin = people["super_admin"]
    response = client.post(CONFIG, json=policy_body(priority=spelling), headers=admin.headers)
    assert response.status_code == 200, response.text
    changed = {
        "priority": "high",
        "first_response_time": 30,
        "resolution_time": 300,
        "applies_business_hours_only": True,
    }
    assert response.json() == changed
    assert get_ok(client, CONFIG, admin) == [
        DEFAULT_POLICIES[0],
        changed,
        DEFAULT_POLICIES[2],
        DEFAULT_POLICIES[3],
    ]


def test_bounds_are_inclusive(client, people):
    admin = people["super_admin"]
    body = policy_body(priority="low", first_response_time=1, resolution_time=525_600)
    response = client.post(CONFIG, json=body, headers=admin.headers)
    assert response.status_code == 200, response.text
    assert response.json()["first_response_time"] == 1
    assert response.json()["resolution_time"] == 525_600
    assert get_ok(client, CONFIG, admin)[3]["resolution_time"] == 525_600


def test_omitted_business_hours_flag_keeps_current_value(client, people):
    admin = people["super_admin"]
    first = client.post(CONFIG, json=policy_body(), headers=admin.headers)
    assert first.json()["applies_business_hours_only"] is True
    body = {"priority": "high", "first_response_time": 45, "resolution_time": 400}
    response = client.post(CONFIG, json=body, headers=admin.headers)
    assert response.status_code == 200, response.text
    assert response.json() == {**body, "applies_business_hours_only": True}
    # And on a policy still at the default, leaving it out keeps false.
    body = {"priority": "low", "first_response_time": 100, "resolution_time": 1000}
    response = client.post(CONFIG, json=body, headers=admin.headers)
    assert response.json() == {**body, "applies_business_hours_only": False}
    # Sent explicitly, false switches it off again.
    response = client.post(
        CONFIG, json=policy_body(applies_business_hours_only=False), headers=admin.headers
    )
    assert response.json()["applies_business_hours_only"] is False
    assert get_ok(client, CONFIG, admin)[1]["applies_business_hours_only"] is False


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("first_response_time", 0),
        ("first_response_time", -1),
        ("resolution_time", 0),
        ("resolution_time", -60),
        ("first_response_time", 10.5),
        ("first_response_time", 10.0),
        ("resolution_time", "10"),
        ("first_response_time", "ten"),
        ("first_response_time", True),
        ("first_response_time", 525_601),
        ("resolution_time", 10**12),
        ("first_response_time", [10]),
        ("priority", "critical"),
        ("priority", ""),
        ("priority", 1),
        ("priority", None),
        ("first_response_time", None),
        ("resolution_time", None),
        ("applies_business_hours_only", None),
        ("applies_business_hours_only", [True]),
    ],
)
def test_invalid_policy_changes_nothing(client, people, field, value):
    admin = people["super_admin"]
    response = client.post(CONFIG, json=policy_body(**{field: value}), headers=admin.headers)
    assert_422_naming(response, field)
    assert_unchanged(client, admin)


@pytest.mark.parametrize("field", ["priority", "first_response_time", "resolution_time"])
def test_required_policy_fields(client, people, field):
    admin = people["super_admin"]
    body = policy_body()
    del body[field]
    assert_422_naming(client.post(CONFIG, json=body, headers=admin.headers), field)
    assert_unchanged(client, admin)


def test_unknown_policy_field(client, people):
    admin = people["super_admin"]
    response = client.post(CONFIG, json=policy_body(warning_time=5), headers=admin.headers)
    assert_422_naming(response, "warning_time")
    assert_unchanged(client, admin)


@pytest.mark.parametrize("body", [[], "high", None])
def test_policy_body_must_be_an_object(client, people, body):
    admin = people["super_admin"]
    response = client.post(CONFIG, json=body, headers=admin.headers)
    assert response.status_code == 422, response.text
    assert_unchanged(client, admin)


# --- business hours ---------------------------------------------------------------------------


def test_default_business_hours(client, people):
    assert get_ok(client, HOURS, people["super_admin"]) == DEFAULT_HOURS


def test_berlin_calendar_round_trips(client, people):
    admin = people["super_admin"]
    response = client.put(HOURS, json=BERLIN_HOURS, headers=admin.headers)
    assert response.status_code == 200, response.text
    assert response.json() == BERLIN_HOURS
    assert get_ok(client, HOURS, admin) == BERLIN_HOURS
    # Policies are separate settings and stay as they were.
    assert get_ok(client, CONFIG, admin) == DEFAULT_POLICIES


def test_business_hours_are_returned_in_canonical_form(client, people):
    """Windows sorted, holidays sorted, a missing weekday closed, "24:00" ending a day."""
    admin = people["super_admin"]
    body = {
        "timezone": "America/New_York",
        "weekly": {"mon": [["13:00", "24:00"], ["00:00", "06:00"]], "wed": NINE_TO_FIVE},
        "holidays": ["2025-12-25", "2025-07-04"],
    }
    response = client.put(HOURS, json=body, headers=admin.headers)
    assert response.status_code == 200, response.text
    expected = {
        "timezone": "America/New_York",
        "weekly": {
            "mon": [["00:00", "06:00"], ["13:00", "24:00"]],
            "tue": [],
            "wed": NINE_TO_FIVE,
            "thu": [],
            "fri": [],
            "sat": [],
            "sun": [],
        },
        "holidays": ["2025-07-04", "2025-12-25"],
    }
    assert response.json() == expected
    assert get_ok(client, HOURS, admin) == expected


CLOSED_WEEK = {day: [] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (hours_body(timezone="Mars/Olympus_Mons"), "timezone"),
        (hours_body(timezone="Berlin"), "timezone"),
        (hours_body(timezone="../../etc/passwd"), "timezone"),
        (hours_body(timezone=""), "timezone"),
        (hours_body(timezone=None), "timezone"),
        (hours_body(timezone=1), "timezone"),
        (with_day("mon", [["22:00", "02:00"]]), "weekly"),
        (with_day("tue", [["09:00", "13:00"], ["12:00", "17:00"]]), "weekly"),
        (with_day("wed", [["09:00", "17:00"], ["09:00", "17:00"]]), "weekly"),
        (with_day("thu", [["9am", "5pm"]]), "weekly"),
        (with_day("thu", [["09:00", "25:00"]]), "weekly"),
        (with_day("thu", [["24:00", "24:00"]]), "weekly"),
        (with_day("thu", [["09:00", "09:00"]]), "weekly"),
        (with_day("thu", [["09:00"]]), "weekly"),
        (with_day("thu", [["09:00", "12:00", "17:00"]]), "weekly"),
        (with_day("thu", "09:00-17:00"), "weekly"),
        (with_day("monday", NINE_TO_FIVE), "weekly"),
        (hours_body(weekly=CLOSED_WEEK), "weekly"),
        (hours_body(weekly={}), "weekly"),
        (hours_body(weekly=None), "weekly"),
        (hours_body(holidays=["2025-13-01"]), "holidays"),
        (hours_body(holidays=["christmas"]), "holidays"),
        (hours_body(holidays=["2025-02-30"]), "holidays"),
        (hours_body(holidays="2025-12-25"), "holidays"),
        (hours_body(holidays=[20251225]), "holidays"),
        (hours_body(lunch_break=True), "lunch_break"),
    ],
)
def test_invalid_calendar_is_rejected_whole(client, people, body, field):
    admin = people["super_admin"]
    assert_422_naming(client.put(HOURS, json=body, headers=admin.headers), field)
    assert_unchanged(client, admin)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        # Words that merely contain "zone" or "holiday" must not confuse which field is at fault.
        (hours_body(holidays=["ozone-day"]), "holidays"),
        (with_day("zone", NINE_TO_FIVE), "weekly"),
        (with_day("mon", [["holiday", "17:00"]]), "weekly"),
        (hours_body(timezone="Holiday/Island"), "timezone"),
    ],
)
def test_rejection_names_the_field_at_fault(client, people, body, field):
    admin = people["super_admin"]
    assert_422_naming(client.put(HOURS, json=body, headers=admin.headers), field)
    assert_unchanged(client, admin)


@pytest.mark.parametrize("field", ["timezone", "weekly"])
def test_required_calendar_fields(client, people, field):
    admin = people["super_admin"]
    body = hours_body()
    del body[field]
    assert_422_naming(client.put(HOURS, json=body, headers=admin.headers), field)
    assert_unchanged(client, admin)


def test_holidays_may_be_left_out(client, people):
    admin = people["super_admin"]
    body = hours_body()
    del body["holidays"]
    response = client.put(HOURS, json=body, headers=admin.headers)
    assert response.status_code == 200, response.text
    assert response.json() == {**BERLIN_HOURS, "holidays": []}


# --- a business-hours target has to end somewhere ------------------------------------------

ONE_MINUTE_A_WEEK = {"timezone": "UTC", "weekly": {"sun": [["00:00", "00:01"]]}, "holidays": []}


def test_policy_whose_target_the_calendar_cannot_reach(client, people, fake_clock):
    admin = people["super_admin"]
    # No policy counts business minutes yet, so any usable calendar is accepted.
    response = client.put(HOURS, json=ONE_MINUTE_A_WEEK, headers=admin.headers)
    assert response.status_code == 200, response.text
    # 525,600 Sunday minutes would take some 10,000 years: past the last date there is.
    body = policy_body(priority="low", first_response_time=480, resolution_time=525_600)
    response = client.post(CONFIG, json=body, headers=admin.headers)
    assert_422_naming(response, "resolution_time")
    assert get_ok(client, CONFIG, admin) == DEFAULT_POLICIES
    assert count_rows(client, SettingsAudit) == 1  # the calendar only

    body = policy_body(priority="low", first_response_time=480, resolution_time=2880)
    assert client.post(CONFIG, json=body, headers=admin.headers).status_code == 200
    response = client.post(
        f"{API}/tickets/",
        json={"subject": "Slow", "description": "Very slow.", "priority": "low"},
        headers=people["individual"].headers,
    )
    assert response.status_code == 201, response.text
    # One minute on each Sunday from 2025-01-12: the 480th ends 479 weeks later, the 2880th
    # 2879 weeks later.
    ticket = response.json()
    assert ticket["first_response_due_at"] == "2034-03-19T00:01:00Z"
    assert ticket["resolution_due_at"] == "2080-03-17T00:01:00Z"


def test_calendar_that_cannot_reach_a_business_target(client, people, fake_clock):
    admin = people["super_admin"]
    body = policy_body(priority="low", first_response_time=480, resolution_time=525_600)
    assert client.post(CONFIG, json=body, headers=admin.headers).status_code == 200
    response = client.put(HOURS, json=ONE_MINUTE_A_WEEK, headers=admin.headers)
    assert_422_naming(response, "weekly")
    assert get_ok(client, HOURS, admin) == DEFAULT_HOURS
    assert count_rows(client, SettingsAudit) == 1  # the policy only


def test_holidays_that_leave_no_business_time_for_years(client, people, fake_clock):
    admin = people["super_admin"]
    assert client.post(CONFIG, json=policy_body(), headers=admin.headers).status_code == 200
    # Open on Mondays only, and the next 1000 Mondays (from 2025-01-06) are all holidays.
    mondays = [(date(2025, 1, 6) + timedelta(weeks=n)).isoformat() for n in range(1000)]
    body = {"timezone": "UTC", "weekly": {"mon": NINE_TO_FIVE}, "holidays": mondays}
    response = client.put(HOURS, json=body, headers=admin.headers)
    assert_422_naming(response, "holidays")
    assert get_ok(client, HOURS, admin) == DEFAULT_HOURS


# --- audit ------------------------------------------------------------------------------------


def test_audit_lists_every_change_with_before_and_after(client, people, fake_clock):
    admin = people["super_admin"]
    assert get_ok(client, AUDIT, admin) == []

    response = client.post(CONFIG, json=policy_body(priority="HIGH"), headers=admin.headers)
    assert response.status_code == 200, response.text
    fake_clock.advance(minutes=5)
    response = client.put(HOURS, json=BERLIN_HOURS, headers=admin.headers)
    assert response.status_code == 200, response.text
    fake_clock.advance(minutes=5)
    body = {"priority": "high", "first_response_time": 20, "resolution_time": 200}
    response = client.post(CONFIG, json=body, headers=admin.headers)
    assert response.status_code == 200, response.text
    # Refused changes leave no trace.
    client.post(CONFIG, json=policy_body(resolution_time=0), headers=admin.headers)
    client.put(HOURS, json=hours_body(timezone="Nowhere/Town"), headers=admin.headers)
    client.post(CONFIG, json=policy_body(), headers=people["agent"].headers)

    audit = get_ok(client, AUDIT, admin)
    assert [{k: v for k, v in row.items() if k != "id"} for row in audit] == [
        {
            "changed_by_id": admin.id,
            "entity": "sla_policy:high",
            "before": DEFAULT_POLICIES[1],
            "after": {
                "priority": "high",
                "first_response_time": 30,
                "resolution_time": 300,
                "applies_business_hours_only": True,
            },
            "changed_at": "2025-01-06T10:00:00Z",
        },
        {
            "changed_by_id": admin.id,
            "entity": "business_hours",
            "before": DEFAULT_HOURS,
            "after": BERLIN_HOURS,
            "changed_at": "2025-01-06T10:05:00Z",
        },
        {
            "changed_by_id": admin.id,
            "entity": "sla_policy:high",
            "before": {
                "priority": "high",
                "first_response_time": 30,
                "resolution_time": 300,
                "applies_business_hours_only": True,
            },
            "after": {
                "priority": "high",
                "first_response_time": 20,
                "resolution_time": 200,
                "applies_business_hours_only": True,
            },
            "changed_at": "2025-01-06T10:10:00Z",
        },
    ]
    ids = [row["id"] for row in audit]
    assert ids == sorted(ids) and len(set(ids)) == 3


# --- access -----------------------------------------------------------------------------------

ENDPOINTS = [
    ("get", CONFIG, None),
    ("post", CONFIG, policy_body()),
    ("get", HOURS, None),
    ("put", HOURS, BERLIN_HOURS),
    ("get", AUDIT, None),
]
ENDPOINT_IDS = ["get-config", "post-config", "get-hours", "put-hours", "get-audit"]


def call(client, method, path, body, headers):
    if body is None:
        return client.request(method, path, headers=headers)
    return client.request(method, path, json=body, headers=headers)


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS, ids=ENDPOINT_IDS)
@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer not-a-token"}])
def test_anonymous_is_401(client, people, method, path, body, headers):
    response = call(client, method, path, body, headers)
    assert response.status_code == 401, response.text
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert_unchanged(client, people["super_admin"])


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS, ids=ENDPOINT_IDS)
@pytest.mark.parametrize("role", [*CUSTOMER_ROLES, "agent"])
def test_everyone_but_the_super_admin_is_403(client, people, method, path, body, role):
    response = call(client, method, path, body, people[role].headers)
    assert response.status_code == 403, response.text
    assert_unchanged(client, people["super_admin"])


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS, ids=ENDPOINT_IDS)
def test_super_admin_is_allowed(client, people, method, path, body):
    response = call(client, method, path, body, people["super_admin"].headers)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("path", [f"{CONFIG}/", f"{HOURS}/", f"{AUDIT}/"])
def test_trailing_slash(client, people, path):
    assert client.get(path, headers=people["super_admin"].headers).status_code == 200
