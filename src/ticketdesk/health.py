"""Liveness, readiness and metrics: the endpoints a load balancer and Prometheus call."""

import asyncio
import logging
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import func, select, text

from ticketdesk import clock, metrics
from ticketdesk.config import Settings
from ticketdesk.errors import NotFound
from ticketdesk.jobs.models import Job, JobStatus

router = APIRouter(tags=["health"])
metrics_router = APIRouter(tags=["health"])
log = logging.getLogger("ticketdesk.health")
READY_WITHIN_SECONDS = 1.5


@router.get("/healthz", operation_id="checkHealth", summary="Is the process up")
async def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


async def _problems(request: Request) -> list[str]:
    state = request.app.state
    now = clock.now()
    async with state.engine.connect() as connection:
        current = await connection.scalar(text("SELECT version_num FROM alembic_version"))
        oldest_due = await connection.scalar(
            select(func.min(Job.run_at)).where(Job.status == JobStatus.QUEUED, Job.run_at <= now)
        )
    problems = []
    # A revision this code does not know is newer (a rolling upgrade is under way): fine.
    if current != state.migration_head and current in state.known_migrations:
        problems.append(
            f"migrations pending (database at {current}, code at {state.migration_head})"
        )
    limit = state.settings.ready_max_job_lag_seconds
    if oldest_due is not None and limit > 0 and (now - oldest_due).total_seconds() > limit:
        lag = int((now - oldest_due).total_seconds())
        problems.append(f"job queue stalled (the oldest due job has waited {lag} s)")
    return problems


@router.get(
    "/readyz",
    operation_id="checkReadiness",
    summary="Is the service ready",
    responses={503: {"description": "Not ready: the database is unreachable or behind."}},
)
async def readyz(request: Request) -> JSONResponse:
    """The database answers (within 1.5 s), holds every migration this code expects, and no
    due job has waited longer than TICKETDESK_READY_MAX_JOB_LAG_SECONDS."""
    try:
        problems = await asyncio.wait_for(_problems(request), READY_WITHIN_SECONDS)
    except Exception as error:
        log.warning("not ready: %s", type(error).__name__)
        return JSONResponse({"status": "unavailable", "problems": ["database unreachable"]}, 503)
    if problems:
        return JSONResponse({"status": "unavailable", "problems": problems}, 503)
    return JSONResponse({"status": "ok"})


@metrics_router.get("/metrics", include_in_schema=False)
async def prometheus(request: Request) -> Response:
    """Prometheus text format, for TICKETDESK_METRICS_ALLOW_IPS only (others get a 404)."""
    settings: Settings = request.app.state.settings
    networks = [n.strip() for n in settings.metrics_allow_ips.split(",") if n.strip()]
    client = request.client.host if request.client else None
    if not metrics.allowed(client, networks):
        raise NotFound("not found")
    body: Any = metrics.request_metrics()
    body += await metrics.database_gauges(request.app.state.engine, clock.now())
    return Response(body, media_type=metrics.CONTENT_TYPE)
