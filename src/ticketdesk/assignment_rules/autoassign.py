"""Auto-assignment: the first active rule that matches a new (or reopened) unassigned ticket
picks an agent, in the transaction that creates (or reopens) it."""

from datetime import datetime, timedelta

from sqlalchemy import func, literal, select, text, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from ticketdesk.assignment_rules import choosing
from ticketdesk.assignment_rules.models import AssignmentRule, Strategy
from ticketdesk.auth.models import STAFF_ROLES, User
from ticketdesk.sla import service as sla

# A module import, not its names: tickets.assignment imports tickets.service, which imports
# this module, so its names do not exist yet while this one loads.
from ticketdesk.tickets import assignment
from ticketdesk.tickets.models import OPEN_WORK_SQL, Ticket

ACTIVE_RULES = (
    select(AssignmentRule)
    .where(AssignmentRule.is_active.is_(True))
    .order_by(AssignmentRule.position, AssignmentRule.id)
)


async def assign_by_rules(session: AsyncSession, ticket: Ticket, *, now: datetime) -> bool:
    """Assigns an unassigned ticket by the first active rule whose conditions it matches;
    no qualifying agent leaves it unassigned. The history row has no actor and names the rule.

    The rule's row is locked (PostgreSQL) while it picks, so the picks of one rule happen one
    at a time: capacity counts see every earlier pick, and turns never repeat.
    """
    if ticket.assigned_to_id is not None:
        return False
    rule = await _first_match(session, ticket)
    if rule is None:
        return False
    locked = await session.scalar(
        select(AssignmentRule)
        .where(AssignmentRule.id == rule.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if locked is None or not locked.is_active:
        return False
    agent = await _pick(session, locked, ticket, now=now)
    if agent is None:
        return False
    locked.last_agent_id = agent.id
    await assignment.assign(
        session, None, ticket, agent, now=now, note=f'auto-assigned by rule "{locked.name}"'
    )
    return True


async def _first_match(session: AsyncSession, ticket: Ticket) -> AssignmentRule | None:
    for rule in await session.scalars(ACTIVE_RULES):
        if choosing.matches(
            rule.conditions or {},
            category=ticket.category,
            priority=ticket.priority,
            tags=ticket.tag_list,
        ):
            return rule
    return None


async def _pick(
    session: AsyncSession, rule: AssignmentRule, ticket: Ticket, *, now: datetime
) -> User | None:
    query = select(User).where(
        User.id.in_(rule.agent_ids), User.is_active.is_(True), User.role.in_(STAFF_ROLES)
    )
    if rule.only_available:
        if not await _within_hours(session, ticket, now):
            return None
        query = query.where(User.available.is_(True))
    agents = {user.id: user for user in await session.scalars(query)}
    counts = {agent_id: 0 for agent_id in agents}
    cap = rule.max_open_per_agent
    if agents and (cap is not None or rule.strategy == Strategy.LEAST_LOADED):
        counts |= await _open_counts(session, list(agents), cap=cap)
        if cap is not None:
            counts = {a: n for a, n in counts.items() if n < cap}
    chosen = choosing.choose(rule.strategy, rule.agent_ids, rule.last_agent_id, counts)
    return agents[chosen] if chosen is not None else None


async def _within_hours(session: AsyncSession, ticket: Ticket, now: datetime) -> bool:
    """When the ticket's SLA counts business hours only, agents are available only within them."""
    policy = await sla.policy_for(session, ticket)
    if policy is None or not policy.applies_business_hours_only:
        return True
    calendar = await sla.calendar(session)
    return calendar.between(now, now + timedelta(seconds=1)) > timedelta(0)


async def _open_counts(
    session: AsyncSession, agent_ids: list[int], *, cap: int | None
) -> dict[int, int]:
    """Tickets each agent still works on, counted up to `cap` (exact below it, which is all a
    capacity check needs), from the partial index on open assignments; one statement."""
    counts = []
    for agent_id in agent_ids:
        open_ids = select(Ticket.id).where(
            Ticket.assigned_to_id == agent_id, text(f"tickets.{OPEN_WORK_SQL}")
        )
        if cap is not None:
            open_ids = open_ids.limit(cap)
        counted = select(literal(agent_id).label("agent_id"), func.count().label("open"))
        counts.append(counted.select_from(open_ids.subquery()))
    rows = await session.execute(union_all(*counts))
    return {agent_id: count for agent_id, count in rows}
