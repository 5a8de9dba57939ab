"""Auto-assignment: the first active rule that matches a new (or reopened) unassigned ticket
picks an agent, and the ticket is assigned in the transaction that creates (or reopens) it.

Picks of one rule happen one at a time, under the rule's row lock, so capacity counts see every
earlier pick and turns never repeat. On SQLite the single writer already serializes them: the
pick runs in the ticket's own transaction. On PostgreSQL a row lock lasts until its
transaction commits, and a create's transaction goes on to queue for the day's ticket number:
picking there would make every create of a rule wait for the whole of the one before it. So the
pick runs in a short transaction of its own that commits at once and leaves a hold (see
AssignmentHold), which counts as an open ticket of the agent until the ticket's transaction
commits and deletes it in the same commit.
"""

from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    Integer,
    Row,
    Select,
    String,
    bindparam,
    column,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from ticketdesk import db
from ticketdesk.assignment_rules import choosing
from ticketdesk.assignment_rules.models import (
    AgentLoad,
    AssignmentHold,
    AssignmentRule,
    Strategy,
)
from ticketdesk.auth import service as users
from ticketdesk.auth.models import STAFF_ROLES, User
from ticketdesk.db import UTCDateTime
from ticketdesk.sla import service as sla

# A module import, not its names: tickets.assignment imports tickets.service, which imports
# this module, so its names do not exist yet while this one loads.
from ticketdesk.tickets import assignment
from ticketdesk.tickets.models import Ticket

RULE_COLUMNS = AssignmentRule.__table__.c
# Every statement of the pick is built once, its values bound: building and keying a statement
# anew on every create cost more CPU than running it.
# Only what choosing the rule needs: every create reads it, and each JSON or time column
# costs a conversion per rule.
ACTIVE_RULES = (
    select(RULE_COLUMNS.id, RULE_COLUMNS.conditions, RULE_COLUMNS.only_available)
    .where(AssignmentRule.is_active.is_(True))
    .order_by(AssignmentRule.position, AssignmentRule.id)
)
LOCKED_RULE = (
    select(*RULE_COLUMNS).where(AssignmentRule.id == bindparam("rule_id")).with_for_update()
)
TURN = (
    update(AssignmentRule)
    .where(AssignmentRule.id == bindparam("rule_id"))
    .values(last_agent_id=bindparam("agent_id"))
)
_PICKED = (
    func.ticketdesk_pick_agent(
        bindparam("rule_id", type_=Integer),
        bindparam("now", type_=UTCDateTime),
        bindparam("expires_at", type_=UTCDateTime),
    )
    .table_valued(
        column("picked_agent_id", Integer),
        column("picked_rule_name", String),
        column("picked_hold_id", Integer),
    )
    .alias("picked")
)
# The whole pick on PostgreSQL in one statement (see _pick_apart), with the agent's row.
PICK = select(
    _PICKED.c.picked_rule_name.label("rule_name"),
    _PICKED.c.picked_hold_id.label("hold_id"),
    *users.USER_ROW_COLUMNS,
).join_from(_PICKED, User, User.id == _PICKED.c.picked_agent_id)


def _qualifying(only_available: bool) -> Select[Any]:
    """The rule's agents (`agent_ids`) who may get tickets: active staff, and available when
    the rule asks for it."""
    agents = select(User.id).where(
        User.id.in_(bindparam("agent_ids", expanding=True)),
        User.is_active.is_(True),
        User.role.in_(STAFF_ROLES),
    )
    return agents.where(User.available.is_(True)) if only_available else agents


def _loads(only_available: bool) -> Select[Any]:
    """Each qualifying agent with the tickets they still work on (kept in `agent_loads` by the
    database) plus their live holds (expiring after `now`)."""
    working = (
        select(AgentLoad.open_tickets)
        .where(AgentLoad.agent_id == User.id)
        .correlate(User)
        .scalar_subquery()
    )
    held = (
        select(func.count())
        .select_from(AssignmentHold)
        .where(AssignmentHold.agent_id == User.id, AssignmentHold.expires_at > bindparam("now"))
        .scalar_subquery()
    )
    qualifying = _qualifying(only_available)
    return qualifying.add_columns((func.coalesce(working, 0) + held).label("open"))


QUALIFYING = {flag: _qualifying(flag) for flag in (False, True)}
LOADS = {flag: _loads(flag) for flag in (False, True)}
# Longer than any ticket transaction lasts: a hold left by one that rolled back keeps counting
# against its agent's capacity until then (the periodic upkeep deletes it afterwards).
HOLD_SECONDS = 600


