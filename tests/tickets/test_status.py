"""POST /tickets/{id}/status: the whole transition matrix, who may do what, and the trail."""

import re
from datetime import timedelta

import pytest

from tests.factories import (
    API,
    STATUSES,
    footprint,
    iso,
    make_ticket,
    rows_of,
    set_status,
    ticket_in_status,
)
from ticketdesk.comments.models import TicketComment
from ticketdesk.tickets.models import TicketActivity, TicketStatusHistory

# API.md, "Status".
ALLOWED = {
    "open": {"in_progress", "waiting_on_customer", "resolved", "closed"},
    "in_progress": {"waiting_on_customer", "resolved", "closed"},
    "waiting_on_customer": {"in_progress", "resolved", "closed"},
    "resolved": {"closed", "reopened", "in_progress"},
    "closed": {"reopened"},
    "reopened": {"in_progress", "waiting_on_customer", "resolved", "closed"},
}
CUSTOMER_ALLOWED = {("resolved", "closed"), ("resolved", "reopened"), ("closed", "reopened")}


def post_status(client, actor, ticket_id, body):
    headers = actor.headers if actor is not None else {}
    return client.post(f"{API}/tickets/{ticket_id}/status", json=body, headers=headers)


def named_statuses(detail: str) -> set[str]:
    return {s for s in STATUSES if re.search(rf"\b{s}\b", detail)}


def expected_stamps(current, target, now, resolved_at, closed_at):
    """API.md: resolved sets resolved_at, closed sets closed_at, reopened clears both.

    Beyond API.md (workflow.stamps): closing an unresolved ticket stamps resolved_at too,
    and taking a resolved ticket back into work clears resolved_at.
    """
    if target == "resolved":
        return iso(now), closed_at
    if target == "closed":
        return resolved_at or iso(now), iso(now)
    if target == "reopened":
        return None, None
    if current == "resolved":
        return None, closed_at
    return resolved_at, closed_at


def check_refused(client, actor, ticket_id, current, target, status_code):
    """The change is refused with `status_code` and leaves no trace."""
    before = footprint(client, ticket_id)
    response = post_status(client, actor, ticket_id, {"status": target, "note": "no"})
    assert response.status_code == status_code, (current, target, response.text)
    assert footprint(client, ticket_id) == before, (current, target)
    return response


@pytest.mark.parametrize("role", ["agent", "super_admin"])
@pytest.mark.parametrize("current", STATUSES)
def test_staff_transition_matrix(client, people, fake_clock, role, current):
    """Every (current, target) pair: the table's targets succeed, all others (same one too) 409."""
    actor = people[role]
    refused = ticket_in_status(client, people, current)["id"]
    for target in sorted(set(STATUSES) - ALLOWED[current]):
        response = check_refused(client, actor, refused, current, target, 409)
        allowed_part = response.json()["detail"].split("allowed", 1)[1]
        assert named_statuses(allowed_part) == ALLOWED[current], (target, response.text)

    for target in sorted(ALLOWED[current]):
        ticket = ticket_in_status(client, people, current)
        tid = ticket["id"]
        fake_clock.advance(hours=1)
        now = fake_clock.current
        before = footprint(client, tid)
        note = f"{current} -> {target}"

        response = post_status(client, actor, tid, {"status": target, "note": note})

        assert response.status_code == 200, (target, response.text)
        body = response.json()
        assert body["status"] == target
        assert body["updated_at"] == iso(now)
        assert (body["resolved_at"], body["closed_at"]) == expected_stamps(
            current, target, now, ticket["resolved_at"], ticket["closed_at"]
        ), target
        shown = client.get(f"{API}/tickets/{tid}", headers=actor.headers).json()
        assert shown == body

        history = rows_of(client, TicketStatusHistory, tid)
        assert len(history) == before["history"] + 1, target
        row = history[-1]
        assert (row.from_status, row.to_status) == (current, target)
        assert row.changed_by_id == actor.id
        assert row.change_note == note
        assert row.changed_at == now
        assert (row.from_priority, row.to_priority) == (None, None)
        assert (row.from_assigned_to_id, row.to_assigned_to_id) == (None, None)
        activity = rows_of(client, TicketActivity, tid)
        assert len(activity) == before["activity"] + 1, target
        assert activity[-1].kind == "status_changed"
        assert activity[-1].details == {"old": current, "new": target, "note": note}
        # A plain status change writes no comment.
        assert footprint(client, tid)["comment_rows"] == [], target


