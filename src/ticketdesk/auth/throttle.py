"""Throttles that every process shares: failed logins per address and client, failed logins
per client, registrations per client, password reset requests per address.

A key is over its limit when its window holds `attempts` hits. Where the hits are kept is the
`Throttles` the app holds (`app.state.throttles`): rows of `throttle_hits` in the database by
default (`InDatabase`), or sorted sets in Redis when TICKETDESK_REDIS_URL is set (`InRedis`).
In the database, rows older than the window are deleted when the key is hit again, and every
expired row now and then, so the table stays small; in Redis each key expires with its window.
"""

import logging
import math
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from redis import RedisError
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from ticketdesk.auth.models import ThrottleHit

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from ticketdesk.db import Database

log = logging.getLogger(__name__)

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


# --- where the hits are kept ----------------------------------------------------------------

Check = tuple[Limit, str]


class Throttles(Protocol):
    async def wait(self, now: datetime, *checks: Check) -> int:
        """Seconds until every one of these keys may try again (0: now)."""
        ...

    async def hit(self, now: datetime, *hits: Check) -> None:
        """Count one attempt under each key."""
        ...

    async def has_hits(self, key: str) -> bool: ...

    async def clear(self, key: str) -> None: ...


class InDatabase:
    """Rows of `throttle_hits`, in short transactions of their own."""

    def __init__(self, database: "Database") -> None:
        self._database = database

    async def wait(self, now: datetime, *checks: Check) -> int:
        async with self._database.read() as session:
            return max([await retry_after(session, limit, key, now) for limit, key in checks])

    async def hit(self, now: datetime, *hits: Check) -> None:
        async with self._database.write() as session:
            for limit, key in hits:
                await hit(session, limit, key, now)

    async def has_hits(self, key: str) -> bool:
        async with self._database.read() as session:
            return await has_hits(session, key)

    async def clear(self, key: str) -> None:
        async with self._database.write() as session:
            await clear(session, key)


class InRedis:
    """A sorted set per key in Redis, its hits scored by time, expiring with its window.

    Should Redis fail, the database keeps the count meanwhile (with a warning in the log):
    a throttle that stopped counting would let an attacker through unseen. Hits counted there
    during an outage are not read once Redis answers again; they leave with their window.
    """

    def __init__(self, client: "Redis", fallback: InDatabase, *, prefix: str) -> None:
        self._client = client
        self._fallback = fallback
        self._prefix = prefix

    def _key(self, key: str) -> str:
        return f"{self._prefix}throttle:{key}"

    async def wait(self, now: datetime, *checks: Check) -> int:
        stamp = now.timestamp()
        try:
            async with self._client.pipeline(transaction=False) as pipe:
                for limit, key in checks:
                    # The attempts-th newest hit in the window: the key is open again once it
                    # has left.
                    pipe.zrevrangebyscore(
                        self._key(key),
                        "+inf",
                        f"({stamp - limit.window.total_seconds()}",
                        start=max(limit.attempts - 1, 0),
                        num=1,
                        withscores=True,
                    )
                found = await pipe.execute()
        except (RedisError, OSError):
            log.warning("Redis is unreachable: throttles read from the database", exc_info=True)
            return await self._fallback.wait(now, *checks)
        waits = [0]
        for (limit, _key), closing in zip(checks, found, strict=True):
            if limit.attempts > 0 and closing:
                left = closing[0][1] + limit.window.total_seconds() - stamp
                waits.append(max(1, math.ceil(left)))
        return max(waits)

    async def hit(self, now: datetime, *hits: Check) -> None:
        stamp = now.timestamp()
        try:
            async with self._client.pipeline(transaction=False) as pipe:
                for limit, key in hits:
                    window = limit.window.total_seconds()
                    pipe.zremrangebyscore(self._key(key), "-inf", stamp - window)
                    pipe.zadd(self._key(key), {f"{stamp}:{uuid.uuid4().hex}": stamp})
                    pipe.expire(self._key(key), math.ceil(window))
                await pipe.execute()
        except (RedisError, OSError):
            log.warning("Redis is unreachable: throttles counted in the database", exc_info=True)
            await self._fallback.hit(now, *hits)

    async def has_hits(self, key: str) -> bool:
        try:
            return bool(await self._client.exists(self._key(key)))
        except (RedisError, OSError):
            return await self._fallback.has_hits(key)

    async def clear(self, key: str) -> None:
        try:
            await self._client.delete(self._key(key))
        except (RedisError, OSError):
            await self._fallback.clear(key)
