"""Webhooks: the super_admin's subscriptions of URLs to events, and their delivery log.

Nothing is sent from here: saving checks the URL, pings and manual retries queue a delivery,
and the dispatcher and sender jobs (webhooks/jobs.py) do the rest after the commit.
"""

import base64
import json
import secrets
import time
from datetime import datetime
from typing import Any

from sqlalchemy import exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ticketdesk import clock, jobs
from ticketdesk.auth import policy
from ticketdesk.auth.models import User
from ticketdesk.errors import Invalid, NotFound
from ticketdesk.events import service as events
from ticketdesk.jobs.models import Job, JobStatus
from ticketdesk.webhooks import ssrf
from ticketdesk.webhooks.models import DeliveryStatus, Webhook, WebhookDelivery
from ticketdesk.webhooks.schemas import WebhookCreate, WebhookUpdate

SECRET_PREFIX = "whsec_"
PING = "webhook.ping"
DELIVER = "webhooks.deliver"


# Whether any webhook is active, as this process last saw it: events recorded while none is
# cost nothing more. Changes made in this process are seen at once (`forget_active`), those
# of other processes within this many seconds (and the periodic sweep covers the gap).
_ACTIVE_TTL = 5.0
_active: tuple[float, bool] | None = None


def forget_active() -> None:
    global _active
    _active = None


async def any_active(session: AsyncSession) -> bool:
    global _active
    if _active is not None and time.monotonic() < _active[0]:
        return _active[1]
    found = bool(await session.scalar(select(exists().where(Webhook.is_active.is_(True)))))
    _active = (time.monotonic() + _ACTIVE_TTL, found)
    return found


def new_secret() -> str:
    """Standard Webhooks secrets: "whsec_" and the base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def secret_bytes(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


async def check_url(url: str, *, allow_private: bool) -> None:
    try:
        await ssrf.check(url, allow_private=allow_private)
    except ssrf.Refused as refused:
        raise Invalid(str(refused), field="url") from None


async def create_webhook(
    session: AsyncSession, actor: User, data: WebhookCreate, *, now: datetime
) -> Webhook:
    """Events recorded before the webhook exists are not sent to it. The URL must have passed
    `check_url` (outside the transaction: it may wait on DNS)."""
    policy.require_super_admin(actor)
    webhook = Webhook(
        url=data.url,
        description=data.description,
        event_types=data.event_types,
        secret=new_secret(),
        is_active=True,
        disabled_reason=None,
        start_after_event_id=await events.last_id(session),
        created_by_id=actor.id,
        created_at=now,
        updated_at=now,
    )
    session.add(webhook)
    await session.flush()
    forget_active()
    return webhook


async def list_webhooks(session: AsyncSession, actor: User) -> list[Webhook]:
    policy.require_super_admin(actor)
    return list(await session.scalars(select(Webhook).order_by(Webhook.id)))


async def get_webhook(
    session: AsyncSession, actor: User, webhook_id: int, *, for_update: bool = False
) -> Webhook:
    policy.require_super_admin(actor)
    query = select(Webhook).where(Webhook.id == webhook_id)
    if for_update:
        query = query.with_for_update()
    webhook = await session.scalar(query)
    if webhook is None:
        raise NotFound("webhook not found")
    return webhook


async def update_webhook(
    session: AsyncSession,
    actor: User,
    webhook_id: int,
    data: WebhookUpdate,
    *,
    now: datetime,
) -> Webhook:
    """Switching a webhook back on clears why it was off; its waiting deliveries resume. A new
    URL must have passed `check_url`."""
    webhook = await get_webhook(session, actor, webhook_id, for_update=True)
    changes = data.model_dump(exclude_unset=True)
    for field, value in changes.items():
        setattr(webhook, field, value)
    if changes.get("is_active"):
        webhook.disabled_reason = None
        await wake_sender(session, webhook.id, now_please=True)
    webhook.updated_at = now
    await session.flush()
    forget_active()
    return webhook


async def delete_webhook(session: AsyncSession, actor: User, webhook_id: int) -> None:
    """Its delivery log goes with it."""
    webhook = await get_webhook(session, actor, webhook_id)
    await session.delete(webhook)
    await session.flush()
    forget_active()


async def rotate_secret(
    session: AsyncSession, actor: User, webhook_id: int, *, now: datetime
) -> str:
    """The old secret stops signing at once (deliveries not yet sent use the new one)."""
    webhook = await get_webhook(session, actor, webhook_id, for_update=True)
    webhook.secret = new_secret()
    webhook.updated_at = now
    await session.flush()
    forget_active()
    return webhook.secret


def body(message_id: str, type: str, timestamp: datetime, data: dict[str, Any]) -> str:
    payload = {
        "id": message_id,
        "type": type,
        "timestamp": timestamp.isoformat().replace("+00:00", "Z"),
        "data": data,
    }
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


async def ping(
    session: AsyncSession, actor: User, webhook_id: int, *, now: datetime
) -> WebhookDelivery:
    """A `webhook.ping` delivery, queued behind the webhook's other deliveries."""
    webhook = await get_webhook(session, actor, webhook_id)
    message_id = f"ping_{secrets.token_hex(12)}"
    delivery = WebhookDelivery(
        webhook_id=webhook.id,
        event_id=None,
        event_type=PING,
        message_id=message_id,
        body=body(message_id, PING, now, {"webhook_id": webhook.id}),
        status=DeliveryStatus.PENDING,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(delivery)
    await session.flush()
    await wake_sender(session, webhook.id)
    return delivery


DELIVERY_PAGE = 100


async def list_deliveries(
    session: AsyncSession,
    actor: User,
    webhook_id: int,
    *,
    limit: int = DELIVERY_PAGE,
    before: int | None = None,
) -> list[WebhookDelivery]:
    """Newest first; `before` pages back through older ones."""
    webhook = await get_webhook(session, actor, webhook_id)
    query = select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook.id)
    if before is not None:
        query = query.where(WebhookDelivery.id < before)
    query = query.order_by(WebhookDelivery.id.desc()).limit(limit)
    return list(await session.scalars(query))


async def retry_delivery(
    session: AsyncSession, actor: User, webhook_id: int, delivery_id: int, *, now: datetime
) -> WebhookDelivery:
    """Send it again now, whatever became of it, with a fresh set of attempts; it keeps its
    place in the webhook's order (it goes before the deliveries that came after it)."""
    webhook = await get_webhook(session, actor, webhook_id)
    delivery = await session.scalar(
        select(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id, WebhookDelivery.webhook_id == webhook.id)
        .with_for_update()
    )
    if delivery is None:
        raise NotFound("delivery not found")
    delivery.status = DeliveryStatus.PENDING
    delivery.attempts = 0
    delivery.next_attempt_at = now
    delivery.delivered_at = None
    await session.flush()
    await wake_sender(session, webhook.id, now_please=True)
    return delivery


async def wake_sender(
    session: AsyncSession,
    webhook_id: int,
    *,
    run_at: datetime | None = None,
    now_please: bool = False,
) -> None:
    """Queue the webhook's sender (at most one waits per webhook). `now_please` also brings a
    sender queued for later (waiting for a retry) forward to now: a manual retry, a webhook
    switched back on."""
    key = f"{DELIVER}:{webhook_id}"
    if now_please:
        now = clock.now()
        await session.execute(
            update(Job)
            .where(Job.key == key, Job.status == JobStatus.QUEUED, Job.run_at > now)
            .values(run_at=now)
        )
    await jobs.enqueue(session, DELIVER, {"webhook_id": webhook_id}, run_at=run_at, key=key)
