from typing import Annotated

from fastapi import APIRouter, Path

from ticketdesk.auth.dependencies import CurrentUser
from ticketdesk.comments import service as comments
from ticketdesk.comments.models import TicketComment
from ticketdesk.comments.schemas import CommentCreate, CommentRead, CommentUpdate
from ticketdesk.db import ReadSession, WriteSession
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
        merged_from_number=comment.merged_from_number,
    )


@router.post("", status_code=201)
async def add_comment(
    session: WriteSession, actor: CurrentUser, ref: str, data: CommentCreate
) -> CommentRead:
    return present(await comments.add_comment(session, actor, ref, data))


@router.get("")
async def list_comments(session: ReadSession, actor: CurrentUser, ref: str) -> list[CommentRead]:
    """Oldest first. Customers never receive internal notes."""
    return [present(c) for c in await comments.list_comments(session, actor, ref)]


@router.patch("/{comment_id}")
async def edit_comment(
    session: WriteSession, actor: CurrentUser, ref: str, comment_id: CommentId, data: CommentUpdate
) -> CommentRead:
    return present(await comments.edit_comment(session, actor, ref, comment_id, data.comment))
