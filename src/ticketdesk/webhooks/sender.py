"""Sending deliveries: Standard Webhooks signatures, one sender per webhook, in order.

Order: a webhook's deliveries are sent in the order they were prepared (event order), one at
a time. While the oldest pending delivery waits for a retry, the ones after it wait too, and
follow it as soon as it succeeds or is given up (`failed` after the last attempt). So a
receiver never gets an event before an earlier one, unless the earlier one was given up on
(or is sent again by hand, which sends that one alone).
"""

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ticketdesk import clock
from ticketdesk.webhooks import service, ssrf
from ticketdesk.webhooks.models import DeliveryStatus, Webhook, WebhookDelivery

USER_AGENT = "ticketdesk-webhooks/1"
# A sender holds its webhook this long, renewed before every batch.
LEASE = timedelta(seconds=60)
BATCH = 200
# What of a receiver's answer is kept (and read: a longer body closes the connection).
SNIPPET = 200
READ_LIMIT = 64 * 1024


def signature(secret: str, message_id: str, timestamp: int, body: str) -> str:
    """`v1,` + base64 HMAC-SHA256 of "{id}.{timestamp}.{body}", keyed with the secret's bytes."""
    signed = f"{message_id}.{timestamp}.{body}".encode()
    digest = hmac.new(service.secret_bytes(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


@dataclass(frozen=True)
class Result:
    status_code: int | None
    error: str | None
    retry_after: float | None = None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _aimed(url: str, target: ssrf.Target | None) -> tuple[str, dict[str, str], dict[str, Any]]:
    """The URL to request and its extra headers: aimed at the checked address, with the
    original host in the Host header and as the TLS server name (certificates still checked)."""
    if target is None:
        return url, {}, {}
    parts = urlsplit(url)
    address = f"[{target.address}]" if ":" in target.address else target.address
    aimed = urlunsplit(parts._replace(netloc=f"{address}:{target.port}"))
    extensions: dict[str, Any] = {"sni_hostname": target.host} if target.scheme == "https" else {}
    return aimed, {"host": parts.netloc}, extensions


async def post(
    client: httpx.AsyncClient,
    url: str,
    target: ssrf.Target | None,
    delivery: WebhookDelivery,
    secret: str,
) -> Result:
    """One attempt. A 2xx within the timeout is success; a redirect is not followed."""
    timestamp = int(clock.now().timestamp())
    aimed, extra, extensions = _aimed(url, target)
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": delivery.message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret, delivery.message_id, timestamp, delivery.body),
        **extra,
    }
    request = client.build_request(
        "POST", aimed, content=delivery.body.encode(), headers=headers, extensions=extensions
    )
    try:
        response = await client.send(request, stream=True)
        try:
            received = b""
            async for chunk in response.aiter_bytes():
                received += chunk
                if len(received) > READ_LIMIT:
                    break
        finally:
            await response.aclose()
    except httpx.TimeoutException:
        return Result(None, "no answer within the timeout")
    except httpx.HTTPError as exc:
        return Result(None, f"{type(exc).__name__}: {exc}"[:SNIPPET] or type(exc).__name__)
    code = response.status_code
    if 200 <= code < 300:
        return Result(code, None)
    snippet = received[:SNIPPET].decode("utf-8", "replace")
    retry_after = _retry_after(response.headers.get("retry-after")) if code in (429, 503) else None
    return Result(code, f"HTTP {code}: {snippet}".strip(), retry_after)


# --- The one sender of a webhook -----------------------------------------------------------


async def acquire(
    session: AsyncSession, webhook_id: int, claim: str, *, now: datetime
) -> bool | None:
    """Take the webhook's sending lease: True if taken, False if another sender holds it,
    None if the webhook is gone or switched off.

    A lease held by an earlier run of the same job (see `new_claim`) is taken over at once:
    the job queue hands a job to a new run only once the worker of the earlier one stopped
    renewing its job lease (it died), and that run's webhook lease may have most of a minute
    left. Should the earlier run still be alive, its next renewal finds the lease gone and it
    stops."""
    webhook = await session.get(Webhook, webhook_id)
    if webhook is None or not webhook.is_active:
        return None
    result = await session.execute(
        update(Webhook)
        .where(
            Webhook.id == webhook_id,
            or_(
                Webhook.sender_until.is_(None),
                Webhook.sender_until < now,
                Webhook.sender_claim.startswith(_job_part(claim), autoescape=True),
            ),
        )
        .values(sender_claim=claim, sender_until=now + LEASE)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def _renew(
    session: AsyncSession, webhook_id: int, claim: str, *, now: datetime
) -> Webhook | None:
    webhook = await session.scalar(
        select(Webhook).where(Webhook.id == webhook_id, Webhook.sender_claim == claim)
    )
    if webhook is None or not webhook.is_active:
        return None
    webhook.sender_until = now + LEASE
    return webhook


async def release(session: AsyncSession, webhook_id: int, claim: str) -> datetime | None:
    """Give the lease back; the time the oldest pending delivery is due (None: nothing waits)."""
    await session.execute(
        update(Webhook)
        .where(Webhook.id == webhook_id, Webhook.sender_claim == claim)
        .values(sender_claim=None, sender_until=None)
    )
    active = await session.scalar(select(Webhook.is_active).where(Webhook.id == webhook_id))
    if not active:
        return None
    return await session.scalar(
        select(WebhookDelivery.next_attempt_at)
        .where(
            WebhookDelivery.webhook_id == webhook_id,
            WebhookDelivery.status == DeliveryStatus.PENDING,
        )
        .order_by(WebhookDelivery.id)
        .limit(1)
    )


async def _pending(session: AsyncSession, webhook_id: int) -> list[WebhookDelivery]:
    query = (
        select(WebhookDelivery)
        .where(
            WebhookDelivery.webhook_id == webhook_id,
            WebhookDelivery.status == DeliveryStatus.PENDING,
        )
        .order_by(WebhookDelivery.id)
        .limit(BATCH)
    )
    return list(await session.scalars(query))


def _outcome(
    delivery: WebhookDelivery, result: Result, *, schedule: list[float], now: datetime
) -> dict[str, Any]:
    """The delivery's row after this attempt: succeeded, failed for good, or due again."""
    attempts = delivery.attempts + 1
    row: dict[str, Any] = {
        "id": delivery.id,
        "attempts": attempts,
        "last_status_code": result.status_code,
        "last_error": result.error[:1000] if result.error else None,
        "next_attempt_at": now,
        "delivered_at": now if result.ok else None,
    }
    if result.ok:
        return row | {"status": DeliveryStatus.SUCCEEDED}
    if result.status_code == 410 or attempts > len(schedule):
        return row | {"status": DeliveryStatus.FAILED}
    wait = max(schedule[attempts - 1], min(result.retry_after or 0.0, 86400.0))
    return row | {
        "status": DeliveryStatus.PENDING,
        "next_attempt_at": now + timedelta(seconds=wait),
    }


async def _record(
    session: AsyncSession,
    webhook: Webhook,
    rows: list[dict[str, Any]],
    *,
    gone: bool,
    now: datetime,
) -> None:
    if rows:
        await session.execute(update(WebhookDelivery), rows)
    if gone:
        await session.execute(
            update(Webhook)
            .where(Webhook.id == webhook.id)
            .values(
                is_active=False,
                disabled_reason="the endpoint answered 410 Gone",
                updated_at=now,
            )
        )


async def send_due(
    transaction: Any,
    webhook_id: int,
    claim: str,
    *,
    schedule: list[float],
    timeout: float,
    allow_private: bool,
    budget: float,
) -> int:
    """Send the webhook's due deliveries in order, batch after batch, until none is due, the
    oldest must wait for a retry, or `budget` seconds have passed; returns how many were sent.

    `transaction()` opens a committed-on-exit session; no transaction is open while sending.
    """
    deadline = time.monotonic() + budget
    sent = 0
    limits = httpx.Limits(max_connections=4, max_keepalive_connections=4)
    async with httpx.AsyncClient(
        timeout=timeout, follow_redirects=False, trust_env=False, limits=limits
    ) as client:
        while time.monotonic() < deadline:
            now = clock.now()
            async with transaction() as session:
                webhook = await _renew(session, webhook_id, claim, now=now)
                if webhook is None:
                    return sent
                url, secret = webhook.url, webhook.secret
                batch = await _pending(session, webhook_id)
            due = []
            for delivery in batch:
                if delivery.next_attempt_at > now:
                    break
                due.append(delivery)
            if not due:
                return sent
            results = await _send_in_order(client, url, secret, due, allow_private, deadline)
            sent += len(results)
            now = clock.now()
            rows = [
                _outcome(d, r, schedule=schedule, now=now)
                for d, r in zip(due, results, strict=False)
            ]
            gone = any(r.status_code == 410 for r in results)
            async with transaction() as session:
                await _record(session, webhook, rows, gone=gone, now=now)
            if gone or (rows and rows[-1]["status"] == DeliveryStatus.PENDING):
                return sent
    return sent


async def _send_in_order(
    client: httpx.AsyncClient,
    url: str,
    secret: str,
    due: list[WebhookDelivery],
    allow_private: bool,
    deadline: float,
) -> list[Result]:
    """Until the first failure: what comes after a failed delivery waits for it."""
    try:
        target = await ssrf.check(url, allow_private=allow_private)
    except ssrf.Refused as refused:
        return [Result(None, f"refused: {refused}")]
    aimed_target = None if allow_private else target
    results = []
    for delivery in due:
        result = await post(client, url, aimed_target, delivery, secret)
        results.append(result)
        if not result.ok or time.monotonic() >= deadline:
            break
    return results


def new_claim(job_id: int) -> str:
    """A run's claim on a webhook: the job's id, then what tells this run from other runs of
    the same job (at most 32 characters)."""
    return f"{job_id}:{secrets.token_hex(7)}"


def _job_part(claim: str) -> str:
    return claim.partition(":")[0] + ":"
