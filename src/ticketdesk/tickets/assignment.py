"""Assigning tickets to support staff."""

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from ticketdesk import clock, events
from ticketdesk.auth import policy
from ticketdesk.auth.models import STAFF_ROLES, Role, User
from ticketdesk.errors import Forbidden, Invalid
from ticketdesk.tickets import service as tickets
from ticketdesk.tickets.history import add_activity, add_history
from ticketdesk.tickets.models import Status, Ticket
from ticketdesk.tickets.transition import apply_status
from ticketdesk.tickets.workflow import AWAITING_STAFF


def can_assign(actor: User, assignee_id: int | None, current_id: int | None) -> bool:
    """The super_admin assigns anyone; an agent only takes a ticket or lets go of their own."""
    if actor.role == Role.SUPER_ADMIN:
        return True
    if actor.role != Role.AGENT:
        return False
    return assignee_id == actor.id or (assignee_id is None and current_id == actor.id)


async def staff_member(session: AsyncSession, user_id: int) -> User:
    user = await session.get(User, user_id)
    if user is None or user.role not in STAFF_ROLES or not user.is_active:
        raise Invalid(
            "tickets can only be assigned to active support staff", field="assigned_to_id"
        )
    return user


async def assign(
    session: AsyncSession,
    actor: User | None,
    ticket: Ticket,
    assignee: User | None,
    *,
    now: datetime,
    note: str | None = None,
) -> bool:
    """Assigning an open or reopened ticket puts it in progress, in the same history row."""
    old, new = ticket.assigned_to_id, assignee.id if assignee else None
    if old == new:
        return False
    ticket.assignee, ticket.assigned_to_id, ticket.updated_at = assignee, new, now
    if new is not None and ticket.status in AWAITING_STAFF:
        await apply_status(
            session, actor, ticket, Status.IN_PROGRESS, now=now, note=note, assignee=(old, new)
        )
    else:
        add_history(session, ticket, actor, now=now, assignee=(old, new), note=note)
    add_activity(session, ticket, actor, "assigned", now=now, old=old, new=new, note=note)
    await events.record(
        session,
        "ticket.assigned",
        ticket=ticket,
        actor=actor,
        data={"from": old, "to": new, "note": note},
        now=now,
    )
    return True


async def assign_ticket(
    session: AsyncSession, actor: User, ref: str, assignee_id: int | None, note: str | None
) -> Ticket:
    ticket = await tickets.get_ticket(session, actor, ref, for_update=True)
    policy.require_staff(actor)
    if not can_assign(actor, assignee_id, ticket.assigned_to_id):
        raise Forbidden("an agent may only assign a ticket to themself")
    assignee = await staff_member(session, assignee_id) if assignee_id is not None else None
    await assign(session, actor, ticket, assignee, now=clock.now(), note=note)
    await session.flush()
    return ticket
