"""The outbox: mail written in the transaction of the change that causes it, sent by a job."""

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ticketdesk.auth import policy
from ticketdesk.auth.models import User
from ticketdesk.errors import Conflict, NotFound
from ticketdesk.mail import compose, signing
from ticketdesk.mail.config import MailConfig
from ticketdesk.mail.models import MailSuppression, OutboundEmail, OutboxStatus

# Never answered by an autoresponder (Outlook/Exchange honour this), never a loop.
NO_AUTO_RESPONSE = {"X-Auto-Response-Suppress": "All"}


async def queue_mail(
    session: AsyncSession,
    config: MailConfig,
    *,
    kind: str,
    to_addr: str,
    to_name: str,
    context: dict[str, Any],
    now: datetime,
    recipient_id: int | None = None,
    ticket_id: int | None = None,
    auto_submitted: str | None = "auto-generated",
    references: list[str] | None = None,
    comment_id: int | None = None,
    suppressed: bool | None = None,
) -> OutboundEmail:
    """One outbox row, rendered now; `suppressed` at once for an address that bounced (looked
    up unless the caller already knows)."""
    rendered = compose.render(kind, context)
    headers: dict[str, str] = {}
    if ticket_id is not None:
        headers["Reply-To"] = signing.reply_route(config, ticket_id)
        thread = list(dict.fromkeys(references or []))
        if thread:
            headers["In-Reply-To"] = thread[-1]
            headers["References"] = " ".join(thread)
    if auto_submitted is not None:
        headers["Auto-Submitted"] = auto_submitted
        headers.update(NO_AUTO_RESPONSE)
    if suppressed is None:
        suppressed = await is_suppressed(session, to_addr)
    row = OutboundEmail(
        ticket_id=ticket_id,
        recipient_id=recipient_id,
        comment_id=comment_id,
        attachments=[],
        to_addr=to_addr.lower(),
        to_name=to_name,
        kind=kind,
        subject=rendered.subject,
        body_text=rendered.text,
        body_html=rendered.html,
        headers=headers,
        status=OutboxStatus.SUPPRESSED if suppressed else OutboxStatus.QUEUED,
        attempts=0,
        next_attempt_at=now,
        last_error="address is suppressed after a permanent failure" if suppressed else None,
        created_at=now,
    )
    session.add(row)
    return row


async def replace_text(session: AsyncSession, ticket_id: int, old: str, new: str) -> None:
    """Rewrites `old` as `new` in the queued mail about a ticket (its number, taken late)."""
    texts = (OutboundEmail.subject, OutboundEmail.body_text, OutboundEmail.body_html)
    statement = (
        update(OutboundEmail)
        .where(OutboundEmail.ticket_id == ticket_id)
        .values({column: func.replace(column, old, new) for column in texts})
        .execution_options(synchronize_session="fetch")
    )
    await session.execute(statement)


async def add_file(
    session: AsyncSession, comment_id: int, file: dict[str, Any], *, kinds: frozenset[str]
) -> None:
    """A file added to a comment goes with the comment's mails of these kinds that have not
    left yet (in practice: the file came in the comment's own transaction)."""
    query = select(OutboundEmail).where(
        OutboundEmail.comment_id == comment_id,
        OutboundEmail.kind.in_(kinds),
        OutboundEmail.status.in_((OutboxStatus.QUEUED, OutboxStatus.SUPPRESSED)),
        OutboundEmail.attempts == 0,
    )
    for row in await session.scalars(query.with_for_update()):
        row.attachments = [*row.attachments, file]  # a new list: JSON changes are by value


# Read for every mail queued: built once.
_SUPPRESSED = select(MailSuppression.email).where(MailSuppression.email == bindparam("address"))
_LAST_MESSAGE_TO = select(func.max(OutboundEmail.id)).where(
    OutboundEmail.ticket_id == bindparam("ticket_id"),
    OutboundEmail.to_addr == bindparam("address"),
)


async def is_suppressed(session: AsyncSession, address: str) -> bool:
    return await session.scalar(_SUPPRESSED, {"address": address.lower()}) is not None


async def suppressed_among(session: AsyncSession, addresses: set[str]) -> set[str]:
    if not addresses:
        return set()
    query = select(MailSuppression.email).where(MailSuppression.email.in_(addresses))
    return set(await session.scalars(query))


async def last_message_to(session: AsyncSession, ticket_id: int, address: str) -> int | None:
    """The id of the last mail about this ticket that went (or goes) to this address."""
    params = {"ticket_id": ticket_id, "address": address.lower()}
    return await session.scalar(_LAST_MESSAGE_TO, params)


async def suppress(
    session: AsyncSession, address: str, *, reason: str, now: datetime, outbox_id: int | None
) -> None:
    address = address.lower()
    existing = await session.get(MailSuppression, address)
    if existing is None:
        session.add(
            MailSuppression(
                email=address, reason=reason[:2000], outbox_id=outbox_id, created_at=now
            )
        )


async def list_outbox(
    session: AsyncSession,
    actor: User,
    *,
    status: OutboxStatus | None,
    ticket_id: int | None,
    limit: int,
    offset: int,
) -> list[OutboundEmail]:
    policy.require_super_admin(actor)
    query = select(OutboundEmail).order_by(OutboundEmail.id.desc()).limit(limit).offset(offset)
    if status is not None:
        query = query.where(OutboundEmail.status == status)
    if ticket_id is not None:
        query = query.where(OutboundEmail.ticket_id == ticket_id)
    return list(await session.scalars(query))


async def retry(
    session: AsyncSession, actor: User, outbox_id: int, *, now: datetime
) -> OutboundEmail:
    """A failed or suppressed mail goes back to the queue (a suppressed address is checked
    again when it is sent: lift the suppression first)."""
    policy.require_super_admin(actor)
    row = await session.get(OutboundEmail, outbox_id, with_for_update=True)
    if row is None:
        raise NotFound("mail not found")
    if row.status not in (OutboxStatus.FAILED, OutboxStatus.SUPPRESSED):
        raise Conflict(f"only a failed or suppressed mail can be retried; this one is {row.status}")
    row.status, row.next_attempt_at, row.attempts = OutboxStatus.QUEUED, now, 0
    await session.flush()
    return row


async def list_suppressions(session: AsyncSession, actor: User) -> list[MailSuppression]:
    policy.require_super_admin(actor)
    query = select(MailSuppression).order_by(MailSuppression.created_at.desc())
    return list(await session.scalars(query))


async def lift_suppression(session: AsyncSession, actor: User, address: str) -> None:
    policy.require_super_admin(actor)
    row = await session.get(MailSuppression, address.lower())
    if row is None:
        raise NotFound("this address is not suppressed")
    await session.delete(row)
    await session.flush()
