"""POST /tickets/: validation, defaults, staff-only fields, the representation, numbering.

The module shares one database. Tests that look at a customer's lists make their own customer
(`customer`), tests that look at ticket numbers run on a day of their own (`day`), and refused
requests are checked to have written nothing by counting rows before and after (`unchanged`).
"""

import itertools
import json
from datetime import UTC, date, datetime, time, timedelta

import pytest
from pydantic import ValidationError

from tests.factories import (
    API,
    CUSTOMER_ROLES,
    DEFAULT_SLA,
    STAFF_ROLES,
    count_rows,
    in_db,
    make_ticket,
    make_user,
)
from ticketdesk import events
from ticketdesk.events.models import Event
from ticketdesk.tickets.models import Ticket, TicketActivity, TicketNumberCounter, TicketTag
from ticketdesk.tickets.schemas import TicketCreate, TicketUpdate

TICKETS = f"{API}/tickets/"
TICKET_KEYS = {
    "id",
    "ticket_number",
    "custom_fields",
    "user_id",
    "assigned_to_id",
    "subject",
    "description",
    "status",
    "priority",
    "category",
    "tags",
    "is_internal",
    "creator_name",
    "creator_email",
    "assigned_to_name",
    "assigned_to_email",
    "comments_count",
    "attachments_count",
    "created_at",
    "updated_at",
    "first_response_at",
    "resolved_at",
    "closed_at",
    "first_response_due_at",
    "resolution_due_at",
    "sla_first_response_breached",
    "sla_resolution_breached",
    "organization_id",
    "is_merged",
    "merged_into_id",
    "merged_into_number",
}
PRIORITIES = ["urgent", "high", "medium", "low"]
CATEGORIES = [
    "technical_support",
    "billing",
    "account",
    "feature_request",
    "bug_report",
    "general_inquiry",
    "other",
]
_days = itertools.count(0, 10)


# One database and app for the whole module: each test makes its own data.
pytestmark = pytest.mark.shared_database


@pytest.fixture
def customer(client):
    """An individual customer of this test alone."""
    return make_user(client, "individual", name="Cora Customer")


@pytest.fixture
def day(fake_clock):
    """A UTC day no other test of the module files tickets on (the next nine are free too);
    the clock stands at 10:00 of it."""
    today = date(2030, 1, 1) + timedelta(days=next(_days))
    fake_clock.set(datetime.combine(today, time(10), tzinfo=UTC))
    return today


@pytest.fixture
def unchanged(client):
    """Call it at the end of a test whose requests were all refused."""
    tables = (Ticket, TicketTag, TicketNumberCounter, TicketActivity)
    before = [count_rows(client, table) for table in tables]

    def check():
        assert [count_rows(client, table) for table in tables] == before

    return check


def post(client, actor, data):
    return client.post(TICKETS, json=data, headers=actor.headers)


def body(**fields):
    return {"subject": "Unable to generate report", "description": "It fails.", **fields}


def assert_422(response, field):
    assert response.status_code == 422, response.text
    locs = [err["loc"] for err in response.json()["detail"]]
    assert any(field in loc for loc in locs), locs


def number(day_, value):
    return f"TKT-{day_:%Y%m%d}-{value:04d}"


def counter_of(client, day_):
    async def _read(session):
        return await session.get(TicketNumberCounter, f"{day_:%Y%m%d}")

    row = in_db(client, _read)
    return None if row is None else row.last_value


# --- the representation -------------------------------------------------------------------


