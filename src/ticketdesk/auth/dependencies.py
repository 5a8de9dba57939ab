"""The authenticated caller, re-read from the database on every request.

A request carries a login token (JWT) or an API token (`td_...`). An API token acts as its
owner, limited to its scopes: every route declares the scope a token needs there with
`require_scope` (on the router or the route), and a route that declares none refuses API
tokens. A login holds every scope its role allows; what the role may do is decided by policy.
"""

from collections.abc import Callable, Coroutine, Sequence
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.params import Depends as DependsParam
from fastapi.routing import APIRoute
from fastapi.security import OAuth2PasswordBearer

from ticketdesk import clock, db, http
from ticketdesk.auth import scopes as scoping
from ticketdesk.auth import security, tokens
from ticketdesk.auth import service as accounts
from ticketdesk.auth.models import User
from ticketdesk.auth.ratelimit import RateLimiter
from ticketdesk.auth.scopes import Scope
from ticketdesk.errors import Forbidden, Throttled, Unauthorized


class ScopeRule:
    """The scope an API token needs on a route: `read` for GET and HEAD, `write` for the
    other methods (None: any token will do). Declared as a dependency, kept by ApiRoute."""

    def __init__(self, read: Scope | None, write: Scope | None) -> None:
        self.read = read
        self.write = write

    def needed(self, method: str) -> Scope | None:
        return self.read if method in db.READING_METHODS else self.write

    async def __call__(self, request: Request) -> None:
        """Never run on an ApiRoute; on another route a rule would mean it was not an ApiRoute."""
        raise RuntimeError("require_scope works on ApiRoute routes only")


class ApiRoute(APIRoute):
    """A route of the API (`APIRouter(route_class=ApiRoute)`). What every API route checks,
    done once here instead of as dependencies that FastAPI would solve on every request:
    - its scope rule (require_scope on the router or the route; the route's own wins) is kept
      on the route, for current_user to read when the caller uses an API token;
    - a query parameter the route does not know is a 422 (http.reject_unknown_query), before
      anything else runs."""

    def __init__(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        dependencies: Sequence[DependsParam] | None = None,
        **kwargs: Any,
    ) -> None:
        declared = list(dependencies or ())
        rules = [d.dependency for d in declared if isinstance(d.dependency, ScopeRule)]
        others = [d for d in declared if not isinstance(d.dependency, ScopeRule)]
        super().__init__(path, endpoint, dependencies=others, **kwargs)
        self.scope_rule: ScopeRule | None = rules[-1] if rules else None

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()
        known = http.query_names(self.dependant)

        async def checked(request: Request) -> Response:
            if request.scope["query_string"]:
                http.reject_unknown_query(request.query_params, known)
            return await handle(request)

        return checked


def require_scope(scope: Scope, *, write: Scope | None = None) -> Any:
    """`dependencies=[require_scope(Scope.EVENTS_READ)]` on a router or a route; with `write`,
    GET and HEAD need `scope` and the other methods need `write`."""
    return Depends(ScopeRule(scope, write or scope))


def any_api_token() -> Any:
    """For routes every API token may call, whatever its scopes (`/auth/me`)."""
    return Depends(ScopeRule(None, None))


async def current_user(request: Request, token: str | None) -> User:
    """A deactivated account, a changed role or ended sessions take effect on the very next
    request. The user is read in the route's own session when it took one first (declare the
    session before the user), else in a short read of its own."""
    if not token:
        raise Unauthorized("not authenticated")
    claims: security.TokenClaims | None
    if token.startswith(tokens.PREFIX):
        claims = await _api_token_claims(request, token)
    else:
        claims = security.read_token(token, key=request.app.state.signing_key, now=clock.now())
    user = None
    if claims is not None:
        session = db.request_session(request)
        if session is not None:
            user = await accounts.active_user(session, claims.user_id)
        else:
            async with request.app.state.database.read() as reading:
                user = await accounts.active_user(reading, claims.user_id)
    if user is None or claims is None or not accounts.session_is_current(user, claims.epoch):
        raise Unauthorized("invalid or expired token")
    request.state.user_id = user.id
    count_request(request, f"user:{user.id}")
    return user


async def _api_token_claims(request: Request, token: str) -> security.TokenClaims:
    """Checked in a short read of its own, and last_used_at written (at most once a minute)
    in a short transaction of its own, both before the route's session runs its first
    statement: on SQLite a writing session holds the write lock from then on."""
    database, key = request.app.state.database, request.app.state.signing_key
    now = clock.now()
    async with database.read() as reading:
        found = await tokens.find(reading, token, signing_key=key, now=now)
    if found is None:
        raise Unauthorized("invalid, expired or revoked API token")
    row, held = found
    rule = getattr(request.scope.get("route"), "scope_rule", None)
    if rule is None:
        raise Forbidden("API tokens cannot be used here; sign in instead")
    needed = rule.needed(request.method)
    if needed is not None and not scoping.grants(held, needed):
        raise Forbidden(f"this API token lacks the scope {needed}")
    request.state.token_scopes = held
    if tokens.needs_touch(row, now):
        async with database.write() as writing:
            await tokens.touch(writing, row.id, now)
    return security.TokenClaims(row.user_id, row.session_epoch)


def count_request(request: Request, key: str) -> None:
    """Count a request against TICKETDESK_RATE_LIMIT_PER_MINUTE for `key` (a user, a token);
    the RateLimit-* headers go on the answer, and over the limit it is a 429."""
    limiter: RateLimiter | None = request.app.state.rate_limiter
    if limiter is None:
        return
    verdict = limiter.check(key, clock.now())
    request.state.rate_limit_headers = verdict.headers()
    if not verdict.allowed:
        raise Throttled("too many requests, slow down", retry_after=verdict.reset)


class BearerCaller(OAuth2PasswordBearer):
    """The caller, from the bearer token of the request: one dependency, which FastAPI documents
    as the API's OAuth2 password flow (it is the security scheme itself) and solves once per
    request, where the scheme and the user as two dependencies cost twice FastAPI's work."""

    async def __call__(self, request: Request) -> User:  # type: ignore[override]
        return await current_user(request, await super().__call__(request))


caller = BearerCaller(
    tokenUrl="/api/v1/auth/token", auto_error=False, scheme_name="OAuth2PasswordBearer"
)
CurrentUser = Annotated[User, Depends(caller)]
