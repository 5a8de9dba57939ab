"""POST /tickets/{id}/assign: who may assign whom, the status it brings, the history it leaves."""

from sqlalchemy import update

from tests.factories import (
    API,
    STATUSES,
    footprint,
    in_db,
    iso,
    make_ticket,
    make_user,
    rows_of,
    ticket_in_status,
)
from ticketdesk.auth.models import User
from ticketdesk.tickets.models import TicketActivity, TicketStatusHistory


def post_assign(client, actor, ticket_id, body):
    headers = actor.headers if actor is not None else {}
    return client.post(f"{API}/tickets/{ticket_id}/assign", json=body, headers=headers)


def assign(client, actor, ticket_id, assignee_id, **extra):
    response = post_assign(client, actor, ticket_id, {"assigned_to_id": assignee_id, **extra})
    assert response.status_code == 200, response.text
    return response.json()


def deactivate(client, user_id):
    async def _deactivate(session):
        await session.execute(update(User).where(User.id == user_id).values(is_active=False))

    in_db(client, _deactivate)


def test_super_admin_assigns_to_any_active_staff_member(client, people, fake_clock):
    admin, agent = people["super_admin"], people["agent"]
    second_admin = make_user(client, "super_admin", name="Second Admin")
    tid = ticket_in_status(client, people, "in_progress")["id"]

    steps = [(agent, "to the agent"), (second_admin, "to another admin"), (admin, "to myself")]
    previous = None
    for assignee, text in steps:
        fake_clock.advance(minutes=10)
        body = assign(client, admin, tid, assignee.id, note=text)
        assert body["assigned_to_id"] == assignee.id
        assert body["assigned_to_email"] == assignee.email
        assert body["updated_at"] == iso(fake_clock.current)
        row = rows_of(client, TicketStatusHistory, tid)[-1]
        assert (row.from_assigned_to_id, row.to_assigned_to_id) == (previous, assignee.id)
        assert (row.changed_by_id, row.change_note, row.changed_at) == (
            admin.id,
            text,
            fake_clock.current,
        )
        assert (row.from_status, row.to_status) == (None, None)
        previous = assignee.id
    assert body["assigned_to_name"] == "Super_Admin 5"
    assert len(rows_of(client, TicketStatusHistory, tid)) == 1 + len(steps)


def test_agent_takes_a_ticket(client, people):
    agent = people["agent"]
    tid = make_ticket(client, people["individual"])["id"]
    body = assign(client, agent, tid, agent.id)
    assert (body["assigned_to_id"], body["assigned_to_name"]) == (agent.id, "Agent 4")
    assert body["status"] == "in_progress"
    assert rows_of(client, TicketStatusHistory, tid)[-1].changed_by_id == agent.id


def test_agent_may_not_assign_anyone_else(client, people):
    agent = people["agent"]
    colleague = make_user(client, "agent")
    tid = make_ticket(client, people["individual"])["id"]
    before = footprint(client, tid)
    for assignee in (colleague, people["super_admin"], people["individual"]):
        response = post_assign(client, agent, tid, {"assigned_to_id": assignee.id})
        assert response.status_code == 403, assignee.role
    assert footprint(client, tid) == before


def test_agent_lets_go_of_their_own_ticket_only(client, people):
    agent, admin = people["agent"], people["super_admin"]
    colleague = make_user(client, "agent")
    own = make_ticket(client, people["individual"])["id"]
    theirs = make_ticket(client, people["individual"])["id"]
    assign(client, agent, own, agent.id)
    assign(client, admin, theirs, colleague.id)

    before = footprint(client, theirs)
    assert post_assign(client, agent, theirs, {"assigned_to_id": None}).status_code == 403
    assert footprint(client, theirs) == before

    body = assign(client, agent, own, None, note="cannot take this after all")
    assert (body["assigned_to_id"], body["assigned_to_name"]) == (None, None)
    assert body["status"] == "in_progress"
    row = rows_of(client, TicketStatusHistory, own)[-1]
    assert (row.from_assigned_to_id, row.to_assigned_to_id) == (agent.id, None)
    assert row.change_note == "cannot take this after all"


def test_agent_may_take_over_a_colleagues_ticket(client, people):
    """API.md lets an agent assign "only to themself"; that includes taking a colleague's."""
    agent, admin = people["agent"], people["super_admin"]
    colleague = make_user(client, "agent")
    tid = make_ticket(client, people["individual"])["id"]
    assign(client, admin, tid, colleague.id)
    assert assign(client, agent, tid, agent.id)["assigned_to_id"] == agent.id
    row = rows_of(client, TicketStatusHistory, tid)[-1]
    assert (row.from_assigned_to_id, row.to_assigned_to_id) == (colleague.id, agent.id)


def test_customers_may_not_assign(client, people):
    owner = people["individual"]
    tid = make_ticket(client, owner)["id"]
    before = footprint(client, tid)
    body = {"assigned_to_id": people["agent"].id}
    assert post_assign(client, owner, tid, body).status_code == 403
    for stranger in ("enterprise", "sub_user", "other"):
        assert post_assign(client, people[stranger], tid, body).status_code == 404, stranger
    assert post_assign(client, None, tid, body).status_code == 401
    assert footprint(client, tid) == before
    for role in ("enterprise", "sub_user"):
        own = make_ticket(client, people[role])["id"]
        assert post_assign(client, people[role], own, body).status_code == 403, role


