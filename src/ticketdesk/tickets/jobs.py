"""Ticket work done in the background: auto-close."""

import logging
from typing import Any

from ticketdesk.jobs import JobContext, periodic
from ticketdesk.tickets import autoclose

log = logging.getLogger(__name__)


@periodic("tickets.auto_close", every=lambda settings: settings.jobs_interval_seconds)
async def auto_close(ctx: JobContext, _payload: dict[str, Any]) -> None:
    """Closes every due ticket, in batches of one transaction each."""
    total = await autoclose.close_all(
        ctx.sessionmaker, now=ctx.now, hours=ctx.settings.auto_close_hours
    )
    if total:
        log.info("auto-closed %d tickets", total)
