"""GET /tickets/statistics/overview on known data sets, every number worked out by hand.

Compliance follows stats/queries.py: the share of tickets that have a due time whose target was
met (responded / resolved no later than the due time); tickets still waiting count as not met.
"""

import pytest

from tests.factories import (
    API,
    make_ticket,
    post_comment,
    set_status,
    utc,
)

OVERVIEW = f"{API}/tickets/statistics/overview"
PRIORITIES = ("urgent", "high", "medium", "low")
CATEGORIES = (
    "technical_support",
    "billing",
    "account",
    "feature_request",
    "bug_report",
    "general_inquiry",
    "other",
)


def overview(client, admin, **params):
    response = client.get(OVERVIEW, params=params, headers=admin.headers)
    assert response.status_code == 200, response.text
    return response.json()


def empty(**changes):
    """The overview of no tickets at all, with `changes` applied."""
    result = {
        "total_tickets": 0,
        "open_tickets": 0,
        "in_progress_tickets": 0,
        "waiting_on_customer_tickets": 0,
        "resolved_tickets": 0,
        "closed_tickets": 0,
        "reopened_tickets": 0,
        "tickets_by_priority": dict.fromkeys(PRIORITIES, 0),
        "tickets_by_category": dict.fromkeys(CATEGORIES, 0),
        "average_resolution_time": None,
        "average_first_response_time": None,
        "sla_first_response_compliance": None,
        "sla_resolution_compliance": None,
        "satisfaction": {"good": 0, "bad": 0, "score": None},
    }
    return {**result, **changes}


def play(client, people, fake_clock, events):
    """Run (time, action, key, argument) events in time order; the ids of the created tickets."""
    customer, agent = people["individual"], people["agent"]
    ids = {}
    for when, action, key, argument in sorted(events, key=lambda event: utc(event[0])):
        fake_clock.set(utc(when))
        if action == "create":
            priority, category = argument
            ids[key] = make_ticket(client, customer, priority=priority, category=category)["id"]
        elif action == "reply":
            post_comment(client, agent, ids[key], "Looking into it.")
        elif action == "status":
            set_status(client, agent, ids[key], argument)
        elif action == "customer_status":
            set_status(client, customer, ids[key], argument)
        else:
            raise AssertionError(action)
    return ids


# SLA (wall-clock): urgent 15 min / 4 h, high 1 h / 8 h, medium 4 h / 24 h, low 8 h / 48 h.
WEEK = [
    # T1 urgent: reply after 10 min (due 10:15, met); resolved after 2 h (due 14:00, met).
    ("2025-01-06T10:00:00Z", "create", "T1", ("urgent", "technical_support")),
    ("2025-01-06T10:10:00Z", "reply", "T1", None),
    ("2025-01-06T12:00:00Z", "status", "T1", "resolved"),
    # T2 urgent: reply after 30 min (due 10:15, late); resolved after 5 h (due 14:00, late);
    # then confirmed closed by the customer, which keeps resolved_at.
    ("2025-01-06T10:00:00Z", "create", "T2", ("urgent", "billing")),
    ("2025-01-06T10:30:00Z", "reply", "T2", None),
    ("2025-01-06T15:00:00Z", "status", "T2", "resolved"),
    ("2025-01-06T16:00:00Z", "customer_status", "T2", "closed"),
    # T3 high: reply after 30 min (due 12:00, met); waiting on the customer since 12:00.
    ("2025-01-06T11:00:00Z", "create", "T3", ("high", "technical_support")),
    ("2025-01-06T11:30:00Z", "reply", "T3", None),
    ("2025-01-06T12:00:00Z", "status", "T3", "waiting_on_customer"),
    # T4 high: untouched.
    ("2025-01-06T11:00:00Z", "create", "T4", ("high", "account")),
    # T5 medium: reply after 1 h (due 16:00, met); in progress.
    ("2025-01-06T12:00:00Z", "create", "T5", ("medium", "bug_report")),
    ("2025-01-06T13:00:00Z", "reply", "T5", None),
    # T6 medium: reply after 6 h (due 16:00, late); resolved, then reopened by the customer,
    # which clears resolved_at.
    ("2025-01-06T12:00:00Z", "create", "T6", ("medium", "feature_request")),
    ("2025-01-06T18:00:00Z", "reply", "T6", None),
    ("2025-01-07T09:00:00Z", "status", "T6", "resolved"),
    ("2025-01-07T10:00:00Z", "customer_status", "T6", "reopened"),
    # T7 low: reply after 1 h (due 21:00, met); resolved after 24 h (due 01-08 13:00, met).
    ("2025-01-06T13:00:00Z", "create", "T7", ("low", "general_inquiry")),
    ("2025-01-06T14:00:00Z", "reply", "T7", None),
    ("2025-01-07T13:00:00Z", "status", "T7", "resolved"),
    # T8 low: closed by staff after 2 h without a reply; closing stamps resolved_at (met).
    ("2025-01-06T13:00:00Z", "create", "T8", ("low", "general_inquiry")),
    ("2025-01-06T15:00:00Z", "status", "T8", "closed"),
    # T9 medium: untouched.
    ("2025-01-06T14:00:00Z", "create", "T9", ("medium", "general_inquiry")),
    # T10 high: reply after 45 min (due 15:00, met); in progress.
    ("2025-01-06T14:00:00Z", "create", "T10", ("high", "billing")),
    ("2025-01-06T14:45:00Z", "reply", "T10", None),
    # T11 low: untouched.
    ("2025-01-06T15:00:00Z", "create", "T11", ("low", "account")),
]

