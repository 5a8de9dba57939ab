"""The application: routers, error handlers, and the lifespan (database, bootstrap, jobs)."""

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.telemetry import TelemetryConfig
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

import ticketdesk.jobs.catalog  # noqa: F401 - registers every job handler
from ticketdesk import __version__, db, health, http, logs, metrics, openapi
from ticketdesk.assignment_rules.router import router as assignment_rules_router
from ticketdesk.attachments.router import router as attachments_router
from ticketdesk.attachments.upload import MultipartUploads
from ticketdesk.auth import passwords, ratelimit, security, throttle
from ticketdesk.auth import service as accounts
from ticketdesk.auth.models import Role
from ticketdesk.auth.ratelimit import RateLimiter
from ticketdesk.auth.router import router as auth_router
from ticketdesk.auth.router import users_router
from ticketdesk.auth.schemas import UserCreate
from ticketdesk.comments.router import router as comments_router
from ticketdesk.config import Settings, get_settings
from ticketdesk.custom_fields.router import router as custom_fields_router
from ticketdesk.errors import Conflict, DomainError, Invalid, Throttled, Unauthorized
from ticketdesk.events.router import router as events_router
from ticketdesk.idempotency.middleware import Idempotency
from ticketdesk.jobs.router import router as jobs_router
from ticketdesk.jobs.worker import Worker
from ticketdesk.macros.router import router as macros_router
from ticketdesk.mail import config as mail_config
from ticketdesk.mail.router import preferences_router as mail_preferences_router
from ticketdesk.mail.router import router as mail_router
from ticketdesk.organizations.router import router as organizations_router
from ticketdesk.privacy.router import router as privacy_router
from ticketdesk.satisfaction.router import pages as satisfaction_pages
from ticketdesk.satisfaction.router import router as satisfaction_router
from ticketdesk.search.router import router as search_router
from ticketdesk.sla.router import router as sla_router
from ticketdesk.stats.router import router as stats_router
from ticketdesk.ticket_templates.router import router as ticket_templates_router
from ticketdesk.tickets.router import router as tickets_router
from ticketdesk.web import router as web
from ticketdesk.webhooks.router import router as webhooks_router

if TYPE_CHECKING:
    from redis.asyncio import Redis

API_PREFIX = "/api/v1"


class StripTrailingSlash:
    """`/tickets/` and `/tickets` are the same route, without a redirect."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and len(path) > 1 and path.endswith("/"):
            # In place: the edge around this reads the matched route from the same scope.
            scope["path"] = path.rstrip("/") or "/"
        await self.app(scope, receive, send)


class StartupError(RuntimeError):
    """A configuration the service refuses to start with; the message says what to fix."""


def bootstrap_admin_data(settings: Settings) -> UserCreate | None:
    """TICKETDESK_ADMIN_* checked by the API's own rules for a new user."""
    if not (settings.admin_email and settings.admin_password):
        return None
    try:
        data = UserCreate(
            email=settings.admin_email,
            password=settings.admin_password,
            full_name=settings.admin_name,
            role=Role.SUPER_ADMIN,
        )
    except ValidationError as error:
        problem = error.errors(include_input=False)[0]
        field = {"email": "EMAIL", "password": "PASSWORD", "full_name": "NAME"}.get(
            str(problem["loc"][0]), str(problem["loc"][0]).upper()
        )
        raise StartupError(f"TICKETDESK_ADMIN_{field}: {problem['msg']}") from None
    weak = passwords.weakness(data.password, email=data.email, full_name=data.full_name)
    if weak:
        raise StartupError(f"TICKETDESK_ADMIN_PASSWORD: {weak}")
    return data


async def _bootstrap_admin(app: FastAPI, data: UserCreate | None) -> None:
    if data is None:
        return
    database: db.Database = app.state.database
    async with database.read() as session:
        if await accounts.find_by_email(session, data.email) is not None:
            return
    password_hash = await security.hash_password(data.password)
    # Another process may create it at the same moment: then there is nothing left to do.
    with contextlib.suppress(Conflict):
        async with database.write() as session:
            await accounts.ensure_admin(
                session, email=data.email, password_hash=password_hash, full_name=data.full_name
            )


log = logging.getLogger("ticketdesk")
# Seconds a throttle or rate-limit call waits for Redis before the database stands in.
REDIS_TIMEOUT = 2.0


async def _share_rate_counts(app: FastAPI) -> None:
    """Add this process's request counts to the shared ones about once a second."""
    limiter: RateLimiter = app.state.rate_limiter
    while True:
        await asyncio.sleep(1)
        try:
            await limiter.sync(app.state.rate_counts)
        except Exception:
            log.warning("could not share the rate-limit counts", exc_info=True)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    admin = bootstrap_admin_data(settings)
    url = settings.effective_database_url
    log.info(
        "ticketdesk %s starting: database %s, data folder %s",
        __version__,
        db.describe(url),
        settings.data_dir,
    )
    engine = db.create_engine(url, timeout=settings.db_timeout_seconds)
    app.state.engine = engine
    app.state.sessionmaker = db.make_sessionmaker(engine)
    app.state.read_sessionmaker = db.make_read_sessionmaker(engine)
    app.state.database = db.Database(app.state.sessionmaker, app.state.read_sessionmaker)
    redis = _shared_counts(app, settings)
    await db.migrate(engine)
    app.state.migration_head, app.state.known_migrations = db.migration_head()
    await _bootstrap_admin(app, admin)
    stop, runner = asyncio.Event(), None
    if settings.worker:
        worker = Worker(
            app.state.sessionmaker, settings, read_sessionmaker=app.state.read_sessionmaker
        )
        app.state.worker = worker
        runner = asyncio.create_task(worker.run(stop))
    sharing = None
    if settings.rate_limit_per_minute > 0:
        sharing = asyncio.create_task(_share_rate_counts(app))
    try:
        yield
    finally:
        if sharing is not None:
            sharing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sharing
        if runner is not None:
            stop.set()
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(runner, settings.shutdown_seconds + 5)
        if redis is not None:
            await redis.aclose()
        await engine.dispose()


