"""The trail every change leaves: status-history rows and activity entries."""

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ticketdesk.auth.models import User
from ticketdesk.paging import Window
from ticketdesk.sla import breach
from ticketdesk.tickets.models import (
    Priority,
    Status,
    Ticket,
    TicketActivity,
    TicketStatusHistory,
)
from ticketdesk.tickets.schemas import ActivityRead


def add_history(
    session: AsyncSession,
    ticket: Ticket,
    actor: User | None,
    *,
    now: datetime,
    status: tuple[Status, Status] | None = None,
    priority: tuple[Priority, Priority] | None = None,
    assignee: tuple[int | None, int | None] | None = None,
    note: str | None = None,
) -> TicketStatusHistory:
    """One row per change event; the from/to pairs that did not change stay null."""
    row = TicketStatusHistory(
        ticket_id=ticket.id,
        changed_by_id=actor.id if actor else None,
        from_status=status[0] if status else None,
        to_status=status[1] if status else None,
        from_priority=priority[0] if priority else None,
        to_priority=priority[1] if priority else None,
        from_assigned_to_id=assignee[0] if assignee else None,
        to_assigned_to_id=assignee[1] if assignee else None,
        change_note=note,
        changed_at=now,
    )
    session.add(row)
    return row


def add_activity(
    session: AsyncSession,
    ticket: Ticket,
    actor: User | None,
    kind: str,
    *,
    now: datetime,
    **details: Any,
) -> None:
    session.add(
        TicketActivity(
            ticket_id=ticket.id,
            actor_id=actor.id if actor else None,
            kind=kind,
            details=details,
            created_at=now,
        )
    )


async def history_of(
    session: AsyncSession, ticket: Ticket, *, window: Window = Window()
) -> list[TicketStatusHistory]:
    query = (
        select(TicketStatusHistory)
        .where(TicketStatusHistory.ticket_id == ticket.id)
        .order_by(TicketStatusHistory.id)
    )
    return list(await session.scalars(window.apply(query, TicketStatusHistory.id)))


async def timeline(
    session: AsyncSession, ticket: Ticket, *, now: datetime, window: Window = Window()
) -> list[ActivityRead]:
    """The recorded activity, with the SLA breaches (derived from the due times) woven in.

    With a window, at most `limit + 1` recorded entries (the extra one says more remain); the
    derived breaches come with the last page."""
    query = window.apply(
        select(TicketActivity)
        .where(TicketActivity.ticket_id == ticket.id)
        .order_by(TicketActivity.id),
        TicketActivity.id,
    )
    entries = [
        ActivityRead(
            id=row.id,
            kind=row.kind,
            actor_id=row.actor_id,
            details=row.details,
            created_at=row.created_at,
        )
        for row in await session.scalars(query)
    ]
    if len(entries) > window.limit:
        return entries  # not the last page: the caller cuts the extra entry
    entries.extend(_breaches(ticket, now))
    return sorted(entries, key=lambda entry: entry.created_at)


def _breaches(ticket: Ticket, now: datetime) -> list[ActivityRead]:
    found = []
    if breach.first_response_breached(ticket.first_response_due_at, ticket.first_response_at, now):
        found.append(("first_response", ticket.first_response_due_at))
    if breach.resolution_breached(
        ticket.resolution_due_at, ticket.resolved_at, ticket.sla_paused_at, now
    ):
        found.append(("resolution", ticket.resolution_due_at))
    return [
        ActivityRead(
            id=None, kind="sla_breached", actor_id=None, details={"target": target}, created_at=due
        )
        for target, due in found
        if due is not None
    ]
