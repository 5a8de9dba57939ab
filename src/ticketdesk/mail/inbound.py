"""Received mail: stored raw first, then processed once into a comment, a new ticket, a bounce,
or nothing (automatic mail), with the sender checked against the ticket it names."""

import hashlib
import logging
import re
from datetime import datetime
from email.message import EmailMessage

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from ticketdesk.attachments import service as attachments
from ticketdesk.attachments.scan import ScannerUnavailable
from ticketdesk.auth import policy
from ticketdesk.auth import service as accounts
from ticketdesk.auth.models import Role, User
from ticketdesk.comments import service as comments
from ticketdesk.comments.models import TicketComment
from ticketdesk.comments.schemas import CommentCreate
from ticketdesk.config import Settings
from ticketdesk.errors import Conflict, DomainError, NotFound
from ticketdesk.mail import notify, outbox, parsing, signing
from ticketdesk.mail.config import MailConfig
from ticketdesk.mail.models import InboundEmail, InboundStatus, OutboundEmail, OutboxStatus
from ticketdesk.tickets import numbering
from ticketdesk.tickets import service as tickets
from ticketdesk.tickets.history import add_activity
from ticketdesk.tickets.models import Ticket
from ticketdesk.tickets.schemas import TicketCreate

log = logging.getLogger(__name__)
MAX_TEXT = 20_000
SUBJECT_TOKEN = re.compile(rf"\[({numbering.NUMBER_PATTERN.pattern})\]", re.IGNORECASE)


class TooLarge(DomainError):
    status_code = 413


async def store(
    session: AsyncSession, config: MailConfig, raw: bytes, *, source: str, now: datetime
) -> tuple[InboundEmail, bool]:
    """Keeps the raw mail (once per Message-ID, or per content without one); True if new."""
    if len(raw) > config.max_bytes:
        raise TooLarge(f"a mail may have at most {config.max_bytes // (1024 * 1024)} MB")
    digest = hashlib.sha256(raw).hexdigest()
    headers = parsing.parse_headers(raw)
    key = parsing.message_id(headers) or f"<{digest}@missing>"
    existing = await _by_message_id(session, key)
    if existing is not None:
        return existing, False
    _, from_addr = parsing.sender(headers)
    row = InboundEmail(
        message_id=key,
        sha256=digest,
        source=source,
        from_addr=from_addr,
        subject=parsing.clean_text(parsing.header(headers, "Subject"))[:300],
        size=len(raw),
        raw=raw,
        status=InboundStatus.RECEIVED,
        received_at=now,
    )
    session.add(row)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        # The same mail arrived another way at the same moment.
        session.expunge(row)
        existing = await _by_message_id(session, key)
        assert existing is not None
        return existing, False
    return row, True


async def store_too_large(
    session: AsyncSession, headers: bytes, size: int, *, source: str, now: datetime
) -> InboundEmail:
    """A mail over the size limit is logged as rejected, with its header only (the mail stays in
    the mailbox it came from)."""
    digest = hashlib.sha256(headers).hexdigest()
    parsed = parsing.parse_headers(headers)
    key = parsing.message_id(parsed) or f"<{digest}@missing>"
    existing = await _by_message_id(session, key)
    if existing is not None:
        return existing
    row = InboundEmail(
        message_id=key,
        sha256=digest,
        source=source,
        from_addr=parsing.sender(parsed)[1],
        subject=parsing.clean_text(parsing.header(parsed, "Subject"))[:300],
        size=size,
        raw=headers,
        status=InboundStatus.REJECTED,
        error=f"the mail has {size} bytes, over the limit; only its header was kept",
        received_at=now,
        processed_at=now,
    )
    session.add(row)
    await session.flush()
    return row


async def _by_message_id(session: AsyncSession, key: str) -> InboundEmail | None:
    return await session.scalar(select(InboundEmail).where(InboundEmail.message_id == key))


async def process(
    session: AsyncSession,
    config: MailConfig,
    inbound_id: int,
    *,
    settings: Settings,
    now: datetime,
    last_attempt: bool = True,
) -> InboundEmail:
    """Runs once for a `received` mail; anything else is left as it is (already handled)."""
    row = await session.get(InboundEmail, inbound_id, with_for_update=True)
    if row is None:
        raise NotFound("inbound mail not found")
    if row.status != InboundStatus.RECEIVED:
        return row
    try:
        async with session.begin_nested():
            await _process(session, config, settings, row, now=now)
    except DBAPIError:
        raise  # the database is in trouble: the job is retried
    except ScannerUnavailable as error:
        # Files are never stored unscanned, and never dropped for want of a scanner: the
        # whole mail waits and is processed again (or, at the last try, can be reprocessed).
        if not last_attempt:
            raise
        row.status = InboundStatus.FAILED
        row.error = f"{error}: reprocess the mail when the virus scanner is back"
        row.ticket_id = row.comment_id = None
    except Exception as error:
        log.exception("inbound mail %s failed", row.id)
        row.status, row.error = InboundStatus.FAILED, f"{type(error).__name__}: {error}"[:2000]
        row.ticket_id = row.comment_id = None
    row.processed_at = now
    await session.flush()
    return row


