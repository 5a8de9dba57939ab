"""The HTTP edge, one ASGI layer around the app: request ids, the request log line, the JSON
body limit, security headers, rate-limit headers, and an answer for every request — an error
escaping the app becomes a JSON 500 (or 503 while the database is unreachable) instead of a
closed connection that drops the keep-alive requests queued behind it."""

import json
import logging
import re
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from fastapi import HTTPException, Request, Response
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ticketdesk import logs

log = logging.getLogger("ticketdesk.http")
access_log = logging.getLogger("ticketdesk.access")

REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._:-]{1,128}")
RETRY_AFTER_SECONDS = 5
SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"frame-ancestors 'none'"),
    (b"referrer-policy", b"no-referrer"),
)


class BodyTooLarge(HTTPException):
    """Raised while the body is read, so FastAPI passes it on as a 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit // 1024} KiB")


def database_unavailable(error: BaseException) -> bool:
    """The database cannot be reached, timed out, dropped the connection, or rolled the
    transaction back over a deadlock: worth a retry (503 with Retry-After)."""
    if isinstance(error, sa_exc.TimeoutError | TimeoutError | ConnectionError):
        return True
    if isinstance(error, OSError) and "connect" in str(error).lower():
        return True  # asyncpg: "Multiple exceptions: [Errno 111] Connect call failed …"
    if isinstance(error, sa_exc.DBAPIError):
        if error.connection_invalidated:
            return True
        if isinstance(error, sa_exc.OperationalError | sa_exc.InterfaceError):
            return True
        name = type(error.orig).__name__ if error.orig is not None else ""
        # A deadlock or a serialization failure rolled the transaction back: nothing was
        # written, and the same request may well succeed a moment later.
        transient = ("Cancel", "Timeout", "Connection", "Deadlock", "Serialization")
        return any(word in name for word in transient)
    return False


def error_response(error: BaseException, request_id: str) -> JSONResponse:
    if isinstance(error, StarletteHTTPException):  # a body limit met outside the routes
        return JSONResponse({"detail": error.detail}, status_code=error.status_code)
    if database_unavailable(error):
        log.warning("database unavailable: %s", type(error).__name__, exc_info=error)
        return JSONResponse(
            {"detail": "the database is unavailable, please retry shortly"},
            status_code=503,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    log.error("unhandled error", exc_info=error)
    return JSONResponse({"detail": f"internal error (request id {request_id})"}, status_code=500)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")  # type: ignore[no-any-return]
    return None


def route_template(scope: Scope) -> str:
    """The matched route's full path template (`/api/v1/tickets/{ref}`), for logs and metrics."""
    context = scope.get("fastapi", {}).get("effective_route_context")
    path = getattr(context, "path_format", None) or getattr(scope.get("route"), "path", None)
    return path or "<unmatched>"


def _with_edge_headers(
    headers: Any, request_id: str, rate_limit: Sequence[tuple[str, str]]
) -> list[tuple[bytes, bytes]]:
    """The answer's headers with the request id, the security headers the answer does not set
    itself, and the rate limit's: one pass over the raw list (every answer goes through)."""
    replaced = {b"x-request-id", *(name.lower().encode() for name, _ in rate_limit)}
    kept = [(name, value) for name, value in headers if name.lower() not in replaced]
    present = {name.lower() for name, _ in kept}
    kept.append((b"x-request-id", request_id.encode("latin-1")))
    kept += [(name, value) for name, value in SECURITY_HEADERS if name not in present]
    kept += [(name.lower().encode(), value.encode("latin-1")) for name, value in rate_limit]
    return kept


class Edge:
    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        observe: Callable[[str, str, int, float], None] | None = None,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.observe = observe

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = _header(scope, b"x-request-id")
        request_id = given if given and REQUEST_ID_PATTERN.fullmatch(given) else uuid.uuid4().hex
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        token = logs.request_id.set(request_id)
        started = time.perf_counter()
        status = 500
        response_started = False
        route = "<unmatched>"

        async def send_with_headers(message: Message) -> None:
            nonlocal status, response_started, route
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                route = route_template(scope)
                message["headers"] = _with_edge_headers(
                    message.get("headers", ()), request_id, state.get("rate_limit_headers", ())
                )
            await send(message)

        try:
            receive = self._limited(scope, receive)
            await self.app(scope, receive, send_with_headers)
        except Exception as error:
            if not response_started:
                await error_response(error, request_id)(scope, receive, send_with_headers)
            else:
                log.error("error after the response began", exc_info=error)
        finally:
            elapsed = time.perf_counter() - started
            access_log.info(
                "%s %s %s",
                scope["method"],
                scope["path"],
                status,
                extra={
                    "request_id": request_id,
                    "method": scope["method"],
                    "path": scope["path"],
                    "route": route,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                    "user_id": state.get("user_id"),
                    "client": (scope.get("client") or ("", 0))[0],
                },
            )
            if self.observe is not None:
                self.observe(scope["method"], route, status, elapsed)
            logs.request_id.reset(token)

    def _limited(self, scope: Scope, receive: Receive) -> Receive:
        """JSON (and any non-multipart) bodies stop at the limit; multipart uploads have limits
        of their own where they are accepted."""
        limit = self.max_body_bytes
        content_type = (_header(scope, b"content-type") or "").lower()
        if limit <= 0 or content_type.startswith("multipart/"):
            return receive
        length = _header(scope, b"content-length")
        if length is not None and length.isdigit() and int(length) > limit:

            async def refuse() -> Message:
                raise BodyTooLarge(limit)

            return refuse
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge(limit)
            return message

        return counted


