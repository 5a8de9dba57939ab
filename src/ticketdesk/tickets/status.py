"""The status endpoint's use case: a manual change, optionally with a resolution comment."""

from sqlalchemy.ext.asyncio import AsyncSession

from ticketdesk import clock
from ticketdesk.auth import policy
from ticketdesk.auth.models import User
from ticketdesk.comments import service as comments
from ticketdesk.errors import Forbidden, Invalid
from ticketdesk.tickets import service as tickets
from ticketdesk.tickets.models import Status, Ticket
from ticketdesk.tickets.schemas import StatusChange
from ticketdesk.tickets.transition import apply_status


async def change_status(
    session: AsyncSession, actor: User, ref: str, change: StatusChange
) -> Ticket:
    """Staff make any allowed change; customers only confirm or reopen their own ticket.

    With `is_resolution`, the note is also added as a public resolution comment.
    """
    ticket = await tickets.get_ticket(session, actor, ref, for_update=True)
    if not policy.can_transition(actor, ticket, change.status):
        raise Forbidden("customers may only close a resolved ticket or reopen their own ticket")
    if change.is_resolution and not policy.is_staff(actor):
        raise Forbidden("only support staff may mark a resolution")
    if change.is_resolution and change.status not in (Status.RESOLVED, Status.CLOSED):
        raise Invalid("is_resolution goes with status resolved or closed", field="is_resolution")
    now = clock.now()
    await apply_status(session, actor, ticket, change.status, now=now, note=change.note)
    if change.is_resolution and change.note:
        await comments.insert_comment(
            session, actor, ticket, change.note, is_internal=False, is_resolution=True, now=now
        )
    await session.flush()
    return ticket
