"""Per-user (or per-token) request limits in one-minute windows, counted across processes.

Each process counts its requests locally and adds them to the shared count of the key and
window about once a second, reading back the total every process has added. A request is
allowed while the shared total plus the process's not-yet-added count stays under the limit,
so N processes allow what one does, give or take one second's requests. The shared counts are
rows of `rate_counts` in the database (`CountsInDatabase`), or keys in Redis when
TICKETDESK_REDIS_URL is set (`CountsInRedis`).
"""

import logging
import math
import random
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from redis import RedisError
from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite

from ticketdesk.auth.models import RateCount

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from ticketdesk.db import Database

log = logging.getLogger(__name__)

WINDOW_SECONDS = 60


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    reset: int  # seconds until the window ends

    def headers(self) -> list[tuple[str, str]]:
        values = [
            ("ratelimit-limit", str(self.limit)),
            ("ratelimit-remaining", str(self.remaining)),
            ("ratelimit-reset", str(self.reset)),
        ]
        if not self.allowed:
            values.append(("retry-after", str(self.reset)))
        return values


class RateLimiter:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._window = 0
        self._shared: dict[str, int] = {}
        self._pending: dict[str, int] = {}

    def check(self, key: str, now: datetime) -> Verdict:
        """Count one request under `key` unless it is over the limit."""
        stamp = now.timestamp()
        window = int(stamp // WINDOW_SECONDS)
        if window != self._window:
            self._window, self._shared, self._pending = window, {}, {}
        reset = max(1, math.ceil((window + 1) * WINDOW_SECONDS - stamp))
        used = self._shared.get(key, 0) + self._pending.get(key, 0)
        if used >= self.limit:
            return Verdict(False, self.limit, 0, reset)
        self._pending[key] = self._pending.get(key, 0) + 1
        return Verdict(True, self.limit, self.limit - used - 1, reset)

    async def sync(self, shared: "SharedCounts") -> None:
        """Add this process's counts to the shared ones and read back every process's total
        for the keys this process has seen in the current window."""
        pending, self._pending = self._pending, {}
        window = self._window
        keys = sorted(set(pending) | set(self._shared))
        if not keys:
            return
        totals = await shared.add(window, keys, pending)
        if window == self._window:
            # The totals hold what this process added; what it counted since is pending.
            self._shared.update(totals)


class SharedCounts(Protocol):
    async def add(self, window: int, keys: list[str], counts: dict[str, int]) -> dict[str, int]:
        """Add `counts` to the window's shared counts; every key's total afterwards."""
        ...


class CountsInDatabase:
    """Rows of `rate_counts`, one per key and window, in a short transaction."""

    def __init__(self, database: "Database") -> None:
        self._database = database

    async def add(self, window: int, keys: list[str], counts: dict[str, int]) -> dict[str, int]:
        async with self._database.write() as session:
            insert = (
                postgresql.insert
                if session.get_bind().dialect.name == "postgresql"
                else sqlite.insert
            )
            totals = {}
            for key in keys:
                count = counts.get(key, 0)
                if count:
                    statement = (
                        insert(RateCount)
                        .values(key=key, minute=window, count=count)
                        .on_conflict_do_update(
                            index_elements=[RateCount.key, RateCount.minute],
                            set_={"count": RateCount.count + count},
                        )
                        .returning(RateCount.count)
                    )
                    totals[key] = (await session.execute(statement)).scalar_one()
                else:
                    query = select(RateCount.count).where(
                        RateCount.key == key, RateCount.minute == window
                    )
                    totals[key] = await session.scalar(query) or 0
            if random.randrange(60) == 0:
                await session.execute(delete(RateCount).where(RateCount.minute < window - 1))
            return totals


class CountsInRedis:
    """A key per user (or token) and window, expiring soon after the window. Should Redis
    fail, the database keeps the counts meanwhile (with a warning in the log)."""

    def __init__(self, client: "Redis", fallback: CountsInDatabase, *, prefix: str) -> None:
        self._client = client
        self._fallback = fallback
        self._prefix = prefix

    async def add(self, window: int, keys: list[str], counts: dict[str, int]) -> dict[str, int]:
        try:
            async with self._client.pipeline(transaction=False) as pipe:
                for key in keys:
                    name = f"{self._prefix}rate:{window}:{key}"
                    pipe.incrby(name, counts.get(key, 0))
                    pipe.expire(name, 2 * WINDOW_SECONDS)
                replies = await pipe.execute()
        except (RedisError, OSError):
            log.warning("Redis is unreachable: rate limits counted in the database", exc_info=True)
            return await self._fallback.add(window, keys, counts)
        return {key: int(total) for key, total in zip(keys, replies[::2], strict=True)}
