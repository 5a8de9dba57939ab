"""Breach rules, as pure predicates and as the equivalent SQL condition."""

from datetime import datetime

from sqlalchemy import ColumnElement, and_, or_

from ticketdesk.tickets.models import Ticket


def first_response_breached(
    due: datetime | None, responded: datetime | None, now: datetime
) -> bool:
    """The first response came after its due time, or none yet and the due time has passed."""
    if due is None:
        return False
    return responded > due if responded is not None else now > due


def resolution_breached(
    due: datetime | None, resolved: datetime | None, paused_since: datetime | None, now: datetime
) -> bool:
    """As for first response; while paused, the clock stands still at the pause."""
    if due is None:
        return False
    if resolved is not None:
        return resolved > due
    return (paused_since or now) > due


def breached_condition(now: datetime) -> ColumnElement[bool]:
    """SQL for "either SLA is breached now", matching the two predicates above."""
    t = Ticket
    first = or_(
        t.first_response_at > t.first_response_due_at,
        and_(t.first_response_at.is_(None), t.first_response_due_at < now),
    )
    resolution = or_(
        t.resolved_at > t.resolution_due_at,
        and_(t.resolved_at.is_(None), t.sla_paused_at > t.resolution_due_at),
        and_(t.resolved_at.is_(None), t.sla_paused_at.is_(None), t.resolution_due_at < now),
    )
    return or_(first, resolution)


def breaching_condition(now: datetime, soon: datetime) -> ColumnElement[bool]:
    """SQL for "breached, or a running clock falls due before `soon`"."""
    t = Ticket
    due_soon = or_(
        and_(t.first_response_at.is_(None), t.first_response_due_at < soon),
        and_(t.resolved_at.is_(None), t.sla_paused_at.is_(None), t.resolution_due_at < soon),
    )
    return or_(breached_condition(now), due_soon)
