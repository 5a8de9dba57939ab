"""Putting work on the queue, claiming it, and recording how it ended."""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, delete, exists, func, or_, select, update
from sqlalchemy import event as sa_event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from ticketdesk import clock
from ticketdesk.events.service import plain
from ticketdesk.jobs.models import Checkpoint, Job, JobStatus

ENQUEUED = "ticketdesk_jobs_enqueued"
AT_COMMIT = "ticketdesk_jobs_at_commit"
# Backoff of a failed attempt: 10 s, 20 s, 40 s … at most an hour.
BACKOFF_BASE_SECONDS = 10.0
BACKOFF_MAX_SECONDS = 3600.0


def _insert(session: AsyncSession) -> Any:
    dialect = session.get_bind().dialect.name
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def _row(
    kind: str,
    payload: dict[str, Any] | None,
    *,
    key: str | None,
    run_at: datetime | None,
    max_attempts: int | None,
) -> dict[str, Any]:
    """A queued job's row, attempts from its handler unless given."""
    from ticketdesk.jobs.registry import HANDLERS

    registered = HANDLERS.get(kind)
    now = clock.now()
    return {
        "kind": kind,
        "key": key,
        "payload": plain(payload or {}),
        "status": JobStatus.QUEUED,
        "attempts": 0,
        "max_attempts": max_attempts or (registered.max_attempts if registered else 5),
        "run_at": run_at or now,
        "created_at": now,
    }


async def enqueue(
    session: AsyncSession,
    kind: str,
    payload: dict[str, Any] | None = None,
    *,
    run_at: datetime | None = None,
    key: str | None = None,
    max_attempts: int | None = None,
) -> None:
    """Queue a job in the caller's transaction: it exists only if the transaction commits.

    With a `key`, a job with the same key that is still pending makes this a no-op.
    """
    values = _row(kind, payload, key=key, run_at=run_at, max_attempts=max_attempts)
    statement = _insert(session)(Job).values(**values)
    if key is not None:
        statement = statement.on_conflict_do_nothing(index_elements=["key"])
    await session.execute(statement)
    session.sync_session.info[ENQUEUED] = True


def enqueue_at_commit(session: AsyncSession, kind: str, *, key: str) -> None:
    """Queue a keyed job with no payload (a wake-up such as "run the mail sender") as the
    transaction's last write, just before its commit.

    Two transactions inserting the same key queue on each other until the first commits. A
    key shared by many writers, taken mid-transaction, would make every later lock of theirs
    (a ticket's, an assignment rule's) part of one chain that can close into a deadlock. Taken
    last, after every other lock, it only orders the commits.
    """
    session.sync_session.info.setdefault(AT_COMMIT, {})[key] = kind


# A keyed job, unless one with its key is already queued: built once, per dialect.
_INSERT_KEYED = {
    "postgresql": postgresql.insert(Job).on_conflict_do_nothing(index_elements=["key"]),
    "sqlite": sqlite.insert(Job).on_conflict_do_nothing(index_elements=["key"]),
}


@sa_event.listens_for(Session, "before_commit")
def _insert_at_commit(session: Session) -> None:
    wanted: dict[str, str] | None = session.info.pop(AT_COMMIT, None)
    if not wanted:
        return
    insert = _INSERT_KEYED[session.get_bind().dialect.name]
    connection = session.connection()
    for key, kind in sorted(wanted.items()):
        connection.execute(insert, _row(kind, None, key=key, run_at=None, max_attempts=None))
    session.info[ENQUEUED] = True


@sa_event.listens_for(Session, "after_rollback")
def _drop_at_commit(session: Session) -> None:
    session.info.pop(AT_COMMIT, None)


@sa_event.listens_for(Session, "after_soft_rollback")
def _drop_at_commit_soft(session: Session, _previous: Any) -> None:
    session.info.pop(AT_COMMIT, None)


def _due(now: Any) -> Any:
    return or_(
        and_(Job.status == JobStatus.QUEUED, Job.run_at <= now),
        and_(Job.status == JobStatus.RUNNING, Job.lease_until < now),
    )


