"""Agents' loads (`agent_loads`), kept by the database's triggers on `tickets`: after every change
of a ticket's assignee or status, however it is written, each agent's load equals a count of
the tickets assigned to them that are not resolved or closed."""

import importlib.util
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select, text, update

from tests.factories import (
    API,
    in_db,
    insert_tickets,
    make_ticket,
    make_user,
    set_status,
    set_ticket_columns,
)
from ticketdesk.assignment_rules.models import AgentLoad
from ticketdesk.tickets.models import OPEN_WORK_SQL, Ticket

MIGRATION = (
    Path(__file__).parents[2] / "src/ticketdesk/migrations/versions/2026-11-30-0200_agent_loads.py"
)


def loads(client) -> dict[int, int]:
    async def _read(session):
        rows = await session.execute(select(AgentLoad.agent_id, AgentLoad.open_tickets))
        return {agent: n for agent, n in rows if n != 0}

    return in_db(client, _read)


def counted(client) -> dict[int, int]:
    async def _count(session):
        query = (
            select(Ticket.assigned_to_id, func.count())
            .where(Ticket.assigned_to_id.is_not(None), text(OPEN_WORK_SQL))
            .group_by(Ticket.assigned_to_id)
        )
        return dict((await session.execute(query)).all())

    return in_db(client, _count)


def assign(client, admin, ticket_id, agent_id):
    body = {"assigned_to_id": agent_id}
    response = client.post(f"{API}/tickets/{ticket_id}/assign", json=body, headers=admin.headers)
    assert response.status_code == 200, response.text


def test_loads_follow_every_change(client, people):
    admin, customer = people["super_admin"], people["individual"]
    ana, ben, cy = (make_user(client, "agent", name=name) for name in ("Ana", "Ben", "Cy"))
    rule = {"name": "All", "agent_ids": [ana.id, ben.id]}
    assert client.post(f"{API}/assignment-rules", json=rule, headers=admin.headers).is_success
    steps = []

    def check(step):
        steps.append(step)
        assert loads(client) == counted(client), steps

    ids = [make_ticket(client, customer)["id"] for _ in range(5)]
    check("created and assigned by the rule")
    assert loads(client) == {ana.id: 3, ben.id: 2}
    assign(client, admin, ids[0], cy.id)
    check("reassigned")
    assign(client, admin, ids[1], None)
    check("unassigned")
    set_status(client, admin, ids[2], "waiting_on_customer")
    check("between open statuses")
    set_status(client, admin, ids[3], "resolved")
    check("resolved")
    set_status(client, admin, ids[3], "reopened")
    check("reopened")
    set_status(client, admin, ids[4], "closed")
    check("closed")
    body = {"ticket_ids": ids, "action": "assign", "assigned_to_id": cy.id}
    response = client.post(f"{API}/tickets/bulk", json=body, headers=admin.headers)
    assert response.status_code == 200, response.text
    check("assigned in bulk")
    assert loads(client) == {cy.id: 4}  # the closed ticket is no work
    response = client.post(
        f"{API}/tickets/{ids[0]}/merge", json={"into": ids[2]}, headers=admin.headers
    )
    assert response.status_code == 200, response.text
    check("merged")
    inserted = insert_tickets(client, customer.id, 3, assigned_to_id=ben.id)
    check("inserted with an assignee")
    set_ticket_columns(client, inserted[0], status="closed", assigned_to_id=ana.id)
    set_ticket_columns(client, inserted[1], assigned_to_id=ana.id)
    check("written straight into the table")

    async def _delete(session):
        await session.execute(delete(Ticket).where(Ticket.id.in_(inserted)))

    in_db(client, _delete)
    check("deleted")
    assert loads(client) == {cy.id: 3}


def test_a_rolled_back_change_leaves_the_loads_alone(client, people):
    agent = make_user(client, "agent")
    (ticket_id,) = insert_tickets(client, people["individual"].id, 1, assigned_to_id=agent.id)

    async def _reassign_and_fail(session):
        await session.execute(
            update(Ticket).where(Ticket.id == ticket_id).values(assigned_to_id=None)
        )
        raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        in_db(client, _reassign_and_fail)
    assert loads(client) == counted(client) == {agent.id: 1}


def test_the_migration_counts_the_tickets_there_are(client, people):
    ana, ben = make_user(client, "agent"), make_user(client, "agent")
    customer_id = people["individual"].id
    insert_tickets(client, customer_id, 3, assigned_to_id=ana.id)
    insert_tickets(client, customer_id, 2, assigned_to_id=ben.id, status="resolved")
    insert_tickets(client, customer_id, 1, assigned_to_id=ben.id, status="waiting_on_customer")
    spec = importlib.util.spec_from_file_location("agent_loads_migration", MIGRATION)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)

    async def _backfill(session):
        await session.execute(delete(AgentLoad))
        await session.execute(text(migration.BACKFILL))

    in_db(client, _backfill)
    assert loads(client) == {ana.id: 3, ben.id: 1}
