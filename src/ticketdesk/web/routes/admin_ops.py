"""The admin console's operations pages: API tokens, webhooks and their deliveries, the mail
outbox and inbound log, failed jobs. Each form calls the service its API route calls."""

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request
from starlette.responses import RedirectResponse, Response

from ticketdesk import clock
from ticketdesk.auth import service as accounts
from ticketdesk.auth import tokens
from ticketdesk.auth.schemas import ApiTokenCreate
from ticketdesk.auth.scopes import ROLE_SCOPES, Scope
from ticketdesk.db import DatabaseDep, ReadSession, WriteSession
from ticketdesk.jobs import service as jobs
from ticketdesk.jobs.models import JobStatus
from ticketdesk.mail import inbound, outbox
from ticketdesk.mail.models import InboundStatus, OutboxStatus
from ticketdesk.mail.schedule import schedule_processing
from ticketdesk.validation import MAX_ID
from ticketdesk.web.pages import PageViewer, render, require_admin
from ticketdesk.webhooks import service as webhooks
from ticketdesk.webhooks.schemas import ALL, EVENT_TYPES, WebhookCreate, WebhookUpdate

router = APIRouter(prefix="/admin", include_in_schema=False)
Text = Annotated[str, Form()]
RowId = Annotated[int, Path(ge=1, le=MAX_ID)]
DeliveryId = Annotated[int, Path(ge=1, le=2**63 - 1)]
LOG_LIMIT = 100


def _choice(value: str, options: Any) -> Any:
    """An enum member named by a query parameter; anything else means "any"."""
    return next((option for option in options if option.value == value), None)


# API tokens


@router.get("/tokens")
async def token_list(request: Request, session: ReadSession, viewer: PageViewer) -> Response:
    require_admin(viewer)
    raw = request.query_params.get("user_id", "")
    owner = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 11 else viewer.id
    people = await accounts.list_users(session, viewer.user, role=None)
    context = {
        "tokens": await tokens.list_tokens(session, viewer.user, user_id=owner),
        "people": people,
        "owner": owner,
        "scopes": sorted(ROLE_SCOPES[viewer.user.role], key=list(Scope).index),
        "section": "tokens",
        "created": None,
    }
    return render(request, "admin/tokens.html", context)


@router.post("/tokens")
async def token_create(
    request: Request,
    session: WriteSession,
    viewer: PageViewer,
    name: Text = "",
    expires_in_days: Text = "90",
) -> Response:
    """Your own new token, shown on this answer only (as the API shows it once)."""
    require_admin(viewer)
    chosen = [str(s) for s in (await request.form()).getlist("scopes")]
    days = int(expires_in_days) if expires_in_days.isdigit() and len(expires_in_days) < 5 else 0
    data = ApiTokenCreate.model_validate({"name": name, "scopes": chosen, "expires_in_days": days})
    row, plain = await tokens.create_token(
        session,
        viewer.user,
        name=data.name,
        scopes=data.scopes,
        expires_in_days=data.expires_in_days,
        signing_key=request.app.state.signing_key,
        now=clock.now(),
    )
    context = {
        "tokens": await tokens.list_tokens(session, viewer.user, user_id=viewer.id),
        "people": await accounts.list_users(session, viewer.user, role=None),
        "owner": viewer.id,
        "scopes": sorted(ROLE_SCOPES[viewer.user.role], key=list(Scope).index),
        "section": "tokens",
        "created": {"name": row.name, "token": plain},
    }
    return render(request, "admin/tokens.html", context, status_code=201)


@router.post("/tokens/{token_id}/revoke")
async def token_revoke(
    session: WriteSession, viewer: PageViewer, token_id: RowId, user_id: Text = ""
) -> Response:
    require_admin(viewer)
    await tokens.revoke_token(session, viewer.user, token_id)
    back = f"?user_id={user_id}" if user_id.isdigit() and len(user_id) < 11 else ""
    return RedirectResponse(f"/admin/tokens{back}", 303)


# Webhooks


def _allow_private(request: Request) -> bool:
    return bool(request.app.state.settings.webhook_allow_private)


@router.get("/webhooks")
async def webhook_list(request: Request, session: ReadSession, viewer: PageViewer) -> Response:
    require_admin(viewer)
    context = {
        "webhooks": await webhooks.list_webhooks(session, viewer.user),
        "event_types": [ALL, *sorted(EVENT_TYPES)],
        "section": "webhooks",
        "created": None,
    }
    return render(request, "admin/webhooks.html", context)


@router.post("/webhooks")
async def webhook_create(
    request: Request,
    database: DatabaseDep,
    viewer: PageViewer,
    url: Text = "",
    description: Text = "",
) -> Response:
    """The secret is shown on this answer only; the URL is checked before the transaction."""
    require_admin(viewer)
    chosen = [str(s) for s in (await request.form()).getlist("event_types")] or [ALL]
    data = WebhookCreate.model_validate(
        {"url": url, "event_types": chosen, "description": description}
    )
    await webhooks.check_url(data.url, allow_private=_allow_private(request))
    async with database.write() as session:
        created = await webhooks.create_webhook(session, viewer.user, data, now=clock.now())
        rows = await webhooks.list_webhooks(session, viewer.user)
    context = {
        "webhooks": rows,
        "event_types": [ALL, *sorted(EVENT_TYPES)],
        "section": "webhooks",
        "created": {"url": created.url, "secret": created.secret},
    }
    return render(request, "admin/webhooks.html", context, status_code=201)


