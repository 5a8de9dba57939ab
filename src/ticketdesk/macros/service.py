"""Macros: canned responses with actions, applied through the ordinary ticket services."""

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ticketdesk import clock
from ticketdesk.auth import policy
from ticketdesk.auth.models import User
from ticketdesk.comments import service as comments
from ticketdesk.comments.models import TicketComment
from ticketdesk.comments.schemas import CommentCreate, CommentRead
from ticketdesk.custom_fields import service as custom_fields
from ticketdesk.errors import Invalid, NotFound
from ticketdesk.macros import render
from ticketdesk.macros.models import Macro
from ticketdesk.macros.schemas import ApplyResult, MacroActions, MacroIn, MacroUpdate
from ticketdesk.tickets import assignment, status
from ticketdesk.tickets import service as tickets
from ticketdesk.tickets.models import Ticket
from ticketdesk.tickets.schemas import StatusChange, TicketUpdate, ticket_read

M = TypeVar("M", bound=BaseModel)


def _visible(actor: User) -> Any:
    return or_(Macro.is_shared.is_(True), Macro.owner_id == actor.id)


async def list_macros(session: AsyncSession, actor: User) -> list[Macro]:
    """The caller's personal macros and the shared ones."""
    policy.require_staff(actor)
    query = select(Macro).where(_visible(actor)).order_by(Macro.name, Macro.id)
    return list(await session.scalars(query))


async def get_macro(session: AsyncSession, actor: User, macro_id: int) -> Macro:
    """Another agent's personal macro is not found."""
    policy.require_staff(actor)
    macro = await session.scalar(select(Macro).where(Macro.id == macro_id, _visible(actor)))
    if macro is None:
        raise NotFound("macro not found")
    return macro


def _check_body(body: str) -> None:
    try:
        render.check(body)
    except render.BodyError as error:
        raise Invalid(str(error), field="body") from None


async def create_macro(session: AsyncSession, actor: User, data: MacroIn) -> Macro:
    """Agents keep personal macros; shared ones are the super_admin's."""
    policy.require_staff(actor)
    if data.is_shared:
        policy.require_super_admin(actor)
    _check_body(data.body)
    now = clock.now()
    macro = Macro(
        name=data.name,
        body=data.body,
        actions=data.actions.stored(),
        is_shared=data.is_shared,
        owner_id=actor.id,
        created_at=now,
        updated_at=now,
    )
    session.add(macro)
    await session.flush()
    return macro


async def update_macro(
    session: AsyncSession, actor: User, macro_id: int, data: MacroUpdate
) -> Macro:
    """The owner edits a personal macro; only the super_admin edits or shares a shared one."""
    macro = await get_macro(session, actor, macro_id)
    if macro.is_shared or data.is_shared:
        policy.require_super_admin(actor)
    changes = data.model_dump(exclude_unset=True, exclude={"actions"})
    if data.body is not None:
        _check_body(data.body)
    if data.actions is not None:
        changes["actions"] = data.actions.stored()
    for name, value in changes.items():
        setattr(macro, name, value)
    macro.updated_at = clock.now()
    await session.flush()
    return macro


async def delete_macro(session: AsyncSession, actor: User, macro_id: int) -> None:
    macro = await get_macro(session, actor, macro_id)
    if macro.is_shared:
        policy.require_super_admin(actor)
    await session.delete(macro)
    await session.flush()


# --- applying -------------------------------------------------------------------------------


async def apply_macro(
    session: AsyncSession, actor: User, ref: str, macro_id: int, *, preview: bool
) -> ApplyResult:
    """Every step goes through the service the direct call uses (status machine, permissions,
    history, events); a refused step refuses the whole request and nothing is written.

    A preview runs the same steps in a savepoint, reads the outcome and rolls it back.
    """
    ticket = await tickets.get_ticket(session, actor, ref, for_update=True)
    policy.require_staff(actor)
    macro = await get_macro(session, actor, macro_id)
    if not preview:
        return await _apply(session, actor, ticket, macro, preview=False)
    savepoint = await session.begin_nested()
    try:
        return await _apply(session, actor, ticket, macro, preview=True)
    finally:
        await savepoint.rollback()


async def _apply(
    session: AsyncSession, actor: User, ticket: Ticket, macro: Macro, *, preview: bool
) -> ApplyResult:
    actions = MacroActions.model_validate(macro.actions)
    try:
        text = render.render(
            macro.body,
            number=ticket.ticket_number,
            subject=ticket.subject,
            customer=ticket.creator.full_name,
            agent=actor.full_name,
        )
    except render.BodyError as error:
        raise Invalid(str(error), field="body") from None
    ref, note = str(ticket.id), f'macro "{macro.name}"'
    changes = _field_changes(ticket, actions)
    if changes:
        update = _validated(TicketUpdate, changes, field="actions")
        await tickets.update_ticket(session, actor, ref, update)
    if "assign" in actions.model_fields_set:
        assignee = actor.id if actions.assign == "me" else actions.assign
        assert assignee is None or isinstance(assignee, int)
        await assignment.assign_ticket(session, actor, ref, assignee, note)
    comment = None
    if text.strip():
        data = _validated(
            CommentCreate, {"comment": text, "is_internal": actions.internal}, field="body"
        )
        comment = await comments.add_comment(session, actor, ref, data)
    if actions.status is not None and actions.status != ticket.status:
        change = StatusChange(status=actions.status, note=note)
        await status.change_status(session, actor, ref, change)
    return await _outcome(session, actor, ref, comment, preview=preview)


def _field_changes(ticket: Ticket, actions: MacroActions) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if actions.priority is not None:
        changes["priority"] = actions.priority
    if actions.category is not None:
        changes["category"] = actions.category
    if actions.add_tags or actions.remove_tags:
        removed = set(actions.remove_tags)
        kept = [tag for tag in ticket.tag_list if tag not in removed]
        changes["tags"] = list(dict.fromkeys(kept + actions.add_tags))
    return changes


def _validated(model: type[M], values: dict[str, Any], *, field: str) -> M:
    """The input of a step, checked as the direct call checks it (422 naming the field)."""
    try:
        return model.model_validate(values)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join([field, *(str(part) for part in first["loc"])])
        raise Invalid(first["msg"], field=where) from None


async def _outcome(
    session: AsyncSession, actor: User, ref: str, comment: TicketComment | None, *, preview: bool
) -> ApplyResult:
    """Read while the changes are still there (a preview rolls them back afterwards)."""
    row = await tickets.read_ticket(session, actor, ref)
    fields = await custom_fields.field_set(session)
    return ApplyResult(
        preview=preview,
        ticket=ticket_read(row, staff=True, now=clock.now(), fields=fields),
        comment=_comment_read(comment, actor) if comment is not None else None,
    )


def _comment_read(comment: TicketComment, author: User) -> CommentRead:
    return CommentRead(
        id=comment.id,
        ticket_id=comment.ticket_id,
        user_id=comment.user_id,
        author_name=author.full_name,
        comment=comment.comment,
        is_internal=comment.is_internal,
        is_resolution=comment.is_resolution,
        created_at=comment.created_at,
        updated_at=comment.updated_at,
    )
