"""Who gets which mail about a change: the rules of EMAIL.md, run inside the change's
transaction (an event-log subscriber), so a rolled-back change mails nobody.

Never the author about their own change (the acknowledgement of a new ticket aside); never a
customer about an internal note or a staff-only ticket.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import bindparam, select
from sqlalchemy import event as sa_event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from ticketdesk import clock, events
from ticketdesk.auth import policy
from ticketdesk.auth.models import Role, User
from ticketdesk.comments.models import TicketComment
from ticketdesk.mail import config as mail_settings
from ticketdesk.mail import outbox, preferences, signing
from ticketdesk.mail.compose import REPLY_MARKER
from ticketdesk.mail.config import MailConfig
from ticketdesk.mail.models import InboundEmail
from ticketdesk.mail.schedule import schedule_sending
from ticketdesk.satisfaction import service as satisfaction
from ticketdesk.satisfaction.models import Rating
from ticketdesk.tickets.models import Status, Ticket

CUSTOMER_STATUSES = frozenset({Status.WAITING_ON_CUSTOMER, Status.RESOLVED, Status.CLOSED})
STATUS_LABELS = {
    Status.OPEN: "Open",
    Status.IN_PROGRESS: "In progress",
    Status.WAITING_ON_CUSTOMER: "Waiting for your reply",
    Status.RESOLVED: "Resolved",
    Status.CLOSED: "Closed",
    Status.REOPENED: "Reopened",
}
# Set by inbound processing: the Message-ID of the mail a ticket is being created from, so the
# acknowledgement threads under the customer's own mail.
ORIGIN_KEY = "mail_origin_message_id"


class Event(Protocol):
    """What the event log hands its in-transaction subscribers."""

    type: str
    ticket: Ticket | None
    actor: User | None
    data: dict[str, Any]
    is_internal: bool


@dataclass
class Mail:
    user: User
    kind: str
    extra: dict[str, Any] = field(default_factory=dict)
    auto_submitted: str | None = "auto-generated"
    comment_id: int | None = None


Rule = Callable[[AsyncSession, Event, Ticket], Awaitable[list[Mail]]]


# The mails that carry a comment's files: customers get only public files of public staff
# comments (internal files never reach them; ATTACHMENTS.md).
FILE_CARRYING_KINDS = frozenset({"staff_reply"})


async def on_event(session: AsyncSession, event: Event) -> None:
    ticket = event.ticket
    if event.type == "attachment.added" and ticket is not None:
        await _file_added(session, mail_settings.active(), event, ticket)
        return
    rule = RULES.get(event.type)
    if ticket is None or rule is None:
        return
    mails = await rule(session, event, ticket)
    if not mails:
        return
    config = mail_settings.active()
    # What the mail says is what the ticket was at the event, even when it is queued later.
    contexts = [_context(config, ticket, mail.user, event.actor) | mail.extra for mail in mails]
    change = _Change(event, ticket, mails, contexts)
    if events.put_off(session):
        session.info.setdefault(_PUT_OFF, []).append(change)
        return
    await _queue(session, config, [change])


@events.on_settle
async def _queue_put_off(session: AsyncSession) -> None:
    """The mail of a change's events, with one read of the recipients' choices."""
    changes = session.info.pop(_PUT_OFF, None)
    if changes:
        await _queue(session, mail_settings.active(), changes)


@dataclass
class _Change:
    """An event's mail, decided and worded, not yet queued."""

    event: Event
    ticket: Ticket
    mails: list[Mail]
    contexts: list[dict[str, Any]]


async def _user(session: AsyncSession, user_id: int | None) -> User | None:
    return await session.get(User, user_id) if user_id is not None else None


async def _customer(session: AsyncSession, ticket: Ticket) -> User | None:
    """The ticket's customer, unless the ticket is staff-only (then no customer hears of it)."""
    if ticket.is_internal:
        return None
    customer = await _user(session, ticket.user_id)
    return customer if customer is not None and not policy.is_staff(customer) else None


async def _super_admins(session: AsyncSession) -> list[User]:
    query = select(User).where(User.role == Role.SUPER_ADMIN, User.is_active.is_(True))
    return list(await session.scalars(query.order_by(User.id)))