@router.get("/webhooks/{webhook_id}")
async def webhook_page(
    request: Request, session: ReadSession, viewer: PageViewer, webhook_id: RowId
) -> Response:
    """A webhook and its latest deliveries."""
    require_admin(viewer)
    webhook = await webhooks.get_webhook(session, viewer.user, webhook_id)
    rows = await webhooks.list_deliveries(
        session, viewer.user, webhook_id, limit=LOG_LIMIT, before=None
    )
    context = {"webhook": webhook, "deliveries": rows, "section": "webhooks"}
    return render(request, "admin/webhook.html", context)


@router.post("/webhooks/{webhook_id}")
async def webhook_update(
    request: Request,
    database: DatabaseDep,
    viewer: PageViewer,
    webhook_id: RowId,
    is_active: Text = "",
) -> Response:
    """Switch a webhook off, or back on (what waited resumes)."""
    require_admin(viewer)
    data = WebhookUpdate.model_validate({"is_active": is_active == "true"})
    async with database.write() as session:
        await webhooks.update_webhook(session, viewer.user, webhook_id, data, now=clock.now())
    return RedirectResponse(f"/admin/webhooks/{webhook_id}", 303)


@router.post("/webhooks/{webhook_id}/delete")
async def webhook_delete(session: WriteSession, viewer: PageViewer, webhook_id: RowId) -> Response:
    require_admin(viewer)
    await webhooks.delete_webhook(session, viewer.user, webhook_id)
    return RedirectResponse("/admin/webhooks", 303)


@router.post("/webhooks/{webhook_id}/deliveries/{delivery_id}/retry")
async def delivery_retry(
    session: WriteSession, viewer: PageViewer, webhook_id: RowId, delivery_id: DeliveryId
) -> Response:
    require_admin(viewer)
    await webhooks.retry_delivery(session, viewer.user, webhook_id, delivery_id, now=clock.now())
    return RedirectResponse(f"/admin/webhooks/{webhook_id}#delivery-{delivery_id}", 303)


# Mail


@router.get("/mail")
async def mail_page(request: Request, session: ReadSession, viewer: PageViewer) -> Response:
    """The outbox and the inbound log, newest first, each filtered by status."""
    require_admin(viewer)
    params = request.query_params
    out_status = _choice(params.get("outbox_status", ""), OutboxStatus)
    in_status = _choice(params.get("inbound_status", ""), InboundStatus)
    context = {
        "outbox": await outbox.list_outbox(
            session, viewer.user, status=out_status, ticket_id=None, limit=LOG_LIMIT, offset=0
        ),
        "inbound": await inbound.list_inbound(
            session, viewer.user, status=in_status, limit=LOG_LIMIT, offset=0
        ),
        "outbox_statuses": list(OutboxStatus),
        "inbound_statuses": list(InboundStatus),
        "outbox_status": out_status,
        "inbound_status": in_status,
        "section": "mail",
    }
    return render(request, "admin/mail.html", context)


@router.post("/mail/outbox/{outbox_id}/retry")
async def outbox_retry(session: WriteSession, viewer: PageViewer, outbox_id: RowId) -> Response:
    require_admin(viewer)
    await outbox.retry(session, viewer.user, outbox_id, now=clock.now())
    return RedirectResponse(f"/admin/mail#outbox-{outbox_id}", 303)


@router.post("/mail/inbound/{inbound_id}/reprocess")
async def inbound_reprocess(
    session: WriteSession, viewer: PageViewer, inbound_id: RowId
) -> Response:
    require_admin(viewer)
    row = await inbound.reprocess(session, viewer.user, inbound_id)
    await schedule_processing(session, row.id)
    return RedirectResponse(f"/admin/mail#inbound-{inbound_id}", 303)


# Jobs


@router.get("/jobs")
async def job_list(request: Request, session: ReadSession, viewer: PageViewer) -> Response:
    """Failed jobs by default: what needs a look."""
    require_admin(viewer)
    status = _choice(request.query_params.get("status", "failed"), JobStatus)
    context = {
        "jobs": await jobs.list_jobs(session, viewer.user, status=status, page_size=LOG_LIMIT),
        "statuses": list(JobStatus),
        "status": status,
        "section": "jobs",
    }
    return render(request, "admin/jobs.html", context)


@router.post("/jobs/{job_id}/retry")
async def job_retry(session: WriteSession, viewer: PageViewer, job_id: RowId) -> Response:
    require_admin(viewer)
    await jobs.retry_job(session, viewer.user, job_id, now=clock.now())
    return RedirectResponse("/admin/jobs", 303)