async def assign_by_rules(
    session: AsyncSession, ticket: Ticket, *, now: datetime, defer_hold: bool = False
) -> int | None:
    """Assigns an unassigned ticket by the first active rule whose conditions it matches;
    no qualifying agent leaves it unassigned. The history row has no actor and names the rule.

    The pick's hold (PostgreSQL only) is deleted here, unless `defer_hold`: then its id is
    returned, for the caller to delete before the commit (a create does it in the statement
    that numbers the ticket).
    """
    if ticket.assigned_to_id is not None:
        return None
    rule = await _first_match(session, ticket)
    if rule is None:
        return None
    if rule.only_available and not await _within_hours(session, ticket, now):
        return None
    if session.get_bind().dialect.name == "postgresql":
        assert isinstance(session.bind, AsyncEngine)
        held = await _pick_apart(db.beside(session.bind), rule.id, now=now)
        if held is None:
            return None
        rule_name, hold_id = str(held.rule_name), cast(int, held.hold_id)
        agent = users.user_in_session(session, held._mapping)
    else:
        # SQLite's single writer serializes the picks: no hold, the turn in this transaction.
        connection = await session.connection()
        picked = await _pick(connection, rule.id, now=now)
        if picked is None:
            return None
        (agent_id, rule_name), hold_id = picked, None
        await connection.execute(TURN, {"rule_id": rule.id, "agent_id": agent_id})
        found = await session.get(User, agent_id)
        assert found is not None
        agent = found
    if hold_id is not None and not defer_hold:
        # Gone in the same commit as the assignment that replaces it.
        await session.execute(delete(AssignmentHold).where(AssignmentHold.id == hold_id))
        hold_id = None
    await assignment.assign(
        session, None, ticket, agent, now=now, note=f'auto-assigned by rule "{rule_name}"'
    )
    return hold_id


async def _first_match(session: AsyncSession, ticket: Ticket) -> Row[Any] | None:
    for rule in await db.execute(session, ACTIVE_RULES):
        if choosing.matches(
            rule.conditions or {},
            category=ticket.category,
            priority=ticket.priority,
            tags=ticket.tag_list,
        ):
            return rule
    return None


async def _pick_apart(engine: AsyncEngine, rule_id: int, *, now: datetime) -> Row[Any] | None:
    """The pick in a transaction of its own, committed before the ticket's: the rule's name,
    the hold and the agent's row. One call of the database's `ticketdesk_pick_agent`, which
    does what `_pick` and the turn do on SQLite (see its migration). A hold lost in a crash
    belonged to a ticket that was lost with it."""
    params = {"rule_id": rule_id, "now": now, "expires_at": now + timedelta(seconds=HOLD_SECONDS)}
    return (await db.execute_alone(engine, PICK, params)).first()


async def _pick(
    connection: AsyncConnection, rule_id: int, *, now: datetime
) -> tuple[int, str] | None:
    """Under the rule's row lock: (the agent whose turn it is among those who qualify, the
    rule's name); the caller records the turn. SQLite's pick (PostgreSQL's is the function
    `ticketdesk_pick_agent`, the same rule); plain statements on the connection."""
    rule = (await connection.execute(LOCKED_RULE, {"rule_id": rule_id})).first()
    if rule is None or not rule.is_active:
        return None
    params: dict[str, Any] = {"agent_ids": rule.agent_ids}
    cap = rule.max_open_per_agent
    if cap is not None or rule.strategy == Strategy.LEAST_LOADED:
        params["now"] = now
        rows = await connection.execute(LOADS[rule.only_available], params)
        counts = {agent_id: count for agent_id, count in rows}
        if cap is not None:
            counts = {a: n for a, n in counts.items() if n < cap}
    else:
        agents = await connection.scalars(QUALIFYING[rule.only_available], params)
        counts = {agent_id: 0 for agent_id in agents}
    chosen = choosing.choose(rule.strategy, rule.agent_ids, rule.last_agent_id, counts)
    if chosen is None:
        return None
    return chosen, rule.name


async def _within_hours(session: AsyncSession, ticket: Ticket, now: datetime) -> bool:
    """When the ticket's SLA counts business hours only, agents are available only within them."""
    policy = await sla.policy_for(session, ticket)
    if policy is None or not policy.applies_business_hours_only:
        return True
    calendar = await sla.calendar(session)
    return calendar.between(now, now + timedelta(seconds=1)) > timedelta(0)


async def prune_holds(session: AsyncSession, *, now: datetime) -> int:
    """Holds past their time: left by ticket transactions that rolled back."""
    result = await session.execute(delete(AssignmentHold).where(AssignmentHold.expires_at <= now))
    return result.rowcount or 0  # type: ignore[attr-defined]