async def reprocess(session: AsyncSession, actor: User, inbound_id: int) -> InboundEmail:
    """A mail that failed, was rejected or ignored goes through processing again."""
    policy.require_super_admin(actor)
    row = await session.get(InboundEmail, inbound_id, with_for_update=True)
    if row is None:
        raise NotFound("inbound mail not found")
    if row.status == InboundStatus.PROCESSED:
        raise Conflict("this mail was processed already; it is on its ticket")
    if row.status == InboundStatus.REJECTED and row.size > len(row.raw):
        raise Conflict("this mail was too large to keep; only its header is stored")
    row.status, row.error, row.processed_at = InboundStatus.RECEIVED, None, None
    await session.flush()
    return row


async def _process(
    session: AsyncSession, config: MailConfig, settings: Settings, row: InboundEmail, *,
    now: datetime,
) -> None:  # fmt: skip
    message = parsing.parse(row.raw)
    reason = parsing.automatic_reason(message)
    if reason is not None:
        row.status, row.error = InboundStatus.IGNORED, reason
        if parsing.is_delivery_report(message):
            row.error = await _bounce(session, config, message, now=now)
        return
    name, address = parsing.sender(message)
    if not address:
        row.status, row.error = InboundStatus.REJECTED, "the mail has no sender address"
        return
    if address == config.from_addr or signing.verify_message_id(config, row.message_id):
        row.status, row.error = InboundStatus.IGNORED, "our own mail came back"
        return
    user = await accounts.find_by_email(session, address)
    if user is not None and not user.is_active:
        row.status, row.error = InboundStatus.REJECTED, "the sender's account is deactivated"
        return
    text = parsing.body_text(message)
    ticket = await _named_ticket(session, config, message)
    if ticket is not None and user is not None and _may_add(user, ticket):
        reply = parsing.strip_quotes(text)[:MAX_TEXT] or "(empty message)"
        comment = await comments.add_comment(
            session, user, ticket.ticket_number, CommentCreate(comment=reply)
        )
        row.status, row.ticket_id, row.comment_id = InboundStatus.PROCESSED, ticket.id, comment.id
        row.error = await _attach_files(session, settings, user, message, comment=comment, now=now)
        return
    if user is None:
        if not config.accept_unknown_senders:
            row.status, row.error = InboundStatus.REJECTED, "mail from unknown senders is refused"
            return
        user = await _new_customer(session, address, name, now)
    created = await _new_ticket(session, user, row, text)
    row.status, row.ticket_id = InboundStatus.PROCESSED, created.id
    notes = [await _attach_files(session, settings, user, message, ticket=created, now=now)]
    if ticket is not None:
        refused = f"the sender may not write on {ticket.ticket_number}: filed as a new ticket"
        notes.insert(0, refused)
    row.error = "; ".join(note for note in notes if note) or None


async def _attach_files(
    session: AsyncSession,
    settings: Settings,
    author: User,
    message: EmailMessage,
    *,
    ticket: Ticket | None = None,
    comment: TicketComment | None = None,
    now: datetime,
) -> str | None:
    """The mail's files become attachments of its ticket (or comment) under the upload rules.
    A refused file is left out, never the mail: it stays in the stored raw mail, and the
    inbound log and the ticket's (staff-only) activity say which file and why."""
    found = parsing.files(message)
    if not found:
        return None
    if comment is not None:
        ticket = await session.scalar(
            select(Ticket).where(Ticket.id == comment.ticket_id).with_for_update()
        )
    assert ticket is not None
    refused = []
    for number, file in enumerate(found, start=1):
        reason = None
        if number > settings.max_upload_files:
            reason = f"a mail may carry at most {settings.max_upload_files} files"
        else:
            try:
                await attachments.store_file(
                    session, author, ticket, filename=file.filename, data=file.data,
                    settings=settings, comment=comment, declared_type=file.declared_type,
                )  # fmt: skip
            except ScannerUnavailable:
                raise
            except DomainError as error:
                reason = str(error)
        if reason is not None:
            refused.append(f"{file.filename!r} refused: {reason}")
            add_activity(
                session, ticket, author, "attachment_refused", now=now,
                filename=file.filename, size=len(file.data), reason=reason,
            )  # fmt: skip
    return "; ".join(refused)[:2000] or None


