"""API tokens for scripts: shown once, stored only as a keyed hash, limited to scopes.

A token is `td_` + 43 base62 characters (256 random bits) + a 6-character CRC32 checksum, so
a mistyped or made-up token is refused without a database read and leaked tokens are easy to
scan for. The database holds HMAC-SHA256(key, token) with a key derived from the signing key:
a copy of the database alone reveals no usable token, and a lookup is one indexed equality.
"""

import hashlib
import hmac
import secrets
import string
import zlib
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ticketdesk.auth import scopes as scoping
from ticketdesk.auth.models import ApiToken, Role, User
from ticketdesk.auth.scopes import Scope
from ticketdesk.errors import Forbidden, Invalid, NotFound

PREFIX = "td_"
_ALPHABET = string.digits + string.ascii_letters
_BODY = 43  # 256 bits in base62
_CHECK = 6  # 32 bits in base62
LENGTH = len(PREFIX) + _BODY + _CHECK
# last_used_at is written at most this often per token, not on every request.
TOUCH_EVERY = timedelta(minutes=1)


def _base62(number: int, width: int) -> str:
    digits = []
    while number:
        number, remainder = divmod(number, 62)
        digits.append(_ALPHABET[remainder])
    return "".join(reversed(digits)).rjust(width, "0")


def _checksum(body: str) -> str:
    return _base62(zlib.crc32(body.encode()), _CHECK)


def generate() -> str:
    body = _base62(int.from_bytes(secrets.token_bytes(32)), _BODY)
    return PREFIX + body + _checksum(body)


def well_formed(token: str) -> bool:
    """Shape and checksum: a typo or a made-up token never reaches the database."""
    if len(token) != LENGTH or not token.startswith(PREFIX):
        return False
    body, check = token[len(PREFIX) : -_CHECK], token[-_CHECK:]
    if any(c not in _ALPHABET for c in body):
        return False
    return hmac.compare_digest(check, _checksum(body))


@lru_cache(maxsize=8)
def _digest_key(signing_key: str) -> bytes:
    """A key of its own for token hashes, derived from the signing key (never the key itself)."""
    return hmac.new(
        signing_key.encode(), b"ticketdesk api-token digest v1", hashlib.sha256
    ).digest()


def digest(token: str, *, signing_key: str) -> str:
    return hmac.new(_digest_key(signing_key), token.encode(), hashlib.sha256).hexdigest()


def scopes_of(row: ApiToken) -> frozenset[Scope]:
    return frozenset(Scope(name) for name in row.scopes.split())


async def create_token(
    session: AsyncSession,
    owner: User,
    *,
    name: str,
    scopes: list[Scope],
    expires_in_days: int,
    signing_key: str,
    now: datetime,
) -> tuple[ApiToken, str]:
    """A token is never wider than its owner's role; the plain token is returned only here."""
    refused = sorted(set(scopes) - scoping.ROLE_SCOPES[owner.role])
    if refused:
        raise Invalid(
            f"a {owner.role} may not hold the scope(s): {', '.join(refused)}", field="scopes"
        )
    plain = generate()
    row = ApiToken(
        user_id=owner.id,
        name=name,
        token_hash=digest(plain, signing_key=signing_key),
        scopes=" ".join(sorted(set(scopes))),
        created_at=now,
        expires_at=now + timedelta(days=expires_in_days),
        last_used_at=None,
        session_epoch=owner.session_epoch,
    )
    session.add(row)
    await session.flush()
    return row, plain


async def list_tokens(session: AsyncSession, actor: User, *, user_id: int | None) -> list[ApiToken]:
    """The caller's own tokens; the super_admin may list anyone's."""
    owner_id = actor.id if user_id is None else user_id
    if owner_id != actor.id and actor.role != Role.SUPER_ADMIN:
        raise Forbidden("only a super_admin may list another user's tokens")
    query = select(ApiToken).where(ApiToken.user_id == owner_id).order_by(ApiToken.id)
    return list(await session.scalars(query))


async def revoke_token(session: AsyncSession, actor: User, token_id: int) -> None:
    """Owners revoke their own tokens, the super_admin any; others' tokens are not found."""
    query = delete(ApiToken).where(ApiToken.id == token_id)
    if actor.role != Role.SUPER_ADMIN:
        query = query.where(ApiToken.user_id == actor.id)
    result = await session.execute(query)
    if not result.rowcount:  # type: ignore[attr-defined]
        raise NotFound("API token not found")


# Built once: this runs on every request made with an API token.
_LOOKUP = (
    select(ApiToken, User.role)
    .join(User, User.id == ApiToken.user_id)
    .where(ApiToken.token_hash == bindparam("token_hash"), User.is_active.is_(True))
)


async def find(
    session: AsyncSession, token: str, *, signing_key: str, now: datetime
) -> tuple[ApiToken, frozenset[Scope]] | None:
    """The live token (not revoked, not expired, owner active) and the scopes it holds today."""
    if not well_formed(token):
        return None
    found = (
        await session.execute(_LOOKUP, {"token_hash": digest(token, signing_key=signing_key)})
    ).first()
    if found is None:
        return None
    row, role = found
    if row.expires_at <= now:
        return None
    return row, scoping.effective(scopes_of(row), role)


def needs_touch(row: ApiToken, now: datetime) -> bool:
    return row.last_used_at is None or now - row.last_used_at >= TOUCH_EVERY


async def touch(session: AsyncSession, token_id: int, now: datetime) -> None:
    """The condition makes concurrent requests of one token write once per minute at most."""
    await session.execute(
        update(ApiToken)
        .where(ApiToken.id == token_id)
        .where((ApiToken.last_used_at.is_(None)) | (ApiToken.last_used_at <= now - TOUCH_EVERY))
        .values(last_used_at=now)
    )
