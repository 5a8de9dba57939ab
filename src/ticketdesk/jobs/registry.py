"""What the workers know how to run: handlers by kind, and the periodic schedule."""

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ticketdesk.config import Settings
from ticketdesk.db import session_scope


class RetryLater(Exception):
    """Run the job again after `seconds` (its own schedule instead of the backoff)."""

    def __init__(self, seconds: float, reason: str = "retry requested") -> None:
        super().__init__(reason)
        self.seconds = seconds
        self.reason = reason


class PermanentFailure(Exception):
    """The job cannot succeed: mark it failed now, without further attempts."""


@dataclass(frozen=True)
class JobContext:
    job_id: int
    kind: str
    attempt: int
    max_attempts: int
    now: datetime
    settings: Settings
    sessionmaker: async_sessionmaker[AsyncSession]

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A unit of work of the job's own: committed on exit, rolled back on error."""
        async with session_scope(self.sessionmaker) as session:
            yield session

    @property
    def last_attempt(self) -> bool:
        return self.attempt >= self.max_attempts


Run = Callable[[JobContext, dict[str, Any]], Awaitable[None]]


@dataclass(frozen=True)
class Handler:
    kind: str
    run: Run
    max_attempts: int
    timeout: float


@dataclass(frozen=True)
class Schedule:
    kind: str
    every: float  # seconds; 0 or less: this periodic work is off


HANDLERS: dict[str, Handler] = {}
SCHEDULES: dict[str, Callable[[Settings], float]] = {}


def handler(kind: str, *, max_attempts: int = 5, timeout: float = 120.0) -> Callable[[Run], Run]:
    """Register `run(ctx, payload)` for jobs of `kind`."""

    def register(run: Run) -> Run:
        HANDLERS[kind] = Handler(kind, run, max_attempts, timeout)
        return run

    return register


def periodic(
    kind: str, *, every: float | Callable[[Settings], float], timeout: float = 300.0
) -> Callable[[Run], Run]:
    """Register work that runs once per period (seconds), however many processes run.

    `every` may read the settings; a period of 0 or less turns the work off.
    """

    def register(run: Run) -> Run:
        HANDLERS[kind] = Handler(kind, run, 1, timeout)
        SCHEDULES[kind] = every if callable(every) else (lambda _settings: every)
        return run

    return register


def schedules(settings: Settings) -> list[Schedule]:
    found = (Schedule(kind, period(settings)) for kind, period in SCHEDULES.items())
    return [schedule for schedule in found if schedule.every > 0]
