"""Job handlers used by the queue's tests (imported by the tests and by the worker processes
they start). Each run that finishes leaves a checkpoint row named after its job, so a test can
count how many times each job really ran."""

import asyncio
import os
import secrets
from typing import Any

from ticketdesk import jobs
from ticketdesk.jobs import checkpoints

MARK = "test.mark"


@jobs.handler(MARK, max_attempts=5)
async def mark(ctx: jobs.JobContext, payload: dict[str, Any]) -> None:
    await asyncio.sleep(float(payload.get("sleep", 0)))
    async with ctx.transaction() as session:
        name = f"mark:{ctx.job_id}:{secrets.token_hex(4)}"
        await checkpoints.write(session, name, str(os.getpid()), now=ctx.now)
