from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from ticketdesk import clock, paging
from ticketdesk.attachments import service as attachments
from ticketdesk.attachments.storage import storage_for
from ticketdesk.attachments.upload import Uploads
from ticketdesk.auth import policy
from ticketdesk.auth.dependencies import ApiRoute, CurrentUser, require_scope
from ticketdesk.auth.models import User
from ticketdesk.auth.scopes import Scope
from ticketdesk.custom_fields import service as custom_fields
from ticketdesk.custom_fields.service import FieldSet
from ticketdesk.db import ReadSession, WriteSession
from ticketdesk.openapi import errors
from ticketdesk.paging import WindowDep, link
from ticketdesk.tickets import assignment, bulk, cursor, merge, status, versions
from ticketdesk.tickets import history as trail
from ticketdesk.tickets import service as tickets
from ticketdesk.tickets.schemas import (
    ActivityRead,
    AssignIn,
    BulkIn,
    BulkResult,
    HistoryRead,
    MergeIn,
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
    route_class=ApiRoute,
    prefix="/tickets",
    tags=["tickets"],
    dependencies=[require_scope(Scope.TICKETS_READ, write=Scope.TICKETS_WRITE)],
)
Filters = Annotated[TicketFilters, Query()]


def present(
    rows: Sequence[TicketView], viewer: User, fields: FieldSet, hidden: set[int] | None = None
) -> list[TicketRead]:
    """`fields`: the custom field definitions; `hidden`: merge targets the viewer may not see
    (merge.hidden_targets). One reading of the clock and of the viewer's role for them all."""
    staff, now, hidden = policy.is_staff(viewer), clock.now(), hidden or set()
    return [
        ticket_read(
            ticket,
            staff=staff,
            now=now,
            fields=fields,
            hide_merge_target=ticket.merged_into_id in hidden,
        )
        for ticket in rows
    ]


async def _present(session: AsyncSession, ticket: TicketView, viewer: User) -> TicketRead:
    fields = await custom_fields.field_set_for(session, [ticket])
    hidden = await merge.hidden_targets(session, viewer, [ticket])
    return present([ticket], viewer, fields, hidden)[0]


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
    fields = await custom_fields.field_set_for(session, page.rows)
    hidden = await merge.hidden_targets(session, actor, page.rows)
    return present(page.rows, actor, fields, hidden)


def page_headers(request: Request, response: Response, f: TicketFilters, page: Page) -> None:
    """X-Total-Count (and X-Total-Count-Exact: false when counting stopped at the limit), and
    an RFC 8288 Link header with next/prev."""
    response.headers["X-Total-Count"] = str(page.total)
    if not page.exact:
        response.headers["X-Total-Count-Exact"] = "false"
    links = []
    full = len(page.rows) == f.page_size
    if f.q and f.sort is None:
        # Ranked by relevance: no keyset to follow, so plain page numbers.
        if full and (f.page * f.page_size < page.total or not page.exact):
            links.append(f'<{link(request, page=f.page + 1)}>; rel="next"')
        if f.page > 1:
            links.append(f'<{link(request, page=f.page - 1)}>; rel="prev"')
    elif f.cursor is not None:
        # Keyset pages: `next` follows the last row for as long as pages come back full.
        if full:
            after = cursor.encode(f.sort or tickets.DEFAULT_SORT, page.rows[-1])
            links.append(f'<{link(request, cursor=after)}>; rel="next"')
    elif full and (f.page * f.page_size < page.total or not page.exact):
        # `next` is a keyset cursor after this page's last row: as quick at any depth.
        after = cursor.encode(f.sort or tickets.DEFAULT_SORT, page.rows[-1])
        links.append(f'<{link(request, cursor=after, exclude="page")}>; rel="next"')
    if f.cursor is None and f.page > 1:
        links.append(f'<{link(request, page=f.page - 1)}>; rel="prev"')
    if links:
        response.headers["Link"] = ", ".join(links)


@router.post("", summary="Create a ticket", status_code=201)
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


@router.get("", summary="List tickets")
async def list_tickets(
    request: Request, response: Response, session: ReadSession, actor: CurrentUser, f: Filters
) -> list[TicketRead]:
    """Staff see all tickets; customers their own. `cf.<key>=<value>` filters by a custom
    field (equality; a multiselect field: contains the option).

    `X-Total-Count` counts at most TICKETDESK_LIST_COUNT_LIMIT (default 10,000) matching
    tickets; when more match it says that limit and `X-Total-Count-Exact: false` is sent.
    """
    return await _list(request, response, session, actor, f, mine=False)


@router.get("/my", operation_id="listMyTickets", summary="List your own tickets")
async def my_tickets(
    request: Request, response: Response, session: ReadSession, actor: CurrentUser, f: Filters
) -> list[TicketRead]:
    """The tickets the caller created. Counted as `GET /tickets/` is."""
    return await _list(request, response, session, actor, f, mine=True)


