from typing import Annotated

from fastapi import APIRouter, Path, Query
from sqlalchemy import select

from ticketdesk import clock
from ticketdesk.auth import policy
from ticketdesk.auth.dependencies import CurrentUser, require_scope
from ticketdesk.auth.scopes import Scope
from ticketdesk.db import ReadSession, WriteSession
from ticketdesk.errors import Conflict, NotFound
from ticketdesk.jobs import queue
from ticketdesk.jobs.models import Job, JobStatus
from ticketdesk.jobs.schemas import JobRead
from ticketdesk.openapi import errors
from ticketdesk.validation import MAX_ID

# API tokens: admin.
router = APIRouter(tags=["jobs"], dependencies=[require_scope(Scope.ADMIN)])


@router.get("/jobs", summary="List background jobs", operation_id="listJobs")
async def list_jobs(
    session: ReadSession,
    actor: CurrentUser,
    status: JobStatus | None = None,
    kind: str | None = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=100)] = 50,
) -> list[JobRead]:
    """Background jobs, newest first (super_admin): `?status=failed` for what needs a look."""
    policy.require_super_admin(actor)
    query = select(Job).order_by(Job.id.desc()).limit(page_size).offset((page - 1) * page_size)
    if status is not None:
        query = query.where(Job.status == status)
    if kind is not None:
        query = query.where(Job.kind == kind)
    return [JobRead.model_validate(job) for job in await session.scalars(query)]


@router.post(
    "/jobs/{job_id}/retry",
    responses=errors(409),
    summary="Retry a failed job",
    operation_id="retryJob",
)
async def retry_job(
    session: WriteSession, actor: CurrentUser, job_id: Annotated[int, Path(ge=1, le=MAX_ID)]
) -> JobRead:
    """Queue a failed job again, with a fresh set of attempts (super_admin)."""
    policy.require_super_admin(actor)
    job = await session.get(Job, job_id, with_for_update=True)
    if job is None:
        raise NotFound("job not found")
    if job.status != JobStatus.FAILED:
        raise Conflict(f"only a failed job can be retried; this one is {job.status}")
    queue.requeue(session, job, now=clock.now())
    await session.flush()
    return JobRead.model_validate(job)
