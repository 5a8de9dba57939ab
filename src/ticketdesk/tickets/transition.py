"""The one way a ticket's status changes: checked against the machine, stamped, recorded."""

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from ticketdesk import events
from ticketdesk.auth.models import User
from ticketdesk.errors import Conflict
from ticketdesk.sla import service as sla
from ticketdesk.tickets import workflow
from ticketdesk.tickets.history import add_activity, add_history
from ticketdesk.tickets.models import Status, Ticket


def not_allowed_message(current: Status, target: Status) -> str:
    allowed = ", ".join(workflow.allowed_targets(current)) or "none"
    return f"cannot change status from {current} to {target}; allowed: {allowed}"


async def apply_status(
    session: AsyncSession,
    actor: User | None,
    ticket: Ticket,
    target: Status,
    *,
    now: datetime,
    note: str | None = None,
    assignee: tuple[int | None, int | None] | None = None,
) -> None:
    """Every status change, manual or automatic, passes here and leaves a history row.

    `actor` None means the system. `assignee` puts an assignment made in the same step into
    the same history row.
    """
    current = ticket.status
    if ticket.merged_into_id is not None:
        raise Conflict(
            f"{ticket.ticket_number} was merged into {ticket.merged_into_number}; "
            "its status no longer changes"
        )
    if not workflow.is_allowed(current, target):
        raise Conflict(not_allowed_message(current, target))
    ticket.resolved_at, ticket.closed_at = workflow.stamps(
        current, target, now, ticket.resolved_at, ticket.closed_at
    )
    if target == Status.WAITING_ON_CUSTOMER:
        sla.pause(ticket, now)
    elif current == Status.WAITING_ON_CUSTOMER:
        await sla.resume(session, ticket, now)
    ticket.status = target
    ticket.updated_at = now
    add_history(
        session, ticket, actor, now=now, status=(current, target), assignee=assignee, note=note
    )
    add_activity(
        session, ticket, actor, "status_changed", now=now, old=current, new=target, note=note
    )
    await events.record(
        session,
        "ticket.status_changed",
        ticket=ticket,
        actor=actor,
        data={"from": current, "to": target, "note": note},
        now=now,
    )
    if target == Status.REOPENED and ticket.assigned_to_id is None:
        # Imported here: auto-assignment assigns through tickets.assignment, which imports
        # this module.
        from ticketdesk.assignment_rules import autoassign

        await autoassign.assign_by_rules(session, ticket, now=now)
