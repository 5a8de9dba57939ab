"""Keeps the search index in step with every write: an event subscriber, so it runs in the
writing transaction (a refused write leaves no trace in the index, a committed one is
searchable at once) and follows every path that records the events."""

from sqlalchemy.ext.asyncio import AsyncSession

from ticketdesk import events
from ticketdesk.comments.models import TicketComment
from ticketdesk.config import get_settings
from ticketdesk.search.engines import engine_for
from ticketdesk.tickets.models import Ticket

NEW_COMMENTS = frozenset({"comment.created", "note.created"})
# Events after which the ticket's documents are rebuilt from its rows.
REBUILDS = frozenset({"comment.updated", "ticket.merged"})
TEXT_FIELDS = frozenset({"subject", "description"})


@events.subscribe
async def follow(session: AsyncSession, event: events.PendingEvent) -> None:
    if event.ticket is None or not get_settings().search_indexing:
        return
    if event.type in NEW_COMMENTS:
        comment = await session.get(TicketComment, event.data["comment_id"])
        assert comment is not None
        await comment_added(session, comment)
    elif event.type == "ticket.created":
        # A new ticket's document is its own text, read from its row, which is written before
        # the event is recorded (tickets.service.create_ticket): the creating transaction's
        # other rows are left to be written together later.
        if event.ticket in session.new or session.is_modified(event.ticket):
            await session.flush()
        await engine_for(session).index_tickets(session, [event.ticket.id])
    elif event.type in REBUILDS or (
        event.type == "ticket.updated" and TEXT_FIELDS & event.data.get("changes", {}).keys()
    ):
        await ticket_written(session, event.ticket)


async def ticket_written(session: AsyncSession, ticket: Ticket) -> None:
    """The ticket's documents rebuilt from its text and comments."""
    await session.flush()
    await engine_for(session).index_tickets(session, [ticket.id])


async def comment_added(session: AsyncSession, comment: TicketComment) -> None:
    """A new comment or note joins its ticket's public or staff document."""
    engine = engine_for(session)
    await engine.add_comment(
        session, comment.ticket_id, comment.comment, internal=comment.is_internal
    )
