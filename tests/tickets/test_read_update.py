"""GET /tickets/{id} and PATCH /tickets/{id}.

The module shares one database; every test files its own tickets (and makes its own customers
where it matters). Statuses no PATCH can reach are written straight into the database.
"""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.factories import (
    API,
    CUSTOMER_ROLES,
    STAFF_ROLES,
    count_rows,
    in_db,
    make_ticket,
    make_user,
    set_ticket_columns,
)
from ticketdesk.tickets.models import TicketActivity, TicketStatusHistory, TicketTag

TICKETS = f"{API}/tickets"
STATUSES = ["open", "in_progress", "waiting_on_customer", "resolved", "closed", "reopened"]


# One database and app for the whole module: each test makes its own data.
pytestmark = pytest.mark.shared_database


@pytest.fixture
def owner(client):
    return make_user(client, "individual")


@pytest.fixture
def ticket(client, owner, fake_clock):
    """A medium ticket of `owner`, filed at 2025-01-06T10:00:00Z with two tags."""
    return make_ticket(client, owner, tags="alpha,beta")


def get(client, actor, ref):
    return client.get(f"{TICKETS}/{ref}", headers=actor.headers)


def patch(client, actor, ref, body):
    return client.patch(f"{TICKETS}/{ref}", json=body, headers=actor.headers)


def as_staff(client, people, ticket_id):
    response = get(client, people["super_admin"], ticket_id)
    assert response.status_code == 200
    return response.json()


def trail(client, ticket_id):
    """The history and activity rows of a ticket."""

    async def _read(session):
        history = await session.scalars(
            select(TicketStatusHistory)
            .where(TicketStatusHistory.ticket_id == ticket_id)
            .order_by(TicketStatusHistory.id)
        )
        activity = await session.scalars(
            select(TicketActivity.kind).where(TicketActivity.ticket_id == ticket_id)
        )
        return list(history), list(activity)

    return in_db(client, _read)


# --- GET ----------------------------------------------------------------------------------


def test_get_by_id_and_by_number(client, people, owner, ticket):
    for ref in (
        ticket["id"],
        ticket["ticket_number"],
        ticket["ticket_number"].lower(),
        ticket["ticket_number"].title(),
    ):
        for actor in (owner, people["agent"], people["super_admin"]):
            response = get(client, actor, ref)
            assert response.status_code == 200, (ref, actor.role)
            assert response.json() == ticket


@pytest.mark.parametrize("role", ["enterprise", "sub_user", "other"])
def test_another_customers_ticket_is_not_found(client, people, ticket, role):
    for ref in (ticket["id"], ticket["ticket_number"], ticket["ticket_number"].lower()):
        response = get(client, people[role], ref)
        assert response.status_code == 404, ref
        assert response.json() == {"detail": "ticket not found"}


@pytest.mark.parametrize(
    "ref",
    ["999999", "0", "-1", "99999999999", "abc", "TKT-19990101-0001", "TKT-", "%20", "1.0", "1e3"],
)
def test_unknown_or_impossible_refs_are_404(client, people, ref):
    for role in ("individual", "agent"):
        response = get(client, people[role], ref)
        assert response.status_code == 404, (ref, response.text)


def test_a_superscript_digit_ref_is_404_not_500(client, people):
    for actor in (people["agent"], people["individual"]):
        assert get(client, actor, "%C2%B2").status_code == 404
        assert patch(client, actor, "%C2%B2", {"subject": "x"}).status_code == 404


def test_get_needs_a_token(client, ticket):
    response = client.get(f"{TICKETS}/{ticket['id']}")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


# --- PATCH by the creator -----------------------------------------------------------------


