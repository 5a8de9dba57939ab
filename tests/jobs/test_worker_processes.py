"""Real `ticketdesk worker` processes on one database: each job runs once, and a worker killed
in the middle of a job loses it only until its lease runs out."""

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.conftest import TEST_SECRET
from tests.jobs import handlers
from ticketdesk import db, jobs
from ticketdesk.jobs.models import Checkpoint, Job, JobStatus

ROOT = Path(__file__).resolve().parents[2]
# The real command, with the test handlers registered first.
WORKER = [
    sys.executable,
    "-c",
    "import tests.jobs.handlers; from ticketdesk.cli import app; app()",
    "worker",
]


@pytest.fixture
def start_worker(database_url: str, tmp_path: Path) -> Iterator:
    started: list[subprocess.Popen[bytes]] = []

    def start(**env: str) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            WORKER,
            cwd=ROOT,
            env={
                **os.environ,
                "PYTHONPATH": str(ROOT),
                "TICKETDESK_DATABASE_URL": database_url,
                "TICKETDESK_SECRET_KEY": TEST_SECRET,
                "TICKETDESK_DATA_DIR": str(tmp_path),
                "TICKETDESK_WORKER_POLL_SECONDS": "0.2",
                **env,
            },
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def _run(database_url: str, work):
    async def _go():
        engine = db.create_engine(database_url)
        try:
            async with db.session_scope(db.make_sessionmaker(engine)) as session:
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(_go())


def _enqueue(database_url: str, count: int, sleep: float) -> None:
    async def work(session):
        for _ in range(count):
            await jobs.enqueue(session, handlers.MARK, {"sleep": sleep})

    _run(database_url, work)


def _state(database_url: str):
    async def work(session):
        found = list(await session.scalars(select(Job).where(Job.kind == handlers.MARK)))
        names = await session.scalars(select(Checkpoint.name).where(Checkpoint.name.like("mark:%")))
        return found, [int(name.split(":")[1]) for name in names]

    return _run(database_url, work)


def _wait_for(predicate, timeout: float = 90.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError("timed out")


def test_two_worker_processes_run_each_job_once(database_url, start_worker):
    _enqueue(database_url, 60, 0.05)
    start_worker(TICKETDESK_WORKER_CONCURRENCY="3")
    start_worker(TICKETDESK_WORKER_CONCURRENCY="3")

    def all_done():
        found, runs = _state(database_url)
        return (found, runs) if all(j.status == JobStatus.SUCCEEDED for j in found) else None

    found, runs = _wait_for(all_done)
    assert len(found) == 60
    assert sorted(runs) == sorted(job.id for job in found)  # one finished run per job
    assert {job.attempts for job in found} == {1}  # no job was ever claimed twice


def test_a_killed_worker_loses_its_job_only_until_the_lease_ends(database_url, start_worker):
    _enqueue(database_url, 1, 4.0)
    lease = {"TICKETDESK_JOB_LEASE_SECONDS": "2"}
    first = start_worker(**lease)

    def running():
        found, _ = _state(database_url)
        return found[0].status == JobStatus.RUNNING

    _wait_for(running)
    time.sleep(1.0)  # in the middle of the job's 4 seconds
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    start_worker(**lease)

    def done():
        found, runs = _state(database_url)
        return (found, runs) if found[0].status == JobStatus.SUCCEEDED else None

    [job], runs = _wait_for(done)
    assert job.attempts == 2
    assert runs == [job.id]  # it finished once: the killed run never did