@pytest.mark.parametrize("current", STATUSES)
def test_customer_transition_matrix(client, people, fake_clock, current):
    """The owner may only confirm or reopen; everything else is 403, even pairs staff may do."""
    owner = people["individual"]
    refused = ticket_in_status(client, people, current)["id"]
    for target in STATUSES:
        if (current, target) not in CUSTOMER_ALLOWED:
            check_refused(client, owner, refused, current, target, 403)

    for target in [t for t in STATUSES if (current, t) in CUSTOMER_ALLOWED]:
        ticket = ticket_in_status(client, people, current)
        fake_clock.advance(hours=1)
        body = set_status(client, owner, ticket["id"], target)
        assert body["status"] == target
        assert (body["resolved_at"], body["closed_at"]) == expected_stamps(
            current, target, fake_clock.current, ticket["resolved_at"], ticket["closed_at"]
        )
        row = rows_of(client, TicketStatusHistory, ticket["id"])[-1]
        assert (row.from_status, row.to_status, row.changed_by_id) == (current, target, owner.id)


@pytest.mark.parametrize("role", ["enterprise", "sub_user"])
def test_every_customer_role_confirms_and_reopens_its_own_ticket(client, people, role):
    owner = people[role]
    tid = ticket_in_status(client, people, "resolved", owner=role)["id"]
    assert set_status(client, owner, tid, "closed")["status"] == "closed"
    assert set_status(client, owner, tid, "reopened")["status"] == "reopened"
    assert post_status(client, owner, tid, {"status": "in_progress"}).status_code == 403


def test_another_customer_gets_404_and_changes_nothing(client, people):
    for current, target in sorted(CUSTOMER_ALLOWED):
        tid = ticket_in_status(client, people, current)["id"]
        check_refused(client, people["other"], tid, current, target, 404)


