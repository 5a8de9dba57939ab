"""Sign-in sessions of the web pages: a secret in an HttpOnly cookie, a row on the server."""

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from ticketdesk.auth.models import User
from ticketdesk.web.models import WebSession


def _digest(token: str) -> str:
    """Only the hash is stored: a leaked table does not sign anyone in."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


async def start(
    session: AsyncSession, user: User, *, now: datetime, lifetime: timedelta
) -> tuple[str, WebSession]:
    """A new session for `user`; returns the cookie's secret and the row."""
    token = secrets.token_urlsafe(32)
    row = WebSession(
        id=_digest(token),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(32),
        epoch=user.session_epoch,
        created_at=now,
        expires_at=now + lifetime,
    )
    session.add(row)
    await session.flush()
    return token, row


async def resolve(
    session: AsyncSession, token: str, *, now: datetime
) -> tuple[User, WebSession] | None:
    """The active user and session the cookie names, or None: unknown, expired, deactivated,
    or ended with every other session of the user (`accounts.end_sessions`)."""
    query = (
        select(User, WebSession)
        .join(WebSession, WebSession.user_id == User.id)
        .where(
            WebSession.id == _digest(token),
            WebSession.expires_at > now,
            WebSession.epoch == User.session_epoch,
            User.is_active,
        )
    )
    found = (await session.execute(query)).first()
    return (found[0], found[1]) if found else None


async def end(session: AsyncSession, token: str) -> None:
    """Signing out deletes the row: the old cookie names nothing from now on."""
    await session.execute(delete(WebSession).where(WebSession.id == _digest(token)))


async def purge_expired(session: AsyncSession, *, now: datetime) -> None:
    await session.execute(delete(WebSession).where(WebSession.expires_at <= now))
