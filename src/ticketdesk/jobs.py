"""Periodic background work run by every server process (and by `ticketdesk run-jobs`)."""

import asyncio
import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ticketdesk.config import Settings

log = logging.getLogger(__name__)


async def run_once(sessionmaker: async_sessionmaker[AsyncSession], settings: Settings) -> int:
    """Run every job once; returns how many tickets were changed."""
    return 0


async def run_periodically(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    while True:
        await asyncio.sleep(settings.jobs_interval_seconds)
        try:
            await run_once(sessionmaker, settings)
        except Exception:
            log.exception("background jobs failed; retrying at the next interval")
