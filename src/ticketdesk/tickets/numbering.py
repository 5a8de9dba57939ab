"""Ticket numbers TKT-YYYYMMDD-NNNN: a per-UTC-day counter, incremented atomically.

The counter row is bumped with one INSERT ... ON CONFLICT DO UPDATE ... RETURNING inside the
creating transaction. Concurrent creates queue on that row (PostgreSQL row lock; SQLite's single
writer), so numbers never collide, and a rolled-back create gives its number back, so the
numbers of a day run consecutively. The row stays locked until the commit, so a create writes
its ticket with a unique `placeholder()` first and takes the number as its last step.
"""

import functools
import re
import uuid
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy import Integer, TextClause, bindparam, text
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


# The counter, the ticket (with the changes its creating transaction made to it since it was
# written: the columns named), its history rows written since (as many as `history`), the mail
# queued about it and the auto-assignment hold the ticket's assignment replaces (none: NULL) in
# one round trip (PostgreSQL).
@functools.cache
def _number_written_ticket(columns: tuple[str, ...], history: int) -> TextClause:
    changes = "".join(f", {name} = :set_{name}" for name in columns)
    table = TicketNumberCounter.metadata.tables["tickets"]
    trail = TicketNumberCounter.metadata.tables["ticket_status_history"]
    trail_columns = [column for column in trail.c if column.name != "id"]
    names = ", ".join(column.name for column in trail_columns)
    rows = ", ".join(
        "(" + ", ".join(f":h{n}_{column.name}" for column in trail_columns) + ")"
        for n in range(history)
    )
    written = f", history AS (INSERT INTO ticket_status_history ({names}) VALUES {rows})"
    return text(
        f"""
    WITH counter AS (
        INSERT INTO ticket_number_counters (day, last_value) VALUES (:day, 1)
        ON CONFLICT (day) DO UPDATE SET last_value = ticket_number_counters.last_value + 1
        RETURNING last_value::text AS value
    ), numbered AS (
        UPDATE tickets
        SET ticket_number = :prefix || lpad(counter.value, greatest(4, length(counter.value)), '0')
            {changes}
        FROM counter
        WHERE tickets.id = :ticket_id
        RETURNING tickets.ticket_number
    ), mailed AS (
        UPDATE mail_outbox
        SET subject = replace(subject, :placeholder, numbered.ticket_number),
            body_text = replace(body_text, :placeholder, numbered.ticket_number),
            body_html = replace(body_html, :placeholder, numbered.ticket_number)
        FROM numbered
        WHERE mail_outbox.ticket_id = :ticket_id
    ), released AS (
        DELETE FROM assignment_holds WHERE id = :hold
    ){written if history else ""}
    SELECT ticket_number FROM numbered
    """
    ).bindparams(
        bindparam("hold", type_=Integer),
        *(bindparam(f"set_{name}", type_=table.c[name].type) for name in columns),
        *(
            bindparam(f"h{n}_{column.name}", type_=column.type)
            for n in range(history)
            for column in trail_columns
        ),
    )


async def number_written_ticket(
    session: AsyncSession,
    ticket_id: int,
    placeholder: str,
    day: date,
    *,
    hold: int | None,
    changes: Mapping[str, Any] | None = None,
    history: Sequence[Mapping[str, Any]] = (),
) -> str:
    """The day's next number for a ticket already written with `placeholder`, put in place of
    it in the ticket row and in the mail queued about the ticket, and the `hold` its
    auto-assignment left deleted (PostgreSQL). `changes`: columns of the ticket changed since
    it was written, written by the same statement (one new version of the row, not two);
    `history`: its history rows not written yet (column values), written by it too."""
    changes = changes or {}
    params = {
        "day": f"{day:%Y%m%d}",
        "prefix": f"{PREFIX}-{day:%Y%m%d}-",
        "ticket_id": ticket_id,
        "placeholder": placeholder,
        "hold": hold,
        **{f"set_{name}": value for name, value in changes.items()},
        **{f"h{n}_{name}": value for n, row in enumerate(history) for name, value in row.items()},
    }
    statement = _number_written_ticket(tuple(sorted(changes)), len(history))
    number = await session.scalar(statement, params)
    assert number is not None, "the ticket is written before it is numbered"
    return str(number)
