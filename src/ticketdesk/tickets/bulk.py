"""Bulk operations for the super_admin: all or nothing, each ticket with its own history."""

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ticketdesk import clock
from ticketdesk.auth import policy
from ticketdesk.auth.models import User
from ticketdesk.errors import Conflict, Invalid, NotFound
from ticketdesk.tickets import service as tickets
from ticketdesk.tickets import workflow
from ticketdesk.tickets.assignment import assign, staff_member
from ticketdesk.tickets.models import Ticket
from ticketdesk.tickets.schemas import MAX_TAGS, BulkIn, BulkResult
from ticketdesk.tickets.transition import apply_status, not_allowed_message


async def _locked(session: AsyncSession, ids: list[int]) -> list[Ticket]:
    """The tickets, locked in id order (a fixed order cannot deadlock), or 404 naming the gaps."""
    query = select(Ticket).where(Ticket.id.in_(ids)).order_by(Ticket.id).with_for_update()
    found = list(await session.scalars(query))
    missing = sorted(set(ids) - {t.id for t in found})
    if missing:
        raise NotFound(f"tickets not found: {', '.join(map(str, missing))}")
    return found


async def run_bulk(session: AsyncSession, actor: User, data: BulkIn) -> BulkResult:
    """Every ticket is checked before any is changed; one failure changes nothing."""
    policy.require_super_admin(actor)
    found = await _locked(session, data.ticket_ids)
    if data.action == "status":
        assert data.status is not None
        refused = [
            f"{t.id} ({not_allowed_message(t.status, data.status)})"
            for t in found
            if not workflow.is_allowed(t.status, data.status)
        ]
        if refused:
            raise Conflict(f"status change not allowed for tickets: {'; '.join(refused)}")
    if data.action == "update" and data.add_tags:
        crowded = [t.id for t in found if len(_new_tags(t, data)) > MAX_TAGS]
        if crowded:
            raise Invalid(
                f"tickets would have more than {MAX_TAGS} tags: {', '.join(map(str, crowded))}",
                field="add_tags",
            )
    assignee = None
    if data.action == "assign" and data.assigned_to_id is not None:
        assignee = await staff_member(session, data.assigned_to_id)
    now = clock.now()
    changed = 0
    for ticket in found:
        if data.action == "assign":
            changed += await assign(session, actor, ticket, assignee, now=now, note=data.note)
        elif data.action == "status":
            assert data.status is not None
            await apply_status(session, actor, ticket, data.status, now=now, note=data.note)
            changed += 1
        else:
            changed += await _update(session, actor, ticket, data, now=now)
    await session.flush()
    return BulkResult(action=data.action, ticket_ids=[t.id for t in found], changed=changed)


async def _update(
    session: AsyncSession, actor: User, ticket: Ticket, data: BulkIn, *, now: datetime
) -> bool:
    changes: dict[str, Any] = data.model_dump(include={"priority", "category"}, exclude_unset=True)
    if data.add_tags is not None or data.remove_tags is not None:
        changes["tags"] = _new_tags(ticket, data)
    return await tickets.apply_changes(session, actor, ticket, changes, now=now)


def _new_tags(ticket: Ticket, data: BulkIn) -> list[str]:
    """The ticket's tags less `remove_tags`, then `add_tags` appended; order kept, no repeats.

    A tag in both lists is removed. The result obeys the same limit as a ticket's own tags
    (MAX_TAGS), which run_bulk checks for every ticket before changing any.
    """
    removed = set(data.remove_tags or ())
    kept = [tag for tag in ticket.tag_list if tag not in removed]
    return list(dict.fromkeys(kept + [t for t in data.add_tags or () if t not in removed]))
