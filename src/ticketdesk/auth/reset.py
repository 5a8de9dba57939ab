"""Password reset by mail: a single-use link, valid an hour; using it ends every earlier
session of the account."""

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ticketdesk.auth import service as accounts
from ticketdesk.auth import throttle
from ticketdesk.auth.models import PasswordResetToken, User
from ticketdesk.db import Database
from ticketdesk.errors import DomainError, Throttled
from ticketdesk.mail import outbox
from ticketdesk.mail.config import MailConfig
from ticketdesk.mail.schedule import schedule_sending

LIFETIME = timedelta(minutes=60)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def request_reset(
    session: AsyncSession, config: MailConfig, email: str, *, now: datetime
) -> None:
    """Mails a reset link to an active account; says nothing about whether there is one."""
    user = await accounts.find_by_email(session, email.strip())
    if user is None or not user.is_active:
        return
    token = secrets.token_urlsafe(32)
    session.add(
        PasswordResetToken(
            user_id=user.id, token_hash=_hash(token), created_at=now, expires_at=now + LIFETIME
        )
    )
    await outbox.queue_mail(
        session,
        config,
        kind="password_reset",
        to_addr=user.email,
        to_name=user.full_name,
        context={
            "recipient_name": user.full_name,
            "link": f"{config.public_url}/reset-password?token={token}",
            "minutes": int(LIFETIME.total_seconds() // 60),
            "reply_marker": "",
            "number": "",
        },
        now=now,
        recipient_id=user.id,
    )
    await schedule_sending(session)
    await session.flush()


async def request_reset_limited(
    database: Database,
    throttles: throttle.Throttles,
    config: MailConfig,
    email: str,
    *,
    limit: throttle.Limit,
    now: datetime,
) -> None:
    """`request_reset`, throttled per address whether or not it has an account (429)."""
    counted = (limit, limit.key(email.strip().lower()))
    wait = await throttles.wait(now, counted)
    if wait:
        raise Throttled("too many password reset requests, try again later", retry_after=wait)
    await throttles.hit(now, counted)
    async with database.write() as session:
        await request_reset(session, config, email, now=now)


async def confirm_reset(
    session: AsyncSession, token: str, password_hash: str, *, now: datetime
) -> User:
    """Sets the new password once per link; every link of the account stops working."""
    row = await session.scalar(
        select(PasswordResetToken)
        .where(PasswordResetToken.token_hash == _hash(token))
        .with_for_update()
    )
    if row is None or row.used_at is not None or row.expires_at <= now:
        raise DomainError("this password reset link is invalid, used or expired")
    user = await session.get(User, row.user_id)
    if user is None or not user.is_active:
        raise DomainError("this password reset link is invalid, used or expired")
    user.password_hash = password_hash
    user.updated_at = now
    await session.execute(
        update(PasswordResetToken)
        .where(PasswordResetToken.user_id == user.id, PasswordResetToken.used_at.is_(None))
        .values(used_at=now)
    )
    await accounts.end_sessions(session, user)
    await session.flush()
    return user
