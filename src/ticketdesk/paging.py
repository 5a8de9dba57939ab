"""Pages of the lists that grow without bound (users, comments, history, activity, the SLA
audit): `?limit=` rows after `?after=<id>`, in id order, with `Link: next` while more remain.
A page costs the same at any depth (a key range, not an offset)."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Query, Request, Response
from sqlalchemy import Select

from ticketdesk.validation import MAX_ID

T = TypeVar("T")
DEFAULT_LIMIT = 100
MAX_LIMIT = 500


@dataclass(frozen=True)
class Window:
    after: int | None = None
    limit: int = MAX_LIMIT * 1000  # services called without a window read everything

    def apply(self, query: Select[Any], id_column: Any) -> Select[Any]:
        """One row more than the page: whether it came back tells if there is a next page."""
        if self.after is not None:
            query = query.where(id_column > self.after)
        return query.limit(self.limit + 1)


async def _window(
    after: Annotated[
        int | None, Query(ge=0, le=MAX_ID, description="the last id of the previous page")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> Window:
    return Window(after, limit)


WindowDep = Annotated[Window, Depends(_window)]


def link(request: Request, *, exclude: str | None = None, **params: object) -> str:
    """The request's own path and query with `params` changed: relative, or absolute from
    TICKETDESK_PUBLIC_URL — never from the request's Host header."""
    url = request.url.remove_query_params(exclude) if exclude else request.url
    query = url.include_query_params(**params).query
    settings = request.app.state.settings
    # Absolute only when the operator named the public address (its default serves mail).
    base = settings.public_url.rstrip("/") if "public_url" in settings.model_fields_set else ""
    return f"{base}{request.url.path}?{query}"


def page(
    request: Request,
    response: Response,
    window: Window,
    rows: Sequence[T],
    id_of: Callable[[T], int | None],
) -> list[T]:
    """The page's rows; `Link: next` when the extra row showed that more remain."""
    shown = list(rows[: window.limit])
    if len(rows) > window.limit and shown:
        last = id_of(shown[-1])
        if last is not None:
            response.headers["Link"] = f'<{link(request, after=last)}>; rel="next"'
    return shown