def test_creator_edits_subject_description_and_tags(client, people, owner, ticket, fake_clock):
    fake_clock.advance(hours=1)
    response = patch(
        client,
        owner,
        ticket["id"],
        {"subject": "  New subject ", "description": " New text ", "tags": "Gamma, alpha,gamma"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["subject"], body["description"]) == ("New subject", "New text")
    assert body["tags"] == ["gamma", "alpha"]
    assert body["updated_at"] == "2025-01-06T11:00:00Z"
    assert body["created_at"] == "2025-01-06T10:00:00Z"
    # Nothing else moved: same number, priority, due times.
    for key in ("ticket_number", "priority", "category", "first_response_due_at", "status"):
        assert body[key] == ticket[key]
    assert as_staff(client, people, ticket["id"]) == body
    # The tag rows used by the filter follow the edit.
    assert count_rows(client, TicketTag, TicketTag.ticket_id == ticket["id"]) == 2
    for tag, found in (("gamma", True), ("alpha", True), ("beta", False)):
        listed = client.get(TICKETS, params={"tag": tag}, headers=owner.headers).json()
        assert ([t["id"] for t in listed] == [ticket["id"]]) is found, tag


def test_creator_edits_by_ticket_number(client, owner, ticket):
    response = patch(client, owner, ticket["ticket_number"].lower(), {"subject": "By number"})
    assert response.status_code == 200
    assert response.json()["subject"] == "By number"


def test_tags_can_be_cleared(client, owner, ticket):
    for empty in ("", []):
        response = patch(client, owner, ticket["id"], {"tags": empty})
        assert response.status_code == 200
        assert response.json()["tags"] == []
    assert count_rows(client, TicketTag, TicketTag.ticket_id == ticket["id"]) == 0


@pytest.mark.parametrize("status", [s for s in STATUSES if s != "closed"])
def test_creator_may_edit_until_closed(client, owner, ticket, status):
    set_ticket_columns(client, ticket["id"], status=status)
    response = patch(client, owner, ticket["id"], {"subject": f"Edited while {status}"})
    assert response.status_code == 200
    assert response.json()["subject"] == f"Edited while {status}"
    assert response.json()["status"] == status


def test_creator_may_not_edit_a_closed_ticket(client, people, owner, ticket):
    set_ticket_columns(client, ticket["id"], status="closed")
    for body in ({"subject": "Too late"}, {"description": "x"}, {"tags": "late"}):
        assert patch(client, owner, ticket["id"], body).status_code == 403, body
    after = as_staff(client, people, ticket["id"])
    assert (after["subject"], after["tags"]) == (ticket["subject"], ticket["tags"])
    # Staff still may.
    response = patch(client, people["agent"], ticket["id"], {"subject": "Staff fix"})
    assert response.status_code == 200
    assert response.json()["subject"] == "Staff fix"


@pytest.mark.parametrize(
    "body",
    [
        {"priority": "urgent"},
        {"category": "billing"},
        {"priority": "medium"},  # even the current value
        {"subject": "Sneaky", "priority": "urgent"},
        {"tags": "x", "category": "billing"},
    ],
)
def test_customer_may_not_edit_priority_or_category(client, people, owner, ticket, body):
    response = patch(client, owner, ticket["id"], body)
    assert response.status_code == 403
    assert isinstance(response.json()["detail"], str)
    assert as_staff(client, people, ticket["id"]) == ticket
    history, activity = trail(client, ticket["id"])
    assert history == []
    assert activity == ["created"]


@pytest.mark.parametrize("role", ["enterprise", "sub_user", "other"])
def test_other_customers_get_404(client, people, ticket, role):
    for body in ({"subject": "Mine now"}, {"priority": "low"}):
        response = patch(client, people[role], ticket["id"], body)
        assert response.status_code == 404
    assert as_staff(client, people, ticket["id"]) == ticket


def test_customer_may_not_edit_an_internal_ticket_filed_for_them(client, people, owner):
    internal = make_ticket(client, people["agent"], user_id=owner.id, is_internal=True)
    response = patch(client, owner, internal["id"], {"subject": "Seen it"})
    assert response.status_code == 404
    assert as_staff(client, people, internal["id"]) == internal


def test_patch_needs_a_token(client, people, ticket):
    response = client.patch(f"{TICKETS}/{ticket['id']}", json={"subject": "anon"})
    assert response.status_code == 401
    assert as_staff(client, people, ticket["id"]) == ticket


# --- PATCH by staff -----------------------------------------------------------------------


@pytest.mark.parametrize("staff", STAFF_ROLES)
def test_staff_edit_every_field(client, people, ticket, staff, fake_clock):
    fake_clock.advance(minutes=5)
    body = {
        "subject": "Staff subject",
        "description": "Staff text",
        "tags": ["Triage"],
        "priority": "HIGH",
        "category": "Bug_Report",
    }
    response = patch(client, people[staff], ticket["id"], body)
    assert response.status_code == 200, response.text
    after = response.json()
    assert after["subject"] == "Staff subject"
    assert after["description"] == "Staff text"
    assert after["tags"] == ["triage"]
    assert after["priority"] == "high"
    assert after["category"] == "bug_report"
    assert after["user_id"] == ticket["user_id"]
    assert after["updated_at"] == "2025-01-06T10:05:00Z"
    assert as_staff(client, people, ticket["id"]) == after


def test_priority_change_writes_history_and_recomputes_due_times(
    client, people, ticket, fake_clock
):
    agent = people["agent"]
    fake_clock.advance(hours=2)
    response = patch(client, agent, ticket["id"], {"priority": "urgent"})
    assert response.status_code == 200
    after = response.json()
    # Due times count from creation (10:00), now with the urgent policy: 15 / 240 minutes.
    assert after["first_response_due_at"] == "2025-01-06T10:15:00Z"
    assert after["resolution_due_at"] == "2025-01-06T14:00:00Z"
    # It is 12:00 now: the new first-response due time has passed.
    assert after["sla_first_response_breached"] is True
    assert after["sla_resolution_breached"] is False
    history, _ = trail(client, ticket["id"])
    assert len(history) == 1
    row = history[0]
    assert (row.from_priority, row.to_priority) == ("medium", "urgent")
    assert row.changed_by_id == agent.id
    assert row.changed_at == datetime(2025, 1, 6, 12, tzinfo=UTC)
    assert (row.from_status, row.to_status) == (None, None)
    assert (row.from_assigned_to_id, row.to_assigned_to_id) == (None, None)
    # Down to low: 480 / 2880 minutes from creation, and one more history row.
    response = patch(client, people["super_admin"], ticket["id"], {"priority": "low"})
    after = response.json()
    assert after["first_response_due_at"] == "2025-01-06T18:00:00Z"
    assert after["resolution_due_at"] == "2025-01-08T10:00:00Z"
    assert after["sla_first_response_breached"] is False
    history, _ = trail(client, ticket["id"])
    assert [(h.from_priority, h.to_priority) for h in history] == [
        ("medium", "urgent"),
        ("urgent", "low"),
    ]
    assert history[1].changed_by_id == people["super_admin"].id


def test_unchanged_priority_writes_no_history(client, people, ticket):
    response = patch(client, people["agent"], ticket["id"], {"priority": "MEDIUM"})
    assert response.status_code == 200
    assert response.json()["first_response_due_at"] == ticket["first_response_due_at"]
    history, _ = trail(client, ticket["id"])
    assert history == []


def test_other_edits_write_no_priority_history(client, people, ticket):
    body = {"subject": "s2", "category": "billing", "tags": "z"}
    assert patch(client, people["agent"], ticket["id"], body).status_code == 200
    history, activity = trail(client, ticket["id"])
    assert history == []
    assert activity.count("field_changed") == 3


def test_empty_patch_changes_nothing(client, people, owner, ticket):
    for actor in (owner, people["agent"]):
        response = patch(client, actor, ticket["id"], {})
        assert response.status_code == 200
        assert response.json() == ticket


# --- validation: 422 and nothing written --------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"subject": None},
        {"description": None},
        {"tags": None},
        {"priority": None},
        {"category": None},
        {"subject": ""},
        {"subject": "   "},
        {"subject": "x" * 201},
        {"description": "x" * 20_001},
        {"description": "a\x00b"},
        {"tags": ["ok", 3]},
        {"tags": "bad\x00tag"},
        {"priority": "critical"},
        {"category": "nope"},
        {"status": "closed"},
        {"assigned_to_id": 1},
        {"user_id": 1},
        {"is_internal": True},
        {"ticket_number": "TKT-20250101-0001"},
    ],
)
@pytest.mark.parametrize("role", ["owner", "agent"])
def test_invalid_patch_is_422_and_writes_nothing(client, people, owner, ticket, body, role):
    actor = owner if role == "owner" else people[role]
    # Valid fields next to the invalid one must not be applied either.
    full = {"subject": "Should not stick", "tags": "sticky", **body}
    response = patch(client, actor, ticket["id"], full)
    assert response.status_code == 422, response.text
    assert as_staff(client, people, ticket["id"]) == ticket
    history, activity = trail(client, ticket["id"])
    assert history == []
    assert activity == ["created"]


