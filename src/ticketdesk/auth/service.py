"""Accounts: registration, login, user management, ending sessions, the bootstrap admin."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import instrumentation, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from ticketdesk import clock, db
from ticketdesk.auth import passwords, policy, security, throttle
from ticketdesk.auth.models import STAFF_ROLES, Role, User
from ticketdesk.auth.schemas import UserCreate, UserUpdate
from ticketdesk.db import Database
from ticketdesk.errors import Conflict, Invalid, NotFound, Throttled, Unauthorized
from ticketdesk.organizations import service as orgs
from ticketdesk.paging import Window


async def create_user(
    session: AsyncSession,
    *,
    email: str,
    full_name: str,
    role: Role,
    password: str | None = None,
    password_hash: str | None = None,
) -> User:
    """E-mail addresses are unique regardless of case (they are stored lower-cased).

    Pass `password_hash` (hashed before the transaction began); a plain `password` is hashed
    here, inside the caller's transaction, which holds its lock for the hash's duration.

    A customer whose address is at one of an organization's domains joins it.
    """
    email = email.lower()
    if password_hash is None:
        if password is None:
            raise ValueError("a password or a password hash is required")
        password_hash = await security.hash_password(password)
    if await find_by_email(session, email) is not None:
        raise Conflict("a user with this email already exists")
    now = clock.now()
    user = User(
        email=email,
        password_hash=password_hash,
        full_name=full_name,
        role=role,
        is_active=True,
        created_at=now,
        updated_at=now,
    )
    organization = None
    if role not in STAFF_ROLES:
        organization = await orgs.organization_for_email(session, email)
    user.organization_id = organization.id if organization else None
    user.organization_shares_tickets = organization.shared_tickets if organization else False
    session.add(user)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise Conflict("a user with this email already exists") from None
    return user


async def find_by_email(session: AsyncSession, email: str) -> User | None:
    return await session.scalar(select(User).where(User.email == email.lower()))


async def authenticate(session: AsyncSession, email: str, password: str) -> User:
    """Wrong address, wrong password and a deactivated account all look the same.

    Hashes inside the caller's transaction: prefer `login`, which holds none while hashing.
    """
    user = await find_by_email(session, email)
    password_hash = user.password_hash if user is not None else None
    if not await security.verify_password(password_hash, password) or user is None:
        raise Unauthorized("incorrect email or password")
    if not user.is_active:
        raise Unauthorized("incorrect email or password")
    return user


@dataclass(frozen=True)
class LoginLimits:
    """Failed logins allowed per minute: per address from one client, and per client over
    every address (spraying). 0 switches a limit off."""

    per_address: int
    per_client: int

    @property
    def address(self) -> throttle.Limit:
        return throttle.Limit("login", self.per_address, timedelta(minutes=1))

    @property
    def client(self) -> throttle.Limit:
        return throttle.Limit("login-client", self.per_client, timedelta(minutes=1))


async def login(
    database: Database,
    throttles: throttle.Throttles,
    email: str,
    password: str,
    *,
    client: str,
    limits: LoginLimits,
    now: datetime,
) -> User:
    """Check the password without holding a transaction, counting failures per address and
    client and per client where every process shares them (`throttles`).

    The hash runs for unknown addresses too, so timing does not tell which accounts exist;
    a throttled address is refused before any hash. Raises Throttled or Unauthorized.
    """
    email = email.strip().lower()
    address = (limits.address, limits.address.key(email, client))
    per_client = (limits.client, limits.client.key(client))
    wait = await throttles.wait(now, address, per_client)
    if wait:
        raise Throttled("too many failed logins, try again later", retry_after=wait)
    async with database.read() as session:
        user = await find_by_email(session, email)
    had_failures = await throttles.has_hits(address[1])
    password_hash = user.password_hash if user is not None else None
    matched = await security.verify_password(password_hash, password)
    if not matched or user is None or not user.is_active:
        await throttles.hit(now, address, per_client)
        raise Unauthorized("incorrect email or password")
    if had_failures:
        await throttles.clear(address[1])
    return user


def registration_limit(per_hour: int) -> throttle.Limit:
    return throttle.Limit("register", per_hour, timedelta(hours=1))


async def register(
    database: Database,
    throttles: throttle.Throttles,
    *,
    email: str,
    password: str,
    full_name: str,
    role: Role,
    client: str,
    per_client_per_hour: int,
    now: datetime,
) -> User:
    """Self-registration, throttled per client (an existing address is still a 409, but a
    client can only ask so often). The password is hashed before the transaction begins."""
    limit = registration_limit(per_client_per_hour)
    counted = (limit, limit.key(client))
    wait = await throttles.wait(now, counted)
    if wait:
        raise Throttled(
            "too many registrations from this client, try again later", retry_after=wait
        )
    await passwords.require_strong(password, email=email, full_name=full_name)
    password_hash = await security.hash_password(password)
    await throttles.hit(now, counted)
    async with database.write() as session:
        return await create_user(
            session, email=email, password_hash=password_hash, full_name=full_name, role=role
        )


async def end_sessions(session: AsyncSession, user: User) -> None:
    """End every token and session issued to `user` so far: each carries the user's session
    epoch from when it was issued, and only the current epoch is accepted. Tokens issued
    after this call (same transaction or later) carry the new epoch."""
    epoch = await session.scalar(
        update(User)
        .where(User.id == user.id)
        .values(session_epoch=User.session_epoch + 1)
        .returning(User.session_epoch)
    )
    if epoch is None:
        raise NotFound("user not found")
    set_committed_value(user, "session_epoch", epoch)


def session_is_current(user: User, epoch: int) -> bool:
    """A token, API token or web session issued at `epoch` is still valid for `user`."""
    return epoch == user.session_epoch


# What a row must hold to stand for a user (`USER_ROW_COLUMNS` selects it).
USER_ROW_COLUMNS = (
    *User.__table__.columns,
    User.organization_shares_tickets.expression.label("organization_shares_tickets"),
)
_USER_KEYS = tuple(column.key for column in USER_ROW_COLUMNS)


# Built once: these run on every authenticated request.
_ACTIVE_USER = select(User).where(User.id == bindparam("user_id"), User.is_active.is_(True))
_ACTIVE_USER_ROW = select(*USER_ROW_COLUMNS).where(
    User.__table__.c.id == bindparam("user_id"), User.__table__.c.is_active.is_(True)
)


async def active_user(session: AsyncSession, user_id: int) -> User | None:
    """In a read session the user is built from its row, outside the session (a route that
    only reads never changes its caller), which costs a fraction of loading it through the
    ORM; a writing route gets the user in its session, to change it there."""
    if isinstance(session, db.AsyncReadSession):
        row = (
            await db.execute(session, _ACTIVE_USER_ROW, {"user_id": user_id}, built_once=True)
        ).first()
        return None if row is None else _user_from(row._mapping)
    return await session.scalar(_ACTIVE_USER, {"user_id": user_id})


_USERS = instrumentation.manager_of_class(User)


def _user_from(values: Mapping[Any, Any]) -> User:
    """A User holding these values, as the ORM's own loading fills one (its constructor would
    record each value as a change, at ten times the cost)."""
    user: User = _USERS.new_instance()
    user.__dict__.update(values)
    return user


def user_in_session(session: AsyncSession, row: Mapping[Any, Any]) -> User:
    """The user of a row read elsewhere (`USER_ROW_COLUMNS` among its columns), in `session`
    as if loaded there, without reading it again: the session's own copy if it has one."""
    found: User | None = session.identity_map.get(identity_key(User, row["id"]))
    if found is not None:
        return found
    user = _user_from({key: row[key] for key in _USER_KEYS})
    make_transient_to_detached(user)
    session.add(user)
    return user


