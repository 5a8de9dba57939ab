"""Attachments downloaded from the pages: the API's own permission check and response."""

from fastapi import APIRouter, Request
from starlette.responses import Response

from ticketdesk.attachments import service as attachments
from ticketdesk.attachments.router import content_response
from ticketdesk.db import ReadSession
from ticketdesk.web.pages import PageViewer

router = APIRouter(include_in_schema=False)


@router.get("/attachments/{attachment_id}")
async def download(
    request: Request, session: ReadSession, viewer: PageViewer, attachment_id: str
) -> Response:
    """The file as the API serves it; one the viewer may not see is not found (404)."""
    row = await attachments.get_attachment(session, viewer.user, attachment_id)
    return content_response(request, row)
