"""Ticket numbers TKT-YYYYMMDD-NNNN: a per-UTC-day counter, incremented atomically.

The counter row is bumped with one INSERT ... ON CONFLICT DO UPDATE ... RETURNING inside the
creating transaction. Concurrent creates queue on that row (PostgreSQL row lock; SQLite's single
writer), so numbers never collide, and a rolled-back create gives its number back, so the
numbers of a day run consecutively. The row stays locked until the commit, so a create writes
its ticket with a unique `placeholder()` first and takes the number as its last step.
"""

import re
import uuid
from datetime import date

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from ticketdesk.tickets.models import TicketNumberCounter

PREFIX = "TKT"
NUMBER_PATTERN = re.compile(rf"{PREFIX}-[0-9]{{8}}-[0-9]{{4,9}}")


def placeholder() -> str:
    """A unique stand-in, never committed, that no ticket reference can name."""
    return f"{PREFIX}-PENDING-{uuid.uuid4().hex[:20].upper()}"


def format_number(day: date, value: int) -> str:
    """Four digits at least; the counter simply grows past 9999."""
    return f"{PREFIX}-{day:%Y%m%d}-{value:04d}"


async def next_number(session: AsyncSession, day: date) -> str:
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(TicketNumberCounter)
        .values(day=f"{day:%Y%m%d}", last_value=1)
        .on_conflict_do_update(
            index_elements=[TicketNumberCounter.day],
            set_={"last_value": TicketNumberCounter.last_value + 1},
        )
        .returning(TicketNumberCounter.last_value)
    )
    value = (await session.execute(statement)).scalar_one()
    return format_number(day, value)
