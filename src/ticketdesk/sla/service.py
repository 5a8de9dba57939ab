"""SLA policies, the business-hours calendar, and the due times they give a ticket."""

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from ticketdesk.sla.calendar import BusinessCalendar
from ticketdesk.sla.models import BusinessHours, SLAPolicy
from ticketdesk.tickets.models import Ticket


async def policy_for(session: AsyncSession, ticket: Ticket) -> SLAPolicy | None:
    return await session.get(SLAPolicy, ticket.priority)


async def calendar(session: AsyncSession) -> BusinessCalendar:
    row = await session.get(BusinessHours, 1)
    assert row is not None, "the initial migration seeds the business hours"
    return BusinessCalendar.from_config(row.timezone, row.weekly, row.holidays)


async def _add(
    session: AsyncSession, policy: SLAPolicy, start: datetime, duration: timedelta
) -> datetime:
    if not policy.applies_business_hours_only:
        return start + duration
    return (await calendar(session)).add(start, duration)


async def set_due_times(session: AsyncSession, ticket: Ticket) -> None:
    """Due times count from creation, in business or wall-clock minutes as the policy says."""
    policy = await policy_for(session, ticket)
    if policy is None:
        return
    start = ticket.created_at
    ticket.first_response_due_at = await _add(
        session, policy, start, timedelta(minutes=policy.first_response_time)
    )
    resolution = timedelta(minutes=policy.resolution_time, seconds=ticket.sla_paused_seconds)
    ticket.resolution_due_at = await _add(session, policy, start, resolution)


def pause(ticket: Ticket, now: datetime) -> None:
    """Waiting on the customer stops the resolution clock."""
    ticket.sla_paused_at = now


async def resume(session: AsyncSession, ticket: Ticket, now: datetime) -> None:
    """Each pause pushes the resolution due time later by the paused (business) time."""
    paused_at, ticket.sla_paused_at = ticket.sla_paused_at, None
    policy = await policy_for(session, ticket)
    if paused_at is None or policy is None or ticket.resolution_due_at is None:
        return
    if policy.applies_business_hours_only:
        paused = (await calendar(session)).between(paused_at, now)
    else:
        paused = now - paused_at
    seconds = int(paused.total_seconds())
    ticket.sla_paused_seconds += seconds
    ticket.resolution_due_at = await _add(
        session, policy, ticket.resolution_due_at, timedelta(seconds=seconds)
    )
