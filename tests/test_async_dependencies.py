"""Every dependency and endpoint of the application is a coroutine: FastAPI runs a plain
function in its thread pool, a hand-off to another thread on every request for work that
never blocks."""

import inspect
from typing import Any

from fastapi.routing import iter_route_contexts

from ticketdesk.main import create_app

# FastAPI's own form class for the OAuth2 password login (`POST /auth/token`), a rare request.
ALLOWED = {"OAuth2PasswordRequestForm"}


def _is_async(call: Any) -> bool:
    if inspect.isroutine(call):
        return inspect.iscoroutinefunction(call) or inspect.isasyncgenfunction(call)
    method = type(call).__call__  # an instance used as a dependency
    return inspect.iscoroutinefunction(method) or inspect.isasyncgenfunction(method)


def _sync_calls(dependant: Any) -> list[str]:
    found = []
    for sub in dependant.dependencies:
        if sub.call is not None and not _is_async(sub.call):
            found.append(getattr(sub.call, "__qualname__", type(sub.call).__qualname__))
        found += _sync_calls(sub)
    return found


def test_no_dependency_or_endpoint_runs_in_the_thread_pool(settings):
    app = create_app(settings)
    checked, sync = 0, set()
    for route in iter_route_contexts(app.routes):
        dependant = getattr(route, "dependant", None)
        if dependant is None:
            continue
        checked += 1
        sync.update(_sync_calls(dependant))
        if not _is_async(route.endpoint):
            sync.add(f"endpoint {route.path}")
    assert checked > 50
    assert sorted(sync - ALLOWED) == []
