"""From the event log to deliveries: the dispatcher follows the log with a checkpoint.

Each run reads the events after its checkpoint (in commit order, see events.service), writes
one delivery per matching active webhook (the unique (webhook, event) key makes a repeated run
harmless), moves the checkpoint and wakes each webhook's sender — all in one transaction, so
a crash anywhere repeats the batch and loses nothing.

The dispatcher is woken by the commit of any transaction that recorded an event while a
webhook is active, and a periodic sweep runs it too, as a safety net.
"""

from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Row, select, update
from sqlalchemy import event as sa_event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from ticketdesk import clock, events
from ticketdesk.events import service as event_log
from ticketdesk.events.service import PendingEvent
from ticketdesk.jobs import checkpoints, queue
from ticketdesk.jobs.models import Checkpoint, Job, JobStatus
from ticketdesk.tickets.models import Ticket
from ticketdesk.tickets.schemas import ticket_read
from ticketdesk.tickets.service import TICKET_VIEW
from ticketdesk.webhooks import service
from ticketdesk.webhooks.models import DeliveryStatus, Webhook, WebhookDelivery
from ticketdesk.webhooks.schemas import ALL

DISPATCH = "webhooks.dispatch"
# The dispatcher runs this long after the commit that woke it: the events of that moment
# (and the deliveries they make) go in one batch, not one job chain per event.
DISPATCH_DELAY = timedelta(seconds=0.5)
CHECKPOINT = "webhooks.dispatched_through"
BATCH = 500

# --- Waking the dispatcher when events commit ---------------------------------------------

_WAKE = "ticketdesk_webhooks_wake"


@events.subscribe
async def _mark_for_wake(session: AsyncSession, _event: PendingEvent) -> None:
    if not session.sync_session.info.get(_WAKE) and await service.any_active(session):
        session.sync_session.info[_WAKE] = True


@sa_event.listens_for(Session, "before_commit")
def _queue_dispatch(session: Session) -> None:
    """Queued at commit, after the event rows (whose insert takes the commit-order lock on
    PostgreSQL), so concurrent requests never wait on each other for this job's key."""
    if not session.info.pop(_WAKE, False):
        return
    now = clock.now()
    session.execute(
        _insert(session, Job)
        .values(
            kind=DISPATCH,
            key=DISPATCH,
            payload={},
            status=JobStatus.QUEUED,
            attempts=0,
            max_attempts=5,
            run_at=now + DISPATCH_DELAY,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["key"])
    )
    session.info[queue.ENQUEUED] = True


@sa_event.listens_for(Session, "after_rollback")
def _forget_wake(session: Session) -> None:
    session.info.pop(_WAKE, None)


def _insert(session: AsyncSession | Session, table: Any) -> Any:
    """INSERT with ON CONFLICT, in the dialect at hand."""
    bind = (
        session.sync_session.get_bind() if isinstance(session, AsyncSession) else session.get_bind()
    )
    return (postgresql.insert if bind.dialect.name == "postgresql" else sqlite.insert)(table)


# --- Dispatching --------------------------------------------------------------------------


async def _checkpoint(session: AsyncSession, *, now: datetime) -> int:
    """The last event dispatched, locked for this transaction (one dispatcher at a time)."""
    value = await checkpoints.read(session, CHECKPOINT, for_update=True)
    if value is None:
        await session.execute(
            _insert(session, Checkpoint)
            .values(name=CHECKPOINT, value="0", updated_at=now)
            .on_conflict_do_nothing(index_elements=["name"])
        )
        value = await checkpoints.read(session, CHECKPOINT, for_update=True)
    return int(value or 0)


def _matches(webhook: Webhook, event_id: int, event_type: str) -> bool:
    if event_id <= webhook.start_after_event_id:
        return False
    return ALL in webhook.event_types or event_type in webhook.event_types


async def _tickets(session: AsyncSession, ids: set[int], now: datetime) -> dict[int, Any]:
    """The tickets as staff see them in the API, as JSON values."""
    if not ids:
        return {}
    rows = await session.execute(TICKET_VIEW.where(Ticket.id.in_(ids)))
    return {
        row.id: ticket_read(cast("Row[Any]", row), staff=True, now=now).model_dump(mode="json")
        for row in rows
    }


async def dispatch_batch(session: AsyncSession, *, now: datetime, limit: int = BATCH) -> int:
    """Turn up to `limit` events into deliveries; returns how many events were read."""
    through = await _checkpoint(session, now=now)
    webhooks = list(await session.scalars(select(Webhook).where(Webhook.is_active.is_(True))))
    if not webhooks:
        # Nobody listens: nothing to send, now or later (webhooks only get newer events).
        last = await event_log.last_id(session)
        if last > through:
            await checkpoints.write(session, CHECKPOINT, str(last), now=now)
        return 0
    batch = await event_log.read_after(session, through, limit=limit)
    if not batch:
        return 0
    tickets = await _tickets(session, {e.ticket_id for e in batch if e.ticket_id}, now)
    rows: list[dict[str, Any]] = []
    for event in batch:
        targets = [w for w in webhooks if _matches(w, event.id, event.type)]
        if not targets:
            continue
        data = {"ticket": tickets.get(event.ticket_id) if event.ticket_id else None}
        data |= {"actor_id": event.actor_id, **(event.data or {})}
        body = service.body(str(event.id), event.type, event.occurred_at, data)
        rows += [
            {
                "webhook_id": webhook.id,
                "event_id": event.id,
                "event_type": event.type,
                "message_id": f"evt_{event.id}",
                "body": body,
                "status": DeliveryStatus.PENDING,
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
            for webhook in targets
        ]
    if rows:
        statement = _insert(session, WebhookDelivery).on_conflict_do_nothing(
            index_elements=["webhook_id", "event_id"]
        )
        await session.execute(statement, rows)
        for webhook_id in sorted({row["webhook_id"] for row in rows}):
            await service.wake_sender(session, webhook_id)
    await checkpoints.write(session, CHECKPOINT, str(batch[-1].id), now=now)
    return len(batch)


async def due_senders(session: AsyncSession, *, now: datetime) -> list[int]:
    """Active webhooks with a delivery due: the sweep wakes their senders."""
    query = (
        select(WebhookDelivery.webhook_id)
        .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
        .where(
            Webhook.is_active.is_(True),
            WebhookDelivery.status == DeliveryStatus.PENDING,
            WebhookDelivery.next_attempt_at <= now,
        )
        .group_by(WebhookDelivery.webhook_id)
    )
    return list(await session.scalars(query))


async def release_key(session: AsyncSession, job_id: int) -> None:
    """A running job gives up its key, so that a wake during the run queues the next one."""
    await session.execute(update(Job).where(Job.id == job_id).values(key=None))
