"""Upload, list, read, download and delete attachments. Every download checks permission."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse

from ticketdesk.attachments import files
from ticketdesk.attachments import service as attachments
from ticketdesk.attachments.models import Attachment
from ticketdesk.attachments.schemas import AttachmentRead, AttachmentsIn, attachment_read
from ticketdesk.attachments.storage import Storage, storage_for
from ticketdesk.attachments.upload import Uploads
from ticketdesk.auth.dependencies import ApiRoute, CurrentUser, require_scope
from ticketdesk.auth.scopes import Scope
from ticketdesk.db import ReadSession, WriteSession
from ticketdesk.openapi import errors

router = APIRouter(
    route_class=ApiRoute,
    tags=["attachments"],
    dependencies=[require_scope(Scope.TICKETS_READ, write=Scope.TICKETS_WRITE)],
)


def _storage(request: Request) -> Storage:
    return storage_for(request.app.state.settings)


@router.post(
    "/tickets/{ref}/attachments",
    responses=errors(400, 415),
    summary="Upload attachments to a ticket",
    status_code=201,
)
async def upload_attachments(
    request: Request,
    session: WriteSession,
    actor: CurrentUser,
    ref: str,
    uploads: Uploads,
    data: AttachmentsIn | None = None,
) -> list[AttachmentRead]:
    """`multipart/form-data`: one or more `file` parts; `comment_id`; `is_internal` (staff)."""
    data = data or AttachmentsIn()
    rows = await attachments.upload_to_ticket(
        session,
        actor,
        ref,
        uploads,
        storage=_storage(request),
        comment_id=data.comment_id,
        is_internal=data.is_internal,
    )
    return [attachment_read(row) for row in rows]


@router.get("/tickets/{ref}/attachments", summary="List a ticket's attachments")
async def list_attachments(
    session: ReadSession, actor: CurrentUser, ref: str
) -> list[AttachmentRead]:
    """The files the caller may see, oldest first."""
    return [attachment_read(row) for row in await attachments.list_for_ticket(session, actor, ref)]


@router.get(
    "/attachments/{attachment_id}",
    operation_id="getAttachment",
    summary="Get an attachment's details",
)
async def read_attachment(
    session: ReadSession, actor: CurrentUser, attachment_id: str
) -> AttachmentRead:
    """Name, size, type and scan state of an attachment on a ticket the caller can see."""
    return attachment_read(await attachments.get_attachment(session, actor, attachment_id))


@router.get(
    "/attachments/{attachment_id}/content", summary="Download an attachment", response_model=None
)
async def download_attachment(
    request: Request,
    session: ReadSession,
    actor: CurrentUser,
    attachment_id: str,
    inline: Annotated[bool, Query()] = False,
) -> Response:
    """The bytes, streamed. Only images and PDFs may be shown inline (`?inline=1`)."""
    row = await attachments.get_attachment(session, actor, attachment_id)
    return content_response(request, row, inline=inline)


def content_response(request: Request, row: Attachment, *, inline: bool = False) -> Response:
    """The bytes of an attachment the caller may see, as a download (the pages use it too)."""
    etag = f'"{row.sha256}"'
    headers = {
        "ETag": etag,
        "Accept-Ranges": "bytes",
        "Cache-Control": "private, no-cache",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox; default-src 'none'",
        "Content-Disposition": files.content_disposition(
            row.filename, inline=inline and files.may_be_inline(row.content_type)
        ),
    }
    if etag in _etags(request.headers.get("if-none-match")):
        return Response(status_code=304, headers=headers)
    wanted = request.headers.get("range")
    if_range = request.headers.get("if-range")
    if if_range is not None and if_range != etag:
        wanted = None
    span = files.parse_range(wanted, row.size)
    if span is False:
        headers["Content-Range"] = f"bytes */{row.size}"
        return Response(status_code=416, headers=headers)
    start, end, status = 0, row.size - 1, 200
    if isinstance(span, tuple):
        start, end, status = span[0], span[1], 206
        headers["Content-Range"] = f"bytes {start}-{end}/{row.size}"
    headers["Content-Length"] = str(max(end - start + 1, 0))
    body = _stream(_storage(request), row.sha256, start, end)
    return StreamingResponse(body, status_code=status, media_type=row.content_type, headers=headers)


def _etags(header: str | None) -> set[str]:
    if not header:
        return set()
    tags = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return tags | {etag for etag in tags if etag == "*"}


async def _stream(storage: Storage, sha256: str, start: int, end: int) -> AsyncIterator[bytes]:
    if end < start:
        return
    async for chunk in storage.read(sha256, start, end):
        yield chunk


@router.delete("/attachments/{attachment_id}", summary="Delete an attachment", status_code=204)
async def delete_attachment(
    request: Request, session: WriteSession, actor: CurrentUser, attachment_id: str
) -> None:
    """Staff, or the uploader within 15 minutes; the activity trail keeps a tombstone."""
    await attachments.delete_attachment(session, actor, attachment_id, storage=_storage(request))
