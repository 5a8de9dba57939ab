"""Every change of a ticket appends one event in its own transaction; refused changes none."""

import pytest
from sqlalchemy import select

from tests.factories import (
    API,
    fetch_ticket,
    in_db,
    make_ticket,
    post_comment,
    run_jobs,
    set_status,
)
from ticketdesk.events.models import Event


def events_of(client, ticket_id: int | None = None) -> list[Event]:
    async def _read(session):
        query = select(Event).order_by(Event.id)
        if ticket_id is not None:
            query = query.where(Event.ticket_id == ticket_id)
        return list(await session.scalars(query))

    return in_db(client, _read)


def types_of(client, ticket_id: int | None = None) -> list[str]:
    return [event.type for event in events_of(client, ticket_id)]


def test_create_records_ticket_created(client, people):
    ticket = make_ticket(client, people["individual"], priority="high")
    [event] = events_of(client, ticket["id"])
    assert event.type == "ticket.created"
    assert event.actor_id == people["individual"].id
    assert event.is_internal is False
    assert event.data["ticket_number"] == ticket["ticket_number"]
    assert event.data["priority"] == "high"
    assert event.occurred_at.isoformat().replace("+00:00", "Z") == ticket["created_at"]


def test_edit_records_one_event_with_every_changed_field(client, people):
    ticket = make_ticket(client, people["individual"], priority="low")
    response = client.patch(
        f"{API}/tickets/{ticket['id']}",
        json={"priority": "urgent", "category": "billing", "subject": ticket["subject"]},
        headers=people["agent"].headers,
    )
    assert response.status_code == 200, response.text
    event = events_of(client, ticket["id"])[-1]
    assert event.type == "ticket.updated"
    # The unchanged subject is not a change.
    assert event.data == {
        "changes": {"priority": ["low", "urgent"], "category": ["general_inquiry", "billing"]}
    }


def test_an_edit_that_changes_nothing_records_nothing(client, people):
    ticket = make_ticket(client, people["individual"])
    response = client.patch(
        f"{API}/tickets/{ticket['id']}",
        json={"subject": ticket["subject"]},
        headers=people["agent"].headers,
    )
    assert response.status_code == 200
    assert types_of(client, ticket["id"]) == ["ticket.created"]


def test_status_assignment_comment_note_and_edit(client, people):
    agent = people["agent"]
    ticket = make_ticket(client, people["individual"])
    tid = ticket["id"]
    response = client.post(
        f"{API}/tickets/{tid}/assign", json={"assigned_to_id": agent.id}, headers=agent.headers
    )
    assert response.status_code == 200, response.text
    reply = post_comment(client, agent, tid, "We are on it.")
    note = post_comment(client, agent, tid, "Customer is on the legacy plan.", is_internal=True)
    response = client.patch(
        f"{API}/tickets/{tid}/comments/{reply['id']}",
        json={"comment": "We are on it!"},
        headers=agent.headers,
    )
    assert response.status_code == 200, response.text
    set_status(client, agent, tid, "resolved")

    found = events_of(client, tid)
    assert [e.type for e in found] == [
        "ticket.created",
        "ticket.status_changed",  # assigning an open ticket puts it in progress
        "ticket.assigned",
        "comment.created",
        "note.created",
        "comment.updated",
        "ticket.status_changed",
    ]
    assert found[1].data == {"from": "open", "to": "in_progress", "note": None}
    assert found[2].data == {"from": None, "to": agent.id, "note": None}
    assert found[3].data["comment_id"] == reply["id"] and found[3].is_internal is False
    assert found[4].data["comment_id"] == note["id"] and found[4].is_internal is True
    assert found[6].data["to"] == "resolved"
    assert all(e.actor_id == agent.id for e in found[1:])
    # No event carries an internal note's text.
    assert all("legacy plan" not in str(e.data) for e in found)
    # Ids grow with commit order.
    assert [e.id for e in found] == sorted(e.id for e in found)


def test_a_customer_comment_that_reopens_records_both(client, people):
    agent, customer = people["agent"], people["individual"]
    tid = make_ticket(client, customer)["id"]
    set_status(client, agent, tid, "resolved")
    post_comment(client, customer, tid, "Still broken.")
    assert types_of(client, tid)[-2:] == ["comment.created", "ticket.status_changed"]
    assert events_of(client, tid)[-1].data["to"] == "reopened"


def test_events_about_a_staff_only_ticket_are_internal(client, people):
    agent = people["agent"]
    ticket = make_ticket(client, agent, is_internal=True)
    post_comment(client, agent, ticket["id"], "Public words on a staff-only ticket.")
    assert {e.is_internal for e in events_of(client, ticket["id"])} == {True}