@router.post(
    "/bulk",
    responses=errors(409),
    operation_id="bulkUpdateTickets",
    summary="Change many tickets at once",
)
async def bulk_operation(session: WriteSession, actor: CurrentUser, data: BulkIn) -> BulkResult:
    """All or nothing: if any ticket is missing or refuses the change, nothing changes."""
    return await bulk.run_bulk(session, actor, data)


IfMatch = Annotated[
    str | None,
    Header(description="The ETag of the version you read; 412 if the ticket changed since."),
]


async def versioned(
    response: Response, session: AsyncSession, ticket: TicketView, actor: User
) -> TicketRead:
    response.headers["ETag"] = versions.etag(ticket)
    return await _present(session, ticket, actor)


@router.get("/{ref}", summary="Get a ticket")
async def get_ticket(
    response: Response, session: ReadSession, actor: CurrentUser, ref: str
) -> TicketRead:
    """By numeric id or by ticket number (TKT-20250106-0001). The ETag header names the
    version: send it back as If-Match with a change."""
    return await versioned(response, session, await tickets.read_ticket(session, actor, ref), actor)


@router.patch("/{ref}", responses=errors(412), summary="Edit a ticket")
async def update_ticket(
    response: Response,
    session: WriteSession,
    actor: CurrentUser,
    ref: str,
    data: TicketUpdate,
    if_match: IfMatch = None,
) -> TicketRead:
    """Change the fields the caller may edit: customers the subject, description and tags of their
    own open ticket; staff any field. Send the ETag back as If-Match to refuse a change over a newer
    version (412)."""
    await versions.require_version(session, actor, ref, if_match)
    ticket = await tickets.update_ticket(session, actor, ref, data)
    return await versioned(response, session, ticket, actor)


@router.post(
    "/{ref}/status",
    responses=errors(409, 412),
    operation_id="changeTicketStatus",
    summary="Change a ticket's status",
)
async def change_status(
    response: Response,
    session: WriteSession,
    actor: CurrentUser,
    ref: str,
    data: StatusChange,
    if_match: IfMatch = None,
) -> TicketRead:
    """Move the ticket along the status machine; a transition that is not allowed answers 409 naming
    the allowed targets. If-Match is honoured as for edits."""
    await versions.require_version(session, actor, ref, if_match)
    ticket = await status.change_status(session, actor, ref, data)
    return await versioned(response, session, ticket, actor)


@router.post("/{ref}/assign", responses=errors(412), summary="Assign a ticket")
async def assign_ticket(
    response: Response,
    session: WriteSession,
    actor: CurrentUser,
    ref: str,
    data: AssignIn,
    if_match: IfMatch = None,
) -> TicketRead:
    """Super admins assign the ticket to any active staff member or unassign it with null;
    an agent takes a ticket or lets go of their own. If-Match is honoured as for edits."""
    await versions.require_version(session, actor, ref, if_match)
    ticket = await assignment.assign_ticket(session, actor, ref, data.assigned_to_id, data.note)
    return await versioned(response, session, ticket, actor)


@router.post("/{ref}/merge", responses=errors(409), summary="Merge a ticket into another")
async def merge_ticket(
    session: WriteSession, actor: CurrentUser, ref: str, data: MergeIn
) -> TicketRead:
    """Staff: merge this ticket into `into` (an id or a ticket number). This ticket is closed
    and points at the other; its comments show in the other's conversation. Irreversible."""
    return await _present(session, await merge.merge_ticket(session, actor, ref, data), actor)


@router.get(
    "/{ref}/history", operation_id="getTicketHistory", summary="Get a ticket's change history"
)
async def ticket_history(
    request: Request,
    response: Response,
    session: ReadSession,
    actor: CurrentUser,
    ref: str,
    window: WindowDep,
) -> list[HistoryRead]:
    """Status, priority and assignee changes, oldest first, `limit` at a time (staff only)."""
    ticket = await tickets.staff_ticket(session, actor, ref)
    rows = await trail.history_of(session, ticket, window=window)
    return [
        HistoryRead.model_validate(row)
        for row in paging.page(request, response, window, rows, lambda row: row.id)
    ]


@router.get("/{ref}/activity", operation_id="getTicketActivity", summary="Get a ticket's activity")
async def ticket_activity(
    request: Request,
    response: Response,
    session: ReadSession,
    actor: CurrentUser,
    ref: str,
    window: WindowDep,
) -> list[ActivityRead]:
    """Everything that happened to the ticket, oldest first, `limit` recorded entries at a time;
    the SLA breaches (derived from the due times) come with the last page (staff only)."""
    ticket = await tickets.staff_ticket(session, actor, ref)
    entries = await trail.timeline(session, ticket, now=clock.now(), window=window)
    return paging.page(request, response, window, entries, lambda entry: entry.id)
