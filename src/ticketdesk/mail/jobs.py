"""Background work of the mail channel: sending the outbox, processing received mail, polling
the mailbox. Each handler is idempotent: sending claims rows under a lease, processing runs once
per stored mail, polling stores once per Message-ID."""

from typing import Any

from ticketdesk import jobs
from ticketdesk.attachments.storage import storage_for
from ticketdesk.config import Settings
from ticketdesk.mail import imap, inbound, notify, sender
from ticketdesk.mail.config import mail_config
from ticketdesk.mail.schedule import PROCESS, SEND

# Mail waiting for a retry comes due between runs: a periodic sweep sends it.
SWEEP_SECONDS = 30.0

__all__ = ["notify"]  # imported for its event-log subscriber, in workers too


@jobs.handler(SEND, max_attempts=3)
async def send(ctx: jobs.JobContext, payload: dict[str, Any]) -> None:
    await sender.send_due(
        ctx.transaction, mail_config(ctx.settings), now=ctx.now, storage=storage_for(ctx.settings)
    )


def _sweep_every(settings: Settings) -> float:
    return SWEEP_SECONDS if settings.smtp_url else 0


@jobs.periodic("mail.send_due", every=_sweep_every)
async def send_due(ctx: jobs.JobContext, payload: dict[str, Any]) -> None:
    await sender.send_due(
        ctx.transaction, mail_config(ctx.settings), now=ctx.now, storage=storage_for(ctx.settings)
    )


@jobs.handler(PROCESS, max_attempts=5)
async def process(ctx: jobs.JobContext, payload: dict[str, Any]) -> None:
    async with ctx.transaction() as session:
        await inbound.process(
            session,
            mail_config(ctx.settings),
            int(payload["id"]),
            settings=ctx.settings,
            now=ctx.now,
            last_attempt=ctx.last_attempt,
        )


def _poll_every(settings: Settings) -> float:
    return settings.mail_poll_seconds if settings.imap_url else 0


@jobs.periodic("mail.poll_imap", every=_poll_every)
async def poll(ctx: jobs.JobContext, payload: dict[str, Any]) -> None:
    await imap.poll(ctx.transaction, mail_config(ctx.settings), now=ctx.now)
