"""Password hashing (argon2) and access tokens (HS256 JWT)."""

from datetime import datetime, timedelta
from functools import lru_cache

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from starlette.concurrency import run_in_threadpool

from ticketdesk.validation import MAX_ID

ALGORITHM = "HS256"

hasher = PasswordHasher()


async def hash_password(password: str) -> str:
    """Hash off the event loop: argon2 is slow on purpose."""
    return await run_in_threadpool(hasher.hash, password)


async def verify_password(password_hash: str, password: str) -> bool:
    def _verify() -> bool:
        try:
            return hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    return await run_in_threadpool(_verify)


def issue_token(user_id: int, *, key: str, now: datetime, lifetime: timedelta) -> str:
    claims = {"sub": str(user_id), "iat": now, "exp": now + lifetime}
    return jwt.encode(claims, key, algorithm=ALGORITHM)


def read_token(token: str, *, key: str, now: datetime) -> int | None:
    """The user id a valid token names, or None (bad signature, expired, other algorithm)."""
    verified = _verify(token, key)
    if verified is None:
        return None
    user_id, expires = verified
    return user_id if expires > now.timestamp() else None


@lru_cache(maxsize=4096)
def _verify(token: str, key: str) -> tuple[int, float] | None:
    """Signature and claims, checked once per token: the answer never changes, only the
    clock does, so expiry is left to the caller."""
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            options={"require": ["sub", "exp"], "verify_exp": False, "verify_iat": False},
        )
        user_id, expires = int(claims["sub"]), float(claims["exp"])
    except (jwt.PyJWTError, ValueError, TypeError):
        return None
    # An id the database cannot hold names nobody (and must not reach the query).
    return (user_id, expires) if 1 <= user_id <= MAX_ID else None