@pytest.mark.parametrize(
    ("method", "path", "body", "role"),
    [
        ("post", "/tickets/{id}/status", {"status": "reopened"}, "agent"),  # not from open
        ("post", "/tickets/{id}/status", {"status": "resolved"}, "individual"),  # customer
        ("patch", "/tickets/{id}", {"priority": "urgent"}, "individual"),  # customer field
        ("post", "/tickets/{id}/comments", {"comment": "x", "is_internal": True}, "individual"),
        ("post", "/tickets/{id}/assign", {"assigned_to_id": 999999}, "super_admin"),
        ("post", "/tickets/{id}/comments", {"comment": "x"}, "other"),  # not their ticket
    ],
)
def test_a_refused_change_records_nothing(client, people, method, path, body, role):
    tid = make_ticket(client, people["individual"])["id"]
    before = types_of(client)
    response = getattr(client, method)(
        API + path.format(id=tid), json=body, headers=people[role].headers
    )
    assert response.status_code in (403, 404, 409, 422), response.text
    assert types_of(client) == before


def test_a_bulk_request_that_fails_leaves_no_event(client, people):
    admin = people["super_admin"]
    ids = [make_ticket(client, people["individual"])["id"] for _ in range(3)]
    before = types_of(client)
    response = client.post(
        f"{API}/tickets/bulk",
        json={"ticket_ids": [*ids, 999999], "action": "status", "status": "in_progress"},
        headers=admin.headers,
    )
    assert response.status_code in (404, 422), response.text
    assert types_of(client) == before
    response = client.post(
        f"{API}/tickets/bulk",
        json={"ticket_ids": ids, "action": "status", "status": "in_progress"},
        headers=admin.headers,
    )
    assert response.status_code == 200, response.text
    assert types_of(client)[len(before) :] == ["ticket.status_changed"] * 3


def test_sla_breaches_are_recorded_once_per_target(client, people, fake_clock):
    """Urgent: first response due in 15 min, resolution in 240 min (wall clock in tests)."""
    tid = make_ticket(client, people["individual"], priority="urgent")["id"]
    run_jobs(client)  # the first scan sets its starting point
    fake_clock.advance(minutes=16)
    run_jobs(client)
    breaches = [e for e in events_of(client, tid) if e.type == "ticket.sla_breached"]
    assert [e.data["target"] for e in breaches] == ["first_response"]
    assert breaches[0].actor_id is None

    fake_clock.advance(minutes=230)
    run_jobs(client)
    fake_clock.advance(minutes=5)
    run_jobs(client)
    breaches = [e for e in events_of(client, tid) if e.type == "ticket.sla_breached"]
    assert [e.data["target"] for e in breaches] == ["first_response", "resolution"]


def test_an_answered_ticket_records_no_first_response_breach(client, people, fake_clock):
    tid = make_ticket(client, people["individual"], priority="urgent")["id"]
    run_jobs(client)
    fake_clock.advance(minutes=10)
    post_comment(client, people["agent"], tid, "Looking into it.")
    fake_clock.advance(minutes=10)
    run_jobs(client)
    assert "ticket.sla_breached" not in types_of(client, tid)
    assert fetch_ticket(client, people["agent"], tid)["first_response_at"] is not None


def test_events_with_and_without_an_actor_are_written_in_one_statement(client, people):
    """A rule's assignment (no actor) and the create (an actor) in one transaction: one INSERT,
    since every statement there runs while the commit-order lock is held."""
    from sqlalchemy import event as sa_event

    from ticketdesk import clock, events

    ticket_id = make_ticket(client, people["individual"])["id"]
    actor = people["agent"]
    inserts = []

    def _record(_conn, _cursor, statement, _parameters, _context, _many):
        if statement.lstrip().startswith("INSERT INTO events"):
            inserts.append(statement)

    async def _record_two(session):
        from ticketdesk.auth.models import User
        from ticketdesk.tickets.models import Ticket

        ticket = await session.get(Ticket, ticket_id)
        agent = await session.get(User, actor.id)
        now = clock.now()
        await events.record(session, "t.one", ticket=ticket, actor=agent, data={}, now=now)
        await events.record(session, "t.two", ticket=ticket, actor=None, data={}, now=now)

    engine = client.app.state.engine.sync_engine
    sa_event.listen(engine, "before_cursor_execute", _record)
    try:
        in_db(client, _record_two)
    finally:
        sa_event.remove(engine, "before_cursor_execute", _record)
    assert len(inserts) == 1
    written = [(e.type, e.actor_id) for e in events_of(client, ticket_id)][-2:]
    assert written == [("t.one", actor.id), ("t.two", None)]