# --- answers the framework builds -------------------------------------------------------------

SECRET_FIELDS = ("password", "secret", "token")
MAX_ECHO = 200


def _safe_input(value: Any) -> tuple[bool, Any]:
    """(keep, value): short plain values are echoed, long text cut, anything else dropped."""
    if value is None or isinstance(value, bool | int | float):
        return True, value
    if isinstance(value, str):
        return True, value if len(value) <= MAX_ECHO else value[:MAX_ECHO] + "…"
    if isinstance(value, bytes | bytearray):
        return False, None
    try:
        encoded = json.dumps(value, ensure_ascii=True)
    except (TypeError, ValueError):
        return False, None
    return (True, json.loads(encoded)) if len(encoded) <= MAX_ECHO else (False, None)


def safe_errors(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """FastAPI's 422 entries without secrets: never the input of a password-like field, no
    input longer than a line, nothing that is not text (a binary upload included)."""
    safe = []
    for error in errors:
        entry = {key: error[key] for key in ("type", "loc", "msg") if key in error}
        secret = any(
            isinstance(part, str) and any(word in part.lower() for word in SECRET_FIELDS)
            for part in entry.get("loc", ())
        )
        if "input" in error and not secret:
            keep, value = _safe_input(error["input"])
            if keep:
                entry["input"] = value
        if "ctx" in error and not secret:
            keep, ctx = _safe_input({k: str(v) for k, v in error["ctx"].items()})
            if keep:
                entry["ctx"] = ctx
        safe.append(entry)
    return safe


class AsciiJSONResponse(JSONResponse):
    """JSON with non-ASCII escaped: a rejected input may hold text UTF-8 cannot encode."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, separators=(",", ":")).encode("ascii")


NOT_JSON = "the body must be JSON sent with Content-Type: application/json"


def render_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = safe_errors(exc.errors())
    content_type = request.headers.get("content-type", "")
    if "json" not in content_type and request.method in ("POST", "PUT", "PATCH"):
        for error in errors:
            if error.get("loc") in (("body",), ["body"]) and error.get("type") in (
                "model_attributes_type",
                "dict_type",
                "missing",
            ):
                error["msg"] = NOT_JSON
    return AsciiJSONResponse({"detail": errors}, status_code=422)


async def render_http_error(request: Request, exc: Exception) -> Response:
    """Starlette's errors as {"detail"}; a 405 names every method the path accepts."""
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 405:
        allowed = allowed_methods(request.app, request.scope)
        return JSONResponse(
            {"detail": "method not allowed"},
            status_code=405,
            headers={"Allow": ", ".join(sorted(allowed))},
        )
    return await http_exception_handler(request, exc)


def routes(app: Any) -> Iterator[Any]:
    """Every route of the app with its full path (`path_regex`, `methods`, `dependant`),
    included routers unfolded."""
    for route in app.router.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        if contexts is not None:
            yield from contexts()
        else:
            yield route


def allowed_methods(app: Any, scope: Scope) -> set[str]:
    path = scope["path"]
    methods: set[str] = set()
    for route in routes(app):
        regex = getattr(route, "path_regex", None)
        if regex is not None and regex.match(path):
            methods |= set(getattr(route, "methods", None) or ())
    if "GET" in methods:
        methods.add("HEAD")
    return methods


# --- query parameters ---------------------------------------------------------------------

# Custom-field filters (`cf.<key>`) are open-ended; the custom fields' own code checks them.
OPEN_QUERY_PREFIXES = ("cf.",)


def query_names(dependant: Any) -> frozenset[str]:
    """The query parameters a route declares, its dependencies' included."""
    names: set[str] = set()
    for field in dependant.query_params:
        annotation = getattr(field.field_info, "annotation", None)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            for name, info in annotation.model_fields.items():
                names.add(info.alias or name)
        else:
            names.add(field.alias)
    for sub in dependant.dependencies:
        names |= query_names(sub)
    return frozenset(names)


def reject_unknown_query(params: Any, known: frozenset[str]) -> None:
    """A misspelled query parameter of the API is a 422, not silently ignored (every API route
    checks, auth.dependencies.ApiRoute; pages may carry parameters of their own, such as where
    to go after signing in)."""
    unknown = [
        name for name in params if name not in known and not name.startswith(OPEN_QUERY_PREFIXES)
    ]
    if unknown:
        raise RequestValidationError(
            [
                {
                    "type": "extra_forbidden",
                    "loc": ("query", name),
                    "msg": f"unknown query parameter; known: {', '.join(sorted(known)) or 'none'}",
                }
                for name in unknown
            ]
        )
