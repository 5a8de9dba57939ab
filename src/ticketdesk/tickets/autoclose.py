"""Auto-close: a resolved ticket untouched for the configured hours is closed by the system."""

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ticketdesk.db import session_scope
from ticketdesk.tickets.models import Status, Ticket
from ticketdesk.tickets.transition import apply_status

BATCH = 200


def note_for(hours: float) -> str:
    return f"Closed automatically: resolved and untouched for {hours:g} hours."


async def close_batch(session: AsyncSession, *, now: datetime, hours: float) -> int:
    """Closes up to BATCH due tickets; returns how many.

    Safe with several processes at once: on PostgreSQL the rows are locked and rows another
    process holds are skipped (after its commit they are no longer resolved); on SQLite every
    transaction takes the write lock first (BEGIN IMMEDIATE), so the runs take turns.
    """
    cutoff = now - timedelta(hours=hours)
    query = (
        select(Ticket)
        .where(Ticket.status == Status.RESOLVED, Ticket.updated_at <= cutoff)
        .order_by(Ticket.id)
        .limit(BATCH)
        .with_for_update(skip_locked=True)
    )
    due = list(await session.scalars(query))
    for ticket in due:
        await apply_status(session, None, ticket, Status.CLOSED, now=now, note=note_for(hours))
    await session.flush()
    return len(due)


async def close_all(
    sessionmaker: async_sessionmaker[AsyncSession], *, now: datetime, hours: float
) -> int:
    """Closes every due ticket, BATCH at a time, each batch in its own transaction."""
    total = 0
    while True:
        async with session_scope(sessionmaker) as session:
            closed = await close_batch(session, now=now, hours=hours)
        total += closed
        if closed < BATCH:
            return total
