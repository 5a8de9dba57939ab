from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from ticketdesk import clock
from ticketdesk.attachments import service as attachments
from ticketdesk.attachments.storage import storage_for
from ticketdesk.attachments.upload import Uploads
from ticketdesk.auth import policy
from ticketdesk.auth.dependencies import CurrentUser, require_scope
from ticketdesk.auth.models import User
from ticketdesk.auth.scopes import Scope
from ticketdesk.custom_fields import service as custom_fields
from ticketdesk.custom_fields.service import FieldSet
from ticketdesk.db import ReadSession, WriteSession
from ticketdesk.tickets import assignment, bulk, status
from ticketdesk.tickets import history as trail
from ticketdesk.tickets import service as tickets
from ticketdesk.tickets.schemas import (
    ActivityRead,
    AssignIn,
    BulkIn,
    BulkResult,
    HistoryRead,
    StatusChange,
    TicketCreate,
    TicketFilters,
    TicketRead,
    TicketUpdate,
    TicketView,
    ticket_read,
)
from ticketdesk.tickets.service import Page

router = APIRouter(
    prefix="/tickets",
    tags=["tickets"],
    dependencies=[require_scope(Scope.TICKETS_READ, write=Scope.TICKETS_WRITE)],
)
Filters = Annotated[TicketFilters, Query()]


def present(ticket: TicketView, viewer: User, fields: FieldSet) -> TicketRead:
    return ticket_read(ticket, staff=policy.is_staff(viewer), now=clock.now(), fields=fields)


async def _present(session: AsyncSession, ticket: TicketView, viewer: User) -> TicketRead:
    return present(ticket, viewer, await custom_fields.field_set(session))


async def _list(
    request: Request,
    response: Response,
    session: AsyncSession,
    actor: User,
    f: TicketFilters,
    *,
    mine: bool,
) -> list[TicketRead]:
    limit = request.app.state.settings.list_count_limit
    custom = custom_fields.filter_params(request.query_params)
    page = await tickets.list_tickets(
        session, actor, f, mine=mine, count_limit=limit, custom=custom
    )
    page_headers(request, response, f, page)
    fields = await custom_fields.field_set(session)
    return [present(row, actor, fields) for row in page.rows]


def page_headers(request: Request, response: Response, f: TicketFilters, page: Page) -> None:
    """X-Total-Count (and X-Total-Count-Exact: false when counting stopped at the limit), and
    an RFC 8288 Link header with next/prev."""
    response.headers["X-Total-Count"] = str(page.total)
    if not page.exact:
        response.headers["X-Total-Count-Exact"] = "false"
    links = []
    if f.page * f.page_size < page.total or not page.exact:
        links.append(f'<{request.url.include_query_params(page=f.page + 1)}>; rel="next"')
    if f.page > 1:
        links.append(f'<{request.url.include_query_params(page=f.page - 1)}>; rel="prev"')
    if links:
        response.headers["Link"] = ", ".join(links)


@router.post("", status_code=201)
async def create_ticket(
    request: Request,
    session: WriteSession,
    actor: CurrentUser,
    data: TicketCreate,
    uploads: Uploads,
) -> TicketRead:
    """JSON, or `multipart/form-data` with the same fields plus `file` parts."""
    ticket = await tickets.create_ticket(session, actor, data)
    if uploads:
        storage = storage_for(request.app.state.settings)
        await attachments.attach(session, actor, ticket, uploads, storage=storage)
    return await _present(session, ticket, actor)


@router.get("")
async def list_tickets(
    request: Request, response: Response, session: ReadSession, actor: CurrentUser, f: Filters
) -> list[TicketRead]:
    """Staff see all tickets; customers their own. `cf.<key>=<value>` filters by a custom
    field (equality; a multiselect field: contains the option).

    `X-Total-Count` counts at most TICKETDESK_LIST_COUNT_LIMIT (default 10,000) matching
    tickets; when more match it says that limit and `X-Total-Count-Exact: false` is sent.
    """
    return await _list(request, response, session, actor, f, mine=False)


@router.get("/my")
async def my_tickets(
    request: Request, response: Response, session: ReadSession, actor: CurrentUser, f: Filters
) -> list[TicketRead]:
    """The tickets the caller created. Counted as `GET /tickets/` is."""
    return await _list(request, response, session, actor, f, mine=True)


@router.post("/bulk")
async def bulk_operation(session: WriteSession, actor: CurrentUser, data: BulkIn) -> BulkResult:
    """All or nothing: if any ticket is missing or refuses the change, nothing changes."""
    return await bulk.run_bulk(session, actor, data)


@router.get("/{ref}")
async def get_ticket(session: ReadSession, actor: CurrentUser, ref: str) -> TicketRead:
    """By numeric id or by ticket number (TKT-20250106-0001)."""
    return await _present(session, await tickets.read_ticket(session, actor, ref), actor)


@router.patch("/{ref}")
async def update_ticket(
    session: WriteSession, actor: CurrentUser, ref: str, data: TicketUpdate
) -> TicketRead:
    return await _present(session, await tickets.update_ticket(session, actor, ref, data), actor)


@router.post("/{ref}/status")
async def change_status(
    session: WriteSession, actor: CurrentUser, ref: str, data: StatusChange
) -> TicketRead:
    return await _present(session, await status.change_status(session, actor, ref, data), actor)


@router.post("/{ref}/assign")
async def assign_ticket(
    session: WriteSession, actor: CurrentUser, ref: str, data: AssignIn
) -> TicketRead:
    ticket = await assignment.assign_ticket(session, actor, ref, data.assigned_to_id, data.note)
    return await _present(session, ticket, actor)


@router.get("/{ref}/history")
async def ticket_history(session: ReadSession, actor: CurrentUser, ref: str) -> list[HistoryRead]:
    """Status, priority and assignee changes, oldest first (staff only)."""
    rows = await trail.history_of(session, await tickets.staff_ticket(session, actor, ref))
    return [HistoryRead.model_validate(row) for row in rows]


@router.get("/{ref}/activity")
async def ticket_activity(session: ReadSession, actor: CurrentUser, ref: str) -> list[ActivityRead]:
    """Everything that happened to the ticket, SLA breaches included, oldest first (staff only)."""
    ticket = await tickets.staff_ticket(session, actor, ref)
    return await trail.timeline(session, ticket, now=clock.now())