WEEK_OVERVIEW = empty(
    total_tickets=11,
    open_tickets=3,  # T4, T9, T11
    in_progress_tickets=2,  # T5, T10
    waiting_on_customer_tickets=1,  # T3
    resolved_tickets=2,  # T1, T7
    closed_tickets=2,  # T2, T8
    reopened_tickets=1,  # T6
    tickets_by_priority={"urgent": 2, "high": 3, "medium": 3, "low": 3},
    tickets_by_category={
        "technical_support": 2,  # T1, T3
        "billing": 2,  # T2, T10
        "account": 2,  # T4, T11
        "feature_request": 1,  # T6
        "bug_report": 1,  # T5
        "general_inquiry": 3,  # T7, T8, T9
        "other": 0,
    },
    # Resolved: T1 2 h, T2 5 h, T7 24 h, T8 2 h (T6's resolution was undone): 33 / 4 = 8.25.
    average_resolution_time=8.25,
    # First replies: 10 + 30 + 30 + 60 + 360 + 60 + 45 = 595 min over 7 tickets = 85 min
    # = 1.41666... h.
    average_first_response_time=1.42,
    # Met: T1, T3, T5, T7, T10 = 5 of the 11 tickets with a due time = 45.4545...%.
    sla_first_response_compliance=45.45,
    # Met: T1, T7, T8 = 3 of 11 = 27.2727...%.
    sla_resolution_compliance=27.27,
)


def test_overview_of_a_known_week(client, people, fake_clock):
    admin = people["super_admin"]
    play(client, people, fake_clock, WEEK)
    fake_clock.set(utc("2025-01-08T12:00:00Z"))
    assert overview(client, admin) == WEEK_OVERVIEW
    # All of it was created on 2025-01-06.
    assert overview(client, admin, start_date="2025-01-06", end_date="2025-01-06") == WEEK_OVERVIEW
    assert overview(client, admin, start_date="2025-01-06") == WEEK_OVERVIEW
    assert overview(client, admin, end_date="2025-01-06") == WEEK_OVERVIEW
    assert overview(client, admin, end_date="2025-01-05") == empty()
    assert overview(client, admin, start_date="2025-01-07") == empty()


def test_nothing_at_all(client, people):
    assert overview(client, people["super_admin"]) == empty()


def test_one_fresh_ticket(client, people, fake_clock):
    make_ticket(client, people["individual"], priority="low", category="other")
    # Nothing to average yet; the ticket has due times that are not met (yet): 0 of 1.
    assert overview(client, people["super_admin"]) == empty(
        total_tickets=1,
        open_tickets=1,
        tickets_by_priority={"urgent": 0, "high": 0, "medium": 0, "low": 1},
        tickets_by_category={**dict.fromkeys(CATEGORIES, 0), "other": 1},
        sla_first_response_compliance=0.0,
        sla_resolution_compliance=0.0,
    )


def test_enum_keys_are_lower_case_and_complete(client, people, fake_clock):
    make_ticket(client, people["individual"], priority="HIGH", category="Bug_Report")
    result = overview(client, people["super_admin"])
    assert list(result["tickets_by_priority"]) == list(PRIORITIES)
    assert sorted(result["tickets_by_category"]) == sorted(CATEGORIES)
    assert result["tickets_by_priority"]["high"] == 1
    assert result["tickets_by_category"]["bug_report"] == 1


# --- the date range ---------------------------------------------------------------------------