async def _assignee_or_admins(session: AsyncSession, ticket: Ticket) -> list[User]:
    assignee = await _user(session, ticket.assigned_to_id)
    return [assignee] if assignee is not None else await _super_admins(session)


async def _ticket_created(session: AsyncSession, event: Event, ticket: Ticket) -> list[Mail]:
    mails = []
    customer = await _customer(session, ticket)
    if customer is not None:
        # The acknowledgement goes to the customer even when they filed it themself.
        mails.append(Mail(customer, "ticket_received", auto_submitted="auto-replied"))
    creator = await _user(session, ticket.user_id)
    staff = [
        u
        for u in await preferences.staff_wanting(session, "new_ticket")
        if event.actor is None or u.id != event.actor.id
    ]
    extra = {
        "description": ticket.description,
        "customer_name": creator.full_name if creator else "",
    }
    mails += [Mail(u, "new_ticket", extra) for u in staff]
    return mails


async def _comment_created(session: AsyncSession, event: Event, ticket: Ticket) -> list[Mail]:
    comment = await _comment(session, event)
    if comment is None or comment.is_internal:
        return []
    author = await _user(session, comment.user_id)
    extra = {"comment": comment.comment}
    if author is not None and policy.is_staff(author):
        customer = await _customer(session, ticket)
        # A staff reply is written by a person: no Auto-Submitted.
        if customer is None:
            return []
        return [Mail(customer, "staff_reply", extra, None, comment_id=comment.id)]
    return [Mail(u, "customer_reply", extra) for u in await _assignee_or_admins(session, ticket)]


async def _comment(session: AsyncSession, event: Event) -> TicketComment | None:
    comment_id = event.data.get("comment_id")
    if not isinstance(comment_id, int):
        return None
    return await session.get(TicketComment, comment_id)


async def _file_added(
    session: AsyncSession, config: MailConfig, event: Event, ticket: Ticket
) -> None:
    comment_id = event.data.get("comment_id")
    if event.is_internal or event.data.get("is_internal") or not isinstance(comment_id, int):
        return
    data = event.data
    file = {
        "id": data["attachment_id"],
        "sha256": data["sha256"],
        "filename": data["filename"],
        "content_type": data["content_type"],
        "size": data["size"],
        # Opens the ticket's page: the file is never reachable without signing in.
        "link": f"{config.public_url}/portal/tickets/{ticket.ticket_number}"
        f"#attachment-{data['attachment_id']}",
    }
    await outbox.add_file(session, comment_id, file, kinds=FILE_CARRYING_KINDS)


async def _status_changed(session: AsyncSession, event: Event, ticket: Ticket) -> list[Mail]:
    target = Status(event.data.get("to", ticket.status))
    if target not in CUSTOMER_STATUSES:
        return []
    customer = await _customer(session, ticket)
    if customer is None:
        return []
    extra: dict[str, Any] = {"status": target.value, "status_label": STATUS_LABELS[target]}
    now = clock.now()
    if target == Status.RESOLVED and satisfaction.can_rate(ticket, now):
        extra |= _rating_links(mail_settings.active(), ticket, now)
    return [Mail(customer, "status_changed", extra)]


def _rating_links(config: MailConfig, ticket: Ticket, now: Any) -> dict[str, str]:
    """ "How did we do?": signed links to the rating page, whose GET only asks (FEATURES.md)."""
    links = {}
    for name, rating in (
        ("rating_url", None),
        ("rating_good", Rating.GOOD),
        ("rating_bad", Rating.BAD),
    ):
        links[name] = satisfaction.rating_url(
            ticket, base_url=config.public_url, key=config.signing_key, now=now, rating=rating
        )
    return links


async def _assigned(session: AsyncSession, event: Event, ticket: Ticket) -> list[Mail]:
    new = event.data.get("to", ticket.assigned_to_id)
    assignee = await _user(session, new if isinstance(new, int) else None)
    return [Mail(assignee, "ticket_assigned")] if assignee is not None else []


async def _sla_breached(session: AsyncSession, event: Event, ticket: Ticket) -> list[Mail]:
    target = str(event.data.get("target") or event.data.get("kind") or "resolution")
    extra = {"breach_label": target.replace("_", " ")}
    return [Mail(u, "sla_breach", extra) for u in await _assignee_or_admins(session, ticket)]


