from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import StreamingResponse

from ticketdesk import clock
from ticketdesk.auth.dependencies import ApiRoute, CurrentUser, require_scope
from ticketdesk.auth.models import User
from ticketdesk.auth.schemas import UserRead
from ticketdesk.auth.scopes import Scope
from ticketdesk.db import ReadSession, WriteSession
from ticketdesk.openapi import errors
from ticketdesk.privacy import service as privacy
from ticketdesk.validation import MAX_ID

router = APIRouter(
    route_class=ApiRoute, tags=["data protection"], dependencies=[require_scope(Scope.ADMIN)]
)
UserId = Annotated[int, Path(ge=1, le=MAX_ID)]


def _stream(request: Request, user: User) -> StreamingResponse:
    # The document is written after this request's session has closed: it reads with its own.
    document = privacy.export_document(
        request.app.state.read_sessionmaker, user.id, now=clock.now()
    )
    filename = f"ticketdesk-export-user-{user.id}.json"
    return StreamingResponse(
        document,
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get(
    "/auth/me/export",
    operation_id="exportMyData",
    summary="Export your personal data",
    response_class=StreamingResponse,
    dependencies=[require_scope(Scope.TICKETS_READ)],
)
async def export_me(
    request: Request, session: ReadSession, actor: CurrentUser
) -> StreamingResponse:
    """Everything stored about the caller, as one JSON document (streamed)."""
    return _stream(request, await privacy.person_to_export(session, actor, actor.id))


@router.get(
    "/users/{user_id}/export",
    operation_id="exportUserData",
    summary="Export a user's personal data",
    response_class=StreamingResponse,
)
async def export_user(
    request: Request, session: ReadSession, actor: CurrentUser, user_id: UserId
) -> StreamingResponse:
    """Everything stored about the user, as they would get it themselves (super_admin)."""
    return _stream(request, await privacy.person_to_export(session, actor, user_id))


@router.post("/users/{user_id}/anonymize", responses=errors(409), summary="Anonymize a user")
async def anonymize_user(session: WriteSession, actor: CurrentUser, user_id: UserId) -> UserRead:
    """Irreversible: name and e-mail become placeholders, the account is closed for good."""
    return UserRead.model_validate(await privacy.anonymize(session, actor, user_id))
