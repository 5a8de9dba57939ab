"""Merging a duplicate into another ticket: nothing is moved or deleted, and no chain forms.

The source is closed (through the status machine) and points at the target; its comments
show in the target's conversation marked with its number. A ticket that was merged away, or
that others were merged into, takes part in no further merge, so every merged ticket is one
step from a ticket that lives on.
"""

from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from ticketdesk import clock, events
from ticketdesk.auth import policy
from ticketdesk.auth.models import User
from ticketdesk.errors import Conflict, NotFound
from ticketdesk.tickets import service as tickets
from ticketdesk.tickets.history import add_activity, add_history
from ticketdesk.tickets.models import Status, Ticket
from ticketdesk.tickets.schemas import MergeIn, TicketView
from ticketdesk.tickets.transition import apply_status


async def merge_ticket(session: AsyncSession, actor: User, ref: str, data: MergeIn) -> Ticket:
    """Staff only. Both tickets are locked in id order, so that A→B and B→A at the same time
    cannot both pass: the second sees the first's merge and is refused."""
    source = await tickets.get_ticket(session, actor, ref, with_people=False)
    policy.require_staff(actor)
    target_id = await session.scalar(select(Ticket.id).where(tickets.by_ref(str(data.into))))
    if target_id is None:
        raise NotFound("the ticket to merge into was not found")
    if target_id == source.id:
        raise Conflict("a ticket cannot be merged into itself")
    # Refused before any lock when the answer is already known: a reply routed from a merged
    # ticket to its target locks them the other way round.
    unlocked = await session.get(Ticket, target_id)
    assert unlocked is not None
    await _check_mergeable(session, source, unlocked)
    locked = await session.scalars(
        select(Ticket)
        .where(Ticket.id.in_(sorted((source.id, target_id))))
        .order_by(Ticket.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    by_id = {ticket.id: ticket for ticket in locked}
    source, target = by_id[source.id], by_id[target_id]
    await _check_mergeable(session, source, target)
    now = clock.now()
    note = data.note or f"Merged into {target.ticket_number}"
    if source.status == Status.CLOSED:
        add_history(session, source, actor, now=now, note=note)
    else:
        await apply_status(session, actor, source, Status.CLOSED, now=now, note=note)
    source.merged_into_id, source.merged_into_number = target.id, target.ticket_number
    source.updated_at = now
    add_activity(
        session, source, actor, "merged_into", now=now,
        ticket_id=target.id, ticket_number=target.ticket_number, note=data.note,
    )  # fmt: skip
    add_history(
        session, target, actor, now=now, note=f"{source.ticket_number} merged into this ticket"
    )
    add_activity(
        session, target, actor, "merged_from", now=now,
        ticket_id=source.id, ticket_number=source.ticket_number, note=data.note,
    )  # fmt: skip
    await events.record(
        session,
        "ticket.merged",
        ticket=source,
        actor=actor,
        data={
            "merged_into_id": target.id,
            "merged_into_number": target.ticket_number,
            "note": data.note,
        },
        now=now,
    )
    # The target's conversation now holds the source's comments and files: its counters say so.
    target.comments_count += source.comments_count
    target.public_comments_count += source.public_comments_count
    target.attachments_count += source.attachments_count
    target.public_attachments_count += source.public_attachments_count
    target.updated_at = now
    await session.flush()
    return await tickets.get_ticket(session, actor, str(source.id))


async def _check_mergeable(session: AsyncSession, source: Ticket, target: Ticket) -> None:
    if source.merged_into_id is not None:
        raise Conflict(f"{source.ticket_number} was already merged into another ticket")
    if target.merged_into_id is not None:
        raise Conflict(
            f"{target.ticket_number} was merged into {target.merged_into_number}; "
            "merge into that ticket instead"
        )
    merged_in = await session.scalar(
        select(Ticket.ticket_number).where(Ticket.merged_into_id == source.id).limit(1)
    )
    if merged_in is not None:
        raise Conflict(
            f"other tickets were merged into {source.ticket_number}; it cannot be merged away"
        )


async def resolve_target(session: AsyncSession, actor: User, ticket: Ticket) -> Ticket | None:
    """Where a reply to `ticket` goes: the ticket itself, or, when it was merged away, the
    ticket it went into, locked for the reply (None when `actor` may not see that one: the
    reply should then start a new ticket)."""
    if ticket.merged_into_id is None:
        return ticket
    query = (
        policy.visible_tickets(actor)
        .where(Ticket.id == ticket.merged_into_id)
        .with_for_update(of=Ticket)
    )
    return await session.scalar(query)


async def conversation_ids(session: AsyncSession, ticket_id: int) -> list[int]:
    """The ticket and the tickets merged into it: whose comments its conversation shows."""
    merged = await session.scalars(select(Ticket.id).where(Ticket.merged_into_id == ticket_id))
    return [ticket_id, *merged]


async def hidden_targets(
    session: AsyncSession, actor: User, tickets_: list[TicketView] | list[Row[Any]]
) -> set[int]:
    """The merge targets among these tickets that `actor` may not see (their ids and
    numbers are then left out of the representation)."""
    if policy.is_staff(actor):
        return set()
    targets = {t.merged_into_id for t in tickets_ if t.merged_into_id is not None}
    if not targets:
        return set()
    visible = policy.visible_tickets(actor).with_only_columns(Ticket.id)
    seen = set(await session.scalars(visible.where(Ticket.id.in_(targets))))
    return targets - seen