def test_full_representation(client, customer, day):
    response = post(client, customer, body())
    assert response.status_code == 201, response.text
    ticket = response.json()
    assert set(ticket) == TICKET_KEYS
    assert ticket["ticket_number"] == number(day, 1)
    assert ticket["user_id"] == customer.id
    assert ticket["creator_email"] == customer.email
    assert ticket["creator_name"] == "Cora Customer"
    assert ticket["subject"] == "Unable to generate report"
    assert ticket["description"] == "It fails."
    assert ticket["status"] == "open"
    assert ticket["priority"] == "medium"
    assert ticket["category"] == "general_inquiry"
    assert ticket["tags"] == []
    assert ticket["is_internal"] is False
    for key in ("assigned_to_id", "assigned_to_name", "assigned_to_email"):
        assert ticket[key] is None
    for key in ("first_response_at", "resolved_at", "closed_at"):
        assert ticket[key] is None
    assert ticket["comments_count"] == 0
    assert ticket["attachments_count"] == 0
    assert ticket["created_at"] == ticket["updated_at"] == f"{day}T10:00:00Z"
    # Medium: 240 minutes to the first response, 1440 to the resolution.
    assert ticket["first_response_due_at"] == f"{day}T14:00:00Z"
    assert ticket["resolution_due_at"] == f"{day + timedelta(days=1)}T10:00:00Z"
    assert ticket["sla_first_response_breached"] is False
    assert ticket["sla_resolution_breached"] is False
    # The detail and the items of both lists are the same representation.
    detail = client.get(f"{TICKETS}{ticket['id']}", headers=customer.headers).json()
    assert detail == ticket
    assert client.get(TICKETS, headers=customer.headers).json() == [ticket]
    assert client.get(f"{TICKETS}my", headers=customer.headers).json() == [ticket]


@pytest.mark.parametrize("role", [*CUSTOMER_ROLES, *STAFF_ROLES])
def test_every_role_may_create(client, people, role):
    ticket = make_ticket(client, people[role])
    assert ticket["user_id"] == people[role].id
    assert ticket["creator_email"] == people[role].email
    assert ticket["is_internal"] is False


@pytest.mark.parametrize("priority", PRIORITIES)
def test_due_times_follow_the_priority(client, people, day, priority):
    first, resolution = DEFAULT_SLA[priority]
    ticket = make_ticket(client, people["individual"], priority=priority)
    created = datetime.combine(day, time(10), tzinfo=UTC)
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    assert ticket["first_response_due_at"] == f"{created + timedelta(minutes=first):{fmt}}"
    assert ticket["resolution_due_at"] == f"{created + timedelta(minutes=resolution):{fmt}}"


# --- subject and description --------------------------------------------------------------


@pytest.mark.parametrize("field", ["subject", "description"])
def test_required(client, people, unchanged, field):
    data = body()
    del data[field]
    assert_422(post(client, people["individual"], data), field)
    unchanged()


@pytest.mark.parametrize("field", ["subject", "description"])
@pytest.mark.parametrize("value", ["", " ", "  \t\n ", None, 5, ["x"], {"a": 1}, True])
def test_blank_or_wrong_type(client, people, unchanged, field, value):
    assert_422(post(client, people["individual"], body(**{field: value})), field)
    unchanged()


def test_subject_and_description_are_trimmed(client, people):
    ticket = make_ticket(client, people["individual"], subject="  Hi  ", description="\n Body \t")
    assert ticket["subject"] == "Hi"
    assert ticket["description"] == "Body"


@pytest.mark.parametrize(("field", "limit"), [("subject", 200), ("description", 20_000)])
def test_length_limits(client, people, field, limit):
    actor = people["individual"]
    before = count_rows(client, Ticket)
    at_limit = post(client, actor, body(**{field: "é" * limit}))
    assert at_limit.status_code == 201
    assert at_limit.json()[field] == "é" * limit
    padded = post(client, actor, body(**{field: "  " + "x" * limit + "  "}))
    assert padded.status_code == 201, "the limit applies to the trimmed text"
    assert padded.json()[field] == "x" * limit
    assert_422(post(client, actor, body(**{field: "x" * (limit + 1)})), field)
    assert_422(post(client, actor, body(**{field: "é" * (limit + 1)})), field)
    assert count_rows(client, Ticket) == before + 2


@pytest.mark.parametrize("field", ["subject", "description"])
def test_one_character_is_enough(client, people, field):
    assert make_ticket(client, people["individual"], **{field: " x "})[field] == "x"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("subject", "a\x00b"),
        ("description", "a\x00b"),
        ("subject", "\x00"),
        ("tags", "ok,b\x00d"),
        ("tags", ["ok", "\x00"]),
    ],
)
def test_nul_character_is_422_not_500(client, people, unchanged, field, value):
    assert_422(post(client, people["individual"], body(**{field: value})), field)
    unchanged()