def test_only_active_staff_can_be_assignees(client, people):
    admin = people["super_admin"]
    retired = make_user(client, "agent")
    deactivate(client, retired.id)
    retired_admin = make_user(client, "super_admin")
    deactivate(client, retired_admin.id)
    tid = make_ticket(client, people["individual"])["id"]
    before = footprint(client, tid)
    for assignee_id in (
        people["individual"].id,
        people["enterprise"].id,
        people["sub_user"].id,
        retired.id,
        retired_admin.id,
        999_999,
    ):
        response = post_assign(client, admin, tid, {"assigned_to_id": assignee_id})
        assert response.status_code == 422, assignee_id
        assert response.json()["detail"][0]["loc"] == ["body", "assigned_to_id"]
    assert footprint(client, tid) == before


def test_invalid_bodies_are_422(client, people):
    admin = people["super_admin"]
    tid = make_ticket(client, people["individual"])["id"]
    before = footprint(client, tid)
    agent_id = people["agent"].id
    for body, field in [
        ({}, "assigned_to_id"),
        ({"assigned_to_id": 0}, "assigned_to_id"),
        ({"assigned_to_id": -1}, "assigned_to_id"),
        ({"assigned_to_id": 2**31}, "assigned_to_id"),
        ({"assigned_to_id": "someone"}, "assigned_to_id"),
        ({"assigned_to_id": agent_id, "note": "x" * 5001}, "note"),
        ({"assigned_to_id": agent_id, "status": "closed"}, "status"),
    ]:
        response = post_assign(client, admin, tid, body)
        assert response.status_code == 422, body
        assert any(field in error["loc"] for error in response.json()["detail"]), body
    assert footprint(client, tid) == before


def test_assigning_a_ticket_that_awaits_staff_puts_it_in_progress(client, people, fake_clock):
    """One history row carries both the status pair and the assignee pair, and the note."""
    admin, agent = people["super_admin"], people["agent"]
    for status in ("open", "reopened"):
        tid = ticket_in_status(client, people, status)["id"]
        before = footprint(client, tid)
        fake_clock.advance(minutes=5)

        body = assign(client, admin, tid, agent.id, note="Sarah from tech support")

        assert body["status"] == "in_progress"
        history = rows_of(client, TicketStatusHistory, tid)
        assert len(history) == before["history"] + 1, status
        row = history[-1]
        assert (row.from_status, row.to_status) == (status, "in_progress")
        assert (row.from_assigned_to_id, row.to_assigned_to_id) == (None, agent.id)
        assert (row.change_note, row.changed_by_id) == ("Sarah from tech support", admin.id)
        assert row.changed_at == fake_clock.current
        kinds = [a.kind for a in rows_of(client, TicketActivity, tid)]
        assert kinds[before["activity"] :] == ["status_changed", "assigned"]


def test_assigning_in_any_other_status_keeps_the_status(client, people):
    admin, agent = people["super_admin"], people["agent"]
    for status in [s for s in STATUSES if s not in ("open", "reopened")]:
        ticket = ticket_in_status(client, people, status)
        before = footprint(client, ticket["id"])
        body = assign(client, admin, ticket["id"], agent.id)
        assert body["status"] == status
        assert (body["resolved_at"], body["closed_at"]) == (
            ticket["resolved_at"],
            ticket["closed_at"],
        )
        history = rows_of(client, TicketStatusHistory, ticket["id"])
        assert len(history) == before["history"] + 1
        assert (history[-1].from_status, history[-1].to_status) == (None, None)
        assert history[-1].to_assigned_to_id == agent.id


def test_unassigning_keeps_the_status_even_when_it_awaits_staff(client, people):
    admin, agent = people["super_admin"], people["agent"]
    tid = make_ticket(client, people["individual"])["id"]
    assign(client, admin, tid, agent.id)
    body = assign(client, admin, tid, None)
    assert (body["assigned_to_id"], body["assigned_to_email"], body["status"]) == (
        None,
        None,
        "in_progress",
    )
    row = rows_of(client, TicketStatusHistory, tid)[-1]
    assert (row.from_assigned_to_id, row.to_assigned_to_id) == (agent.id, None)
    assert (row.from_status, row.to_status) == (None, None)


def test_assigning_the_current_assignee_again_writes_nothing(client, people, fake_clock):
    admin, agent = people["super_admin"], people["agent"]
    tid = make_ticket(client, people["individual"])["id"]
    fake_clock.advance(minutes=1)
    unassigned = footprint(client, tid)
    assert assign(client, admin, tid, None)["assigned_to_id"] is None
    assert footprint(client, tid) == unassigned

    assign(client, admin, tid, agent.id)
    fake_clock.advance(minutes=1)
    before = footprint(client, tid)
    for actor in (admin, agent):
        assert assign(client, actor, tid, agent.id)["assigned_to_id"] == agent.id
    assert footprint(client, tid) == before
