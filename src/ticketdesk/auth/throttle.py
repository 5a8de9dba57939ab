"""Throttles counted in the database, so every process shares them: failed logins per address
and client, failed logins per client, registrations per client (and other engineers' keys).

Each counted attempt is a row under a key; a key is over its limit when its window holds
`attempts` rows. Rows older than the window are deleted when the key is hit again, and every
expired row now and then, so the table stays small.
"""

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from ticketdesk.auth.models import ThrottleHit

# Windows never exceed this: anything older is garbage for every throttle.
LONGEST_WINDOW = timedelta(days=1)
PRUNE_EVERY = 100


@dataclass(frozen=True)
class Limit:
    """At most `attempts` hits under one key within any `window`."""

    name: str
    attempts: int
    window: timedelta

    def key(self, *parts: str) -> str:
        return ":".join((self.name, *parts))[:400]


async def retry_after(session: AsyncSession, limit: Limit, key: str, now: datetime) -> int:
    """Seconds until `key` may try again; 0 when it may try now."""
    if limit.attempts <= 0:
        return 0
    # The attempts-th newest hit in the window: the key is open again once it has left.
    closing = await session.scalar(
        select(ThrottleHit.at)
        .where(ThrottleHit.key == key, ThrottleHit.at > now - limit.window)
        .order_by(ThrottleHit.at.desc())
        .offset(limit.attempts - 1)
        .limit(1)
    )
    if closing is None:
        return 0
    return max(1, math.ceil((closing + limit.window - now).total_seconds()))


async def hit(session: AsyncSession, limit: Limit, key: str, now: datetime) -> None:
    """Count one attempt under `key`, dropping the key's rows that left its window."""
    await session.execute(
        delete(ThrottleHit).where(ThrottleHit.key == key, ThrottleHit.at <= now - limit.window)
    )
    session.add(ThrottleHit(key=key, at=now))
    if random.randrange(PRUNE_EVERY) == 0:
        await prune(session, now)
    await session.flush()


async def has_hits(session: AsyncSession, key: str) -> bool:
    found = await session.scalar(select(ThrottleHit.id).where(ThrottleHit.key == key).limit(1))
    return found is not None


async def clear(session: AsyncSession, key: str) -> None:
    await session.execute(delete(ThrottleHit).where(ThrottleHit.key == key))


async def prune(session: AsyncSession, now: datetime) -> int:
    """Delete every row older than the longest window; returns how many went."""
    result = await session.execute(
        delete(ThrottleHit).where(ThrottleHit.at <= now - LONGEST_WINDOW)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