@pytest.mark.parametrize("field", ["subject", "description", "tags"])
def test_lone_surrogate_is_422_not_500(client, people, unchanged, field):
    data = body()
    raw = json.dumps({**data, field: "x"}).replace('"x"', '"x\\ud800"')
    response = client.post(
        TICKETS,
        content=raw.encode(),
        headers={**people["individual"].headers, "Content-Type": "application/json"},
    )
    assert_422(response, field)
    unchanged()


@pytest.mark.parametrize("field", ["subject", "description", "tags"])
def test_lone_surrogates_are_refused_before_the_database(field):
    """Tags have no length constraint that would make pydantic check the text itself."""
    with pytest.raises(ValidationError):
        TicketCreate.model_validate({**body(), field: "x\ud800"})
    with pytest.raises(ValidationError):
        TicketUpdate.model_validate({field: "x\ud800"})


def test_unicode_is_kept(client, people):
    ticket = make_ticket(client, people["individual"], subject="Ümlaut ✓ 日本", description="😀")
    assert ticket["subject"] == "Ümlaut ✓ 日本"
    assert ticket["description"] == "😀"


# --- enums --------------------------------------------------------------------------------


@pytest.mark.parametrize("priority", PRIORITIES)
def test_priorities_in_any_case(client, people, priority):
    for spelling in (priority, priority.upper(), priority.title()):
        assert make_ticket(client, people["individual"], priority=spelling)["priority"] == priority


@pytest.mark.parametrize("category", CATEGORIES)
def test_categories_in_any_case(client, people, category):
    for spelling in (category, category.upper()):
        made = make_ticket(client, people["individual"], category=spelling)
        assert made["category"] == category


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("priority", "critical"),
        ("priority", ""),
        ("priority", None),
        ("priority", 1),
        ("priority", ["high"]),
        ("category", "billing_question"),
        ("category", ""),
        ("category", None),
        ("category", ["billing"]),
    ],
)
def test_bad_enums(client, people, unchanged, field, value):
    assert_422(post(client, people["individual"], body(**{field: value})), field)
    unchanged()


# --- tags ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        ("report,error", ["report", "error"]),
        (" Report , ERROR ,report", ["report", "error"]),
        (["b", "A", "a", " B "], ["b", "a"]),
        ("zeta,alpha,mid", ["zeta", "alpha", "mid"]),
        ("", []),
        (" , ,", []),
        ([], []),
        (["  "], []),
        ("single", ["single"]),
    ],
)
def test_tags_are_normalized(client, people, tags, expected):
    ticket = make_ticket(client, people["individual"], tags=tags)
    assert ticket["tags"] == expected
    again = client.get(f"{TICKETS}{ticket['id']}", headers=people["individual"].headers).json()
    assert again["tags"] == expected
    assert count_rows(client, TicketTag, TicketTag.ticket_id == ticket["id"]) == len(expected)


def test_tags_default_to_none(client, people):
    ticket = make_ticket(client, people["individual"])
    assert ticket["tags"] == []
    assert count_rows(client, TicketTag, TicketTag.ticket_id == ticket["id"]) == 0


@pytest.mark.parametrize("tags", [None, 5, {"a": 1}, ["ok", 5], [["nested"]], True])
def test_bad_tags(client, people, unchanged, tags):
    assert_422(post(client, people["individual"], body(tags=tags)), "tags")
    unchanged()


def test_tags_are_findable_by_filter(client, customer):
    ticket = make_ticket(client, customer, tags="Report, Error")
    for tag in ("error", "REPORT", " report "):
        found = client.get(TICKETS, params={"tag": tag}, headers=customer.headers).json()
        assert [t["id"] for t in found] == [ticket["id"]], tag


# --- body shape ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "extra",
    [
        {"status": "closed"},
        {"assigned_to_id": 1},
        {"ticket_number": "TKT-20250101-0001"},
        {"created_at": "2020-01-01T00:00:00Z"},
        {"comments_count": 3},
        {"foo": "bar"},
    ],
)
@pytest.mark.parametrize("role", ["individual", "super_admin"])
def test_unknown_fields_are_rejected(client, people, unchanged, extra, role):
    response = post(client, people[role], body(**extra))
    assert response.status_code == 422, response.text
    unchanged()


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        ("not json", "application/json"),
        ('{"subject": "x", ', "application/json"),
        ("[]", "application/json"),
        ('"just a string"', "application/json"),
        ("null", "application/json"),
        ("", "application/json"),
        ("subject=x&description=y", "application/x-www-form-urlencoded"),
        ("\xff\xfe", "application/json"),
    ],
)
def test_non_json_body(client, people, unchanged, content, content_type):
    response = client.post(
        TICKETS,
        content=content.encode("latin-1"),
        headers={**people["individual"].headers, "Content-Type": content_type},
    )
    assert response.status_code == 422, response.text
    unchanged()


