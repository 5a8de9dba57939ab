"""Password hashing (argon2) and access tokens (HS256 JWT)."""

import asyncio
import os
import weakref
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import lru_cache
from typing import NamedTuple, TypeVar

import anyio
import anyio.to_thread
import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ticketdesk.validation import MAX_ID

ALGORITHM = "HS256"
T = TypeVar("T")

hasher = PasswordHasher()
_dummy_hash: str | None = None


async def hash_password(password: str) -> str:
    """Hash off the event loop: argon2 is slow on purpose. Never call it inside a
    transaction: the hash would hold the write lock (SQLite) or a pooled connection."""
    return await _hashing(hasher.hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    """Without a hash (an unknown address) a dummy hash is checked all the same, so that the
    answer takes as long for an address that does not exist as for one that does."""
    global _dummy_hash
    if password_hash is None:
        if _dummy_hash is None or not _dummy_hash.startswith(_parameters_prefix()):
            _dummy_hash = await hash_password("an unknown address never matches")
        password_hash = _dummy_hash

    def _verify(stored: str) -> bool:
        try:
            return hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False

    matched = await _hashing(_verify, password_hash)
    return matched and password_hash is not _dummy_hash


def _parameters_prefix() -> str:
    """The `$argon2id$v=19$m=…,t=…,p=…$` head of the current hasher's hashes."""
    return f"$argon2id$v=19$m={hasher.memory_cost},t={hasher.time_cost},p={hasher.parallelism}$"


# Hashes run at most this many at a time: more would not finish sooner (argon2 is CPU-bound)
# but would take 64 MiB each and starve the rest of the service of CPU during a login storm.
HASH_CONCURRENCY = max(1, (os.cpu_count() or 2) - 1)
_limiters: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.CapacityLimiter]" = (
    weakref.WeakKeyDictionary()
)


async def _hashing(function: Callable[[str], T], argument: str) -> T:
    loop = asyncio.get_running_loop()
    limiter = _limiters.get(loop)
    if limiter is None:
        limiter = _limiters[loop] = anyio.CapacityLimiter(HASH_CONCURRENCY)
    return await anyio.to_thread.run_sync(function, argument, limiter=limiter)


class TokenClaims(NamedTuple):
    user_id: int
    epoch: int


def issue_token(
    user_id: int, *, key: str, now: datetime, lifetime: timedelta, epoch: int = 0
) -> str:
    """`sep` carries the user's session epoch: ending sessions bumps it and kills the token."""
    claims = {"sub": str(user_id), "sep": epoch, "iat": now, "exp": now + lifetime}
    return jwt.encode(claims, key, algorithm=ALGORITHM)


def read_token(token: str, *, key: str, now: datetime) -> TokenClaims | None:
    """What a valid token says, or None (bad signature, expired, other algorithm)."""
    verified = _verify(token, key)
    if verified is None:
        return None
    claims, expires = verified
    return claims if expires > now.timestamp() else None


@lru_cache(maxsize=4096)
def _verify(token: str, key: str) -> tuple[TokenClaims, float] | None:
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
        epoch = claims.get("sep", 0)
        if type(epoch) is not int:
            return None
    except (jwt.PyJWTError, ValueError, TypeError):
        return None
    # An id the database cannot hold names nobody (and must not reach the query).
    return (TokenClaims(user_id, epoch), expires) if 1 <= user_id <= MAX_ID else None
