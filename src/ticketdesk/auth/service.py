"""Accounts: registration, login, user management, the bootstrap admin."""

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ticketdesk import clock
from ticketdesk.auth import policy, security
from ticketdesk.auth.models import STAFF_ROLES, Role, User
from ticketdesk.auth.schemas import UserCreate, UserUpdate
from ticketdesk.errors import Conflict, NotFound, Unauthorized


async def create_user(
    session: AsyncSession, *, email: str, password: str, full_name: str, role: Role
) -> User:
    """E-mail addresses are unique regardless of case (they are stored lower-cased)."""
    email = email.lower()
    if await find_by_email(session, email) is not None:
        raise Conflict("a user with this email already exists")
    now = clock.now()
    user = User(
        email=email,
        password_hash=await security.hash_password(password),
        full_name=full_name,
        role=role,
        is_active=True,
        created_at=now,
        updated_at=now,
    )
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
    """Wrong address, wrong password and a deactivated account all look the same."""
    user = await find_by_email(session, email)
    if user is None or not await security.verify_password(user.password_hash, password):
        raise Unauthorized("incorrect email or password")
    if not user.is_active:
        raise Unauthorized("incorrect email or password")
    return user


# Built once: this runs on every authenticated request.
_ACTIVE_USER = select(User).where(User.id == bindparam("user_id"), User.is_active.is_(True))


async def active_user(session: AsyncSession, user_id: int) -> User | None:
    return await session.scalar(_ACTIVE_USER, {"user_id": user_id})


async def admin_create_user(session: AsyncSession, actor: User, data: UserCreate) -> User:
    policy.require_super_admin(actor)
    return await create_user(
        session,
        email=data.email,
        password=data.password,
        full_name=data.full_name,
        role=data.role,
    )


async def list_users(session: AsyncSession, actor: User, *, role: Role | None) -> list[User]:
    """Agents see staff only; the super_admin sees everyone."""
    query = select(User).order_by(User.id)
    if role is not None:
        policy.require_user_listing(actor, role)
        query = query.where(User.role == role)
    elif actor.role != Role.SUPER_ADMIN:
        policy.require_user_listing(actor, Role.AGENT)
        query = query.where(User.role.in_(STAFF_ROLES))
    return list(await session.scalars(query))


async def update_user(session: AsyncSession, actor: User, user_id: int, data: UserUpdate) -> User:
    policy.require_super_admin(actor)
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound("user not found")
    for field, value in data.model_dump(exclude_unset=True).items():
        if value is None:
            continue
        setattr(user, field, value)
    user.updated_at = clock.now()
    await session.flush()
    return user


async def ensure_admin(session: AsyncSession, *, email: str, password: str, full_name: str) -> bool:
    """Create the bootstrap super_admin unless a user with that address exists."""
    if await find_by_email(session, email) is not None:
        return False
    await create_user(
        session, email=email, password=password, full_name=full_name, role=Role.SUPER_ADMIN
    )
    return True
