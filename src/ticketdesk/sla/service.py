"""SLA policies, the business-hours calendar, and the due times they give a ticket."""

import json
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ticketdesk import clock
from ticketdesk.auth import policy as access
from ticketdesk.auth.models import User
from ticketdesk.errors import Invalid
from ticketdesk.paging import Window
from ticketdesk.sla.calendar import BusinessCalendar, CalendarError
from ticketdesk.sla.models import BusinessHours, SettingsAudit, SLAPolicy
from ticketdesk.sla.schemas import BusinessHoursIn, PolicyIn, PolicyRead
from ticketdesk.tickets.models import Priority, Ticket

PRIORITY_ORDER = list(Priority)


async def policy_for(session: AsyncSession, ticket: Ticket) -> SLAPolicy | None:
    return await session.get(SLAPolicy, ticket.priority)


async def _hours_row(session: AsyncSession) -> BusinessHours:
    row = await session.get(BusinessHours, 1)
    assert row is not None, "the initial migration seeds the business hours"
    return row


@lru_cache(maxsize=16)
def _parse(timezone: str, weekly: str, holidays: str) -> BusinessCalendar:
    return BusinessCalendar.from_config(timezone, json.loads(weekly), json.loads(holidays))


async def calendar(session: AsyncSession) -> BusinessCalendar:
    """The stored calendar; parsed once per distinct definition."""
    row = await _hours_row(session)
    return _parse(row.timezone, json.dumps(row.weekly, sort_keys=True), json.dumps(row.holidays))


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
    resolution = timedelta(minutes=policy.resolution_time, seconds=_paused_seconds(ticket, policy))
    ticket.resolution_due_at = await _add(session, policy, start, resolution)
    ticket.sla_breaches_recorded = 0


def _paused_seconds(ticket: Ticket, policy: SLAPolicy) -> int:
    """The time paused so far, counted the way the policy counts."""
    if policy.applies_business_hours_only:
        return ticket.sla_paused_business_seconds
    return ticket.sla_paused_seconds


def pause(ticket: Ticket, now: datetime) -> None:
    """Waiting on the customer stops the resolution clock."""
    ticket.sla_paused_at = now


async def resume(session: AsyncSession, ticket: Ticket, now: datetime) -> None:
    """Each pause pushes the resolution due time later by the paused (business) time."""
    paused_at, ticket.sla_paused_at = ticket.sla_paused_at, None
    if paused_at is None:
        return
    # Both measures are kept, so a later priority change can count the pauses either way.
    business = (await calendar(session)).between(paused_at, now)
    ticket.sla_paused_seconds += int((now - paused_at).total_seconds())
    ticket.sla_paused_business_seconds += int(business.total_seconds())
    policy = await policy_for(session, ticket)
    if policy is None or ticket.resolution_due_at is None:
        return
    wall = now - paused_at
    paused = business if policy.applies_business_hours_only else wall
    ticket.resolution_due_at = await _add(session, policy, ticket.resolution_due_at, paused)


async def list_policies(session: AsyncSession, actor: User) -> list[SLAPolicy]:
    access.require_super_admin(actor)
    rows = {p.priority: p for p in await session.scalars(select(SLAPolicy))}
    return [rows[priority] for priority in PRIORITY_ORDER if priority in rows]


def _audit(
    session: AsyncSession,
    actor: User,
    entity: str,
    before: dict[str, Any] | None,
    after: dict[str, Any],
) -> None:
    session.add(
        SettingsAudit(
            changed_by_id=actor.id,
            entity=entity,
            before=before,
            after=after,
            changed_at=clock.now(),
        )
    )


