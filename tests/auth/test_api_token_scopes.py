"""API tokens on every endpoint: the scope each route needs, and a refusal without it."""

import re
import uuid
from typing import Any

import pytest
from fastapi.routing import iter_route_contexts

from tests.factories import API, Actor, make_api_token, make_ticket, make_user, post_comment
from ticketdesk.auth.dependencies import ScopeRule, caller
from ticketdesk.auth.scopes import Scope

# One database and app for the module: each test makes its own tickets, users and tokens.
pytestmark = pytest.mark.shared_database

TOKENS = f"{API}/auth/tokens"
ALL_SCOPES = [s.value for s in Scope]


def scope_refused(response: Any) -> bool:
    return response.status_code == 403 and "lacks the scope" in response.json()["detail"]


# --- Scopes by endpoints -----------------------------------------------------------------------

READ, WRITE, ADMIN, USERS = "tickets:read", "tickets:write", "admin", "users:read"

# (method, path, body, the scope it needs (None: any token), status with that scope)
MATRIX = [
    ("GET", "/auth/me", None, None, 200),
    ("GET", "/users", None, USERS, 200),
    ("POST", "/users", "new_user", ADMIN, 201),
    ("PATCH", "/users/{user}", {"full_name": "Renamed"}, ADMIN, 200),
    ("GET", "/tickets", None, READ, 200),
    ("GET", "/tickets/my", None, READ, 200),
    ("GET", "/tickets/{ticket}", None, READ, 200),
    ("GET", "/tickets/{ticket}/history", None, READ, 200),
    ("GET", "/tickets/{ticket}/activity", None, READ, 200),
    ("POST", "/tickets", {"subject": "S", "description": "D"}, WRITE, 201),
    ("PATCH", "/tickets/{ticket}", {"priority": "high"}, WRITE, 200),
    ("POST", "/tickets/{ticket}/status", {"status": "resolved"}, WRITE, 200),
    ("POST", "/tickets/{ticket}/assign", {"assigned_to_id": "{owner}"}, WRITE, 200),
    (
        "POST",
        "/tickets/bulk",
        {"ticket_ids": ["{ticket}"], "action": "update", "priority": "low"},
        WRITE,
        200,
    ),
    ("GET", "/tickets/{ticket}/comments", None, READ, 200),
    ("POST", "/tickets/{ticket}/comments", {"comment": "Hello"}, WRITE, 201),
    ("PATCH", "/tickets/{ticket}/comments/{comment}", {"comment": "Edited"}, WRITE, 200),
    ("GET", "/tickets/sla/config", None, READ, 200),
    ("GET", "/tickets/sla/business-hours", None, READ, 200),
    ("GET", "/tickets/sla/audit", None, READ, 200),
    (
        "POST",
        "/tickets/sla/config",
        {"priority": "low", "first_response_time": 60, "resolution_time": 600},
        ADMIN,
        200,
    ),
    (
        "PUT",
        "/tickets/sla/business-hours",
        {"timezone": "UTC", "weekly": {"mon": [["09:00", "17:00"]]}},
        ADMIN,
        200,
    ),
    ("GET", "/tickets/statistics/overview", None, READ, 200),
    ("GET", "/dashboard", None, READ, 200),
    ("GET", "/auth/tokens", None, ADMIN, 200),
    ("POST", "/auth/tokens", {"name": "t", "scopes": ["tickets:read"]}, ADMIN, 201),
    ("DELETE", "/auth/tokens/{token}", None, ADMIN, 204),
]


def _fill(value: Any, ids: dict[str, int]) -> Any:
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return ids[value[1:-1]]
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    return value


def _call(client, method, path, body, ids, token: Actor):
    url = API + path.format(**ids)
    if body == "new_user":
        body = {
            "email": f"new-{uuid.uuid4().hex}@example.com",
            "password": "a-long-password",
            "full_name": "New",
            "role": "agent",
        }
    json = _fill(body, ids) if body is not None else None
    return client.request(method, url, json=json, headers=token.headers)


