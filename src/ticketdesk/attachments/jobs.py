"""The orphan sweep: bytes in storage that no attachment claims, older than a grace period.

They come from uploads whose request failed or whose process died between storing the
bytes and committing the rows, and from attachments removed with their ticket. The grace
period covers uploads still under way: storing identical bytes again refreshes their time,
so bytes an upload is about to claim are young.
"""

import contextlib
import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime, timedelta
from typing import Any

import anyio
from sqlalchemy.ext.asyncio import AsyncSession

from ticketdesk.attachments import service as attachments
from ticketdesk.attachments.storage import Storage, storage_for
from ticketdesk.jobs import JobContext, periodic

log = logging.getLogger(__name__)

BATCH = 500
Transaction = Callable[[], AbstractAsyncContextManager[AsyncSession]]


async def sweep_orphans(
    storage: Storage, transaction: Transaction, *, now: datetime, grace: timedelta
) -> int:
    """Removes unclaimed bytes older than `grace`; returns how many objects went."""
    cutoff = now - grace
    old = [found.sha256 async for found in storage.objects() if found.modified_at < cutoff]
    removed = 0
    for start in range(0, len(old), BATCH):
        async with transaction() as session:
            candidates = await attachments.unclaimed(session, old[start : start + BATCH])
        for sha256 in sorted(candidates):
            async with transaction() as session:
                gone = await attachments.remove_if_unclaimed(
                    session, storage, sha256, written_before=cutoff
                )
            removed += gone
    for path in attachments.temp_files_older_than(storage.temp_dir, cutoff):
        with contextlib.suppress(FileNotFoundError):
            await anyio.to_thread.run_sync(path.unlink)
    return removed


@periodic("attachments.sweep_orphans", every=3600, timeout=1800)
async def sweep(ctx: JobContext, _payload: dict[str, Any]) -> None:
    grace = timedelta(minutes=ctx.settings.orphan_blob_grace_minutes)
    storage = storage_for(ctx.settings)
    removed = await sweep_orphans(storage, ctx.transaction, now=ctx.now, grace=grace)
    if removed:
        log.info("removed %d unclaimed attachment blobs", removed)
