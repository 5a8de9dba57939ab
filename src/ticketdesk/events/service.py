"""Recording events, and reading them back in commit order.

`record` runs the in-transaction subscribers at once (mail outbox rows, search index, …) but
keeps the event row itself until the transaction commits. Then it is inserted, its id drawn
from the sequence, while the transaction holds a *shared* advisory lock until its commit ends
(PostgreSQL; SQLite writers are serial anyway). Writers never wait for each other on it.
A reader (`read_after`) takes the same lock *exclusively* before it reads: it waits for the
commits in flight to end, and the writers arriving meanwhile draw their ids only after its
read. So every id a reader can see was handed out before any id it could miss: reading
`id > cursor ORDER BY id` never skips a transaction that commits late, and ids in the feed
only grow. Readers delay writers only for the length of one short read.
"""

import enum
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import event as sa_event
from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import Session

from ticketdesk.events.models import Event

if TYPE_CHECKING:
    from ticketdesk.auth.models import User
    from ticketdesk.tickets.models import Ticket

# Measuring only (bench/events_bench.py): "false" keeps event rows from being written, to weigh
# what the log costs. Mail, webhooks and live pages depend on the log: never set it in service.
WRITE_EVENT_ROWS = os.environ.get("TICKETDESK_BENCH_EVENT_ROWS", "true") != "false"

# Any constant will do, as long as nothing else uses it (the migrations take 7415001).
COMMIT_ORDER_LOCK = 7415002
PENDING = "ticketdesk_pending_events"


@dataclass
class PendingEvent:
    type: str
    ticket: "Ticket | None"
    actor: "User | None"
    data: dict[str, Any]
    occurred_at: datetime
    is_internal: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def row(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "occurred_at": self.occurred_at,
            "ticket_id": self.ticket.id if self.ticket is not None else None,
            "actor_id": self.actor.id if self.actor is not None else None,
            "is_internal": self.is_internal,
            "data": plain(self.data),
        }


Subscriber = Callable[[AsyncSession, PendingEvent], Awaitable[None]]
Settler = Callable[[AsyncSession], Awaitable[None]]
_subscribers: list[Subscriber] = []
_settlers: list[Settler] = []
TOGETHER = "ticketdesk_events_together"


def subscribe(subscriber: Subscriber) -> Subscriber:
    """Run `subscriber(session, event)` in the transaction of every recorded event."""
    if subscriber not in _subscribers:
        _subscribers.append(subscriber)
    return subscriber


def on_settle(settler: Settler) -> Settler:
    """Run `settler(session)` at the end of every `together` block: a subscriber that put off
    part of its work (see `together`) does it there, once for all the block's events."""
    if settler not in _settlers:
        _settlers.append(settler)
    return settler


@asynccontextmanager
async def together(session: AsyncSession) -> AsyncIterator[None]:
    """The events recorded inside are one change: subscribers still see each as it is
    recorded, and may put off what they would do for each (`put_off`) until the block ends,
    to do it once for all of them (mail reads the recipients' choices in one statement for a
    new ticket and its auto-assignment). A block that raises settles nothing: its
    transaction is rolled back. Blocks do not nest: an inner block is part of the outer."""
    info = session.sync_session.info
    if info.get(TOGETHER):
        yield
        return
    info[TOGETHER] = True
    try:
        yield
    finally:
        info.pop(TOGETHER, None)
    for settler in _settlers:
        await settler(session)


def put_off(session: AsyncSession) -> bool:
    """Whether the session is inside a `together` block."""
    return bool(session.sync_session.info.get(TOGETHER))


async def record(
    session: AsyncSession,
    type: str,
    *,
    ticket: "Ticket | None",
    actor: "User | None",
    data: dict[str, Any],
    now: datetime,
    is_internal: bool = False,
) -> PendingEvent:
    """Append an event to the log as part of the current transaction.

    An event about a staff-only ticket is internal whatever the caller says.
    """
    internal = is_internal or bool(ticket is not None and ticket.is_internal)
    pending = PendingEvent(type, ticket, actor, data, now, internal)
    session.sync_session.info.setdefault(PENDING, []).append(pending)
    for subscriber in _subscribers:
        await subscriber(session, pending)
    return pending