# --- staff-only fields --------------------------------------------------------------------


@pytest.mark.parametrize("staff", STAFF_ROLES)
def test_staff_create_on_behalf_of_a_customer(client, people, customer, staff):
    ticket = make_ticket(client, people[staff], user_id=customer.id)
    assert ticket["user_id"] == customer.id
    assert ticket["creator_email"] == customer.email
    assert ticket["creator_name"] == "Cora Customer"
    assert ticket["is_internal"] is False
    # The customer owns it: sees it in both lists and by id.
    headers = customer.headers
    assert client.get(f"{TICKETS}{ticket['id']}", headers=headers).status_code == 200
    assert [t["id"] for t in client.get(TICKETS, headers=headers).json()] == [ticket["id"]]
    assert [t["id"] for t in client.get(f"{TICKETS}my", headers=headers).json()] == [ticket["id"]]


@pytest.mark.parametrize("staff", STAFF_ROLES)
def test_internal_tickets_are_invisible_to_the_customer(client, people, customer, staff):
    public = make_ticket(client, customer)
    internal = make_ticket(client, people[staff], user_id=customer.id, is_internal=True)
    assert internal["is_internal"] is True
    assert internal["user_id"] == customer.id
    headers = customer.headers
    for ref in (internal["id"], internal["ticket_number"]):
        assert client.get(f"{TICKETS}{ref}", headers=headers).status_code == 404
    for path in (TICKETS, f"{TICKETS}my"):
        response = client.get(path, headers=headers)
        assert [t["id"] for t in response.json()] == [public["id"]]
        assert response.headers["X-Total-Count"] == "1"
    # Staff see it.
    for viewer in STAFF_ROLES:
        seen = client.get(f"{TICKETS}{internal['id']}", headers=people[viewer].headers)
        assert seen.status_code == 200
        assert seen.json()["is_internal"] is True
        params = {"user_id": customer.id}
        listed = client.get(TICKETS, params=params, headers=people[viewer].headers)
        assert {t["id"] for t in listed.json()} == {public["id"], internal["id"]}


def test_staff_internal_ticket_for_themself(client, people):
    ticket = make_ticket(client, people["agent"], is_internal=True)
    assert ticket["user_id"] == people["agent"].id
    assert ticket["is_internal"] is True


@pytest.mark.parametrize("role", CUSTOMER_ROLES)
@pytest.mark.parametrize(
    "extra",
    [
        {"user_id": "other"},
        {"user_id": "self"},
        {"is_internal": True},
        {"is_internal": False},
        {"user_id": "self", "is_internal": False},
    ],
)
def test_customers_may_not_pass_staff_fields(client, people, day, role, extra):
    actor = make_user(client, role)
    ids = {"other": people["other"].id, "self": actor.id}
    if "user_id" in extra:
        extra = {**extra, "user_id": ids[extra["user_id"]]}
    before = count_rows(client, Ticket)
    response = post(client, actor, body(**extra))
    assert response.status_code == 403, response.text
    assert isinstance(response.json()["detail"], str)
    assert count_rows(client, Ticket) == before
    assert counter_of(client, day) is None
    assert client.get(TICKETS, headers=actor.headers).json() == []
    # The refused create used up no number.
    assert make_ticket(client, actor)["ticket_number"] == number(day, 1)


@pytest.mark.parametrize("user_id", [999_999, 0, -1, 99_999_999_999, "abc", None, 1.5])
def test_on_behalf_of_an_impossible_user(client, people, unchanged, user_id):
    assert_422(post(client, people["agent"], body(user_id=user_id)), "user_id")
    unchanged()


def test_on_behalf_of_a_deactivated_user(client, people):
    target = make_user(client, "individual")
    response = client.patch(
        f"{API}/users/{target.id}", json={"is_active": False}, headers=people["super_admin"].headers
    )
    assert response.status_code == 200
    before = count_rows(client, Ticket)
    assert_422(post(client, people["agent"], body(user_id=target.id)), "user_id")
    assert count_rows(client, Ticket) == before