async def admin_create_user(database: Database, actor: User, data: UserCreate) -> User:
    """The password is hashed before the write transaction begins."""
    policy.require_super_admin(actor)
    await passwords.require_strong(data.password, email=data.email, full_name=data.full_name)
    password_hash = await security.hash_password(data.password)
    async with database.write() as session:
        return await create_user(
            session,
            email=data.email,
            password_hash=password_hash,
            full_name=data.full_name,
            role=data.role,
        )


async def list_users(
    session: AsyncSession, actor: User, *, role: Role | None, window: Window = Window()
) -> list[User]:
    """Agents see staff only; the super_admin sees everyone."""
    query = select(User).order_by(User.id)
    if role is not None:
        policy.require_user_listing(actor, role)
        query = query.where(User.role == role)
    elif actor.role != Role.SUPER_ADMIN:
        policy.require_user_listing(actor, Role.AGENT)
        query = query.where(User.role.in_(STAFF_ROLES))
    return list(await session.scalars(window.apply(query, User.id)))


async def get_user(session: AsyncSession, actor: User, user_id: int) -> User:
    policy.require_super_admin(actor)
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound("user not found")
    return user


async def update_user(session: AsyncSession, actor: User, user_id: int, data: UserUpdate) -> User:
    """A change of organization applies to tickets filed afterwards: each existing ticket
    stays with the organization it was filed under (README, "Organizations")."""
    policy.require_super_admin(actor)
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound("user not found")
    changes = data.model_dump(exclude_unset=True)
    deactivating = changes.get("is_active") is False and user.is_active
    demoting = changes.get("role") not in (None, Role.SUPER_ADMIN)
    if user.role == Role.SUPER_ADMIN and user.is_active and (deactivating or demoting):
        await _keep_an_administrator(session, user)
    if user.anonymized_at is not None and changes.get("is_active"):
        raise Conflict("an anonymized account cannot be reactivated")
    if changes.get("organization_id") is not None:
        await orgs.require_organization(session, changes["organization_id"])
    for field, value in changes.items():
        if value is None and field != "organization_id":
            continue
        setattr(user, field, value)
    user.updated_at = clock.now()
    await session.flush()
    if deactivating:
        # For good: reactivating the account later does not bring old tokens back.
        await end_sessions(session, user)
    return user


