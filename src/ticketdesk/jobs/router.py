from typing import Annotated

from fastapi import APIRouter, Path, Query

from ticketdesk import clock
from ticketdesk.auth.dependencies import ApiRoute, CurrentUser, require_scope
from ticketdesk.auth.scopes import Scope
from ticketdesk.db import ReadSession, WriteSession
from ticketdesk.jobs import service as jobs
from ticketdesk.jobs.models import JobStatus
from ticketdesk.jobs.schemas import JobRead
from ticketdesk.openapi import errors
from ticketdesk.validation import MAX_ID

# API tokens: admin.
router = APIRouter(route_class=ApiRoute, tags=["jobs"], dependencies=[require_scope(Scope.ADMIN)])


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
    rows = await jobs.list_jobs(
        session, actor, status=status, kind=kind, page=page, page_size=page_size
    )
    return [JobRead.model_validate(job) for job in rows]


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
    return JobRead.model_validate(await jobs.retry_job(session, actor, job_id, now=clock.now()))
