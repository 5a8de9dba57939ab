"""The queue's own upkeep."""

from typing import Any

from ticketdesk.jobs import queue
from ticketdesk.jobs.registry import JobContext, periodic


@periodic("jobs.prune", every=3600)
async def prune_finished(ctx: JobContext, _payload: dict[str, Any]) -> None:
    """Succeeded jobs are forgotten after a day; failed ones stay until retried."""
    async with ctx.transaction() as session:
        await queue.prune(session, now=ctx.now, keep_days=1)
