"""The job queue in one process: runs, retries with backoff, failures, keys, periodic slots,
leases, and the admin endpoints."""

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.factories import API, in_db, run_jobs
from tests.jobs import handlers
from ticketdesk import db, jobs
from ticketdesk.jobs import queue, registry
from ticketdesk.jobs.models import Checkpoint, Job, JobStatus
from ticketdesk.jobs.worker import Worker

calls: list[Any] = []


@jobs.handler("test.flaky", max_attempts=3)
async def flaky(ctx: jobs.JobContext, payload: dict[str, Any]) -> None:
    calls.append(("flaky", ctx.attempt))
    if ctx.attempt <= payload.get("failures", 99):
        raise RuntimeError(f"attempt {ctx.attempt} went wrong")


@jobs.handler("test.later")
async def later(ctx: jobs.JobContext, payload: dict[str, Any]) -> None:
    calls.append(("later", ctx.attempt))
    if ctx.attempt == 1:
        raise jobs.RetryLater(30, "the remote end asked us to wait")


@jobs.handler("test.hopeless")
async def hopeless(ctx: jobs.JobContext, payload: dict[str, Any]) -> None:
    calls.append(("hopeless", ctx.attempt))
    raise jobs.PermanentFailure("the address does not exist")


@jobs.periodic("test.tick", every=60)
async def tick(ctx: jobs.JobContext, payload: dict[str, Any]) -> None:
    calls.append(("tick", payload["slot"]))


@pytest.fixture(autouse=True)
def schedules():
    calls.clear()
    # No periodic work but what a test asks for: the product's would add jobs to the counts.
    saved = dict(registry.SCHEDULES)
    registry.SCHEDULES.clear()
    yield saved
    registry.SCHEDULES.clear()
    registry.SCHEDULES.update(saved)


def enqueue(client, kind, payload=None, **options):
    async def _enqueue(session):
        await jobs.enqueue(session, kind, payload, **options)

    in_db(client, _enqueue)


def all_jobs(client, kind=None):
    async def _read(session):
        query = select(Job).order_by(Job.id)
        if kind:
            query = query.where(Job.kind == kind)
        return list(await session.scalars(query))

    return in_db(client, _read)


def marks(client):
    async def _read(session):
        query = select(Checkpoint.name).where(Checkpoint.name.like("mark:%"))
        return list(await session.scalars(query))

    return in_db(client, _read)


def test_a_job_runs_once_and_succeeds(client, fake_clock):
    enqueue(client, handlers.MARK, {"sleep": 0})
    assert run_jobs(client) == 1
    [job] = all_jobs(client, handlers.MARK)
    assert (job.status, job.attempts, job.last_error) == (JobStatus.SUCCEEDED, 1, None)
    assert job.finished_at == fake_clock.current
    assert len(marks(client)) == 1
    assert run_jobs(client) == 0


def test_failures_back_off_then_fail_for_good(client, fake_clock):
    enqueue(client, "test.flaky")
    run_jobs(client)
    [job] = all_jobs(client, "test.flaky")
    assert job.status == JobStatus.QUEUED and job.attempts == 1
    assert "attempt 1 went wrong" in job.last_error
    assert (job.run_at - fake_clock.current).total_seconds() == queue.backoff(1) == 10
    run_jobs(client)  # not due yet
    assert calls == [("flaky", 1)]
    fake_clock.advance(seconds=10)
    run_jobs(client)
    fake_clock.advance(seconds=20)
    run_jobs(client)
    assert calls == [("flaky", 1), ("flaky", 2), ("flaky", 3)]
    [job] = all_jobs(client, "test.flaky")
    assert job.status == JobStatus.FAILED and job.attempts == 3
    assert "attempt 3 went wrong" in job.last_error
    fake_clock.advance(days=1)
    run_jobs(client)
    assert len(calls) == 3


def test_a_job_that_succeeds_on_a_retry(client, fake_clock):
    enqueue(client, "test.flaky", {"failures": 1})
    run_jobs(client)
    fake_clock.advance(seconds=10)
    run_jobs(client)
    [job] = all_jobs(client, "test.flaky")
    assert (job.status, job.attempts, job.last_error) == (JobStatus.SUCCEEDED, 2, None)


def test_retry_later_and_permanent_failure(client, fake_clock):
    enqueue(client, "test.later")
    enqueue(client, "test.hopeless")
    run_jobs(client)
    later_job, hopeless_job = (
        all_jobs(client, "test.later")[0],
        all_jobs(client, "test.hopeless")[0],
    )
    assert later_job.status == JobStatus.QUEUED
    assert (later_job.run_at - fake_clock.current).total_seconds() == 30
    assert hopeless_job.status == JobStatus.FAILED and hopeless_job.attempts == 1
    assert hopeless_job.last_error == "the address does not exist"
    fake_clock.advance(seconds=30)
    run_jobs(client)
    assert all_jobs(client, "test.later")[0].status == JobStatus.SUCCEEDED
    assert calls.count(("hopeless", 1)) == 1


def test_a_key_queues_one_job_while_it_is_pending(client):
    for _ in range(3):
        enqueue(client, handlers.MARK, key="send:42")
    assert len(all_jobs(client, handlers.MARK)) == 1
    run_jobs(client)
    enqueue(client, handlers.MARK, key="send:42")  # done: the key is free again
    assert len(all_jobs(client, handlers.MARK)) == 2


def test_a_rolled_back_transaction_queues_nothing(client):
    maker = client.app.state.sessionmaker

    async def _enqueue_then_fail():
        async with maker() as session:
            await jobs.enqueue(session, handlers.MARK, {})
            await session.rollback()

    client.portal.call(_enqueue_then_fail)
    assert all_jobs(client) == []


