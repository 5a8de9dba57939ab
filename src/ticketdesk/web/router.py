"""The web pages: one router per area, static files, and the HTML face of errors."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.staticfiles import StaticFiles
from pydantic import ValidationError
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, Response

from ticketdesk.errors import DomainError, Throttled
from ticketdesk.web.pages import HERE, LoginRequired, field_errors, login_redirect, render
from ticketdesk.web.routes import (
    admin,
    admin_ops,
    admin_settings,
    assets,
    desk,
    files,
    password,
    portal,
    signin,
    stream,
)

PAGE_ROUTERS = (
    signin.router,
    password.router,
    portal.router,
    desk.router,
    files.router,
    stream.router,
    assets.router,
    admin.router,
    admin_ops.router,
    admin_settings.router,
)


def _is_page(request: Request) -> bool:
    return not request.url.path.startswith("/api/")


def _error_page(request: Request, status_code: int, title: str, details: list[str]) -> Response:
    context = {"title": title, "details": details}
    return render(request, "error.html", context, status_code=status_code)


TITLES = {403: "Not allowed", 404: "Not found", 409: "Conflict", 422: "Check your input"}


def install(app: FastAPI) -> None:
    """Pages, static files, and error handlers that answer pages with HTML, the API with JSON."""
    for router in PAGE_ROUTERS:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    api_domain_error = app.exception_handlers[DomainError]
    api_http_error = app.exception_handlers.get(HTTPException, http_exception_handler)

    async def domain_error(request: Request, exc: Exception) -> Response:
        if not _is_page(request):
            return await _maybe_await(api_domain_error(request, exc))
        assert isinstance(exc, DomainError)
        title = TITLES.get(exc.status_code, "Something is not right")
        response = _error_page(request, exc.status_code, title, [exc.detail])
        if isinstance(exc, Throttled):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if not _is_page(request):
            return await _maybe_await(api_http_error(request, exc))
        title = TITLES.get(exc.status_code, "Something is not right")
        return _error_page(request, exc.status_code, title, [str(exc.detail)])

    async def invalid(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ValidationError)
        if not _is_page(request):
            return JSONResponse({"detail": "internal error"}, status_code=500)
        return _error_page(request, 422, TITLES[422], field_errors(exc))

    async def anonymous(request: Request, _exc: Exception) -> Response:
        return login_redirect(request)

    app.add_exception_handler(DomainError, domain_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(ValidationError, invalid)
    app.add_exception_handler(LoginRequired, anonymous)
    _stop_live_updates_on_shutdown(app)


def _stop_live_updates_on_shutdown(app: FastAPI) -> None:
    """The live-update poller ends before the app's own shutdown disposes of the database."""
    serve = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[Any]:
        async with serve(app) as state:
            try:
                yield state
            finally:
                hub = getattr(app.state, "live_hub", None)
                if hub is not None:
                    await hub.stop()

    app.router.lifespan_context = lifespan


async def _maybe_await(result: object) -> Response:
    if hasattr(result, "__await__"):
        result = await result
    assert isinstance(result, Response)
    return result
