"""Auto-assignment's upkeep."""

from typing import Any

from ticketdesk.assignment_rules import autoassign
from ticketdesk.jobs.registry import JobContext, periodic


@periodic("assignment_rules.prune_holds", every=3600)
async def prune_holds(ctx: JobContext, _payload: dict[str, Any]) -> None:
    """Holds past their time: a hold is deleted with its ticket's commit, so these belong to
    transactions that rolled back."""
    async with ctx.transaction() as session:
        await autoassign.prune_holds(session, now=ctx.now)
