"""The agent workspace: saved views of the ticket list, and the ticket page."""

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import RedirectResponse, Response

from ticketdesk import clock
from ticketdesk.attachments.upload import upload_error
from ticketdesk.auth import service as accounts
from ticketdesk.auth.models import Role, User
from ticketdesk.comments import service as comments
from ticketdesk.comments.schemas import CommentCreate
from ticketdesk.custom_fields.service import FieldSet
from ticketdesk.db import ReadSession, WriteSession
from ticketdesk.errors import Invalid
from ticketdesk.tickets import assignment, bulk, status, workflow
from ticketdesk.tickets import history as trail
from ticketdesk.tickets import service as tickets
from ticketdesk.tickets.models import Category, Priority, Status
from ticketdesk.tickets.schemas import (
    BulkIn,
    StatusChange,
    TicketFilters,
    TicketRead,
    TicketUpdate,
    normalize_tags,
    ticket_read,
)
from ticketdesk.web import live, partials, presence, views
from ticketdesk.web.pages import (
    PageViewer,
    Viewer,
    field_errors,
    query_filters,
    render,
    require_staff,
    safe_next,
    show_reply,
)

router = APIRouter(prefix="/desk", include_in_schema=False)
Text = Annotated[str, Form()]
SORTS = {
    "-created_at": "Newest first",
    "created_at": "Oldest first",
    "-updated_at": "Recently updated",
    "due": "Due soonest",
    "-priority": "Most urgent",
}


def _present(row: Any, fields: FieldSet | None = None) -> TicketRead:
    return ticket_read(row, staff=True, now=clock.now(), fields=fields)


async def _staff(session: AsyncSession, viewer: Viewer) -> list[User]:
    return await accounts.list_users(session, viewer.user, role=None)


# The views' counts stop here ("1000+"): a number to glance at, and each costs at most this
# many index entries however many tickets there are.
VIEW_COUNT_LIMIT = 1000


async def _counts(session: AsyncSession, viewer: Viewer) -> dict[str, str]:
    """Each view's count, "1000+" past VIEW_COUNT_LIMIT; one query for all of them."""
    presets = [TicketFilters.model_validate(view.preset) for view in views.VIEWS]
    counts = await tickets.count_each(session, viewer.user, presets, count_limit=VIEW_COUNT_LIMIT)
    return {
        view.key: f"{total}" if exact else f"{total}+"
        for view, (total, exact) in zip(views.VIEWS, counts, strict=True)
    }


@router.get("")
async def desk(request: Request, session: ReadSession, viewer: PageViewer) -> Response:
    """A view with counts, the API's filters and sort, and pages."""
    require_staff(viewer)
    view = views.BY_KEY.get(request.query_params.get("view", ""), views.DEFAULT)
    filters = query_filters(request, view.preset)
    limit = request.app.state.settings.list_count_limit
    page = await tickets.list_tickets(session, viewer.user, filters, count_limit=limit)
    context: dict[str, Any] = {
        "view": view,
        "views": views.VIEWS,
        "filters": filters,
        "page": page,
        "tickets": [_present(row) for row in page.rows],
        "counts": await _counts(session, viewer),
        "query": {k: v for k, v in request.query_params.items() if k != "page"},
        "live_cursor": await live.cursor(session),
    }
    context |= {
        "staff": await _staff(session, viewer),
        "statuses": list(Status),
        "priorities": list(Priority),
        "categories": list(Category),
        "sorts": SORTS,
        "bulk": viewer.user.role == Role.SUPER_ADMIN,
    }
    return render(request, "desk/list.html", context)


def _bulk_body(choice: str, ids: list[str]) -> dict[str, Any]:
    """The bulk form's one choice ("status:resolved", "assign:5", "priority:high") as BulkIn."""
    action, _, value = choice.partition(":")
    numbers = [int(i) for i in ids if i.isascii() and i.isdigit() and len(i) < 11]
    body: dict[str, Any] = {"ticket_ids": numbers}
    if action == "assign":
        assignee = int(value) if value.isascii() and value.isdigit() and len(value) < 11 else None
        return body | {"action": "assign", "assigned_to_id": assignee}
    if action == "priority":
        return body | {"action": "update", "priority": value}
    return body | {"action": "status", "status": value}