EDGES = [
    # A, just before 2025-01-05: reply after 3 h (urgent, late).
    ("2025-01-04T23:59:59Z", "create", "A", ("urgent", "billing")),
    ("2025-01-05T02:59:59Z", "reply", "A", None),
    # B, the first instant of 2025-01-05: reply after exactly 1 h (high, due then: met).
    ("2025-01-05T00:00:00Z", "create", "B", ("high", "account")),
    ("2025-01-05T01:00:00Z", "reply", "B", None),
    # C, mid 2025-01-06: no reply.
    ("2025-01-06T12:00:00Z", "create", "C", ("medium", "other")),
    # D, the last second of 2025-01-07: reply after 2 h (low, due in 8 h: met).
    ("2025-01-07T23:59:59Z", "create", "D", ("low", "other")),
    ("2025-01-08T01:59:59Z", "reply", "D", None),
    # E, the first instant of 2025-01-08: resolved after 1 h (urgent, met).
    ("2025-01-08T00:00:00Z", "create", "E", ("urgent", "billing")),
    ("2025-01-08T01:00:00Z", "status", "E", "resolved"),
]


def test_dates_are_inclusive_utc_days(client, people, fake_clock):
    admin = people["super_admin"]
    play(client, people, fake_clock, EDGES)
    fake_clock.set(utc("2025-01-09T12:00:00Z"))

    # B, C and D: the boundary seconds count, A and E fall outside.
    assert overview(client, admin, start_date="2025-01-05", end_date="2025-01-07") == empty(
        total_tickets=3,
        open_tickets=1,  # C
        in_progress_tickets=2,  # B, D (moved by the staff reply)
        tickets_by_priority={"urgent": 0, "high": 1, "medium": 1, "low": 1},
        tickets_by_category={**dict.fromkeys(CATEGORIES, 0), "account": 1, "other": 2},
        average_first_response_time=1.5,  # (1 h + 2 h) / 2
        sla_first_response_compliance=66.67,  # B and D of 3
        sla_resolution_compliance=0.0,
    )

    def total(**params):
        return overview(client, admin, **params)["total_tickets"]

    assert total() == 5
    assert total(start_date="2025-01-05") == 4  # B, C, D, E
    assert total(end_date="2025-01-07") == 4  # A, B, C, D
    assert total(start_date="2025-01-04", end_date="2025-01-04") == 1  # A
    assert total(start_date="2025-01-08", end_date="2025-01-08") == 1  # E
    assert total(start_date="2025-01-06", end_date="2025-01-06") == 1  # C
    assert total(start_date="2025-01-09") == 0
    assert total(start_date="0001-01-01", end_date="9999-12-31") == 5

    # E alone: resolved after 1 h, within its 4 h; no reply, so its first response is not met.
    only_e = overview(client, admin, start_date="2025-01-08")
    assert only_e["total_tickets"] == 1
    assert only_e["average_resolution_time"] == 1.0
    assert only_e["average_first_response_time"] is None
    assert only_e["sla_resolution_compliance"] == 100.0
    assert only_e["sla_first_response_compliance"] == 0.0


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"end_date": "9999-12-31"}, 1),
        ({"start_date": "9999-12-31"}, 0),
        ({"start_date": "9999-12-31", "end_date": "9999-12-31"}, 0),
        ({"start_date": "0001-01-01", "end_date": "0001-01-01"}, 0),
        ({"start_date": "0001-01-01"}, 1),
    ],
)
def test_extreme_dates_are_not_an_error(client, people, fake_clock, params, expected):
    make_ticket(client, people["individual"])
    assert overview(client, people["super_admin"], **params)["total_tickets"] == expected


@pytest.mark.parametrize(
    "params",
    [
        {"start_date": "2025-02-30"},
        {"end_date": "yesterday"},
        {"start_date": "2025/01/01"},
        {"end_date": "2025-1-5"},
        {"start_date": ""},
        {"start_date": "2025-01-06T10:00:00Z"},
    ],
)
def test_bad_dates_are_422(client, people, params):
    response = client.get(OVERVIEW, params=params, headers=people["super_admin"].headers)
    assert response.status_code == 422, response.text
    (field,) = params
    locs = [error["loc"] for error in response.json()["detail"]]
    assert ["query", field] in locs, locs


def test_end_before_start_is_422(client, people):
    response = client.get(
        OVERVIEW,
        params={"start_date": "2025-01-31", "end_date": "2025-01-01"},
        headers=people["super_admin"].headers,
    )
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["query", "end_date"]