async def set_policy(session: AsyncSession, actor: User, data: PolicyIn) -> SLAPolicy:
    """Applies to tickets created or re-prioritised from now on; every change is audited."""
    access.require_super_admin(actor)
    row = await session.get(SLAPolicy, data.priority)
    assert row is not None, "the initial migration seeds a policy per priority"
    business = data.applies_business_hours_only
    if business is None:
        business = row.applies_business_hours_only
    if business:
        field, longest = max(
            ("first_response_time", data.first_response_time),
            ("resolution_time", data.resolution_time),
            key=lambda target: target[1],
        )
        _require_reachable(await calendar(session), longest, field=field)
    before = PolicyRead.model_validate(row).model_dump(mode="json")
    row.first_response_time = data.first_response_time
    row.resolution_time = data.resolution_time
    if data.applies_business_hours_only is not None:
        row.applies_business_hours_only = data.applies_business_hours_only
    row.updated_at = clock.now()
    after = PolicyRead.model_validate(row).model_dump(mode="json")
    _audit(session, actor, f"sla_policy:{data.priority}", before, after)
    await session.flush()
    return row


async def get_business_hours(session: AsyncSession, actor: User) -> BusinessCalendar:
    access.require_super_admin(actor)
    return await calendar(session)


async def set_business_hours(
    session: AsyncSession, actor: User, data: BusinessHoursIn
) -> BusinessCalendar:
    """The calendar is validated whole (zone, windows, holidays) before anything is stored."""
    access.require_super_admin(actor)
    new = parse_hours(data)
    business = await session.scalars(
        select(SLAPolicy).where(SLAPolicy.applies_business_hours_only.is_(True))
    )
    targets = [max(p.first_response_time, p.resolution_time) for p in business]
    if targets:
        _require_reachable(new, max(targets), field="weekly", idle_field="holidays")
    row = await _hours_row(session)
    before = (await calendar(session)).to_config()
    config = new.to_config()
    row.timezone, row.weekly, row.holidays = (
        config["timezone"],
        config["weekly"],
        config["holidays"],
    )
    row.updated_at = clock.now()
    _audit(session, actor, "business_hours", dict(before), dict(config))
    await session.flush()
    return new


def _require_reachable(
    cal: BusinessCalendar, minutes: int, *, field: str, idle_field: str | None = None
) -> None:
    """A business-hours target must end at a storable instant for a ticket created now."""
    try:
        cal.add(clock.now(), timedelta(minutes=minutes))
    except CalendarError as error:  # years on end without business time: the holidays
        raise Invalid(
            f"{minutes} business minutes cannot be counted: {error}", field=idle_field or field
        ) from None
    except (OverflowError, ValueError):
        raise Invalid(
            f"{minutes} business minutes of this calendar end after the year 9999", field=field
        ) from None


def _field_of(error: CalendarError) -> str:
    """The field at fault, from how the calendar begins its message (not words it quotes)."""
    message = str(error).lower()
    if message.startswith(("unknown time zone", "time zone")):
        return "timezone"
    if message.startswith("holiday"):
        return "holidays"
    return "weekly"


async def audit_trail(
    session: AsyncSession, actor: User, *, window: Window = Window()
) -> list[SettingsAudit]:
    access.require_super_admin(actor)
    query = window.apply(select(SettingsAudit).order_by(SettingsAudit.id), SettingsAudit.id)
    return list(await session.scalars(query))


async def preview_due(
    session: AsyncSession,
    actor: User,
    priority: Priority,
    *,
    now: datetime,
    hours: BusinessCalendar | None = None,
) -> tuple[datetime, datetime] | None:
    """The first response and resolution due times of a ticket created `now` with this
    priority, by the stored policy and the stored calendar (or `hours`, one not yet saved)."""
    access.require_super_admin(actor)
    policy = await session.get(SLAPolicy, priority)
    if policy is None:
        return None
    targets = (policy.first_response_time, policy.resolution_time)
    if not policy.applies_business_hours_only:
        return now + timedelta(minutes=targets[0]), now + timedelta(minutes=targets[1])
    cal = hours or await calendar(session)
    try:
        first, resolution = (cal.add(now, timedelta(minutes=m)) for m in targets)
    except (CalendarError, OverflowError, ValueError) as error:
        raise Invalid(
            f"no due time can be counted with these hours: {error}", field="weekly"
        ) from None
    return first, resolution


def parse_hours(data: BusinessHoursIn) -> BusinessCalendar:
    """A calendar from the API's shape; its problems are the API's 422 messages."""
    try:
        return BusinessCalendar.from_config(data.timezone, data.weekly, data.holidays)
    except CalendarError as error:
        raise Invalid(str(error), field=_field_of(error)) from None