@pytest.mark.parametrize(
    ("content", "content_type"),
    [("not json", "application/json"), ("[]", "application/json"), ("", "application/json")],
)
def test_non_json_patch(client, people, ticket, content, content_type):
    response = client.patch(
        f"{TICKETS}/{ticket['id']}",
        content=content,
        headers={**people["agent"].headers, "Content-Type": content_type},
    )
    assert response.status_code == 422
    assert as_staff(client, people, ticket["id"]) == ticket


def test_subject_limits_on_patch(client, people, owner, ticket):
    assert patch(client, owner, ticket["id"], {"subject": "y" * 200}).status_code == 200
    assert patch(client, owner, ticket["id"], {"subject": " " + "z" * 200 + " "}).status_code == 200
    assert as_staff(client, people, ticket["id"])["subject"] == "z" * 200


@pytest.mark.parametrize("role", CUSTOMER_ROLES)
def test_every_customer_role_edits_its_own(client, people, role, fake_clock):
    actor = make_user(client, role)
    mine = make_ticket(client, actor)
    response = patch(client, actor, mine["id"], {"description": f"from {role}"})
    assert response.status_code == 200
    assert response.json()["description"] == f"from {role}"
    fake_clock.advance(seconds=1)
    assert patch(client, actor, mine["id"], {"priority": "low"}).status_code == 403


def test_due_times_do_not_move_on_other_edits(client, people, ticket, fake_clock):
    fake_clock.advance(days=1)
    response = patch(client, people["agent"], ticket["id"], {"subject": "Later"})
    assert response.json()["first_response_due_at"] == ticket["first_response_due_at"]
    assert response.json()["resolution_due_at"] == ticket["resolution_due_at"]
    created = datetime.fromisoformat(ticket["created_at"])
    assert created + timedelta(days=1) == datetime.fromisoformat(response.json()["updated_at"])
