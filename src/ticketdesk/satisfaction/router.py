from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from ticketdesk.auth.dependencies import ApiRoute, CurrentUser, require_scope
from ticketdesk.auth.scopes import Scope
from ticketdesk.db import ReadSession, WriteSession
from ticketdesk.errors import DomainError
from ticketdesk.openapi import errors
from ticketdesk.satisfaction import page
from ticketdesk.satisfaction import service as satisfaction
from ticketdesk.satisfaction.models import Rating
from ticketdesk.satisfaction.schemas import RatingIn, SatisfactionRead

router = APIRouter(
    route_class=ApiRoute,
    prefix="/tickets/{ref}/satisfaction",
    tags=["satisfaction"],
    dependencies=[require_scope(Scope.TICKETS_READ, write=Scope.TICKETS_WRITE)],
)
# The pages the resolved-ticket mail links to (no API prefix, no sign-in: the link is signed).
pages = APIRouter(prefix="/satisfaction", tags=["satisfaction"], include_in_schema=False)


@router.post(
    "",
    responses=errors(409),
    operation_id="rateTicket",
    summary="Rate a resolved ticket",
    status_code=201,
)
async def rate(
    response: Response, session: WriteSession, actor: CurrentUser, ref: str, data: RatingIn
) -> SatisfactionRead:
    """The ticket's customer rates it `good` or `bad` (201; 200 when changing the rating)."""
    rating, created = await satisfaction.rate(session, actor, ref, data)
    if not created:
        response.status_code = 200
    return rating


@router.get("", operation_id="getTicketRating", summary="Get a ticket's rating")
async def read(session: ReadSession, actor: CurrentUser, ref: str) -> SatisfactionRead:
    """The rating (null until given), for the ticket's customer and staff."""
    return await satisfaction.read(session, actor, ref)


@pages.get("/{token}", response_class=HTMLResponse)
async def confirmation_page(
    request: Request, session: ReadSession, token: str, rating: str | None = None
) -> HTMLResponse:
    """Only shows the choice: mail scanners open every link, so a GET records nothing."""
    key = request.app.state.signing_key
    try:
        ticket, _customer = await satisfaction.ticket_for_link(session, token, key=key)
    except DomainError as error:
        return HTMLResponse(page.problem(error.detail), status_code=error.status_code)
    chosen = Rating(rating) if rating in tuple(Rating) else None
    return HTMLResponse(page.confirmation(ticket, chosen))


@pages.post("/{token}", response_class=HTMLResponse)
async def record_from_page(
    request: Request,
    session: WriteSession,
    token: str,
    rating: Annotated[str, Form()] = "",
    comment: Annotated[str, Form()] = "",
) -> HTMLResponse:
    key = request.app.state.signing_key
    try:
        data = RatingIn(rating=rating, comment=comment.strip() or None)
    except ValidationError:
        return HTMLResponse(
            page.problem("Please choose good or bad (a comment may have 2,000 characters)."),
            status_code=422,
        )
    try:
        saved = await satisfaction.rate_by_link(session, token, data, key=key)
    except DomainError as error:
        return HTMLResponse(page.problem(error.detail), status_code=error.status_code)
    assert saved.rating is not None
    return HTMLResponse(page.thanks(saved.rating))
