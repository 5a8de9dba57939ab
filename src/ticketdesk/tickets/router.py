from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from ticketdesk import clock
from ticketdesk.auth import policy
from ticketdesk.auth.dependencies import CurrentUser
from ticketdesk.auth.models import User
from ticketdesk.db import ReadSession, WriteSession
from ticketdesk.tickets import assignment, bulk, merge, status
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

router = APIRouter(prefix="/tickets", tags=["tickets"])
Filters = Annotated[TicketFilters, Query()]


def present(ticket: TicketView, viewer: User, hidden: set[int] | None = None) -> TicketRead:
    """`hidden`: merge targets the viewer may not see (merge.hidden_targets)."""
    hide = bool(hidden) and ticket.merged_into_id in (hidden or ())
    return ticket_read(
        ticket, staff=policy.is_staff(viewer), now=clock.now(), hide_merge_target=hide
    )


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
    page = await tickets.list_tickets(session, actor, f, mine=mine, count_limit=limit)
    _page_headers(request, response, f, page)
    hidden = await merge.hidden_targets(session, actor, page.rows)
    return [present(row, actor, hidden) for row in page.rows]


def _page_headers(request: Request, response: Response, f: TicketFilters, page: Page) -> None:
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
    session: WriteSession, actor: CurrentUser, data: TicketCreate
) -> TicketRead:
    return present(await tickets.create_ticket(session, actor, data), actor)


@router.get("")
async def list_tickets(
    request: Request, response: Response, session: ReadSession, actor: CurrentUser, f: Filters
) -> list[TicketRead]:
    """Staff see all tickets; customers their own.

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
    row = await tickets.read_ticket(session, actor, ref)
    return present(row, actor, await merge.hidden_targets(session, actor, [row]))


@router.patch("/{ref}")
async def update_ticket(
    session: WriteSession, actor: CurrentUser, ref: str, data: TicketUpdate
) -> TicketRead:
    return present(await tickets.update_ticket(session, actor, ref, data), actor)


@router.post("/{ref}/status")
async def change_status(
    session: WriteSession, actor: CurrentUser, ref: str, data: StatusChange
) -> TicketRead:
    return present(await status.change_status(session, actor, ref, data), actor)


@router.post("/{ref}/assign")
async def assign_ticket(
    session: WriteSession, actor: CurrentUser, ref: str, data: AssignIn
) -> TicketRead:
    ticket = await assignment.assign_ticket(session, actor, ref, data.assigned_to_id, data.note)
    return present(ticket, actor)


@router.post("/{ref}/merge")
async def merge_ticket(
    session: WriteSession, actor: CurrentUser, ref: str, data: MergeIn
) -> TicketRead:
    """Staff: merge this ticket into `into` (an id or a ticket number). This ticket is closed
    and points at the other; its comments show in the other's conversation. Irreversible."""
    return present(await merge.merge_ticket(session, actor, ref, data), actor)


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
