"""The authenticated caller, re-read from the database on every request."""

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from ticketdesk import clock, db
from ticketdesk.auth import security
from ticketdesk.auth import service as accounts
from ticketdesk.auth.models import User
from ticketdesk.auth.ratelimit import RateLimiter
from ticketdesk.errors import Throttled, Unauthorized

bearer = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


async def current_user(request: Request, token: Annotated[str | None, Depends(bearer)]) -> User:
    """A deactivated account, a changed role or ended sessions take effect on the very next
    request. The user is read in the route's own session when it took one first (declare the
    session before the user), else in a short read of its own."""
    if not token:
        raise Unauthorized("not authenticated")
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


CurrentUser = Annotated[User, Depends(current_user)]
