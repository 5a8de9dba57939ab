"""Keeping the event log to its retention period."""

from datetime import timedelta
from typing import Any

from ticketdesk.events import service
from ticketdesk.jobs import JobContext, periodic


@periodic("events.prune", every=3600)
async def prune(ctx: JobContext, _payload: dict[str, Any]) -> None:
    async with ctx.transaction() as session:
        cutoff = ctx.now - timedelta(days=ctx.settings.events_retention_days)
        await service.prune(session, before=cutoff, now=ctx.now)