def test_anonymous_gets_401(client, people):
    tid = ticket_in_status(client, people, "resolved")["id"]
    before = footprint(client, tid)
    response = post_status(client, None, tid, {"status": "closed"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    bad_token = {"Authorization": "Bearer not-a-token"}
    response = client.post(
        f"{API}/tickets/{tid}/status", json={"status": "closed"}, headers=bad_token
    )
    assert response.status_code == 401
    assert footprint(client, tid) == before


def test_unknown_ticket_is_404(client, people):
    assert post_status(client, people["agent"], 999_999, {"status": "closed"}).status_code == 404


def test_status_by_ticket_number_and_with_a_trailing_slash(client, people):
    ticket = make_ticket(client, people["individual"])
    body = set_status(client, people["agent"], ticket["ticket_number"], "in_progress")
    assert (body["id"], body["status"]) == (ticket["id"], "in_progress")
    response = client.post(
        f"{API}/tickets/{ticket['id']}/status/",
        json={"status": "resolved"},
        headers=people["agent"].headers,
        follow_redirects=False,
    )
    assert (response.status_code, response.json()["status"]) == (200, "resolved")


def test_status_value_in_any_case(client, people):
    for value in ["RESOLVED", "Resolved", "resolved", "rEsOlVeD"]:
        tid = make_ticket(client, people["individual"])["id"]
        assert set_status(client, people["agent"], tid, value)["status"] == "resolved"
        assert rows_of(client, TicketStatusHistory, tid)[-1].to_status == "resolved"


BAD_BODIES = [
    ({"status": "done"}, "status"),
    ({"status": ""}, "status"),
    ({"status": 3}, "status"),
    ({"status": None}, "status"),
    ({"status": ["resolved"]}, "status"),
    ({}, "status"),
    ({"status": "resolved", "note": None}, "note"),
    ({"status": "resolved", "note": "   "}, "note"),
    ({"status": "resolved", "note": "x" * 5001}, "note"),
    ({"status": "resolved", "is_resolution": None}, "is_resolution"),
    ({"status": "resolved", "is_resolution": "perhaps"}, "is_resolution"),
    ({"status": "resolved", "assigned_to_id": 1}, "assigned_to_id"),
]


def test_bad_bodies_are_422_and_write_nothing(client, people):
    tid = make_ticket(client, people["individual"])["id"]
    before = footprint(client, tid)
    for body, field in BAD_BODIES:
        response = post_status(client, people["agent"], tid, body)
        assert response.status_code == 422, (body, response.text)
        assert any(field in error["loc"] for error in response.json()["detail"]), body
    assert footprint(client, tid) == before


def test_resolution_note_becomes_a_public_resolution_comment(client, people, fake_clock):
    customer, agent = people["individual"], people["agent"]
    tid = ticket_in_status(client, people, "in_progress")["id"]
    fake_clock.advance(minutes=30)
    note = "Fixed in release 2.3; please update."

    body = set_status(client, agent, tid, "RESOLVED", note=note, is_resolution=True)

    assert body["status"] == "resolved"
    assert body["resolved_at"] == iso(fake_clock.current)
    # The resolution is a public staff reply, so it is also the first response.
    assert body["first_response_at"] == iso(fake_clock.current)
    seen = client.get(f"{API}/tickets/{tid}/comments", headers=customer.headers).json()
    assert len(seen) == 1
    comment = seen[0]
    assert comment["comment"] == note
    assert (comment["is_resolution"], comment["is_internal"]) == (True, False)
    assert (comment["user_id"], comment["author_name"]) == (agent.id, "Agent 4")
    assert comment["created_at"] == iso(fake_clock.current)
    shown = client.get(f"{API}/tickets/{tid}", headers=customer.headers).json()
    assert shown["comments_count"] == 1
    history = rows_of(client, TicketStatusHistory, tid)
    assert (history[-1].to_status, history[-1].change_note) == ("resolved", note)
    assert len(history) == 2  # in_progress, resolved: the comment adds no second row


def test_resolution_flag_without_a_note_adds_no_comment(client, people):
    tid = make_ticket(client, people["individual"])["id"]
    set_status(client, people["agent"], tid, "resolved", is_resolution=True)
    assert rows_of(client, TicketComment, tid) == []


def test_a_note_without_the_resolution_flag_adds_no_comment(client, people):
    tid = make_ticket(client, people["individual"])["id"]
    body = set_status(client, people["agent"], tid, "resolved", note="internal reasoning")
    assert rows_of(client, TicketComment, tid) == []
    assert body["comments_count"] == 0
    assert rows_of(client, TicketStatusHistory, tid)[-1].change_note == "internal reasoning"


def test_customer_may_not_mark_a_resolution(client, people):
    for current, target in sorted(CUSTOMER_ALLOWED):
        tid = ticket_in_status(client, people, current)["id"]
        before = footprint(client, tid)
        body = {"status": target, "note": "I fixed it myself", "is_resolution": True}
        response = post_status(client, people["individual"], tid, body)
        assert response.status_code == 403, (current, target)
        assert footprint(client, tid) == before


def test_refused_resolution_writes_no_comment(client, people):
    """A 409 with is_resolution and a note leaves neither a history row nor a comment."""
    tid = ticket_in_status(client, people, "closed")["id"]
    before = footprint(client, tid)
    body = {"status": "resolved", "note": "done", "is_resolution": True}
    assert post_status(client, people["agent"], tid, body).status_code == 409
    assert footprint(client, tid) == before


def test_waiting_on_customer_pauses_the_resolution_clock(client, people, fake_clock):
    """Medium policy: 1440 wall-clock minutes; each pause pushes resolution_due_at later."""
    customer, agent = people["individual"], people["agent"]
    created = fake_clock.current
    tid = make_ticket(client, customer)["id"]
    due = created + timedelta(minutes=1440)
    shown = client.get(f"{API}/tickets/{tid}", headers=agent.headers).json()
    assert shown["resolution_due_at"] == iso(due)

    fake_clock.advance(hours=1)
    paused = set_status(client, agent, tid, "waiting_on_customer")
    assert paused["resolution_due_at"] == iso(due)  # pushed only when the clock resumes

    fake_clock.advance(hours=3)
    resumed = set_status(client, agent, tid, "in_progress")
    assert resumed["resolution_due_at"] == iso(due + timedelta(hours=3))

    # A second pause, ended by the customer's reply, adds its own length.
    fake_clock.advance(hours=1)
    set_status(client, agent, tid, "waiting_on_customer")
    fake_clock.advance(minutes=90)
    response = client.post(
        f"{API}/tickets/{tid}/comments", json={"comment": "Here it is."}, headers=customer.headers
    )
    assert response.status_code == 201
    shown = client.get(f"{API}/tickets/{tid}", headers=agent.headers).json()
    assert shown["status"] == "in_progress"
    assert shown["resolution_due_at"] == iso(due + timedelta(hours=4, minutes=30))

    # Time outside a pause pushes nothing.
    fake_clock.advance(hours=2)
    resolved = set_status(client, agent, tid, "resolved")
    assert resolved["resolution_due_at"] == iso(due + timedelta(hours=4, minutes=30))


@pytest.mark.parametrize("leave_to", ["resolved", "closed"])
def test_leaving_waiting_for_an_end_state_also_ends_the_pause(client, people, fake_clock, leave_to):
    agent = people["agent"]
    due = fake_clock.current + timedelta(minutes=1440)
    tid = make_ticket(client, people["individual"])["id"]
    set_status(client, agent, tid, "waiting_on_customer")
    fake_clock.advance(hours=5)
    body = set_status(client, agent, tid, leave_to)
    assert body["resolution_due_at"] == iso(due + timedelta(hours=5))
