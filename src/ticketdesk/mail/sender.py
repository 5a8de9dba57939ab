"""Sending the outbox over SMTP: claim a batch, send it on one connection, record the results.

At least once, with a stable Message-ID: a row is committed as `sending` (with a lease) before
it goes out; a process that dies after the server's 250 and before recording it leaves the row
`sending`, and once the lease runs out it is sent again: the same bytes, the same Message-ID.
"""

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta

import aiosmtplib
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ticketdesk.attachments.storage import Storage
from ticketdesk.mail import compose, outbox, signing
from ticketdesk.mail.config import Endpoint, MailConfig
from ticketdesk.mail.models import OutboundEmail, OutboxStatus

Transaction = Callable[[], AbstractAsyncContextManager[AsyncSession]]
BATCH = 200
LEASE = timedelta(minutes=5)
TIMEOUT = 30.0


@dataclass(frozen=True)
class Outcome:
    row_id: int
    attempts: int
    code: int | None  # None: delivered
    error: str | None = None

    @property
    def permanent(self) -> bool:
        return self.code is not None and self.code >= 500


async def send_due(
    transaction: Transaction, config: MailConfig, *, now: datetime, storage: Storage | None = None
) -> int:
    """Sends every due mail in batches; returns how many were accepted by the server.

    Without an SMTP server configured the mail stays queued. `storage` holds the bytes of the
    files the mails carry.
    """
    if config.smtp is None:
        return 0
    delivered = 0
    while True:
        async with transaction() as session:
            rows = await claim(session, config, now=now)
        if not rows:
            return delivered
        outcomes = await deliver(config, config.smtp, rows, storage=storage)
        async with transaction() as session:
            await record(session, config, outcomes, now=now)
        delivered += sum(1 for o in outcomes if o.code is None)
        if len(rows) < BATCH:
            return delivered


async def claim(session: AsyncSession, config: MailConfig, *, now: datetime) -> list[OutboundEmail]:
    """Due rows (and rows whose sender vanished mid-send) become `sending` under a lease."""
    query = (
        select(OutboundEmail)
        .where(
            or_(
                OutboundEmail.status == OutboxStatus.QUEUED,
                OutboundEmail.status == OutboxStatus.SENDING,
            ),
            OutboundEmail.next_attempt_at <= now,
        )
        .order_by(OutboundEmail.id)
        .limit(BATCH)
        .with_for_update(skip_locked=True)
    )
    rows = list(await session.scalars(query))
    suppressed = await outbox.suppressed_among(session, {row.to_addr for row in rows})
    claimed = []
    for row in rows:
        if row.to_addr in suppressed:
            row.status = OutboxStatus.SUPPRESSED
            row.last_error = "address is suppressed after a permanent failure"
            continue
        row.status, row.attempts = OutboxStatus.SENDING, row.attempts + 1
        row.next_attempt_at = now + LEASE
        if row.message_id is None:
            row.message_id = signing.message_id(config, row.ticket_id or 0, row.id)
        claimed.append(row)
    await session.flush()
    return claimed


def _client(endpoint: Endpoint) -> aiosmtplib.SMTP:
    return aiosmtplib.SMTP(
        hostname=endpoint.host,
        port=endpoint.port,
        username=endpoint.username,
        password=endpoint.password,
        use_tls=endpoint.tls,
        start_tls=endpoint.starttls if not endpoint.tls else False,
        timeout=TIMEOUT,
    )


async def deliver(
    config: MailConfig,
    endpoint: Endpoint,
    rows: list[OutboundEmail],
    *,
    storage: Storage | None = None,
) -> list[Outcome]:
    """Sends the rows on one connection. A broken connection makes the rest temporary failures."""
    outcomes: list[Outcome] = []
    smtp = _client(endpoint)
    try:
        await smtp.connect()
    except (aiosmtplib.SMTPException, OSError) as error:
        return [Outcome(r.id, r.attempts, 421, f"cannot connect: {error}") for r in rows]
    try:
        for row in rows:
            outcome = await _send_one(smtp, config, row, storage)
            outcomes.append(outcome)
            if outcome.code == 421:  # the connection is gone
                break
    finally:
        if smtp.is_connected:
            try:
                await smtp.quit()
            except (aiosmtplib.SMTPException, OSError):
                smtp.close()
    done = {o.row_id for o in outcomes}
    reason = outcomes[-1].error if outcomes else "connection lost"
    return outcomes + [Outcome(r.id, r.attempts, 421, reason) for r in rows if r.id not in done]


