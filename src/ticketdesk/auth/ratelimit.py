"""Per-user (or per-token) request limits in one-minute windows, counted across processes.

Each process counts its requests locally and adds them to the shared row of the key and
window (`rate_counts`) about once a second, reading back the total every process has added.
A request is allowed while the shared total plus the process's not-yet-added count stays under
the limit, so N processes allow what one does, give or take one second's requests.
"""

import math
import random
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from ticketdesk.auth.models import RateCount

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

    async def sync(self, session: AsyncSession) -> None:
        """Add this process's counts to the shared rows and read back every process's total
        for the keys this process has seen in the current window."""
        pending, self._pending = self._pending, {}
        window = self._window
        keys = sorted(set(pending) | set(self._shared))
        if not keys:
            return
        insert = (
            postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
        )
        for key in keys:
            count = pending.get(key, 0)
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
                total = (await session.execute(statement)).scalar_one()
            else:
                total = (
                    await session.scalar(
                        select(RateCount.count).where(
                            RateCount.key == key, RateCount.minute == window
                        )
                    )
                    or 0
                )
            if window == self._window:
                # The total holds what this process added; what it counted since is pending.
                self._shared[key] = total
        if random.randrange(60) == 0:
            await session.execute(delete(RateCount).where(RateCount.minute < window - 1))
