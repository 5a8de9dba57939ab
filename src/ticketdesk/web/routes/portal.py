"""The customer portal: my tickets, a new ticket, a ticket's public conversation."""

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import RedirectResponse, Response

from ticketdesk import clock
from ticketdesk.attachments import service as attachments
from ticketdesk.attachments.storage import storage_for
from ticketdesk.attachments.upload import request_files, upload_error
from ticketdesk.comments import service as comments
from ticketdesk.comments.schemas import CommentCreate
from ticketdesk.custom_fields.service import FieldSet
from ticketdesk.db import ReadSession, WriteSession
from ticketdesk.errors import Conflict, Forbidden, Invalid
from ticketdesk.satisfaction import service as satisfaction
from ticketdesk.satisfaction.schemas import RatingIn
from ticketdesk.tickets import service as tickets
from ticketdesk.tickets import status
from ticketdesk.tickets.models import Category, Priority, Status
from ticketdesk.tickets.schemas import StatusChange, TicketCreate, TicketRead, ticket_read
from ticketdesk.web import live, partials
from ticketdesk.web.pages import (
    PageViewer,
    Viewer,
    field_errors,
    query_filters,
    render,
    show_reply,
)

router = APIRouter(prefix="/portal", include_in_schema=False)
Text = Annotated[str, Form()]


def _present(viewer: Viewer, row: Any, fields: FieldSet | None = None) -> TicketRead:
    return ticket_read(row, staff=viewer.staff, now=clock.now(), fields=fields)


def _staff_elsewhere(viewer: Viewer, path: str) -> Response | None:
    """Staff work in the desk; the portal is the customers' view."""
    return RedirectResponse(path, status_code=303) if viewer.staff else None


@router.get("")
async def my_tickets(request: Request, session: ReadSession, viewer: PageViewer) -> Response:
    if moved := _staff_elsewhere(viewer, "/desk"):
        return moved
    filters = query_filters(request, {"sort": "-updated_at"})
    limit = request.app.state.settings.list_count_limit
    page = await tickets.list_tickets(session, viewer.user, filters, mine=True, count_limit=limit)
    context = {
        "tickets": [_present(viewer, row) for row in page.rows],
        "page": page,
        "filters": filters,
        "statuses": list(Status),
        "live_cursor": await live.cursor(session),
    }
    return render(request, "portal/list.html", context)


async def _new_form(
    request: Request, session: AsyncSession, viewer: Viewer, **context: Any
) -> Response:
    fields = await partials.field_set(session)
    defaults = {
        "form": {},
        "priorities": list(Priority),
        "categories": list(Category),
        "cf_inputs": partials.editable(fields, viewer),
        "cf_values": {},
    }
    status_code = context.pop("status_code", 422 if context.get("errors") else 200)
    return render(request, "portal/new.html", defaults | context, status_code=status_code)


@router.get("/tickets/new")
async def new_ticket_page(request: Request, session: ReadSession, viewer: PageViewer) -> Response:
    return await _new_form(request, session, viewer)


@router.post("/tickets/new")
async def submit_ticket(
    request: Request,
    session: WriteSession,
    viewer: PageViewer,
    subject: Text = "",
    description: Text = "",
    priority: Text = "medium",
    category: Text = "general_inquiry",
    tags: Text = "",
) -> Response:
    """The API's create, with the custom fields and files of the form in its transaction."""
    form = {
        "subject": subject,
        "description": description,
        "priority": priority,
        "category": category,
        "tags": tags,
    }
    posted = await request.form()
    defs = partials.editable(await partials.field_set(session), viewer)
    again = {"form": form, "cf_values": partials.typed_back(posted, defs)}
    if refused := upload_error(request):
        errors = [f"Attachments: {refused.detail}"]
        return await _new_form(
            request, session, viewer, errors=errors, status_code=refused.status_code, **again
        )
    try:
        custom = partials.custom_values(posted, defs)
        data = TicketCreate.model_validate(form | {"custom_fields": custom})
        ticket = await tickets.create_ticket(session, viewer.user, data)
    except ValidationError as exc:
        return await _new_form(request, session, viewer, errors=field_errors(exc), **again)
    except (Invalid, Forbidden) as exc:
        return await _new_form(request, session, viewer, errors=[exc.detail], **again)
    if uploads := request_files(request):
        storage = storage_for(request.app.state.settings)
        await attachments.attach(session, viewer.user, ticket, uploads, storage=storage)
    home = "/desk" if viewer.staff else "/portal"
    return RedirectResponse(f"{home}/tickets/{ticket.ticket_number}", status_code=303)


