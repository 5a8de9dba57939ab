from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from ticketdesk import paging
from ticketdesk.auth.dependencies import CurrentUser
from ticketdesk.comments import service as comments
from ticketdesk.comments.models import TicketComment
from ticketdesk.comments.schemas import CommentCreate, CommentRead, CommentUpdate
from ticketdesk.db import ReadSession, WriteSession
from ticketdesk.paging import WindowDep
from ticketdesk.validation import MAX_ID

router = APIRouter(prefix="/tickets/{ref}/comments", tags=["comments"])
CommentId = Annotated[int, Path(ge=1, le=MAX_ID)]


def present(comment: TicketComment) -> CommentRead:
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
    )


@router.post("", status_code=201)
async def add_comment(
    session: WriteSession, actor: CurrentUser, ref: str, data: CommentCreate
) -> CommentRead:
    return present(await comments.add_comment(session, actor, ref, data))


@router.get("")
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
    return [present(c) for c in paging.page(request, response, window, rows, lambda c: c.id)]


@router.patch("/{comment_id}")
async def edit_comment(
    session: WriteSession, actor: CurrentUser, ref: str, comment_id: CommentId, data: CommentUpdate
) -> CommentRead:
    return present(await comments.edit_comment(session, actor, ref, comment_id, data.comment))
