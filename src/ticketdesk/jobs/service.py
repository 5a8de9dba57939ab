"""The job queue seen by the super_admin: what ran, what failed, and retrying a failure."""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ticketdesk.auth import policy
from ticketdesk.auth.models import User
from ticketdesk.errors import Conflict, NotFound
from ticketdesk.jobs import queue
from ticketdesk.jobs.models import Job, JobStatus


async def list_jobs(
    session: AsyncSession,
    actor: User,
    *,
    status: JobStatus | None = None,
    kind: str | None = None,
    page: int = 1,
    page_size: int = 50,
) -> list[Job]:
    """Newest first."""
    policy.require_super_admin(actor)
    query = select(Job).order_by(Job.id.desc()).limit(page_size).offset((page - 1) * page_size)
    if status is not None:
        query = query.where(Job.status == status)
    if kind is not None:
        query = query.where(Job.kind == kind)
    return list(await session.scalars(query))


async def retry_job(session: AsyncSession, actor: User, job_id: int, *, now: datetime) -> Job:
    """Only a failed job goes back to the queue, with a fresh set of attempts."""
    policy.require_super_admin(actor)
    job = await session.get(Job, job_id, with_for_update=True)
    if job is None:
        raise NotFound("job not found")
    if job.status != JobStatus.FAILED:
        raise Conflict(f"only a failed job can be retried; this one is {job.status}")
    queue.requeue(session, job, now=now)
    await session.flush()
    return job