def test_is_internal_must_be_a_boolean(client, people, unchanged):
    assert_422(post(client, people["agent"], body(is_internal="sometimes")), "is_internal")
    assert_422(post(client, people["agent"], body(is_internal=None)), "is_internal")
    unchanged()


# --- ticket numbers -----------------------------------------------------------------------


def test_numbers_use_the_utc_day_and_run_consecutively(client, people, fake_clock, day):
    fake_clock.set(datetime.combine(day, time(23, 59, 58), tzinfo=UTC))
    first = make_ticket(client, people["individual"])
    second = make_ticket(client, people["agent"])
    fake_clock.advance(seconds=1)
    third = make_ticket(client, people["enterprise"])
    fake_clock.advance(seconds=1)  # midnight UTC: a new day, a new counter
    fourth = make_ticket(client, people["individual"])
    fifth = make_ticket(client, people["sub_user"])
    tomorrow = day + timedelta(days=1)
    assert [t["ticket_number"] for t in (first, second, third, fourth, fifth)] == [
        number(day, 1),
        number(day, 2),
        number(day, 3),
        number(tomorrow, 1),
        number(tomorrow, 2),
    ]
    assert third["created_at"] == f"{day}T23:59:59Z"
    assert fourth["created_at"] == f"{tomorrow}T00:00:00Z"


def test_number_day_is_the_utc_day_not_a_local_one(client, people, fake_clock, day):
    # 23:30 UTC is already the next day east of Greenwich; the number follows UTC.
    fake_clock.set(datetime.combine(day, time(23, 30), tzinfo=UTC))
    assert make_ticket(client, people["individual"])["ticket_number"] == number(day, 1)


def test_numbers_are_shared_by_everyone_and_internal_tickets(client, people, day):
    numbers = [
        make_ticket(client, people["individual"])["ticket_number"],
        make_ticket(client, people["agent"], is_internal=True)["ticket_number"],
        make_ticket(client, people["super_admin"], user_id=people["other"].id)["ticket_number"],
        make_ticket(client, people["other"])["ticket_number"],
    ]
    assert numbers == [number(day, n) for n in (1, 2, 3, 4)]


def test_counter_grows_past_9999(client, people, day):
    async def _seed(session):
        session.add(TicketNumberCounter(day=f"{day:%Y%m%d}", last_value=9998))

    in_db(client, _seed)
    numbers = [make_ticket(client, people["individual"])["ticket_number"] for _ in range(3)]
    assert numbers == [f"TKT-{day:%Y%m%d}-{n}" for n in ("9999", "10000", "10001")]
    by_number = client.get(
        f"{TICKETS}{numbers[1].lower()}", headers=people["individual"].headers
    ).json()
    assert by_number["ticket_number"] == numbers[1]


def test_failed_creates_give_no_number_away(client, people, day, unchanged):
    actor = people["individual"]
    assert post(client, actor, body(subject="")).status_code == 422
    assert post(client, actor, body(priority="nope")).status_code == 422
    assert post(client, people["agent"], body(user_id=424242)).status_code == 422
    assert post(client, actor, body(is_internal=True)).status_code == 403
    assert client.post(TICKETS, json=body()).status_code == 401
    unchanged()
    assert counter_of(client, day) is None
    assert make_ticket(client, actor)["ticket_number"] == number(day, 1)
    assert counter_of(client, day) == 1


def test_anonymous_cannot_create(client, unchanged):
    response = client.post(TICKETS, json=body())
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    unchanged()


def test_a_create_failing_after_its_number_leaves_nothing(
    client, people, day, unchanged, monkeypatch
):
    """The number is the create's last step; a failure after it gives the number back."""
    events_before = count_rows(client, Event)

    def broken(*_args, **_kwargs):
        raise RuntimeError("the event log is away")

    # Patching the events with the number comes after the number was taken.
    monkeypatch.setattr(events, "pending", broken)
    assert post(client, people["individual"], body()).status_code == 500
    unchanged()
    assert count_rows(client, Event) == events_before
    assert counter_of(client, day) is None
    monkeypatch.undo()
    assert make_ticket(client, people["individual"])["ticket_number"] == number(day, 1)
