from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from ticketdesk.auth.dependencies import ApiRoute, CurrentUser, require_scope
from ticketdesk.auth.scopes import Scope
from ticketdesk.db import ReadSession
from ticketdesk.search import service as search
from ticketdesk.search.schemas import SearchFilters, SearchHit
from ticketdesk.tickets.router import page_headers

router = APIRouter(
    route_class=ApiRoute,
    prefix="/search",
    tags=["search"],
    dependencies=[require_scope(Scope.TICKETS_READ)],
)


@router.get("", summary="Search tickets")
async def search_tickets(
    request: Request,
    response: Response,
    session: ReadSession,
    actor: CurrentUser,
    f: Annotated[SearchFilters, Query()],
) -> list[SearchHit]:
    """Tickets whose conversation matches `q`, most relevant first (unless `sort` is given),
    each with a `snippet`: HTML-escaped text with the matching words in `<mark>…</mark>`.

    Query syntax: words (stemmed), `"a phrase"`, `prefix*`, `-excluded`, a ticket number or
    part of one. Takes every filter of `GET /tickets/`; customers search the public text of
    the tickets they may see.
    """
    limit = request.app.state.settings.list_count_limit
    results = await search.search_tickets(session, actor, f, count_limit=limit)
    page_headers(request, response, f, results.page)
    return results.hits
