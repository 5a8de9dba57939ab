"""The customer portal: my tickets, a new ticket, a ticket's public conversation."""

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import RedirectResponse, Response

from ticketdesk import clock
from ticketdesk.comments import service as comments
from ticketdesk.comments.schemas import CommentCreate
from ticketdesk.db import ReadSession, WriteSession
from ticketdesk.tickets import service as tickets
from ticketdesk.tickets import status
from ticketdesk.tickets.models import Category, Priority, Status
from ticketdesk.tickets.schemas import StatusChange, TicketCreate, TicketRead, ticket_read
from ticketdesk.web import live
from ticketdesk.web.pages import PageViewer, Viewer, field_errors, query_filters, render

router = APIRouter(prefix="/portal", include_in_schema=False)
Text = Annotated[str, Form()]


def _present(viewer: Viewer, row: Any) -> TicketRead:
    return ticket_read(row, staff=viewer.staff, now=clock.now())


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


def _new_form(request: Request, **context: Any) -> Response:
    defaults = {"form": {}, "priorities": list(Priority), "categories": list(Category)}
    status_code = 422 if context.get("errors") else 200
    return render(request, "portal/new.html", defaults | context, status_code=status_code)


@router.get("/tickets/new")
async def new_ticket_page(request: Request, viewer: PageViewer) -> Response:
    return _new_form(request)


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
    form = {
        "subject": subject,
        "description": description,
        "priority": priority,
        "category": category,
        "tags": tags,
    }
    try:
        data = TicketCreate.model_validate(form)
    except ValidationError as exc:
        return _new_form(request, form=form, errors=field_errors(exc))
    ticket = await tickets.create_ticket(session, viewer.user, data)
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
) -> Response:
    ticket = _present(viewer, await tickets.read_ticket(session, viewer.user, ref))
    conversation = await comments.list_comments(session, viewer.user, ref)
    context = {
        "ticket": ticket,
        "conversation": conversation,
        "draft": draft,
        "errors": errors or [],
        "can_close": ticket.status == Status.RESOLVED,
        "can_reopen": ticket.status in (Status.RESOLVED, Status.CLOSED),
        "live_cursor": await live.cursor(session),
    }
    return render(request, "portal/ticket.html", context, status_code=422 if errors else 200)


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
    return render(request, "partials/conversation.html", {"conversation": conversation})


@router.post("/tickets/{ref}/reply")
async def reply(
    request: Request, session: WriteSession, viewer: PageViewer, ref: str, comment: Text = ""
) -> Response:
    try:
        data = CommentCreate(comment=comment)
    except ValidationError as exc:
        return await _ticket_page(
            request, session, viewer, ref, draft=comment, errors=field_errors(exc)
        )
    added = await comments.add_comment(session, viewer.user, ref, data)
    number = (await tickets.read_ticket(session, viewer.user, ref)).ticket_number
    return RedirectResponse(f"/portal/tickets/{number}#comment-{added.id}", status_code=303)


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