def _may_add(user: User, ticket: Ticket) -> bool:
    """THE SENDER CHECK: only the ticket's own customer, or support staff, add to a ticket."""
    if policy.is_staff(user):
        return True
    return user.id == ticket.user_id and not ticket.is_internal


async def _named_ticket(
    session: AsyncSession, config: MailConfig, message: EmailMessage
) -> Ticket | None:
    """By our signed Message-ID in the thread, then the signed reply route, then (weakest) the
    subject's ticket number. A merged ticket hands over to the one it was merged into."""
    candidates = signing.find_ticket_ids(config, parsing.references(message))
    for address in parsing.routing_addresses(message):
        routed = signing.verify_route(config, address)
        if routed is not None:
            candidates.append(routed)
    for ticket_id in candidates:
        ticket = await session.get(Ticket, ticket_id)
        if ticket is not None:
            return await _survivor(session, ticket)
    token = SUBJECT_TOKEN.search(parsing.header(message, "Subject"))
    if token is not None:
        number = token.group(1).upper()
        ticket = await session.scalar(select(Ticket).where(Ticket.ticket_number == number))
        if ticket is not None:
            return await _survivor(session, ticket)
    return None


async def _survivor(session: AsyncSession, ticket: Ticket) -> Ticket:
    for _ in range(10):
        target = getattr(ticket, "merged_into_id", None)
        if not isinstance(target, int):
            break
        merged_into = await session.get(Ticket, target)
        if merged_into is None:
            break
        ticket = merged_into
    return ticket


async def _new_customer(session: AsyncSession, address: str, name: str, now: datetime) -> User:
    """An account without a usable password (a hash that never verifies): its owner may set
    one by password reset."""
    user = User(
        email=address,
        password_hash="!",
        full_name=name or address.partition("@")[0] or address,
        role=Role.INDIVIDUAL,
        is_active=True,
        created_at=now,
        updated_at=now,
    )
    session.add(user)
    await session.flush()
    return user


async def _new_ticket(session: AsyncSession, user: User, row: InboundEmail, text: str) -> Ticket:
    subject = " ".join(row.subject.split())[:200] or "(no subject)"
    description = text[:MAX_TEXT] or "(no text)"
    session.info[notify.ORIGIN_KEY] = row.message_id
    try:
        return await tickets.create_ticket(
            session, user, TicketCreate(subject=subject, description=description)
        )
    finally:
        session.info.pop(notify.ORIGIN_KEY, None)


async def _bounce(
    session: AsyncSession, config: MailConfig, message: EmailMessage, *, now: datetime
) -> str:
    """A delivery report about one of our mails fails that mail and suppresses the address."""
    report = parsing.read_bounce(message)
    if not report.failed:
        return "delivery report without a failed recipient"
    rows: list[OutboundEmail] = []
    for original in report.original_ids:
        verified = signing.verify_message_id(config, original)
        if verified is not None and (found := await session.get(OutboundEmail, verified[1])):
            rows.append(found)
    notes = []
    for address, status, text in report.failed:
        matching = [r for r in rows if r.to_addr == address] or await _last_sent_to(
            session, address
        )
        if not matching:
            notes.append(f"{address}: no mail of ours")
            continue
        for outbound in matching:
            outbound.status, outbound.last_error = OutboxStatus.FAILED, f"bounced: {text}"[:2000]
        if status.startswith("5") or not status:
            await outbox.suppress(
                session, address, reason=f"bounced: {text}", now=now, outbox_id=matching[0].id
            )
            notes.append(f"{address}: bounced ({status}), suppressed")
        else:
            notes.append(f"{address}: delayed or temporary ({status})")
    return "delivery report: " + "; ".join(notes)


async def _last_sent_to(session: AsyncSession, address: str) -> list[OutboundEmail]:
    """Without the original Message-ID, the last mail that went to the bouncing address."""
    query = (
        select(OutboundEmail)
        .where(OutboundEmail.to_addr == address, OutboundEmail.status == OutboxStatus.SENT)
        .order_by(OutboundEmail.id.desc())
        .limit(1)
    )
    return list(await session.scalars(query))


async def list_inbound(
    session: AsyncSession,
    actor: User,
    *,
    status: InboundStatus | None,
    limit: int,
    offset: int,
) -> list[InboundEmail]:
    policy.require_super_admin(actor)
    query = (
        select(InboundEmail)
        .options(defer(InboundEmail.raw))
        .order_by(InboundEmail.id.desc())
        .limit(limit)
        .offset(offset)
    )
    if status is not None:
        query = query.where(InboundEmail.status == status)
    return list(await session.scalars(query))


async def get_inbound(session: AsyncSession, actor: User, inbound_id: int) -> InboundEmail:
    policy.require_super_admin(actor)
    row = await session.get(InboundEmail, inbound_id)
    if row is None:
        raise NotFound("inbound mail not found")
    return row