RULES: dict[str, Rule] = {
    "ticket.created": _ticket_created,
    "comment.created": _comment_created,
    "ticket.status_changed": _status_changed,
    "ticket.assigned": _assigned,
    "ticket.sla_breached": _sla_breached,
}


async def _queue(session: AsyncSession, config: MailConfig, changes: list[_Change]) -> None:
    now = clock.now()
    wanted = [(mail.user, mail.kind) for change in changes for mail in change.mails]
    allowed, suppressed = await preferences.gates(session, wanted)
    queued = False
    for change in changes:
        ticket, actor = change.ticket, change.event.actor
        sent_to: set[int] = set()
        for mail, context in zip(change.mails, change.contexts, strict=True):
            user = mail.user
            if user.id in sent_to or (user.id, mail.kind) not in allowed:
                continue
            if actor is not None and user.id == actor.id and mail.kind != "ticket_received":
                continue
            sent_to.add(user.id)
            await outbox.queue_mail(
                session,
                config,
                kind=mail.kind,
                to_addr=user.email,
                to_name=user.full_name,
                context=context,
                now=now,
                recipient_id=user.id,
                ticket_id=ticket.id,
                auto_submitted=mail.auto_submitted,
                references=await _thread(session, config, ticket, user),
                comment_id=mail.comment_id,
                suppressed=user.email.lower() in suppressed,
            )
            session.info.setdefault(_MAILED, set()).add((ticket.id, user.email.lower()))
            queued = True
    if queued:
        await schedule_sending(session)


def _context(config: MailConfig, ticket: Ticket, user: User, actor: User | None) -> dict[str, Any]:
    area = "desk" if policy.is_staff(user) else "portal"
    return {
        "number": ticket.ticket_number,
        "ticket_subject": ticket.subject,
        "status": ticket.status.value,
        "status_label": STATUS_LABELS[ticket.status],
        "priority": ticket.priority.value,
        "recipient_name": user.full_name,
        "author_name": actor.full_name if actor is not None else "Support",
        "link": f"{config.public_url}/{area}/tickets/{ticket.ticket_number}",
        "reply_marker": REPLY_MARKER,
    }


# The customer's own first mail about a ticket (built once: read for every customer mail).
_FIRST_INBOUND = (
    select(InboundEmail.message_id)
    .where(InboundEmail.ticket_id == bindparam("ticket_id"))
    .order_by(InboundEmail.id)
    .limit(1)
)


async def _thread(
    session: AsyncSession, config: MailConfig, ticket: Ticket, user: User
) -> list[str]:
    """The ticket's root, the customer's own first mail, and the last mail this person got."""
    thread = [signing.thread_root(config, ticket.id)]
    # A ticket created in this transaction has no earlier mail: nothing to look up, unless
    # this transaction already queued mail to this person about it.
    new = _created_here(session, ticket)
    if not policy.is_staff(user):
        origin = session.info.get(ORIGIN_KEY)
        if origin is None and not new:
            origin = await session.scalar(_FIRST_INBOUND, {"ticket_id": ticket.id})
        if origin:
            thread.append(origin)
    previous = None
    if not new or _mailed_here(session, ticket.id, user.email):
        await session.flush()  # the rows this transaction queued count too
        previous = await outbox.last_message_to(session, ticket.id, user.email)
    if previous is not None:
        thread.append(signing.message_id(config, ticket.id, previous))
    return thread


def _created_here(session: AsyncSession, ticket: Ticket) -> bool:
    return any(
        event.type == "ticket.created" and event.ticket is ticket
        for event in events.pending(session)
    )


def _mailed_here(session: AsyncSession, ticket_id: int, address: str) -> bool:
    return (ticket_id, address.lower()) in session.info.get(_MAILED, ())


# (ticket id, address) of the mail queued in the session's transaction so far.
_MAILED = "ticketdesk_mailed"
# The changes whose mail waits for the end of an `events.together` block.
_PUT_OFF = "ticketdesk_mail_put_off"


@sa_event.listens_for(Session, "after_commit")
@sa_event.listens_for(Session, "after_rollback")
def _forget_mailed(session: Session) -> None:
    session.info.pop(_MAILED, None)
    session.info.pop(_PUT_OFF, None)


# In every process that records events (servers and workers alike).
events.subscribe(on_event)
