"""Auto-assignment rules: conditions, round robin, least loaded, capacity, availability,
business hours, reopening; and the rules' own endpoints."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, select

from tests.conftest import BACKEND
from tests.factories import (
    API,
    PATH_FROM_OPEN,
    count_rows,
    in_db,
    make_ticket,
    make_user,
    post_comment,
    set_sla_policy,
    set_status,
)
from ticketdesk.assignment_rules import autoassign
from ticketdesk.assignment_rules.models import AssignmentHold
from ticketdesk.events.models import Event
from ticketdesk.tickets.models import Ticket

RULES = f"{API}/assignment-rules"


def make_rule(client, admin, agents, **fields):
    body = {"name": "Billing", "agent_ids": [a.id for a in agents], **fields}
    response = client.post(RULES, json=body, headers=admin.headers)
    assert response.status_code == 201, response.text
    return response.json()


def assignees(client, customer, count, **fields):
    return [make_ticket(client, customer, **fields)["assigned_to_id"] for _ in range(count)]


@pytest.fixture
def team(client):
    return {name: make_user(client, "agent", name=name) for name in ("Ana", "Ben", "Cy")}


def test_round_robin_in_turn(client, people, team):
    ana, ben = team["Ana"], team["Ben"]
    make_rule(client, people["super_admin"], [ana, ben], conditions={"categories": ["billing"]})
    customer = people["individual"]
    assert assignees(client, customer, 5, category="billing") == [ana.id, ben.id] * 2 + [ana.id]
    assert assignees(client, customer, 1, category="account") == [None]


def test_history_row_names_the_rule_and_has_no_actor(client, people, team):
    make_rule(client, people["super_admin"], [team["Ana"]], name="Billing to Ana")
    ticket = make_ticket(client, people["individual"])
    assert ticket["status"] == "in_progress"  # assigning puts an open ticket in progress
    assert ticket["assigned_to_name"] == "Ana"
    history = client.get(f"{API}/tickets/{ticket['id']}/history", headers=people["agent"].headers)
    (row,) = history.json()
    assert row["changed_by_id"] is None
    assert row["change_note"] == 'auto-assigned by rule "Billing to Ana"'
    assert (row["from_assigned_to_id"], row["to_assigned_to_id"]) == (None, team["Ana"].id)

    async def _assigned(session):
        query = select(Event).where(
            Event.ticket_id == ticket["id"], Event.type == "ticket.assigned"
        )
        return [(e.actor_id, e.data) for e in await session.scalars(query)]

    assert in_db(client, _assigned) == [
        (
            None,
            {"from": None, "to": team["Ana"].id, "note": 'auto-assigned by rule "Billing to Ana"'},
        )
    ]


@pytest.mark.skipif(BACKEND != "postgresql", reason="the numbering statement is PostgreSQL's")
def test_the_assigned_ticket_is_written_once_and_numbered_once(client, people, team):
    """The assignment made after the ticket's row was written goes with its number: one
    UPDATE of the row, not one for the assignment and one for the number, and the statement
    writes the assignment's history row too."""
    make_rule(client, people["super_admin"], [team["Ana"]])
    statements = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        statements.append(" ".join(statement.split()))

    engine = client.app.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        ticket = make_ticket(client, people["individual"])
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    updates = [s for s in statements if "UPDATE tickets" in s]
    assert len(updates) == 1 and updates[0].startswith("WITH counter AS"), updates
    # Its history row goes in the same statement.
    assert "INSERT INTO ticket_status_history" in updates[0]
    assert [s for s in statements if "ticket_status_history" in s] == updates

    async def _stored(session):
        row = await session.get(Ticket, ticket["id"])
        return row.ticket_number, row.status, row.assigned_to_id

    assert in_db(client, _stored) == (ticket["ticket_number"], "in_progress", team["Ana"].id)
    assert count_rows(client, AssignmentHold) == 0
    history = client.get(f"{API}/tickets/{ticket['id']}/history", headers=team["Ana"].headers)
    (row,) = history.json()
    assert (row["from_status"], row["to_status"]) == ("open", "in_progress")
    assert (row["from_assigned_to_id"], row["to_assigned_to_id"]) == (None, team["Ana"].id)
    assert row["change_note"] == 'auto-assigned by rule "Billing"'