@pytest.mark.parametrize(
    ("method", "path", "body", "scope", "status"),
    MATRIX,
    ids=[f"{m} {p}" for m, p, *_ in MATRIX],
)
def test_scope_matrix(client, people, method, path, body, scope, status):
    """The super_admin's tokens: role checks pass, so only the scopes decide."""
    owner = people["super_admin"]
    ticket = make_ticket(client, people["individual"])
    ids = {
        "ticket": ticket["id"],
        "comment": post_comment(client, owner, ticket["id"])["id"],
        "user": make_user(client, "agent").id,
        "owner": owner.id,
        "token": client.post(
            TOKENS, json={"name": "doomed", "scopes": [READ]}, headers=owner.headers
        ).json()["id"],
    }
    if scope is not None:
        others = [s for s in ALL_SCOPES if s not in (scope, ADMIN)]
        without = make_api_token(client, owner, others)
        assert scope_refused(_call(client, method, path, body, ids, without))
    exact = make_api_token(client, owner, [scope or "events:read"])
    response = _call(client, method, path, body, ids, exact)
    assert response.status_code == status, response.text
    admin = make_api_token(client, owner, [ADMIN])
    if method == "GET":
        assert _call(client, method, path, body, ids, admin).status_code == status


def _declared_rules(app) -> dict[tuple[str, str], ScopeRule | None]:
    """Every API route that authenticates its caller, with the scope rule it declares."""

    def walks_to_current_user(dependant) -> bool:
        return any(d.call is caller or walks_to_current_user(d) for d in dependant.dependencies)

    found = {}
    for route in iter_route_contexts(app.routes):
        dependant = getattr(route, "dependant", None)
        if dependant is None or not walks_to_current_user(dependant):
            continue
        for method in route.methods:
            found[(method, route.path)] = getattr(route.original_route, "scope_rule", None)
    return found


def test_every_authenticated_route_declares_its_scope(client):
    """A route without a rule refuses API tokens at run time; none should be left so."""
    rules = _declared_rules(client.app)
    assert len(rules) >= len(MATRIX)
    assert [key for key, rule in rules.items() if rule is None] == []


def test_every_route_refuses_a_token_without_its_scope(client, people):
    """Whatever the route (those added later included): a token lacking the scope the route
    declares is refused before anything else happens."""
    owner = people["super_admin"]
    tokens_by_missing = {
        scope: make_api_token(client, owner, [s for s in ALL_SCOPES if s not in (scope, ADMIN)])
        for scope in ALL_SCOPES
        if scope != ADMIN
    }
    tokens_by_missing[ADMIN] = make_api_token(client, owner, [s for s in ALL_SCOPES if s != ADMIN])
    checked = 0
    for (method, path), rule in _declared_rules(client.app).items():
        needed = rule.read if method in ("GET", "HEAD") else rule.write
        if needed is None:
            continue
        # Any value will do for a path parameter: the scope is checked before anything else.
        url = re.sub(r"\{[^}]+\}", "1", path)
        response = client.request(method, url, json={}, headers=tokens_by_missing[needed].headers)
        assert scope_refused(response), (method, path, response.status_code, response.text)
        checked += 1
    assert checked >= len(MATRIX) - 1


def test_the_matrix_matches_the_declared_rules(client):
    rules = _declared_rules(client.app)
    for method, path, _body, scope, _status in MATRIX:
        route_path = API + path.replace("{ticket}", "{ref}").replace("{comment}", "{comment_id}")
        route_path = route_path.replace("{user}", "{user_id}").replace("{token}", "{token_id}")
        rule = rules[(method, route_path)]
        assert rule is not None
        assert (rule.read if method == "GET" else rule.write) == (
            Scope(scope) if scope else None
        ), (method, path)


def test_a_route_without_a_declared_scope_refuses_tokens(client, people):
    from fastapi import APIRouter

    from ticketdesk.auth.dependencies import CurrentUser

    extra = APIRouter()

    @extra.get("/api/v1/undeclared")
    async def undeclared(actor: CurrentUser) -> dict[str, int]:
        return {"id": actor.id}

    client.app.include_router(extra)
    try:
        token = make_api_token(client, people["super_admin"], ["admin"])
        response = client.get(f"{API}/undeclared", headers=token.headers)
        assert response.status_code == 403
        assert "cannot be used here" in response.json()["detail"]
        logged_in = client.get(f"{API}/undeclared", headers=people["super_admin"].headers)
        assert logged_in.json() == {"id": people["super_admin"].id}
    finally:
        client.app.router.routes.pop()
