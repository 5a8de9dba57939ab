"""The OpenAPI document as clients and fuzzers need it: every error answer described, and no
field called nullable that the server refuses as null."""

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

from ticketdesk.validation import NoNulls


class ErrorBody(BaseModel):
    """Every error answer: a message (or, for 422, a list of field problems)."""

    detail: str | list[dict[str, Any]]


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": description}


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _error("Malformed request."),
    401: _error("Not signed in, or the token is invalid or expired."),
    403: _error("Signed in, but not allowed."),
    404: _error("Not found, or not visible to the caller."),
    405: _error("Method not allowed; the Allow header names those that are."),
    409: _error("Conflicts with the current state."),
    412: _error("If-Match names an older version."),
    413: _error("The request body is too large."),
    422: _error("A field breaks a rule."),
    429: _error("Too many requests; see Retry-After and the RateLimit-* headers."),
    500: _error("Internal error (logged with the request id)."),
    503: _error("The database is unavailable; retry after Retry-After seconds."),
}


def _no_null_models() -> set[str]:
    names: set[str] = set()
    pending: list[type] = [NoNulls]
    while pending:
        model = pending.pop()
        names.add(model.__name__)
        pending.extend(model.__subclasses__())
    return names


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
        strict = _no_null_models()
        for name, schema in document.get("components", {}).get("schemas", {}).items():
            if name.split("-")[0] in strict:
                for field, prop in list(schema.get("properties", {}).items()):
                    schema["properties"][field] = _drop_null(prop)
        app.openapi_schema = document
        return document

    return build