async def _send_one(
    smtp: aiosmtplib.SMTP, config: MailConfig, row: OutboundEmail, storage: Storage | None
) -> Outcome:
    contents = await _contents(row, storage)
    message = compose.build_message(config, row, contents)
    try:
        refused, _ = await smtp.sendmail(config.from_addr, [row.to_addr], message)
    except aiosmtplib.SMTPRecipientsRefused as error:
        first = error.recipients[0]
        return await _refused(smtp, row, first.code, first.message)
    except aiosmtplib.SMTPResponseException as error:
        return await _refused(smtp, row, error.code, error.message)
    except (aiosmtplib.SMTPException, OSError) as error:
        return Outcome(row.id, row.attempts, 421, f"connection error: {error}")
    if refused:
        response = next(iter(refused.values()))
        return await _refused(smtp, row, response.code, response.message)
    return Outcome(row.id, row.attempts, None)


async def _contents(row: OutboundEmail, storage: Storage | None) -> dict[str, bytes]:
    """The bytes of the files the mail attaches (at most 10 MB, one mail at a time)."""
    attached, _ = compose.split_files(row.attachments or [])
    contents: dict[str, bytes] = {}
    if storage is None:
        return contents
    for file in attached:
        sha256, size = str(file["sha256"]), int(file["size"])
        if sha256 in contents or not await storage.exists(sha256):
            continue  # deleted since the mail was written: listed, not attached
        contents[sha256] = b"".join([chunk async for chunk in storage.read(sha256, 0, size - 1)])
    return contents


async def _refused(smtp: aiosmtplib.SMTP, row: OutboundEmail, code: int, text: str) -> Outcome:
    """The server said no to this mail; the connection stays usable for the next one."""
    try:
        await smtp.rset()
    except (aiosmtplib.SMTPException, OSError):
        return Outcome(row.id, row.attempts, 421, f"{code} {text}")
    return Outcome(row.id, row.attempts, code, f"{code} {text}")


async def record(
    session: AsyncSession, config: MailConfig, outcomes: list[Outcome], *, now: datetime
) -> None:
    rows = {
        row.id: row
        for row in await session.scalars(
            select(OutboundEmail)
            .where(OutboundEmail.id.in_([o.row_id for o in outcomes]))
            .with_for_update()
        )
    }
    for outcome in outcomes:
        row = rows.get(outcome.row_id)
        # Taken again by another sender after the lease ran out: theirs to record.
        if row is None or row.status != OutboxStatus.SENDING or row.attempts != outcome.attempts:
            continue
        _apply(row, config, outcome, now=now)
        if outcome.permanent:
            await outbox.suppress(
                session, row.to_addr, reason=outcome.error or "", now=now, outbox_id=row.id
            )
    await session.flush()


def _apply(row: OutboundEmail, config: MailConfig, outcome: Outcome, *, now: datetime) -> None:
    if outcome.code is None:
        row.status, row.sent_at, row.last_error = OutboxStatus.SENT, now, None
        if row.kind == "password_reset":
            # The link is a credential until used: keep no copy once it left.
            row.body_text = row.body_html = ""
        return
    row.last_error = (outcome.error or "")[:2000]
    schedule = config.retry_seconds
    if outcome.permanent or row.attempts > len(schedule):
        row.status = OutboxStatus.FAILED
        return
    row.status = OutboxStatus.QUEUED
    row.next_attempt_at = now + timedelta(seconds=schedule[row.attempts - 1])
