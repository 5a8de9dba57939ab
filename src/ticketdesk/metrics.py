"""Prometheus metrics: requests by route and status with latency histograms (counted in each
process; several `--workers` share a PROMETHEUS_MULTIPROC_DIR), and gauges read from the
database when scraped (connection pool, job queue, outbox and webhook backlogs, SLA breaches)."""

import ipaddress
import os
from datetime import datetime
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as prometheus_multiprocess
from sqlalchemy import func, inspect, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from ticketdesk.jobs.models import Job, JobStatus

REGISTRY = CollectorRegistry(auto_describe=True)
REQUESTS = Counter(
    "ticketdesk_http_requests",
    "HTTP requests answered, by route template and status.",
    ("method", "route", "status"),
    registry=REGISTRY,
)
LATENCY = Histogram(
    "ticketdesk_http_request_duration_seconds",
    "Time to answer a request, by route template.",
    ("method", "route"),
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=REGISTRY,
)
CONTENT_TYPE = CONTENT_TYPE_LATEST


def observe(method: str, route: str, status: int, seconds: float) -> None:
    REQUESTS.labels(method, route, str(status)).inc()
    LATENCY.labels(method, route).observe(seconds)


def allowed(client: str | None, networks: list[str]) -> bool:
    """The scraper's address is in one of the allowed networks."""
    if client is None:
        return False
    try:
        address = ipaddress.ip_address(client)
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(net, strict=False) for net in networks)


async def _table_names(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as connection:
        names = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
    return set(names)


async def database_gauges(engine: AsyncEngine, now: datetime) -> bytes:
    """Gauges computed at scrape time from the database and the pool."""
    registry = CollectorRegistry()
    pool = engine.pool
    in_use = Gauge(
        "ticketdesk_db_connections_in_use", "Pooled connections checked out.", registry=registry
    )
    in_use.set(getattr(pool, "checkedout", lambda: 0)())
    size = Gauge("ticketdesk_db_pool_size", "Connections the pool keeps.", registry=registry)
    size.set(getattr(pool, "size", lambda: 0)())
    tables = await _table_names(engine)
    async with engine.connect() as connection:
        breached = Gauge(
            "ticketdesk_sla_breached_tickets",
            "Active tickets past their resolution due time.",
            registry=registry,
        )
        breached.set(
            await connection.scalar(
                text(
                    "SELECT count(*) FROM tickets WHERE status NOT IN ('resolved', 'closed')"
                    " AND resolution_due_at < :now"
                ),
                {"now": now},
            )
            or 0
        )
        if "jobs" in tables:
            await _job_gauges(connection, registry, now)
        for table, help_text in (
            ("mail_outbox", "Mails waiting to be sent."),
            ("webhook_deliveries", "Webhook deliveries waiting to be made."),
        ):
            if table in tables:
                await _backlog_gauge(connection, registry, table, help_text)
    return generate_latest(registry)


async def _job_gauges(connection: Any, registry: CollectorRegistry, now: datetime) -> None:
    jobs = Gauge(
        "ticketdesk_jobs", "Jobs by kind and status.", ("kind", "status"), registry=registry
    )
    rows = await connection.execute(
        select(Job.kind, Job.status, func.count()).group_by(Job.kind, Job.status)
    )
    for kind, status, count in rows:
        jobs.labels(kind, str(status)).set(count)
    oldest = await connection.scalar(
        select(func.min(Job.run_at)).where(Job.status == JobStatus.QUEUED, Job.run_at <= now)
    )
    age = Gauge(
        "ticketdesk_jobs_oldest_due_seconds",
        "How long the oldest due, queued job has waited (0: none waiting).",
        registry=registry,
    )
    age.set(max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0)


async def _backlog_gauge(
    connection: Any, registry: CollectorRegistry, table: str, help_text: str
) -> None:
    gauge = Gauge(f"ticketdesk_{table}_backlog", help_text, registry=registry)
    gauge.set(await connection.scalar(text(f"SELECT count(*) FROM {table}")) or 0)


def request_metrics() -> bytes:
    """This process's request metrics, or every process's when they share a directory."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        prometheus_multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest(REGISTRY)