def test_capacity(client, people, team):
    ana, ben = team["Ana"], team["Ben"]
    make_rule(client, people["super_admin"], [ana, ben], max_open_per_agent=2)
    customer = people["individual"]
    got = assignees(client, customer, 5)
    assert got == [ana.id, ben.id, ana.id, ben.id, None]
    # Resolved work frees capacity; the turn goes on from the last pick.
    tickets = client.get(f"{API}/tickets/?assigned_to_id={ben.id}", headers=ben.headers).json()
    set_status(client, ben, tickets[0]["id"], "resolved")
    assert assignees(client, customer, 2) == [ben.id, None]


def test_least_loaded(client, people, team):
    ana, ben, cy = team["Ana"], team["Ben"], team["Cy"]
    customer, admin = people["individual"], people["super_admin"]
    # Ana already has two open tickets, Ben one, Cy none.
    for agent in (ana, ana, ben):
        ticket = make_ticket(client, customer, category="account")
        client.post(
            f"{API}/tickets/{ticket['id']}/assign",
            json={"assigned_to_id": agent.id},
            headers=admin.headers,
        )
    make_rule(client, admin, [ana, ben, cy], strategy="least_loaded")
    # Cy (0), then Ben and Cy tie at 1: the turn after Cy starts with Ana (2), so Ben; ...
    assert assignees(client, customer, 4) == [cy.id, ben.id, cy.id, ana.id]


def test_unavailable_and_inactive_agents_are_skipped(client, people, team):
    ana, ben, cy = team["Ana"], team["Ben"], team["Cy"]
    admin = people["super_admin"]
    make_rule(client, admin, [ana, ben, cy], only_available=True)
    away = client.patch(f"{API}/users/me", json={"available": False}, headers=ana.headers)
    assert away.status_code == 200 and away.json()["available"] is False
    client.patch(f"{API}/users/{cy.id}", json={"is_active": False}, headers=admin.headers)
    assert assignees(client, people["individual"], 3) == [ben.id] * 3
    client.patch(f"{API}/users/me", json={"available": True}, headers=ana.headers)
    assert assignees(client, people["individual"], 2) == [ana.id, ben.id]


def test_availability_counts_only_with_only_available(client, people, team):
    ana = team["Ana"]
    make_rule(client, people["super_admin"], [ana])
    client.patch(f"{API}/users/me", json={"available": False}, headers=ana.headers)
    assert assignees(client, people["individual"], 1) == [ana.id]


def test_nobody_qualifies_leaves_it_unassigned(client, people, team):
    make_rule(client, people["super_admin"], [team["Ana"]], only_available=True)
    client.patch(f"{API}/users/me", json={"available": False}, headers=team["Ana"].headers)
    ticket = make_ticket(client, people["individual"])
    assert (ticket["assigned_to_id"], ticket["status"]) == (None, "open")


def test_business_hours(client, people, team, fake_clock):
    admin, ana = people["super_admin"], team["Ana"]
    set_sla_policy(client, admin, "medium", 240, 1440, True)  # office hours: Mon-Fri 9-17 UTC
    make_rule(client, admin, [ana], only_available=True)
    customer = people["individual"]
    fake_clock.set(datetime(2025, 1, 11, 12, 0, tzinfo=UTC))  # a Saturday
    assert assignees(client, customer, 1) == [None]
    # Low priority counts wall-clock time: the hours do not apply to it.
    assert assignees(client, customer, 1, priority="low") == [ana.id]
    fake_clock.set(datetime(2025, 1, 13, 8, 59, tzinfo=UTC))  # Monday, before nine
    assert assignees(client, customer, 1) == [None]
    fake_clock.set(datetime(2025, 1, 13, 9, 0, tzinfo=UTC))
    assert assignees(client, customer, 1) == [ana.id]


