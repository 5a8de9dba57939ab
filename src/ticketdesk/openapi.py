"""The OpenAPI document as clients and fuzzers need it: every error answer described, and no
field called nullable that the server refuses as null; and the pages that show it, Swagger UI
at /api/docs and Redoc at /api/redoc, both served from node_modules (they work offline)."""

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel, Field
from starlette.responses import HTMLResponse, RedirectResponse

from ticketdesk.openapi_fields import FIELDS, PARAMETERS
from ticketdesk.validation import NoNulls, Strict

API_PATH = "/api/v1/"


class ErrorBody(BaseModel):
    """Every error answer: a message (or, for 422, a list of field problems)."""

    detail: str | list[dict[str, Any]] = Field(
        description="What went wrong, for people; a 422 lists each field problem.",
        examples=["ticket not found"],
    )


ERRORS: dict[int, str] = {
    400: "Malformed request: a body that cannot be read, or a broken upload.",
    401: "Not signed in, or the token is invalid or expired.",
    403: "Signed in, but not allowed (or an API token without the scope).",
    404: "Not found, or not visible to the caller.",
    409: "Conflicts with the current state.",
    410: "Gone: what was asked for is no longer kept.",
    412: "If-Match names an older version.",
    413: "The request body is too large.",
    415: "The content type or file type is refused.",
    422: "A field breaks a rule (the detail names it), or an unknown query parameter.",
    429: "Too many requests; see Retry-After and the RateLimit-* headers.",
    503: "The database is unavailable; retry after Retry-After seconds.",
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=errors(409)` on a route: the errors its own rules answer, beyond the ones
    every route of its kind gets (see `_common_errors`)."""
    return {status: {"model": ErrorBody, "description": ERRORS[status]} for status in statuses}


def _walks_to(dependant: Any, call: Any) -> bool:
    return any(d.call is call or _walks_to(d, call) for d in dependant.dependencies)


def _common_errors(route: APIRoute, operation: dict[str, Any]) -> set[int]:
    """What any route of this shape may answer: 422 (a field, an unknown query parameter) and
    503 (the database) everywhere; 401, 403 (an API token's scope) and 429 (the request rate)
    when it authenticates; 404 with a path parameter; 400 (a body that cannot be read, such as
    JSON that is not UTF-8) and 413 with a body."""
    from ticketdesk.auth.dependencies import caller

    found = {422, 503}
    dependant = route.dependant
    if _walks_to(dependant, caller):
        found |= {401, 403, 429}
    if dependant.path_params:
        found.add(404)
    if "requestBody" in operation:
        found |= {400, 413}
    return found


def _add_common_errors(app: FastAPI, document: dict[str, Any]) -> None:
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("ErrorBody", ErrorBody.model_json_schema())
    body = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
    # A 422 is FastAPI's list of field problems (`Invalid` renders the same shape).
    invalid = {"application/json": {"schema": {"$ref": "#/components/schemas/HTTPValidationError"}}}
    for context in iter_route_contexts(app.routes):
        route = context.route
        path = context.path or ""
        if not isinstance(route, APIRoute) or not path.startswith(API_PATH):
            continue
        for method in context.methods or ():
            operation = document["paths"].get(path, {}).get(method.lower())
            if operation is None:
                continue
            responses = operation["responses"]
            for status in sorted(_common_errors(route, operation)):
                content = invalid if status == 422 else body
                responses.setdefault(
                    str(status), {"description": ERRORS[status], "content": content}
                )
            # FastAPI's own 422 keeps its body model, with our description.
            responses["422"]["description"] = ERRORS[422]
            operation["responses"] = dict(sorted(responses.items()))


def operation_id(route: APIRoute) -> str:
    """`create_ticket` → `createTicket`; a route whose function name reads badly as an
    operation names its own (`operation_id=` on the decorator)."""
    first, *rest = route.name.split("_")
    return first + "".join(word.capitalize() for word in rest)


def _null_refused() -> dict[str, frozenset[str] | None]:
    """Model name → the fields that refuse null (None: all of them, a NoNulls model)."""
    found: dict[str, frozenset[str] | None] = {}
    pending: list[type[Strict]] = [Strict]
    while pending:
        model = pending.pop()
        if issubclass(model, NoNulls):
            found[model.__name__] = None
        elif model.null_refused:
            found[model.__name__] = model.null_refused
        pending.extend(model.__subclasses__())
    return found


def _drop_null(schema: dict[str, Any]) -> dict[str, Any]:
    """`anyOf: [X, null]` becomes X: the field may be left out, not sent as null."""
    options = schema.get("anyOf")
    if not options:
        return schema
    kept = [option for option in options if option.get("type") != "null"]
    if len(kept) == len(options):
        return schema
    rest = {key: value for key, value in schema.items() if key != "anyOf"}
    if len(kept) == 1:
        return {**rest, **kept[0]}
    return {**rest, "anyOf": kept}


def _describe(document: dict[str, Any]) -> None:
    """Every field and parameter the models leave undescribed gets its meaning from
    `openapi_fields` (by schema or operation first, then by name alone)."""
    for name, schema in document.get("components", {}).get("schemas", {}).items():
        model = name.split("-")[0]
        for field, prop in schema.get("properties", {}).items():
            if not prop.get("description"):
                note = FIELDS.get(f"{model}.{field}") or FIELDS.get(field)
                if note:
                    prop["description"] = note
    for item in document.get("paths", {}).values():
        for operation in item.values():
            for parameter in operation.get("parameters", []):
                if not parameter.get("description"):
                    name = parameter["name"]
                    note = PARAMETERS.get(f"{operation['operationId']}.{name}")
                    note = note or PARAMETERS.get(name)
                    if note:
                        parameter["description"] = note


def documented(app: FastAPI) -> Callable[[], dict[str, Any]]:
    def build() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        document = get_openapi(
            title=app.title,
            version=app.version,
            summary=app.summary,
            routes=app.routes,
        )
        refused = _null_refused()
        for name, schema in document.get("components", {}).get("schemas", {}).items():
            model = name.split("-")[0]
            if model in refused:
                fields = refused[model]
                for field, prop in list(schema.get("properties", {}).items()):
                    if fields is None or field in fields:
                        schema["properties"][field] = _drop_null(prop)
        _describe(document)
        _add_common_errors(app, document)
        app.openapi_schema = document
        return document

    return build


OPENAPI_URL = "/api/openapi.json"
DOCS_URL = "/api/docs"
REDOC_URL = "/api/redoc"
OAUTH2_REDIRECT_URL = "/api/docs/oauth2-redirect"

# The docs pages load only from this server: Redoc's sidebar names an image elsewhere, which
# the browser is told not to fetch.
DOCS_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; "
    "frame-ancestors 'none'"
)

pages = APIRouter(include_in_schema=False)


def _local_only(page: HTMLResponse) -> HTMLResponse:
    page.headers["Content-Security-Policy"] = DOCS_POLICY
    return page


@pages.get(DOCS_URL)
async def swagger_ui() -> HTMLResponse:
    return _local_only(
        get_swagger_ui_html(
            openapi_url=OPENAPI_URL,
            title="ticketdesk API",
            swagger_js_url="/assets/swagger-ui-bundle.js",
            swagger_css_url="/assets/swagger-ui.css",
            swagger_favicon_url="/assets/swagger-ui-favicon.png",
            oauth2_redirect_url=OAUTH2_REDIRECT_URL,
            # Never ask an outside validator about the document.
            swagger_ui_parameters={"validatorUrl": None, "persistAuthorization": True},
        )
    )


@pages.get(OAUTH2_REDIRECT_URL)
async def swagger_ui_redirect() -> HTMLResponse:
    return get_swagger_ui_oauth2_redirect_html()


@pages.get(REDOC_URL)
async def redoc() -> HTMLResponse:
    return _local_only(
        get_redoc_html(
            openapi_url=OPENAPI_URL,
            title="ticketdesk API",
            redoc_js_url="/assets/redoc.standalone.js",
            redoc_favicon_url="/assets/swagger-ui-favicon.png",
            with_google_fonts=False,
        )
    )


@pages.get("/docs")
async def docs_redirect() -> RedirectResponse:
    return RedirectResponse(DOCS_URL, status_code=308)