def _shared_counts(app: FastAPI, settings: Settings) -> "Redis | None":
    """Where throttles and rate limits are counted for every process: the database, or Redis
    when TICKETDESK_REDIS_URL is set (the database then stands in while Redis is away). The
    Redis client, if any, is returned for closing."""
    throttles = throttle.InDatabase(app.state.database)
    counts = ratelimit.CountsInDatabase(app.state.database)
    app.state.throttles, app.state.rate_counts = throttles, counts
    if not settings.redis_url:
        return None
    from redis.asyncio import Redis

    # Short timeouts: a login waits for Redis before falling back to the database.
    client = Redis.from_url(
        settings.redis_url, socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT
    )
    prefix = settings.redis_prefix
    app.state.throttles = throttle.InRedis(client, throttles, prefix=prefix)
    app.state.rate_counts = ratelimit.CountsInRedis(client, counts, prefix=prefix)
    log.info("throttles and rate limits: Redis at %s", db.describe(settings.redis_url))
    return client


def _render_domain_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    headers = {}
    if isinstance(exc, Unauthorized):
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(exc, Throttled):
        headers["Retry-After"] = str(exc.retry_after)
    content: dict[str, Any] = {"detail": exc.detail}
    if isinstance(exc, Invalid):
        # FastAPI's validation shape, naming the field.
        content = {
            "detail": [{"type": "value_error", "loc": [exc.location, exc.field], "msg": exc.detail}]
        }
    return JSONResponse(content, status_code=exc.status_code, headers=headers)


# FastAPI's own OpenTelemetry hooks ask the global providers on every request whether anyone
# listens. Off unless the process is set up for OpenTelemetry (any OTEL_* variable, as
# `opentelemetry-instrument` and the OTLP exporters read them).
NO_TELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}


def _opentelemetry_configured() -> bool:
    return any(name.startswith("OTEL_") for name in os.environ)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="ticketdesk",
        summary="Support tickets: customers file them, support staff answer them.",
        version=__version__,
        # The docs pages are openapi.pages, served without any outside network.
        docs_url=None,
        redoc_url=None,
        openapi_url=openapi.OPENAPI_URL,
        lifespan=lifespan,
        redirect_slashes=False,
        generate_unique_id_function=openapi.operation_id,
        telemetry=None if _opentelemetry_configured() else NO_TELEMETRY,
    )
    app.state.settings = settings
    app.state.signing_key = settings.signing_key()
    mail_config.configure(settings)
    app.state.rate_limiter = (
        RateLimiter(settings.rate_limit_per_minute) if settings.rate_limit_per_minute > 0 else None
    )
    app.add_exception_handler(DomainError, _render_domain_error)
    app.add_exception_handler(RequestValidationError, http.render_validation_error)
    app.add_exception_handler(StarletteHTTPException, http.render_http_error)
    # Matched in this order, one route after another: the most requested routes come first
    # (tests/test_routing.py checks that no route hides another).
    routers = (
        tickets_router,
        comments_router,
        sla_router,
        auth_router,
        users_router,
        stats_router,
        events_router,
        jobs_router,
        mail_router,
        mail_preferences_router,
        attachments_router,
        search_router,
        webhooks_router,
    )
    # Agent productivity: macros, ticket templates, auto-assignment rules, custom fields.
    productivity = (macros_router, ticket_templates_router, assignment_rules_router)
    # Customers: organizations, satisfaction, data protection.
    customers = (organizations_router, satisfaction_router, privacy_router)
    for router in (*routers, *productivity, custom_fields_router, *customers):
        app.include_router(router, prefix=API_PREFIX)
    app.include_router(health.router)
    app.include_router(satisfaction_pages)
    app.include_router(openapi.pages)
    if settings.metrics:
        app.include_router(health.metrics_router)
    app.openapi = openapi.documented(app)  # type: ignore[method-assign]
    app.add_middleware(MultipartUploads, settings=settings)
    web.install(app)
    app.add_middleware(Idempotency)

    app.add_middleware(StripTrailingSlash)
    app.add_middleware(
        http.Edge,
        max_body_bytes=settings.max_body_kb * 1024,
        observe=metrics.observe if settings.metrics else None,
    )
    return app


def serve_app() -> FastAPI:
    """The app as `ticketdesk serve` runs it: logging configured in every worker process."""
    settings = get_settings()
    logs.configure(settings.log_format, level=settings.log_level, access_log=settings.access_log)
    return create_app(settings)
