from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from ticketdesk import clock
from ticketdesk.auth import policy
from ticketdesk.auth.dependencies import ApiRoute, CurrentUser, require_scope
from ticketdesk.auth.scopes import Scope
from ticketdesk.config import Settings
from ticketdesk.db import DatabaseDep, ReadSession, WriteSession
from ticketdesk.validation import MAX_ID
from ticketdesk.webhooks import service as webhooks
from ticketdesk.webhooks.models import DeliveryStatus, Webhook, WebhookDelivery
from ticketdesk.webhooks.schemas import (
    DeliveryRead,
    SecretOut,
    WebhookCreate,
    WebhookCreated,
    WebhookRead,
    WebhookUpdate,
)

# The super_admin's (API tokens: webhooks:manage).
router = APIRouter(
    route_class=ApiRoute,
    prefix="/webhooks",
    tags=["webhooks"],
    dependencies=[require_scope(Scope.WEBHOOKS_MANAGE)],
)
WebhookId = Annotated[int, Path(ge=1, le=MAX_ID)]
DeliveryId = Annotated[int, Path(ge=1, le=2**63 - 1)]


def _allow_private(request: Request) -> bool:
    settings: Settings = request.app.state.settings
    return settings.webhook_allow_private


def _delivery(row: WebhookDelivery) -> DeliveryRead:
    read = DeliveryRead.model_validate(row)
    if row.status != DeliveryStatus.PENDING:
        read.next_attempt_at = None
    return read


@router.post("", summary="Create a webhook", status_code=201)
async def create_webhook(
    request: Request, database: DatabaseDep, actor: CurrentUser, data: WebhookCreate
) -> WebhookCreated:
    """The secret is in this answer only (and in that of rotate-secret). A URL that is or
    resolves to a loopback, private, link-local or multicast address is refused (422)."""
    # The URL's name is looked up before the transaction starts: no lock waits on DNS.
    policy.require_super_admin(actor)
    await webhooks.check_url(data.url, allow_private=_allow_private(request))
    async with database.write() as session:
        webhook = await webhooks.create_webhook(session, actor, data, now=clock.now())
    return WebhookCreated(**_read(webhook).model_dump(), secret=webhook.secret)


def _read(webhook: Webhook) -> WebhookRead:
    return WebhookRead.model_validate(webhook)


@router.get("", summary="List webhooks")
async def list_webhooks(session: ReadSession, actor: CurrentUser) -> list[WebhookRead]:
    """Every webhook, without its secret."""
    return [_read(w) for w in await webhooks.list_webhooks(session, actor)]


@router.get("/{webhook_id}", summary="Get a webhook")
async def get_webhook(
    session: ReadSession, actor: CurrentUser, webhook_id: WebhookId
) -> WebhookRead:
    """One webhook, without its secret."""
    return _read(await webhooks.get_webhook(session, actor, webhook_id))


@router.patch("/{webhook_id}", summary="Update a webhook")
async def update_webhook(
    request: Request,
    database: DatabaseDep,
    actor: CurrentUser,
    webhook_id: WebhookId,
    data: WebhookUpdate,
) -> WebhookRead:
    """`is_active: true` switches a webhook back on (after a 410, say); what waited resumes."""
    policy.require_super_admin(actor)
    if data.url is not None:
        await webhooks.check_url(data.url, allow_private=_allow_private(request))
    async with database.write() as session:
        webhook = await webhooks.update_webhook(session, actor, webhook_id, data, now=clock.now())
    return _read(webhook)


@router.delete("/{webhook_id}", summary="Delete a webhook", status_code=204)
async def delete_webhook(
    session: WriteSession, actor: CurrentUser, webhook_id: WebhookId
) -> Response:
    """The webhook and its delivery log are removed; nothing more is sent."""
    await webhooks.delete_webhook(session, actor, webhook_id)
    return Response(status_code=204)


@router.post(
    "/{webhook_id}/rotate-secret",
    operation_id="rotateWebhookSecret",
    summary="Rotate a webhook's secret",
)
async def rotate_secret(
    session: WriteSession, actor: CurrentUser, webhook_id: WebhookId
) -> SecretOut:
    """The old secret stops signing at once."""
    return SecretOut(
        secret=await webhooks.rotate_secret(session, actor, webhook_id, now=clock.now())
    )


@router.post(
    "/{webhook_id}/ping",
    operation_id="pingWebhook",
    summary="Send a test delivery",
    status_code=202,
)
async def ping(session: WriteSession, actor: CurrentUser, webhook_id: WebhookId) -> DeliveryRead:
    """Queues a `webhook.ping` delivery; its outcome shows in the delivery log."""
    return _delivery(await webhooks.ping(session, actor, webhook_id, now=clock.now()))


@router.get(
    "/{webhook_id}/deliveries",
    operation_id="listWebhookDeliveries",
    summary="List a webhook's deliveries",
)
async def list_deliveries(
    session: ReadSession,
    actor: CurrentUser,
    webhook_id: WebhookId,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    before: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
) -> list[DeliveryRead]:
    """Newest first; `before=<delivery id>` pages back."""
    rows = await webhooks.list_deliveries(session, actor, webhook_id, limit=limit, before=before)
    return [_delivery(row) for row in rows]


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/retry",
    operation_id="retryWebhookDelivery",
    summary="Send a delivery again",
    status_code=202,
)
async def retry_delivery(
    session: WriteSession, actor: CurrentUser, webhook_id: WebhookId, delivery_id: DeliveryId
) -> DeliveryRead:
    """Sends it again now, with the same `webhook-id` and body."""
    row = await webhooks.retry_delivery(session, actor, webhook_id, delivery_id, now=clock.now())
    return _delivery(row)