def pending(session: AsyncSession) -> list[PendingEvent]:
    """The events recorded in this transaction, not yet written."""
    return list(session.sync_session.info.get(PENDING, []))


def plain(value: Any) -> Any:
    """JSON-ready copy of event data: enums by value, times in ISO 8601."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat().replace("+00:00", "Z")
    return value


_TAKE_COMMIT_ORDER = text("SELECT pg_advisory_xact_lock_shared(:key)")
_INSERT_EVENTS = insert(Event)


@sa_event.listens_for(Session, "before_commit")
def _insert_pending(session: Session) -> None:
    pending: list[PendingEvent] | None = session.info.pop(PENDING, None)
    if not pending or not WRITE_EVENT_ROWS:
        return
    session.flush()  # everything else first: the lock is held only for the event rows
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_TAKE_COMMIT_ORDER, {"key": COMMIT_ORDER_LOCK})
    # NULLs rendered: rows with and without an actor or ticket go in one statement instead of
    # one per shape, inside the window where the commit-order lock is held.
    rows = [event.row() for event in pending]
    session.execute(_INSERT_EVENTS, rows, execution_options={"render_nulls": True})


@sa_event.listens_for(Session, "after_rollback")
def _drop_pending(session: Session) -> None:
    session.info.pop(PENDING, None)


@sa_event.listens_for(Session, "after_soft_rollback")
def _drop_pending_soft(session: Session, _previous: Any) -> None:
    session.info.pop(PENDING, None)


async def read_after(
    session: AsyncSession,
    after: int,
    *,
    limit: int,
    types: Iterable[str] | None = None,
    ticket_ids: Sequence[int] | None = None,
    include_internal: bool = True,
) -> list[Event]:
    """Committed events with ids above `after`, oldest first, none ever skipped (see above).

    On PostgreSQL the read runs in a short transaction of its own (on a connection of the same
    engine) that holds the commit-order lock; `session` only names the database.
    """
    query = select(Event).where(Event.id > after).order_by(Event.id).limit(limit)
    wanted = list(types or [])
    if wanted:
        query = query.where(Event.type.in_(wanted))
    if ticket_ids is not None:
        query = query.where(Event.ticket_id.in_(ticket_ids))
    if not include_internal:
        query = query.where(Event.is_internal.is_(False))
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        return list(await session.scalars(query))
    engine = session.bind if isinstance(session.bind, AsyncEngine) else None
    if engine is None:
        raise RuntimeError("read_after needs a session bound to an engine")
    async with engine.connect() as connection:
        connection = await connection.execution_options(isolation_level="READ COMMITTED")
        async with connection.begin(), AsyncSession(connection, expire_on_commit=False) as reader:
            await reader.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": COMMIT_ORDER_LOCK}
            )
            return list(await reader.scalars(query))


async def last_id(session: AsyncSession) -> int:
    """The newest committed event's id (0 for an empty log)."""
    return int(await session.scalar(select(Event.id).order_by(Event.id.desc()).limit(1)) or 0)


PRUNED_THROUGH = "events.pruned_through"


async def pruned_through(session: AsyncSession) -> int:
    """The id of the newest event removed by retention (0: none ever was)."""
    from ticketdesk.jobs import checkpoints

    value = await checkpoints.read(session, PRUNED_THROUGH)
    return int(value) if value else 0


async def prune(session: AsyncSession, *, before: datetime, now: datetime) -> int:
    """Removes the events older than `before`, remembering the newest id removed."""
    from sqlalchemy import delete, func

    from ticketdesk.jobs import checkpoints

    newest = await session.scalar(select(func.max(Event.id)).where(Event.occurred_at < before))
    if newest is None:
        return 0
    result = await session.execute(delete(Event).where(Event.id <= newest))
    await checkpoints.write(session, PRUNED_THROUGH, str(newest), now=now)
    return int(result.rowcount)  # type: ignore[attr-defined]
