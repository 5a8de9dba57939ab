"""Routes are matched in the order the app includes them, the busiest first (main.py): no route
may hide another, whatever the order."""

import re

from ticketdesk import http
from ticketdesk.auth.dependencies import ApiRoute
from ticketdesk.main import create_app


def _sample(path: str) -> str:
    """The route's own path with each parameter filled in."""
    return re.sub(r"\{[^}]+\}", "1", path)


def test_every_route_is_the_first_match_for_its_own_path_and_method() -> None:
    routes = [route for route in http.routes(create_app()) if hasattr(route, "path_regex")]
    hidden = []
    for route in routes:
        path = _sample(getattr(route, "path_format", None) or route.path)
        for method in sorted(getattr(route, "methods", None) or {"GET"}):
            first = next(
                other
                for other in routes
                if other.path_regex.match(path)
                and (not getattr(other, "methods", None) or method in other.methods)
            )
            if first is not route:
                hidden.append(f"{method} {path} goes to {first.path_format}")
    assert len(routes) > 150
    assert hidden == []


def test_a_ticket_route_is_matched_before_the_routers_that_follow_it() -> None:
    """A ticket's GET is the most requested route: it is matched before every other API area."""
    routes = [getattr(route, "path_format", "") for route in http.routes(create_app())]
    first_ticket = routes.index("/api/v1/tickets/{ref}")
    assert first_ticket < routes.index("/api/v1/auth/me")
    assert first_ticket < routes.index("/api/v1/users/{user_id}")


def test_every_api_route_is_an_api_route() -> None:
    """ApiRoute checks the query and keeps the token scope; a router without it would accept
    misspelled parameters and refuse every API token."""
    api = [
        route
        for route in http.routes(create_app())
        if (getattr(route, "path_format", None) or "").startswith("/api/v1/")
    ]
    assert len(api) > 80
    assert [
        route.path_format for route in api if not isinstance(route.original_route, ApiRoute)
    ] == []
