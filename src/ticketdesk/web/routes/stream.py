"""The one Server-Sent Events connection of a page: `/live` (a list) or `/live?ticket=...`."""

from typing import Annotated

from fastapi import APIRouter, Header, Request
from starlette.responses import StreamingResponse

from ticketdesk.db import ReadSession
from ticketdesk.tickets import service as tickets
from ticketdesk.web import live
from ticketdesk.web.pages import PageViewer

router = APIRouter(include_in_schema=False)


def hub_of(request: Request) -> live.Hub:
    """The process's one poller, made on first use."""
    state = request.app.state
    if getattr(state, "live_hub", None) is None:
        state.live_hub = live.Hub(state.read_sessionmaker, state.settings.live_poll_seconds)
    hub: live.Hub = state.live_hub
    return hub


def _event_id(value: str | None) -> int | None:
    if value and value.isascii() and value.isdigit() and len(value) < 19:
        return int(value)
    return None


@router.get("/live")
async def live_stream(
    request: Request,
    session: ReadSession,
    viewer: PageViewer,
    ticket: str | None = None,
    after: str | None = None,
    last_event_id: Annotated[str | None, Header()] = None,
) -> StreamingResponse:
    """Changes to what the page shows, as they happen; a ticket the viewer may not see is 404.

    The page passes `after`, the newest event when it was rendered, so nothing between the
    render and the connection is missed; on a reconnection the browser's Last-Event-ID wins.
    """
    ticket_id = (await tickets.read_ticket(session, viewer.user, ticket)).id if ticket else None
    listener = live.Listener(user_id=viewer.id, staff=viewer.staff, ticket_id=ticket_id)
    messages = live.stream(
        hub_of(request),
        request.app.state.read_sessionmaker,
        viewer.user,
        listener,
        last_event_id=_event_id(last_event_id) or _event_id(after),
    )
    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(messages, media_type="text/event-stream", headers=headers)