def test_conditions_and_order(client, people, team):
    ana, ben, cy = team["Ana"], team["Ben"], team["Cy"]
    admin, customer = people["super_admin"], people["individual"]
    make_rule(client, admin, [cy], name="Fallback", position=9)
    make_rule(
        client, admin, [ben], name="Urgent", position=1, conditions={"priorities": ["urgent"]}
    )
    make_rule(client, admin, [ana], name="VIP billing", position=0,
              conditions={"categories": ["billing"], "tags": ["vip", "gold"]})  # fmt: skip
    off = make_rule(client, admin, [ben], name="Off", position=0, is_active=False)
    assert off["is_active"] is False
    assert assignees(client, customer, 1, category="billing", tags=["gold"]) == [ana.id]
    assert assignees(client, customer, 1, category="billing", priority="urgent") == [ben.id]
    assert assignees(client, customer, 1, category="billing") == [cy.id]
    assert assignees(client, customer, 1, tags=["vip"]) == [cy.id]
    listed = client.get(RULES, headers=admin.headers).json()
    assert [r["name"] for r in listed] == ["VIP billing", "Off", "Urgent", "Fallback"]


def test_explicitly_assigned_tickets_are_left_alone(client, people, team):
    make_rule(client, people["super_admin"], [team["Ana"]])
    ticket = make_ticket(client, people["agent"])
    assert ticket["assigned_to_id"] == team["Ana"].id
    client.post(
        f"{API}/tickets/{ticket['id']}/assign",
        json={"assigned_to_id": people["agent"].id},
        headers=people["super_admin"].headers,
    )
    history = client.get(f"{API}/tickets/{ticket['id']}/history", headers=people["agent"].headers)
    assert len(history.json()) == 2


def test_reopened_unassigned_ticket_is_assigned(client, people, team):
    admin, customer, agent = people["super_admin"], people["individual"], people["agent"]
    ticket = make_ticket(client, customer)  # no rule yet: stays unassigned
    for step in PATH_FROM_OPEN["closed"]:
        set_status(client, agent, ticket["id"], step)
    make_rule(client, admin, [team["Ana"]], name="Reopened work")
    post_comment(client, customer, ticket["id"], "It broke again.")  # reopens
    after = client.get(f"{API}/tickets/{ticket['id']}", headers=agent.headers).json()
    assert after["assigned_to_id"] == team["Ana"].id
    assert after["status"] == "in_progress"
    history = client.get(f"{API}/tickets/{ticket['id']}/history", headers=agent.headers).json()
    assert [(h["from_status"], h["to_status"], h["changed_by_id"]) for h in history[-2:]] == [
        ("closed", "reopened", customer.id),
        ("reopened", "in_progress", None),
    ]


def test_reopened_ticket_keeps_its_assignee(client, people, team):
    make_rule(client, people["super_admin"], [team["Ana"]])
    agent = people["agent"]
    ticket = make_ticket(client, people["individual"])
    client.post(
        f"{API}/tickets/{ticket['id']}/assign",
        json={"assigned_to_id": agent.id},
        headers=people["super_admin"].headers,
    )
    set_status(client, agent, ticket["id"], "closed")
    after = set_status(client, agent, ticket["id"], "reopened")
    assert (after["assigned_to_id"], after["status"]) == (agent.id, "reopened")


# --- the rules' endpoints --------------------------------------------------------------------


