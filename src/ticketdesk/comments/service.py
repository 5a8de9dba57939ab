"""Comments and internal notes, with the status changes a comment brings about."""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from ticketdesk import clock, events
from ticketdesk.auth import policy
from ticketdesk.auth.models import User
from ticketdesk.comments.models import TicketComment
from ticketdesk.comments.schemas import CommentCreate
from ticketdesk.errors import Conflict, Forbidden, Invalid, NotFound
from ticketdesk.paging import Window
from ticketdesk.tickets import merge
from ticketdesk.tickets import service as tickets
from ticketdesk.tickets.history import add_activity
from ticketdesk.tickets.models import Status, Ticket
from ticketdesk.tickets.transition import apply_status
from ticketdesk.tickets.workflow import AWAITING_STAFF


async def insert_comment(
    session: AsyncSession,
    author: User,
    ticket: Ticket,
    text: str,
    *,
    is_internal: bool,
    is_resolution: bool,
    now: datetime,
) -> TicketComment:
    """Adds the comment and keeps the counters; a public staff reply is the first response.

    Internal notes leave `updated_at` alone: a customer must not learn of them even by time.
    The event carries the comment's id, author and visibility, never its text.
    """
    comment = TicketComment(
        ticket_id=ticket.id,
        user_id=author.id,
        comment=text,
        is_internal=is_internal,
        is_resolution=is_resolution,
        created_at=now,
        updated_at=now,
    )
    comment.author = author
    comment.merged_from_number = None  # comments only ever go to tickets not merged away
    session.add(comment)
    ticket.comments_count += 1
    if not is_internal:
        ticket.public_comments_count += 1
        ticket.updated_at = now
        if policy.is_staff(author) and ticket.first_response_at is None:
            ticket.first_response_at = now
    add_activity(
        session, ticket, author, "comment_added", now=now, text=text, is_internal=is_internal
    )
    await session.flush()
    await events.record(
        session,
        "note.created" if is_internal else "comment.created",
        ticket=ticket,
        actor=author,
        data={
            "comment_id": comment.id,
            "author_id": author.id,
            "is_internal": is_internal,
            "is_resolution": is_resolution,
        },
        now=now,
        is_internal=is_internal,
    )
    return comment


def status_after_comment(
    ticket: Ticket, *, staff: bool, is_internal: bool, is_resolution: bool
) -> Status | None:
    """The status a comment moves the ticket to, if any (API.md, "Side effects")."""
    if is_resolution:
        return Status.RESOLVED if ticket.status != Status.RESOLVED else None
    if is_internal:
        return None
    if staff:
        return Status.IN_PROGRESS if ticket.status in AWAITING_STAFF else None
    if ticket.status == Status.WAITING_ON_CUSTOMER:
        return Status.IN_PROGRESS
    if ticket.status in (Status.RESOLVED, Status.CLOSED):
        return Status.REOPENED
    return None


async def add_comment(
    session: AsyncSession, actor: User, ref: str, data: CommentCreate
) -> TicketComment:
    """The comment and every status change it causes are written together, or not at all.

    A comment to a merged ticket goes to the ticket it was merged into, when the author may
    see that one; otherwise it is refused (409) and a new ticket is the way to go on.
    """
    found = await tickets.get_ticket(session, actor, ref, for_update=True, with_people=False)
    ticket = await merge.resolve_target(session, actor, found)
    if ticket is None:
        raise Conflict(
            f"{found.ticket_number} was merged into another ticket; please open a new ticket"
        )
    staff = policy.is_staff(actor)
    if not staff and (data.is_internal or data.is_resolution):
        raise Forbidden("only support staff may write internal notes or resolutions")
    if data.is_internal and data.is_resolution:
        raise Invalid("a resolution comment is public; it cannot be internal", field="is_internal")
    if data.seen_comment_id is not None:
        await _refuse_if_newer_reply(session, actor, ticket, data.seen_comment_id)
    now = clock.now()
    comment = await insert_comment(
        session,
        actor,
        ticket,
        data.comment,
        is_internal=data.is_internal,
        is_resolution=data.is_resolution,
        now=now,
    )
    target = status_after_comment(
        ticket, staff=staff, is_internal=data.is_internal, is_resolution=data.is_resolution
    )
    if target is not None:
        await apply_status(session, actor, ticket, target, now=now)
    await session.flush()
    return comment


class NewerReply(Conflict):
    """Someone else replied after the newest comment the writer had seen."""

    def __init__(self, comment: TicketComment) -> None:
        super().__init__(f"{comment.author.full_name} replied since; send again to post anyway")
        self.comment = comment


async def _refuse_if_newer_reply(
    session: AsyncSession, actor: User, ticket: Ticket, seen_id: int
) -> None:
    """Two people answering one ticket: the second is asked to confirm, not silently posted."""
    query = (
        select(TicketComment)
        .where(
            TicketComment.ticket_id == ticket.id,
            TicketComment.id > seen_id,
            TicketComment.is_internal.is_(False),
            TicketComment.user_id != actor.id,
        )
        .options(joinedload(TicketComment.author))
        .order_by(TicketComment.id.desc())
        .limit(1)
    )
    newer = await session.scalar(query)
    if newer is not None:
        raise NewerReply(newer)


async def list_comments(
    session: AsyncSession, actor: User, ref: str, *, window: Window = Window()
) -> list[TicketComment]:
    """Oldest first, with the comments of tickets merged into this one; customers never
    receive internal notes."""
    ticket = await tickets.get_ticket(session, actor, ref, with_people=False)
    query = (
        select(TicketComment)
        .where(TicketComment.ticket_id.in_(await merge.conversation_ids(session, ticket.id)))
        .options(joinedload(TicketComment.author))
        .order_by(TicketComment.id)
    )
    if not policy.is_staff(actor):
        query = query.where(TicketComment.is_internal.is_(False))
    return list(await session.scalars(window.apply(query, TicketComment.id)))


async def edit_comment(
    session: AsyncSession, actor: User, ref: str, comment_id: int, text: str
) -> TicketComment:
    """Only the author edits; the old text stays in the ticket's activity trail."""
    ticket = await tickets.get_ticket(session, actor, ref, for_update=True, with_people=False)
    query = (
        select(TicketComment)
        .where(TicketComment.id == comment_id, TicketComment.ticket_id == ticket.id)
        .options(joinedload(TicketComment.author))
    )
    if not policy.is_staff(actor):
        query = query.where(TicketComment.is_internal.is_(False))
    comment = await session.scalar(query)
    if comment is None:
        raise NotFound("comment not found")
    if comment.user_id != actor.id:
        raise Forbidden("only the author may edit a comment")
    now = clock.now()
    add_activity(
        session,
        ticket,
        actor,
        "comment_edited",
        now=now,
        comment_id=comment.id,
        old=comment.comment,
        new=text,
        is_internal=comment.is_internal,
    )
    comment.comment, comment.updated_at = text, now
    if not comment.is_internal:
        ticket.updated_at = now
    await events.record(
        session,
        "comment.updated",
        ticket=ticket,
        actor=actor,
        data={"comment_id": comment.id, "author_id": actor.id, "is_internal": comment.is_internal},
        now=now,
        is_internal=comment.is_internal,
    )
    await session.flush()
    return comment
