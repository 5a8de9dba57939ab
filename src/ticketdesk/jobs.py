"""Periodic background work run by every server process (and by `ticketdesk run-jobs`)."""

import asyncio
import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ticketdesk import clock
from ticketdesk.config import Settings
from ticketdesk.db import session_scope
from ticketdesk.tickets import autoclose

log = logging.getLogger(__name__)


async def run_once(sessionmaker: async_sessionmaker[AsyncSession], settings: Settings) -> int:
    """Runs every job once, in batches of one transaction each; returns the tickets changed."""
    total = 0
    while True:
        async with session_scope(sessionmaker) as session:
            closed = await autoclose.close_batch(
                session, now=clock.now(), hours=settings.auto_close_hours
            )
        total += closed
        if closed < autoclose.BATCH:
            return total


async def run_periodically(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    while True:
        await asyncio.sleep(settings.jobs_interval_seconds)
        try:
            changed = await run_once(sessionmaker, settings)
            if changed:
                log.info("auto-closed %d tickets", changed)
        except Exception:
            log.exception("background jobs failed; retrying at the next interval")