# The worker's statements for every job, built once with their values bound.
_ANY_DUE = select(exists().where(_due(bindparam("now"))))
_CLAIM = (
    update(Job)
    .where(
        Job.id.in_(
            select(Job.id)
            .where(_due(bindparam("now")))
            .order_by(Job.run_at, Job.id)
            .limit(bindparam("limit"))
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
    )
    .values(
        status=JobStatus.RUNNING,
        attempts=Job.attempts + 1,
        claim=bindparam("token"),
        lease_until=bindparam("until"),
        started_at=bindparam("now"),
    )
    .returning(Job.id, Job.kind, Job.payload, Job.attempts, Job.max_attempts)
    .execution_options(synchronize_session=False)
)
_FINISH = (
    update(Job)
    .where(Job.id == bindparam("job_id"), Job.claim == bindparam("token"))
    .values(
        status=JobStatus.SUCCEEDED,
        finished_at=bindparam("now"),
        key=None,
        claim=None,
        lease_until=None,
        last_error=None,
    )
    .execution_options(synchronize_session=False)
)


async def any_due(session: AsyncSession, now: datetime) -> bool:
    """A cheap read first, so that idle workers never take a write lock."""
    return bool(await session.scalar(_ANY_DUE, {"now": now}))


@dataclass(frozen=True)
class Claimed:
    id: int
    kind: str
    payload: dict[str, Any]
    attempt: int
    max_attempts: int
    claim: str


async def claim(
    session: AsyncSession, *, now: datetime, limit: int, lease_seconds: float
) -> list[Claimed]:
    """Take up to `limit` due jobs (and jobs whose worker's lease ran out) for this worker.

    PostgreSQL: rows other workers are claiming are skipped (FOR UPDATE SKIP LOCKED).
    SQLite: the claiming transaction holds the write lock, so claims take turns.
    """
    token = secrets.token_hex(16)
    params = {
        "now": now,
        "limit": limit,
        "token": token,
        "until": now + timedelta(seconds=lease_seconds),
    }
    rows = (await session.execute(_CLAIM, params)).all()
    return sorted(
        (
            Claimed(row.id, row.kind, row.payload, row.attempts, row.max_attempts, token)
            for row in rows
        ),
        key=lambda job: job.id,
    )


async def extend(
    session: AsyncSession, jobs: list[Claimed], *, now: datetime, lease_seconds: float
) -> None:
    """Keep the leases of jobs still running in this worker."""
    until = now + timedelta(seconds=lease_seconds)
    for job in jobs:
        await session.execute(
            update(Job)
            .where(Job.id == job.id, Job.claim == job.claim, Job.status == JobStatus.RUNNING)
            .values(lease_until=until)
        )


def backoff(attempt: int) -> float:
    return float(min(BACKOFF_BASE_SECONDS * 2 ** (attempt - 1), BACKOFF_MAX_SECONDS))


async def finish(session: AsyncSession, job: Claimed, *, now: datetime) -> bool:
    """Mark a job done; False if its lease was lost to another worker meanwhile."""
    result = await session.execute(_FINISH, {"job_id": job.id, "token": job.claim, "now": now})
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def fail(
    session: AsyncSession,
    job: Claimed,
    error: str,
    *,
    now: datetime,
    retry_in: float | None,
) -> bool:
    """A failed attempt: queued again after `retry_in` seconds, or failed for good (None)."""
    values: dict[str, Any] = {"claim": None, "lease_until": None, "last_error": error[:4000]}
    if retry_in is None:
        values |= {"status": JobStatus.FAILED, "finished_at": now, "key": None}
    else:
        values |= {"status": JobStatus.QUEUED, "run_at": now + timedelta(seconds=retry_in)}
    result = await session.execute(
        update(Job).where(Job.id == job.id, Job.claim == job.claim).values(**values)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def requeue(session: AsyncSession, job: Job, *, now: datetime) -> None:
    """Queue a failed job again, due now, with a fresh set of attempts."""
    job.status, job.run_at, job.attempts, job.finished_at = JobStatus.QUEUED, now, 0, None
    session.sync_session.info[ENQUEUED] = True


async def take_slot(session: AsyncSession, kind: str, slot: int, *, now: datetime) -> bool:
    """True for exactly one caller per (kind, slot): that caller queues the periodic run."""
    name = f"periodic:{kind}"
    value = f"{slot:020d}"  # fixed width, so that text order is number order
    await session.execute(
        _insert(session)(Checkpoint)
        .values(name=name, value=f"{0:020d}", updated_at=now)
        .on_conflict_do_nothing(index_elements=["name"])
    )
    result = await session.execute(
        update(Checkpoint)
        .where(Checkpoint.name == name, Checkpoint.value < value)
        .values(value=value, updated_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def prune(session: AsyncSession, *, now: datetime, keep_days: float) -> int:
    """Forget finished jobs after `keep_days` (failed ones are kept for the admin to see)."""
    result = await session.execute(
        delete(Job).where(
            Job.status == JobStatus.SUCCEEDED,
            Job.finished_at < now - timedelta(days=keep_days),
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def backlog(session: AsyncSession) -> dict[str, int]:
    """Jobs by status (for /metrics and /readyz)."""
    rows = await session.execute(select(Job.status, func.count()).group_by(Job.status))
    return {str(status): int(count) for status, count in rows.all()}


async def oldest_due_age(session: AsyncSession, *, now: datetime) -> float:
    """Seconds the oldest queued, due job has been waiting (0 when none is)."""
    oldest = await session.scalar(
        select(func.min(Job.run_at)).where(Job.status == JobStatus.QUEUED, Job.run_at <= now)
    )
    return max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0