def test_update_and_delete(client, people, team):
    admin = people["super_admin"]
    rule = make_rule(client, admin, [team["Ana"]])
    url = f"{RULES}/{rule['id']}"
    patched = client.patch(
        url,
        json={"max_open_per_agent": 10, "agent_ids": [team["Ben"].id], "strategy": "least_loaded"},
        headers=admin.headers,
    )
    assert patched.status_code == 200, patched.text
    assert (patched.json()["max_open_per_agent"], patched.json()["agent_ids"]) == (
        10,
        [team["Ben"].id],
    )
    # Conditions sent replace the rule's whole; a key left out matches anything.
    narrowed = client.patch(
        url, json={"conditions": {"categories": ["billing"]}}, headers=admin.headers
    )
    assert narrowed.json()["conditions"] == {
        "categories": ["billing"],
        "priorities": [],
        "tags": [],
    }
    widened = client.patch(url, json={"conditions": {}}, headers=admin.headers)
    assert widened.status_code == 200, widened.text
    assert widened.json()["conditions"] == {"categories": [], "priorities": [], "tags": []}
    cleared = client.patch(url, json={"max_open_per_agent": None}, headers=admin.headers)
    assert cleared.json()["max_open_per_agent"] is None
    assert client.patch(url, json={"name": None}, headers=admin.headers).status_code == 422
    assert client.delete(url, headers=admin.headers).status_code == 204
    assert client.delete(url, headers=admin.headers).status_code == 404
    assert client.get(RULES, headers=admin.headers).json() == []


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x", "agent_ids": []},
        {"name": "x", "agent_ids": ["{customer}"]},
        {"name": "x", "agent_ids": [999]},
        {"name": "x", "agent_ids": ["{agent}", "{agent}"]},
        {"name": "x", "agent_ids": ["{agent}"], "strategy": "random"},
        {"name": "x", "agent_ids": ["{agent}"], "max_open_per_agent": 0},
        {"name": "x", "agent_ids": ["{agent}"], "conditions": {"categories": ["nope"]}},
        {"name": "x", "agent_ids": ["{agent}"], "conditions": {"teams": ["a"]}},
        {"name": "", "agent_ids": ["{agent}"]},
    ],
)
def test_bad_rules_are_422(client, people, body):
    ids = {"{customer}": people["individual"].id, "{agent}": people["agent"].id}
    body = {**body, "agent_ids": [ids.get(a, a) for a in body["agent_ids"]]}
    response = client.post(RULES, json=body, headers=people["super_admin"].headers)
    assert response.status_code == 422, response.text
    assert client.get(RULES, headers=people["super_admin"].headers).json() == []


def test_customers_have_no_away_switch(client, people):
    response = client.patch(
        f"{API}/users/me", json={"available": False}, headers=people["individual"].headers
    )
    assert response.status_code == 403
    assert (
        client.patch(f"{API}/users/me", json={}, headers=people["agent"].headers).status_code == 422
    )


def test_a_hold_counts_until_its_ticket_commits_or_it_expires(client, people, team, fake_clock):
    """A pick whose ticket never committed (its transaction rolled back) leaves a hold: it
    counts against the agent's capacity until it expires, and the upkeep then deletes it. A
    ticket that commits deletes its own hold in the same commit."""
    ana, ben = team["Ana"], team["Ben"]
    rule = make_rule(client, people["super_admin"], [ana, ben], max_open_per_agent=1)
    now = fake_clock()

    async def _leave_hold(session):
        expires = now + timedelta(seconds=autoassign.HOLD_SECONDS)
        session.add(
            AssignmentHold(rule_id=rule["id"], agent_id=ana.id, created_at=now, expires_at=expires)
        )

    in_db(client, _leave_hold)
    customer = people["individual"]
    # Ana's one place is held: Ben gets the first ticket, and then nobody has room.
    assert assignees(client, customer, 2) == [ben.id, None]
    assert count_rows(client, AssignmentHold) == 1  # the created tickets left none behind

    async def _prune(session):
        return await autoassign.prune_holds(session, now=fake_clock())

    assert in_db(client, _prune) == 0  # not yet expired
    fake_clock.advance(seconds=autoassign.HOLD_SECONDS)
    assert assignees(client, customer, 1) == [ana.id]  # an expired hold no longer counts
    assert in_db(client, _prune) == 1
    assert count_rows(client, AssignmentHold) == 0