async def _keep_an_administrator(session: AsyncSession, leaving: User) -> None:
    """Refuse to remove the last active super_admin. The other super_admins' rows are locked
    (FOR UPDATE; SQLite's writer lock does the same), so two admins demoting each other at
    once cannot both succeed."""
    others = await session.scalars(
        select(User.id)
        .where(User.role == Role.SUPER_ADMIN, User.is_active.is_(True), User.id != leaving.id)
        .with_for_update()
    )
    if not list(others):
        raise Conflict("the helpdesk needs an active super_admin: promote another user first")


async def change_password(
    database: Database,
    throttles: throttle.Throttles,
    user: User,
    *,
    current: str,
    new: str,
    client: str,
    limits: LoginLimits,
) -> User:
    """The current password is checked as a login is (same throttles); the new one must be
    strong. Every earlier token ends; the caller gets a fresh one."""
    now = clock.now()
    try:
        await login(database, throttles, user.email, current, client=client, limits=limits, now=now)
    except Unauthorized:
        raise Invalid("the current password is wrong", field="current_password") from None
    await passwords.require_strong(
        new, email=user.email, full_name=user.full_name, field="new_password"
    )
    password_hash = await security.hash_password(new)
    async with database.write() as session:
        fresh = await session.get(User, user.id, with_for_update=True)
        if fresh is None or not fresh.is_active:
            raise Unauthorized("invalid or expired token")
        fresh.password_hash = password_hash
        fresh.updated_at = now
        await session.flush()
        await end_sessions(session, fresh)
        return fresh


async def ensure_admin(
    session: AsyncSession,
    *,
    email: str,
    full_name: str,
    password: str | None = None,
    password_hash: str | None = None,
) -> bool:
    """Create the bootstrap super_admin unless a user with that address exists."""
    if await find_by_email(session, email) is not None:
        return False
    await create_user(
        session,
        email=email,
        password=password,
        password_hash=password_hash,
        full_name=full_name,
        role=Role.SUPER_ADMIN,
    )
    return True


async def set_available(session: AsyncSession, actor: User, available: bool) -> User:
    """Staff switch themselves away (assignment rules with only_available skip them) and back."""
    policy.require_staff(actor)
    actor.available = available
    actor.updated_at = clock.now()
    await session.flush()
    return actor