@router.post("/bulk")
async def bulk_action(
    request: Request,
    session: WriteSession,
    viewer: PageViewer,
    action: Text = "",
    next: Text = "",
) -> Response:
    """The API's bulk operation (super_admin): all the selected tickets change, or none."""
    require_staff(viewer)
    ids = [str(v) for v in (await request.form()).getlist("ticket_ids")]
    data = BulkIn.model_validate(_bulk_body(action, ids))
    await bulk.run_bulk(session, viewer.user, data)
    return RedirectResponse(safe_next(next) or "/desk", status_code=303)


def _names(staff: list[User], ticket: TicketRead) -> dict[int, str]:
    return {user.id: user.full_name for user in staff} | {ticket.user_id: ticket.creator_name}


async def _ticket_page(
    request: Request,
    session: AsyncSession,
    viewer: Viewer,
    ref: str,
    *,
    draft: str = "",
    mode: str = "",
    errors: list[str] | None = None,
    newer: Any = None,
    property_errors: list[str] | None = None,
    typed_fields: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    require_staff(viewer)
    fields = await partials.field_set(session)
    ticket = _present(await tickets.read_ticket(session, viewer.user, ref), fields)
    conversation = await comments.list_comments(session, viewer.user, ref)
    timeline = await trail.timeline(
        session, await tickets.staff_ticket(session, viewer.user, ref), now=clock.now()
    )
    staff = await _staff(session, viewer)
    others = await tickets.list_tickets(
        session,
        viewer.user,
        TicketFilters(user_id=ticket.user_id, sort="-updated_at", page_size=11),
    )
    mode = mode or ("note" if request.query_params.get("compose") == "note" else "reply")
    context = {
        "ticket": ticket,
        "conversation": conversation,
        **await partials.files(session, viewer, ref, [c.id for c in conversation]),
        "cf_inputs": partials.editable(fields, viewer),
        "cf_values": ticket.custom_fields if typed_fields is None else typed_fields,
        "rating": await partials.rating(session, viewer, ticket),
        "rating_readonly": True,
        "property_errors": property_errors or [],
        "seen_comment_id": max((c.id for c in conversation), default=0),
        "timeline": timeline,
        "names": _names(staff, ticket),
        "staff": staff,
        "others": [_present(r) for r in others.rows if r.id != ticket.id][:10],
        "statuses": list(Status),
        "allowed": workflow.allowed_targets(ticket.status),
        "priorities": list(Priority),
        "categories": list(Category),
        "mode": mode,
        "draft": draft,
        "errors": errors or [],
        "newer": newer,
        "live_cursor": await live.cursor(session),
    }
    return render(request, "desk/ticket.html", context, status_code=status_code)


@router.get("/tickets/{ref}")
async def ticket_page(
    request: Request, session: ReadSession, viewer: PageViewer, ref: str
) -> Response:
    return await _ticket_page(request, session, viewer, ref)


@router.get("/tickets/{ref}/conversation")
async def conversation_fragment(
    request: Request, session: ReadSession, viewer: PageViewer, ref: str
) -> Response:
    """The conversation alone, refreshed live when someone writes."""
    require_staff(viewer)
    await tickets.read_ticket(session, viewer.user, ref)
    conversation = await comments.list_comments(session, viewer.user, ref)
    context = {"conversation": conversation}
    context |= await partials.files(session, viewer, ref, [c.id for c in conversation])
    return render(request, "partials/conversation.html", context)


def _seen(value: str) -> int | None:
    return int(value) if value.isascii() and value.isdigit() and len(value) < 11 else None


@router.post("/tickets/{ref}/comments")
async def send(
    request: Request,
    session: WriteSession,
    viewer: PageViewer,
    ref: str,
    comment: Text = "",
    mode: Text = "reply",
    seen_comment_id: Text = "",
    confirm: Text = "",
) -> Response:
    """A reply or an internal note with its files (those of a note are staff only). A reply
    sent after someone else's newer reply is held back (409) until the agent confirms it;
    files are sent again with the confirmation."""
    require_staff(viewer)
    if refused := upload_error(request):
        return await _ticket_page(
            request, session, viewer, ref, draft=comment, mode=mode,
            errors=[f"Attachments: {refused.detail}"], status_code=refused.status_code,
        )  # fmt: skip
    body: dict[str, Any] = {"comment": comment, "is_internal": mode == "note"}
    seen = _seen(seen_comment_id)
    if seen is not None and confirm != "yes":
        body["seen_comment_id"] = seen
    try:
        data = CommentCreate.model_validate(body)
        added = await comments.add_comment(session, viewer.user, ref, data)
    except ValidationError as exc:
        return await _ticket_page(
            request, session, viewer, ref, draft=comment, mode=mode,
            errors=field_errors(exc), status_code=422,
        )  # fmt: skip
    except comments.NewerReply as exc:
        return await _ticket_page(
            request, session, viewer, ref, draft=comment, mode=mode, newer=exc.comment,
            status_code=409,
        )  # fmt: skip
    return await show_reply(request, session, viewer, ref, added, "desk")


@router.post("/tickets/{ref}/properties")
async def save_properties(
    request: Request,
    session: WriteSession,
    viewer: PageViewer,
    ref: str,
    status_: Annotated[str, Form(alias="status")] = "",
    priority: Text = "",
    category: Text = "",
    assigned_to_id: Text = "",
    tags: Text = "",
    note: Text = "",
) -> Response:
    """Each control that changed goes through the API's own use case, in one transaction.
    Custom field values the service refuses are shown on the page; nothing is saved then."""
    require_staff(viewer)
    fields = await partials.field_set(session)
    before = _present(await tickets.read_ticket(session, viewer.user, ref), fields)
    posted = await request.form()
    defs = partials.editable(fields, viewer)
    changes: dict[str, Any] = {}
    custom = partials.changed(partials.custom_values(posted, defs), before.custom_fields, defs)
    if custom:
        changes["custom_fields"] = custom
    if priority and priority != before.priority:
        changes["priority"] = priority
    if category and category != before.category:
        changes["category"] = category
    if normalize_tags(tags) != before.tags:
        changes["tags"] = tags
    if changes:
        try:
            update = TicketUpdate.model_validate(changes)
            await tickets.update_ticket(session, viewer.user, ref, update)
        except ValidationError as exc:
            return await _property_errors(request, session, viewer, ref, field_errors(exc), posted)
        except Invalid as exc:
            return await _property_errors(request, session, viewer, ref, [exc.detail], posted)
    assignee = _seen(assigned_to_id)
    if assignee != before.assigned_to_id:
        await assignment.assign_ticket(session, viewer.user, ref, assignee, note or None)
    if status_ and status_ != before.status:
        change: dict[str, Any] = {"status": status_} | ({"note": note} if note.strip() else {})
        await status.change_status(session, viewer.user, ref, StatusChange.model_validate(change))
    return RedirectResponse(f"/desk/tickets/{before.ticket_number}", status_code=303)


async def _property_errors(
    request: Request,
    session: AsyncSession,
    viewer: Viewer,
    ref: str,
    errors: list[str],
    posted: Any,
) -> Response:
    defs = partials.editable(await partials.field_set(session), viewer)
    typed = partials.typed_back(posted, defs)
    return await _ticket_page(
        request, session, viewer, ref, property_errors=errors, typed_fields=typed,
        status_code=422,
    )  # fmt: skip


@router.post("/tickets/{ref}/take")
async def take(session: WriteSession, viewer: PageViewer, ref: str) -> Response:
    """Take it: the agent assigns the ticket to themself."""
    require_staff(viewer)
    ticket = await assignment.assign_ticket(session, viewer.user, ref, viewer.user.id, None)
    return RedirectResponse(f"/desk/tickets/{ticket.ticket_number}", status_code=303)


@router.post("/tickets/{ref}/presence", status_code=204)
async def heartbeat(session: WriteSession, viewer: PageViewer, ref: str, mode: Text = "") -> None:
    """The page says every 20 s that the agent is viewing or replying; `gone` when it closes."""
    require_staff(viewer)
    await presence.heartbeat(session, viewer.user, ref, mode, now=clock.now())
