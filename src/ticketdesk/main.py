"""The application: routers, error handlers, and the lifespan (database, bootstrap, jobs)."""

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from starlette.types import ASGIApp, Receive, Scope, Send

import ticketdesk.jobs.catalog  # noqa: F401 - registers every job handler
from ticketdesk import db
from ticketdesk.auth import security
from ticketdesk.auth import service as accounts
from ticketdesk.auth.models import Role
from ticketdesk.auth.router import router as auth_router
from ticketdesk.auth.router import users_router
from ticketdesk.auth.schemas import UserCreate
from ticketdesk.comments.router import router as comments_router
from ticketdesk.config import Settings, get_settings
from ticketdesk.errors import Conflict, DomainError, Invalid, Throttled, Unauthorized
from ticketdesk.events.router import router as events_router
from ticketdesk.jobs.router import router as jobs_router
from ticketdesk.jobs.worker import Worker
from ticketdesk.sla.router import router as sla_router
from ticketdesk.stats.router import router as stats_router
from ticketdesk.tickets.router import router as tickets_router
from ticketdesk.webhooks.router import router as webhooks_router

API_PREFIX = "/api/v1"


class StripTrailingSlash:
    """`/tickets/` and `/tickets` are the same route, without a redirect."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and len(path) > 1 and path.endswith("/"):
            scope = dict(scope, path=path.rstrip("/") or "/")
        await self.app(scope, receive, send)


class StartupError(RuntimeError):
    """A configuration the service refuses to start with; the message says what to fix."""


def bootstrap_admin_data(settings: Settings) -> UserCreate | None:
    """TICKETDESK_ADMIN_* checked by the API's own rules for a new user."""
    if not (settings.admin_email and settings.admin_password):
        return None
    try:
        return UserCreate(
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


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    admin = bootstrap_admin_data(settings)
    engine = db.create_engine(settings.effective_database_url)
    app.state.engine = engine
    app.state.sessionmaker = db.make_sessionmaker(engine)
    app.state.read_sessionmaker = db.make_read_sessionmaker(engine)
    app.state.database = db.Database(app.state.sessionmaker, app.state.read_sessionmaker)
    await db.migrate(engine)
    await _bootstrap_admin(app, admin)
    stop, runner = asyncio.Event(), None
    if settings.worker:
        worker = Worker(
            app.state.sessionmaker, settings, read_sessionmaker=app.state.read_sessionmaker
        )
        app.state.worker = worker
        runner = asyncio.create_task(worker.run(stop))
    try:
        yield
    finally:
        if runner is not None:
            stop.set()
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(runner, settings.shutdown_seconds + 5)
        await engine.dispose()


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


class _AsciiJSONResponse(JSONResponse):
    """JSON with non-ASCII escaped: a rejected input may hold text UTF-8 cannot encode."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def _render_validation_error(_request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's 422 shape, safe for any input the client sent (lone surrogates included)."""
    assert isinstance(exc, RequestValidationError)
    return _AsciiJSONResponse({"detail": jsonable_encoder(exc.errors())}, status_code=422)


def _render_integrity_error(_request: Request, _exc: Exception) -> JSONResponse:
    """A unique or foreign-key constraint hit by a concurrent change: nothing was written."""
    return JSONResponse({"detail": "conflicting change, please retry"}, status_code=409)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="ticketdesk",
        summary="Support tickets: customers file them, support staff answer them.",
        version="0.1.0",
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
        lifespan=lifespan,
        redirect_slashes=False,
    )
    app.state.settings = settings
    app.state.signing_key = settings.signing_key()
    app.add_exception_handler(DomainError, _render_domain_error)
    app.add_exception_handler(IntegrityError, _render_integrity_error)
    app.add_exception_handler(RequestValidationError, _render_validation_error)
    routers = (
        auth_router,
        users_router,
        sla_router,
        stats_router,
        tickets_router,
        comments_router,
        events_router,
        jobs_router,
        webhooks_router,
    )
    for router in routers:
        app.include_router(router, prefix=API_PREFIX)

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"])
    async def readyz(request: Request) -> JSONResponse:
        """The database answers."""
        try:
            async with request.app.state.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception:
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ok"})

    app.add_middleware(StripTrailingSlash)
    return app
