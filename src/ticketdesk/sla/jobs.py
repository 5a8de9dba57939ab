"""SLA breaches become events: a periodic scan over the due times that passed since the last.

Breaches are derived from the due times (sla/breach.py), so nothing happens at the moment a
due time passes. This scan finds the tickets whose due time fell in the window since its last
run and that are breached now, and records one `ticket.sla_breached` event per target and
ticket (the ticket's `sla_breaches_recorded` bits make a second run a no-op). A due time
moved back into the past by a later priority change is not caught.
"""

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ticketdesk import events
from ticketdesk.jobs import JobContext, checkpoints, periodic
from ticketdesk.sla import breach
from ticketdesk.tickets.models import Ticket

CHECKPOINT = "sla.breach_scan"
FIRST_RESPONSE, RESOLUTION = 1, 2
BATCH = 500


def _period(settings: Any) -> float:
    return float(settings.sla_scan_seconds)


@periodic("sla.breach_scan", every=_period)
async def scan(ctx: JobContext, _payload: dict[str, Any]) -> None:
    async with ctx.transaction() as session:
        await record_breaches(session, now=ctx.now, first_window=_period(ctx.settings))


async def record_breaches(session: AsyncSession, *, now: datetime, first_window: float) -> int:
    """Records the breaches whose due time passed since the last scan; returns how many."""
    last = await checkpoints.read(session, CHECKPOINT, for_update=True)
    since = datetime.fromisoformat(last) if last else now - timedelta(seconds=first_window)
    recorded, after_id = 0, 0
    while True:
        due_in_window = or_(
            and_(Ticket.first_response_due_at > since, Ticket.first_response_due_at <= now),
            and_(Ticket.resolution_due_at > since, Ticket.resolution_due_at <= now),
        )
        query = (
            select(Ticket)
            .where(
                due_in_window,
                Ticket.sla_breaches_recorded < FIRST_RESPONSE | RESOLUTION,
                Ticket.id > after_id,
            )
            .order_by(Ticket.id)
            .limit(BATCH)
            .with_for_update()
        )
        tickets = list(await session.scalars(query))
        for ticket in tickets:
            recorded += await _record(session, ticket, now)
        if len(tickets) < BATCH:
            break
        after_id = tickets[-1].id
    await checkpoints.write(session, CHECKPOINT, now.isoformat(), now=now)
    return recorded


async def _record(session: AsyncSession, ticket: Ticket, now: datetime) -> int:
    found = []
    if not ticket.sla_breaches_recorded & FIRST_RESPONSE and breach.first_response_breached(
        ticket.first_response_due_at, ticket.first_response_at, now
    ):
        found.append((FIRST_RESPONSE, "first_response", ticket.first_response_due_at))
    if not ticket.sla_breaches_recorded & RESOLUTION and breach.resolution_breached(
        ticket.resolution_due_at, ticket.resolved_at, ticket.sla_paused_at, now
    ):
        found.append((RESOLUTION, "resolution", ticket.resolution_due_at))
    for bit, target, due in found:
        ticket.sla_breaches_recorded |= bit
        await events.record(
            session,
            "ticket.sla_breached",
            ticket=ticket,
            actor=None,
            data={"target": target, "due_at": due},
            now=now,
        )
    return len(found)
