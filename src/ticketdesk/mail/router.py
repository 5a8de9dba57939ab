"""The outbox and inbound logs (super_admin), the inbound endpoint, notification preferences."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import StrictBool

from ticketdesk import clock
from ticketdesk.auth import policy
from ticketdesk.auth.dependencies import ApiRoute, CurrentUser, require_scope
from ticketdesk.auth.scopes import Scope
from ticketdesk.db import DatabaseDep, ReadSession, WriteSession
from ticketdesk.errors import DomainError
from ticketdesk.mail import inbound, outbox, preferences
from ticketdesk.mail.config import mail_config
from ticketdesk.mail.models import InboundStatus, OutboxStatus
from ticketdesk.mail.schedule import schedule_processing
from ticketdesk.mail.schemas import InboundAccepted, InboundRead, OutboxRead, SuppressionRead
from ticketdesk.openapi import errors
from ticketdesk.validation import MAX_ID

router = APIRouter(
    route_class=ApiRoute, prefix="/mail", tags=["mail"], dependencies=[require_scope(Scope.ADMIN)]
)
preferences_router = APIRouter(
    route_class=ApiRoute,
    prefix="/users/me",
    tags=["users"],
    dependencies=[require_scope(Scope.TICKETS_READ, write=Scope.TICKETS_WRITE)],
)
RowId = Annotated[int, Path(ge=1, le=MAX_ID)]
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=2**31)]


class Unsupported(DomainError):
    status_code = 415


@router.get("/outbox", operation_id="listMailOutbox", summary="List outgoing mail")
async def list_outbox(
    session: ReadSession,
    actor: CurrentUser,
    status: OutboxStatus | None = None,
    ticket_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[OutboxRead]:
    """Super admins see the mail outbox: every notification, its recipient, state and attempts."""
    rows = await outbox.list_outbox(
        session, actor, status=status, ticket_id=ticket_id, limit=limit, offset=offset
    )
    return [OutboxRead.model_validate(r) for r in rows]


@router.post(
    "/outbox/{outbox_id}/retry",
    responses=errors(409),
    operation_id="retryOutboxMail",
    summary="Send a failed mail again",
)
async def retry_outbox(session: WriteSession, actor: CurrentUser, outbox_id: RowId) -> OutboxRead:
    """A failed or dead outbox row is queued to be sent again."""
    row = await outbox.retry(session, actor, outbox_id, now=clock.now())
    return OutboxRead.model_validate(row)


@router.get(
    "/suppressions", operation_id="listMailSuppressions", summary="List suppressed addresses"
)
async def list_suppressions(session: ReadSession, actor: CurrentUser) -> list[SuppressionRead]:
    """Addresses that get no mail (after a hard bounce or a permanent delivery failure)."""
    rows = await outbox.list_suppressions(session, actor)
    return [SuppressionRead.model_validate(r) for r in rows]


@router.delete(
    "/suppressions/{email}",
    operation_id="liftMailSuppression",
    summary="Lift a suppression",
    status_code=204,
)
async def lift_suppression(session: WriteSession, actor: CurrentUser, email: str) -> Response:
    """The address gets mail again."""
    await outbox.lift_suppression(session, actor, email)
    return Response(status_code=204)


async def _read_body(request: Request, limit: int) -> bytes:
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != "message/rfc822":
        raise Unsupported("send the raw mail with Content-Type: message/rfc822")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise inbound.TooLarge(f"a mail may have at most {limit // (1024 * 1024)} MB")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise inbound.TooLarge(f"a mail may have at most {limit // (1024 * 1024)} MB")
    if not body.strip():
        raise DomainError("the mail is empty")
    return bytes(body)


@router.post(
    "/inbound",
    operation_id="receiveInboundMail",
    summary="Receive an inbound mail",
    dependencies=[require_scope(Scope.MAIL_INBOUND)],
    status_code=202,
    responses={202: {"model": InboundAccepted}, **errors(400, 413, 415)},
)
async def receive(request: Request, database: DatabaseDep, actor: CurrentUser) -> JSONResponse:
    """A raw mail (`message/rfc822`), stored before anything else happens; the same mail sent
    twice (or also fetched by IMAP) is stored and processed once. The body is read before the
    transaction begins."""
    policy.require_super_admin(actor)
    config = mail_config(request.app.state.settings)
    raw = await _read_body(request, config.max_bytes)
    async with database.write() as session:
        row, created = await inbound.store(session, config, raw, source="http", now=clock.now())
        if created:
            await schedule_processing(session, row.id)
    answer = InboundAccepted(id=row.id, status=row.status, duplicate=not created)
    return JSONResponse(answer.model_dump(mode="json"), status_code=202)


@router.get("/inbound", operation_id="listInboundMail", summary="List received mail")
async def list_inbound(
    session: ReadSession,
    actor: CurrentUser,
    status: InboundStatus | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[InboundRead]:
    """Received mails, newest first, with what processing made of each."""
    rows = await inbound.list_inbound(session, actor, status=status, limit=limit, offset=offset)
    return [InboundRead.model_validate(r) for r in rows]


@router.get(
    "/inbound/{inbound_id}/raw",
    operation_id="getInboundMailRaw",
    summary="Download a received mail",
    response_class=Response,
)
async def inbound_raw(session: ReadSession, actor: CurrentUser, inbound_id: RowId) -> Response:
    """The mail exactly as received (message/rfc822)."""
    row = await inbound.get_inbound(session, actor, inbound_id)
    return Response(
        row.raw,
        media_type="message/rfc822",
        headers={"Content-Disposition": f'attachment; filename="inbound-{row.id}.eml"'},
    )


@router.post(
    "/inbound/{inbound_id}/reprocess",
    responses=errors(409),
    operation_id="reprocessInboundMail",
    summary="Process a received mail again",
    status_code=202,
)
async def reprocess_inbound(
    session: WriteSession, actor: CurrentUser, inbound_id: RowId
) -> InboundRead:
    """A mail that failed or was held is processed again."""
    row = await inbound.reprocess(session, actor, inbound_id)
    await schedule_processing(session, row.id)
    return InboundRead.model_validate(row)


@preferences_router.get(
    "/notifications", operation_id="getNotificationPreferences", summary="Get your mail preferences"
)
async def get_notifications(session: ReadSession, user: CurrentUser) -> dict[str, bool]:
    """Which notification mails the caller receives."""
    return await preferences.get_preferences(session, user)


@preferences_router.patch(
    "/notifications",
    operation_id="updateNotificationPreferences",
    summary="Change your mail preferences",
)
async def update_notifications(
    session: WriteSession, user: CurrentUser, changes: dict[str, StrictBool]
) -> dict[str, bool]:
    """Switch kinds of notification mail on or off for the caller."""
    return await preferences.update_preferences(session, user, changes)
