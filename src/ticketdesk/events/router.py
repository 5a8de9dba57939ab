from typing import Annotated

from fastapi import APIRouter, Query

from ticketdesk.auth import policy
from ticketdesk.auth.dependencies import ApiRoute, CurrentUser, require_scope
from ticketdesk.auth.scopes import Scope
from ticketdesk.db import ReadSession
from ticketdesk.errors import Gone, Invalid
from ticketdesk.events import service
from ticketdesk.events.schemas import EventPage, EventRead
from ticketdesk.openapi import errors

# API tokens: events:read.
router = APIRouter(
    route_class=ApiRoute, tags=["events"], dependencies=[require_scope(Scope.EVENTS_READ)]
)


@router.get(
    "/events",
    responses=errors(410),
    summary="List events (the change feed)",
    operation_id="listEvents",
)
async def list_events(
    session: ReadSession,
    actor: CurrentUser,
    after: Annotated[
        str | None, Query(description="A `next_cursor`; omitted: from the oldest kept event.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    type: Annotated[list[str] | None, Query(description="Only these event types.")] = None,
) -> EventPage:
    """The change feed: every event exactly once, oldest first, even under concurrent writes.

    A client that always passes the last `next_cursor` misses nothing. Events are kept
    TICKETDESK_EVENTS_RETENTION_DAYS; a cursor older than that answers 410.
    """
    policy.require_super_admin(actor)
    pruned = await service.pruned_through(session)
    if after is None:
        position = pruned
    elif after.isascii() and after.isdigit() and len(after) <= 18:
        position = int(after)
    else:
        raise Invalid("not a cursor returned by this feed", field="after", location="query")
    if position < pruned:
        raise Gone("this cursor is older than the events kept; start again without `after`")
    found = await service.read_after(session, position, limit=limit, types=type)
    # Filtered reads still move the cursor past what they skipped, up to the last event read.
    if found:
        position = found[-1].id
    return EventPage(
        events=[EventRead.model_validate(event) for event in found], next_cursor=str(position)
    )