def test_a_job_queued_at_commit_is_written_last_once_per_key(client):
    """`enqueue_at_commit`: nothing in the table while the transaction runs (so the shared
    key's lock is not held across the transaction's other locks); one row at its commit."""
    maker = client.app.state.sessionmaker

    async def _queue_then_look():
        async with maker() as session:
            for _ in range(3):
                jobs.enqueue_at_commit(session, handlers.MARK, key="wake:mail")
            inside = await session.scalar(select(func.count()).select_from(Job))
            await session.commit()
            return inside

    assert client.portal.call(_queue_then_look) == 0
    assert [(j.kind, j.key, j.status) for j in all_jobs(client)] == [
        (handlers.MARK, "wake:mail", JobStatus.QUEUED)
    ]
    # A pending job of the key makes the next one a no-op; a rollback queues nothing.
    client.portal.call(_queue_then_look)

    async def _queue_then_fail():
        async with maker() as session:
            jobs.enqueue_at_commit(session, handlers.MARK, key="wake:other")
            await session.rollback()

    client.portal.call(_queue_then_fail)
    assert [j.key for j in all_jobs(client)] == ["wake:mail"]


def test_periodic_work_runs_once_per_slot_across_workers(
    client, database_url, fake_clock, schedules
):
    registry.SCHEDULES["test.tick"] = schedules["test.tick"]
    fake_clock.set(fake_clock.current.replace(second=5))

    async def two_workers():
        engines = [db.create_engine(database_url), db.create_engine(database_url)]
        workers = [
            Worker(db.make_sessionmaker(engine), client.app.state.settings) for engine in engines
        ]
        try:
            ran = [await asyncio.gather(*(w.drain() for w in workers))]
            fake_clock.advance(seconds=30)  # same minute
            ran.append(await asyncio.gather(*(w.drain() for w in workers)))
            fake_clock.advance(seconds=30)  # the next minute
            ran.append(await asyncio.gather(*(w.drain() for w in workers)))
            return ran
        finally:
            for engine in engines:
                await engine.dispose()

    client.portal.call(two_workers)
    slots = [slot for name, slot in calls if name == "tick"]
    assert len(slots) == 2 and slots[1] == slots[0] + 1


def test_a_lapsed_lease_lets_another_worker_finish_the_job(client, fake_clock):
    enqueue(client, handlers.MARK)
    maker = client.app.state.sessionmaker

    async def claim(lease):
        async with db.session_scope(maker) as session:
            return await queue.claim(session, now=fake_clock.current, limit=5, lease_seconds=lease)

    [held] = client.portal.call(claim, 60)
    assert client.portal.call(claim, 60) == []  # still leased
    fake_clock.advance(seconds=61)
    run_jobs(client)  # the first worker is gone: another takes the job
    [job] = all_jobs(client, handlers.MARK)
    assert (job.status, job.attempts) == (JobStatus.SUCCEEDED, 2)

    async def late_finish():
        async with db.session_scope(maker) as session:
            return await queue.finish(session, held, now=fake_clock.current)

    assert client.portal.call(late_finish) is False  # the lost lease cannot finish it again
    assert len(marks(client)) == 1


@pytest.mark.parametrize("role", ["anonymous", "individual", "enterprise", "sub_user", "agent"])
def test_only_the_super_admin_sees_and_retries_jobs(client, people, role):
    enqueue(client, "test.hopeless")
    run_jobs(client)
    [job] = all_jobs(client, "test.hopeless")
    headers = {} if role == "anonymous" else people[role].headers
    expected = 401 if role == "anonymous" else 403
    assert client.get(f"{API}/jobs", headers=headers).status_code == expected
    assert client.post(f"{API}/jobs/{job.id}/retry", headers=headers).status_code == expected


def test_failed_jobs_are_listed_and_retried(client, people, fake_clock):
    admin = people["super_admin"].headers
    enqueue(client, "test.hopeless")
    enqueue(client, handlers.MARK)
    run_jobs(client)
    response = client.get(f"{API}/jobs", params={"status": "failed"}, headers=admin)
    assert response.status_code == 200
    [listed] = response.json()
    assert listed["kind"] == "test.hopeless" and listed["status"] == "failed"
    assert set(listed) == {
        "id",
        "kind",
        "status",
        "attempts",
        "last_error",
        "run_at",
        "created_at",
        "finished_at",
    }
    response = client.post(f"{API}/jobs/{listed['id']}/retry", headers=admin)
    assert response.status_code == 200
    assert response.json()["status"] == "queued" and response.json()["attempts"] == 0
    run_jobs(client)
    assert calls.count(("hopeless", 1)) == 2
    succeeded = [j for j in all_jobs(client) if j.status == JobStatus.SUCCEEDED]
    response = client.post(f"{API}/jobs/{succeeded[0].id}/retry", headers=admin)
    assert response.status_code == 409
    assert client.post(f"{API}/jobs/999999/retry", headers=admin).status_code == 404
    assert client.get(f"{API}/jobs", params={"status": "bogus"}, headers=admin).status_code == 422


def test_finished_jobs_are_pruned_after_a_day(client, fake_clock):
    enqueue(client, handlers.MARK)
    enqueue(client, "test.hopeless")
    run_jobs(client)
    fake_clock.advance(days=2)

    async def _prune(session):
        return await queue.prune(session, now=fake_clock.current, keep_days=1)

    assert in_db(client, _prune) == 1
    assert [j.kind for j in all_jobs(client)] == ["test.hopeless"]

    async def _count(session):
        return await session.scalar(select(func.count()).select_from(Job))

    assert in_db(client, _count) == 1
