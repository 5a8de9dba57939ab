"""The webhook jobs: the dispatcher (events to deliveries), the senders (one per webhook at a
time), and the periodic sweep that runs both as a safety net and prunes the delivery log."""

from datetime import timedelta
from typing import Any

from sqlalchemy import delete

from ticketdesk import clock, jobs
from ticketdesk.webhooks import dispatch, sender, service
from ticketdesk.webhooks.models import DeliveryStatus, WebhookDelivery

# Rounds of one dispatcher run before it hands over to a fresh job.
DISPATCH_ROUNDS = 20
# Seconds a sender keeps sending before it hands over to a fresh job.
SEND_BUDGET = 30.0


@jobs.handler(dispatch.DISPATCH, max_attempts=10, timeout=120.0)
async def run_dispatch(ctx: jobs.JobContext, _payload: dict[str, Any]) -> None:
    async with ctx.transaction() as session:
        await dispatch.release_key(session, ctx.job_id)
    for _ in range(DISPATCH_ROUNDS):
        async with ctx.transaction() as session:
            read = await dispatch.dispatch_batch(session, now=clock.now())
        if read < dispatch.BATCH:
            return
    async with ctx.transaction() as session:
        await jobs.enqueue(session, dispatch.DISPATCH, {}, key=dispatch.DISPATCH)


@jobs.handler(service.DELIVER, max_attempts=1000, timeout=SEND_BUDGET + 90.0)
async def run_sender(ctx: jobs.JobContext, payload: dict[str, Any]) -> None:
    """Holds the webhook's lease while sending; a second sender waits its turn."""
    webhook_id = int(payload["webhook_id"])
    claim = sender.new_claim(ctx.job_id)
    async with ctx.transaction() as session:
        taken = await sender.acquire(session, webhook_id, claim, now=clock.now())
        if taken:
            await dispatch.release_key(session, ctx.job_id)
    if taken is None:
        return
    if not taken:
        raise jobs.RetryLater(1.0, "another sender is busy with this webhook")
    settings = ctx.settings
    try:
        await sender.send_due(
            ctx.transaction,
            webhook_id,
            claim,
            schedule=settings.webhook_retry_schedule,
            timeout=settings.webhook_timeout_seconds,
            allow_private=settings.webhook_allow_private,
            budget=SEND_BUDGET,
        )
    finally:
        async with ctx.transaction() as session:
            due = await sender.release(session, webhook_id, claim)
            if due is not None:
                await service.wake_sender(session, webhook_id, run_at=max(due, clock.now()))


@jobs.periodic("webhooks.sweep", every=lambda settings: settings.webhook_sweep_seconds)
async def sweep(ctx: jobs.JobContext, _payload: dict[str, Any]) -> None:
    """Dispatch what a missed wake left behind and wake senders with due deliveries."""
    async with ctx.transaction() as session:
        await jobs.enqueue(session, dispatch.DISPATCH, {}, key=dispatch.DISPATCH)
        for webhook_id in await dispatch.due_senders(session, now=clock.now()):
            await service.wake_sender(session, webhook_id)


@jobs.periodic("webhooks.prune", every=3600)
async def prune(ctx: jobs.JobContext, _payload: dict[str, Any]) -> None:
    """Finished deliveries are kept TICKETDESK_WEBHOOK_DELIVERY_RETENTION_DAYS."""
    cutoff = clock.now() - timedelta(days=ctx.settings.webhook_delivery_retention_days)
    async with ctx.transaction() as session:
        await session.execute(
            delete(WebhookDelivery).where(
                WebhookDelivery.created_at < cutoff,
                WebhookDelivery.status != DeliveryStatus.PENDING,
            )
        )