async def _ticket_page(
    request: Request,
    session: AsyncSession,
    viewer: Viewer,
    ref: str,
    *,
    draft: str = "",
    errors: list[str] | None = None,
    rating_errors: list[str] | None = None,
    status_code: int | None = None,
) -> Response:
    fields = await partials.field_set(session)
    ticket = _present(viewer, await tickets.read_ticket(session, viewer.user, ref), fields)
    conversation = await comments.list_comments(session, viewer.user, ref)
    context = {
        "ticket": ticket,
        "conversation": conversation,
        **await partials.files(session, viewer, ref, [c.id for c in conversation]),
        "cf_shown": fields.visible(staff=False),
        "rating": await partials.rating(session, viewer, ticket),
        "rating_errors": rating_errors or [],
        "draft": draft,
        "errors": errors or [],
        "can_close": ticket.status == Status.RESOLVED,
        "can_reopen": ticket.status in (Status.RESOLVED, Status.CLOSED),
        "live_cursor": await live.cursor(session),
    }
    if status_code is None:
        status_code = 422 if errors or rating_errors else 200
    return render(request, "portal/ticket.html", context, status_code=status_code)


@router.get("/tickets/{ref}")
async def ticket_page(
    request: Request, session: ReadSession, viewer: PageViewer, ref: str
) -> Response:
    if moved := _staff_elsewhere(viewer, f"/desk/tickets/{ref}"):
        return moved
    return await _ticket_page(request, session, viewer, ref)


@router.get("/tickets/{ref}/conversation")
async def conversation_fragment(
    request: Request, session: ReadSession, viewer: PageViewer, ref: str
) -> Response:
    """The conversation alone, refreshed live when someone replies."""
    await tickets.read_ticket(session, viewer.user, ref)
    conversation = await comments.list_comments(session, viewer.user, ref)
    context = {"conversation": conversation}
    context |= await partials.files(session, viewer, ref, [c.id for c in conversation])
    return render(request, "partials/conversation.html", context)


@router.post("/tickets/{ref}/reply")
async def reply(
    request: Request, session: WriteSession, viewer: PageViewer, ref: str, comment: Text = ""
) -> Response:
    """The API's comment with its files, one transaction; a refused file keeps the text."""
    if refused := upload_error(request):
        return await _ticket_page(
            request, session, viewer, ref, draft=comment,
            errors=[f"Attachments: {refused.detail}"], status_code=refused.status_code,
        )  # fmt: skip
    try:
        data = CommentCreate(comment=comment)
    except ValidationError as exc:
        return await _ticket_page(
            request, session, viewer, ref, draft=comment, errors=field_errors(exc)
        )
    added = await comments.add_comment(session, viewer.user, ref, data)
    return await show_reply(request, session, viewer, ref, added, "portal")


@router.post("/tickets/{ref}/rating")
async def rate(
    request: Request,
    session: WriteSession,
    viewer: PageViewer,
    ref: str,
    rating: Text = "",
    comment: Text = "",
) -> Response:
    """The API's rating: only the ticket's customer, only while it is offered."""
    try:
        data = RatingIn(rating=rating, comment=comment.strip() or None)
        await satisfaction.rate(session, viewer.user, ref, data)
    except ValidationError:
        errors = ["Choose Good or Bad (a comment may have 2,000 characters)."]
        return await _ticket_page(request, session, viewer, ref, rating_errors=errors)
    except Conflict as exc:
        return await _ticket_page(
            request, session, viewer, ref, rating_errors=[exc.detail], status_code=409
        )
    number = (await tickets.read_ticket(session, viewer.user, ref)).ticket_number
    return RedirectResponse(f"/portal/tickets/{number}#rating", status_code=303)


async def _change_status(session: AsyncSession, viewer: Viewer, ref: str, to: Status) -> Response:
    ticket = await status.change_status(session, viewer.user, ref, StatusChange(status=to))
    return RedirectResponse(f"/portal/tickets/{ticket.ticket_number}", status_code=303)


@router.post("/tickets/{ref}/close")
async def close(session: WriteSession, viewer: PageViewer, ref: str) -> Response:
    """The customer confirms the resolution."""
    return await _change_status(session, viewer, ref, Status.CLOSED)


@router.post("/tickets/{ref}/reopen")
async def reopen(session: WriteSession, viewer: PageViewer, ref: str) -> Response:
    return await _change_status(session, viewer, ref, Status.REOPENED)
