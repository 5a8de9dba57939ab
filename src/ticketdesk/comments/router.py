from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from ticketdesk import paging
from ticketdesk.attachments import service as attachments
from ticketdesk.attachments.models import Attachment
from ticketdesk.attachments.schemas import attachment_read
from ticketdesk.attachments.storage import storage_for
from ticketdesk.attachments.upload import Uploads
from ticketdesk.auth.dependencies import ApiRoute, CurrentUser, require_scope
from ticketdesk.auth.scopes import Scope
from ticketdesk.comments import service as comments
from ticketdesk.comments.models import TicketComment
from ticketdesk.comments.schemas import CommentCreate, CommentRead, CommentUpdate
from ticketdesk.db import ReadSession, WriteSession
from ticketdesk.openapi import errors
from ticketdesk.paging import WindowDep
from ticketdesk.validation import MAX_ID

router = APIRouter(
    route_class=ApiRoute,
    prefix="/tickets/{ref}/comments",
    tags=["comments"],
    dependencies=[require_scope(Scope.TICKETS_READ, write=Scope.TICKETS_WRITE)],
)
CommentId = Annotated[int, Path(ge=1, le=MAX_ID)]


def present(comment: TicketComment, files: list[Attachment] | None = None) -> CommentRead:
    return CommentRead(
        id=comment.id,
        ticket_id=comment.ticket_id,
        user_id=comment.user_id,
        author_name=comment.author.full_name,
        comment=comment.comment,
        is_internal=comment.is_internal,
        is_resolution=comment.is_resolution,
        created_at=comment.created_at,
        updated_at=comment.updated_at,
        attachments=[attachment_read(row) for row in files or []],
        merged_from_number=comment.merged_from_number,
    )


@router.post("", responses=errors(409), summary="Comment on a ticket", status_code=201)
async def add_comment(
    request: Request,
    session: WriteSession,
    actor: CurrentUser,
    ref: str,
    data: CommentCreate,
    uploads: Uploads,
) -> CommentRead:
    """JSON, or `multipart/form-data` with the same fields plus `file` parts."""
    comment = await comments.add_comment(session, actor, ref, data)
    storage = storage_for(request.app.state.settings)
    files = await attachments.attach_to_comment(session, actor, comment, uploads, storage=storage)
    return present(comment, files)


@router.get("", summary="List a ticket's comments")
async def list_comments(
    request: Request,
    response: Response,
    session: ReadSession,
    actor: CurrentUser,
    ref: str,
    window: WindowDep,
) -> list[CommentRead]:
    """Oldest first, `limit` at a time. Customers never receive internal notes."""
    rows = await comments.list_comments(session, actor, ref, window=window)
    found = paging.page(request, response, window, rows, lambda c: c.id)
    files = await attachments.by_comment(session, actor, [c.id for c in found])
    return [present(c, files.get(c.id)) for c in found]


@router.patch("/{comment_id}", summary="Edit a comment")
async def edit_comment(
    session: WriteSession, actor: CurrentUser, ref: str, comment_id: CommentId, data: CommentUpdate
) -> CommentRead:
    """Authors edit their own comment's body; the earlier text stays in the ticket's
    activity trail."""
    comment = await comments.edit_comment(session, actor, ref, comment_id, data.comment)
    files = await attachments.by_comment(session, actor, [comment.id])
    return present(comment, files.get(comment.id))
