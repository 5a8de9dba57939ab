"""The worker: claims due jobs, runs them, records the outcome; schedules periodic work.

Every `ticketdesk serve` process runs one (unless TICKETDESK_WORKER=false), and
`ticketdesk worker` runs workers alone. Any number may run against one database.
"""

import asyncio
import contextlib
import logging
import math
import time
import traceback
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from ticketdesk import clock
from ticketdesk.config import Settings
from ticketdesk.db import session_scope
from ticketdesk.jobs import queue
from ticketdesk.jobs.registry import HANDLERS, JobContext, PermanentFailure, RetryLater, schedules

log = logging.getLogger("ticketdesk.jobs")

# Workers of this process, woken when a transaction that queued a job commits.
_local_workers: "set[Worker]" = set()


@sa_event.listens_for(Session, "after_commit")
def _wake_local_workers(session: Session) -> None:
    if session.info.pop(queue.ENQUEUED, False):
        for worker in list(_local_workers):
            worker.wake()


@sa_event.listens_for(Session, "after_rollback")
def _forget_enqueued(session: Session) -> None:
    session.info.pop(queue.ENQUEUED, None)


class Worker:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        settings: Settings,
        *,
        concurrency: int | None = None,
        read_sessionmaker: async_sessionmaker[AsyncSession] | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.read_sessionmaker = read_sessionmaker or sessionmaker
        self.settings = settings
        self.concurrency = max(1, concurrency or settings.worker_concurrency)
        self._wakeup = asyncio.Event()
        self._running: dict[asyncio.Task[None], queue.Claimed] = {}
        self._slots_taken: dict[str, int] = {}
        self._last_heartbeat = time.monotonic()

    def wake(self) -> None:
        self._wakeup.set()

    # --- the loop -------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Work until `stop` is set (or the task is cancelled), then finish the jobs in hand."""
        stop = stop or asyncio.Event()
        _local_workers.add(self)
        try:
            while not stop.is_set():
                try:
                    await self.heartbeat()
                    await self.schedule_periodic()
                    await self.fill()
                except Exception:
                    log.exception("worker loop failed; trying again")
                self._wakeup.clear()
                with contextlib.suppress(TimeoutError):
                    waits = [asyncio.ensure_future(self._wakeup.wait())]
                    waits.append(asyncio.ensure_future(stop.wait()))
                    await asyncio.wait(
                        waits,
                        timeout=self.settings.worker_poll_seconds,
                        return_when=asyncio.FIRST_COMPLETED,
                    )
                    for waiting in waits:
                        waiting.cancel()
        finally:
            _local_workers.discard(self)
            await self.finish_running(self.settings.shutdown_seconds)

    async def finish_running(self, timeout: float) -> None:
        """Let the jobs in hand end; those still running after `timeout` are left to the lease."""
        if self._running:
            _done, pending = await asyncio.wait(list(self._running), timeout=timeout)
            for task in pending:
                task.cancel()

    async def fill(self) -> int:
        """Claim as many due jobs as there is room for and start them; returns how many."""
        room = self.concurrency - len(self._running)
        if room <= 0:
            return 0
        now = clock.now()
        async with self.read_sessionmaker() as session:
            if not await queue.any_due(session, now):
                return 0
        async with session_scope(self.sessionmaker) as session:
            claimed = await queue.claim(
                session, now=now, limit=room, lease_seconds=self.settings.job_lease_seconds
            )
        for job in claimed:
            task = asyncio.create_task(self.execute(job))
            self._running[task] = job
            task.add_done_callback(self._job_done)
        return len(claimed)

    def _job_done(self, task: "asyncio.Task[None]") -> None:
        self._running.pop(task, None)
        self.wake()  # room for another job

    async def heartbeat(self) -> None:
        """Extend the leases of the jobs in hand, a third of a lease before they run out, so a
        long job keeps its lease while its worker lives, and loses it soon after it dies."""
        lease = self.settings.job_lease_seconds
        if not self._running or time.monotonic() - self._last_heartbeat < lease / 3:
            return
        self._last_heartbeat = time.monotonic()
        async with session_scope(self.sessionmaker) as session:
            await queue.extend(
                session, list(self._running.values()), now=clock.now(), lease_seconds=lease
            )

    async def schedule_periodic(self) -> None:
        """Queue each periodic job once per slot, across every process (see queue.take_slot)."""
        now = clock.now()
        for schedule in schedules(self.settings):
            slot = math.floor(now.timestamp() / schedule.every)
            if self._slots_taken.get(schedule.kind) == slot:
                continue
            async with session_scope(self.sessionmaker) as session:
                if await queue.take_slot(session, schedule.kind, slot, now=now):
                    await queue.enqueue(session, schedule.kind, {"slot": slot})
            self._slots_taken[schedule.kind] = slot

    # --- one job --------------------------------------------------------------------------

    async def execute(self, job: queue.Claimed) -> None:
        started = time.monotonic()
        handler = HANDLERS.get(job.kind)
        outcome, error, retry_in = "succeeded", "", None
        try:
            if handler is None:
                raise PermanentFailure(f"no handler for job kind {job.kind!r}")
            if job.attempt > job.max_attempts:
                raise PermanentFailure("the job's worker stopped too often before it finished")
            context = JobContext(
                job_id=job.id,
                kind=job.kind,
                attempt=job.attempt,
                max_attempts=job.max_attempts,
                now=clock.now(),
                settings=self.settings,
                sessionmaker=self.sessionmaker,
            )
            await asyncio.wait_for(handler.run(context, job.payload), timeout=handler.timeout)
        except RetryLater as later:
            outcome, error, retry_in = "retry", later.reason, later.seconds
        except PermanentFailure as failure:
            outcome, error = "failed", str(failure) or "failed"
        except asyncio.CancelledError:
            # Shutting down: the job stays claimed and is taken again after its lease.
            log.warning("job %s (%s) interrupted by shutdown", job.id, job.kind)
            raise
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=8)}"
            if job.attempt < job.max_attempts:
                outcome, retry_in = "retry", queue.backoff(job.attempt)
            else:
                outcome = "failed"
        await self._record(job, outcome, error, retry_in)
        log.info(
            "job %s %s %s",
            job.id,
            job.kind,
            outcome,
            extra={
                "job_id": job.id,
                "job_kind": job.kind,
                "attempt": job.attempt,
                "outcome": outcome,
                "duration_ms": round((time.monotonic() - started) * 1000, 1),
            },
        )

    async def _record(
        self, job: queue.Claimed, outcome: str, error: str, retry_in: float | None
    ) -> None:
        now = clock.now()
        async with session_scope(self.sessionmaker) as session:
            if outcome == "succeeded":
                kept = await queue.finish(session, job, now=now)
            else:
                kept = await queue.fail(session, job, error, now=now, retry_in=retry_in)
        if not kept:
            log.warning("job %s (%s): lease lost before it finished", job.id, job.kind)

    # --- for tests and `ticketdesk worker --once` -----------------------------------------

    async def drain(self, *, max_rounds: int = 1000) -> int:
        """Run periodic scheduling once, then every due job until none is left; returns how
        many jobs ran. Jobs that queue further due jobs are followed."""
        await self.schedule_periodic()
        ran = 0
        for _ in range(max_rounds):
            now = clock.now()
            async with session_scope(self.sessionmaker) as session:
                claimed = await queue.claim(
                    session,
                    now=now,
                    limit=self.concurrency,
                    lease_seconds=self.settings.job_lease_seconds,
                )
            if not claimed:
                return ran
            await asyncio.gather(*(self.execute(job) for job in claimed))
            ran += len(claimed)
        return ran


async def drain(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, **kwargs: Any
) -> int:
    """Run every due job to completion in this process (tests, `ticketdesk worker --once`)."""
    return await Worker(sessionmaker, settings, concurrency=kwargs.pop("concurrency", 4)).drain(
        **kwargs
    )
