"""The authenticated caller, re-read from the database on every request."""

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from ticketdesk import clock
from ticketdesk.auth import security
from ticketdesk.auth import service as accounts
from ticketdesk.auth.models import User
from ticketdesk.db import SessionDep
from ticketdesk.errors import Unauthorized

bearer = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


async def current_user(
    request: Request, session: SessionDep, token: Annotated[str | None, Depends(bearer)]
) -> User:
    """A deactivated account or a changed role takes effect on the very next request."""
    if not token:
        raise Unauthorized("not authenticated")
    key = request.app.state.signing_key
    user_id = security.read_token(token, key=key, now=clock.now())
    user = await accounts.active_user(session, user_id) if user_id is not None else None
    if user is None:
        raise Unauthorized("invalid or expired token")
    return user


CurrentUser = Annotated[User, Depends(current_user)]
