from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.security import OAuth2PasswordRequestForm

from ticketdesk import clock
from ticketdesk.auth import security
from ticketdesk.auth import service as accounts
from ticketdesk.auth.dependencies import CurrentUser
from ticketdesk.auth.models import Role, User
from ticketdesk.auth.schemas import (
    AnyRole,
    LoginIn,
    RegisterIn,
    TokenOut,
    UserCreate,
    UserRead,
    UserUpdate,
)
from ticketdesk.config import Settings
from ticketdesk.db import SessionDep
from ticketdesk.errors import Forbidden, Throttled, Unauthorized
from ticketdesk.validation import MAX_ID

router = APIRouter(tags=["auth"])
users_router = APIRouter(prefix="/users", tags=["users"])
UserId = Annotated[int, Path(ge=1, le=MAX_ID)]


@router.post("/auth/register", status_code=201)
async def register(request: Request, session: SessionDep, data: RegisterIn) -> UserRead:
    settings: Settings = request.app.state.settings
    if not settings.allow_registration:
        raise Forbidden("registration is switched off")
    user = await accounts.create_user(
        session,
        email=data.email,
        password=data.password,
        full_name=data.full_name,
        role=Role(data.role),
    )
    return UserRead.model_validate(user)


async def _login(request: Request, session: SessionDep, email: str, password: str) -> TokenOut:
    settings: Settings = request.app.state.settings
    throttle = request.app.state.login_throttle
    now = clock.now()
    email = email.strip().lower()
    wait = throttle.retry_after(email, now)
    if wait:
        raise Throttled("too many failed logins, try again later", retry_after=wait)
    try:
        user = await accounts.authenticate(session, email, password)
    except Unauthorized:
        throttle.failed(email, now)
        raise
    throttle.succeeded(email)
    lifetime = timedelta(minutes=settings.access_token_minutes)
    token = security.issue_token(
        user.id, key=request.app.state.signing_key, now=now, lifetime=lifetime
    )
    return TokenOut(access_token=token, expires_in=int(lifetime.total_seconds()))


@router.post("/auth/login")
async def login(request: Request, session: SessionDep, data: LoginIn) -> TokenOut:
    return await _login(request, session, data.email, data.password)


@router.post("/auth/token", include_in_schema=True)
async def token(
    request: Request, session: SessionDep, form: Annotated[OAuth2PasswordRequestForm, Depends()]
) -> TokenOut:
    """The OAuth2 password flow, for the Authorize button of the API docs."""
    return await _login(request, session, form.username, form.password)


@router.get("/auth/me")
async def me(user: CurrentUser) -> UserRead:
    return UserRead.model_validate(user)


@users_router.post("", status_code=201)
async def create_user(session: SessionDep, actor: CurrentUser, data: UserCreate) -> UserRead:
    return UserRead.model_validate(await accounts.admin_create_user(session, actor, data))


@users_router.get("")
async def list_users(
    session: SessionDep, actor: CurrentUser, role: AnyRole | None = None
) -> list[UserRead]:
    users: list[User] = await accounts.list_users(session, actor, role=role)
    return [UserRead.model_validate(u) for u in users]


@users_router.patch("/{user_id}")
async def update_user(
    session: SessionDep, actor: CurrentUser, user_id: UserId, data: UserUpdate
) -> UserRead:
    return UserRead.model_validate(await accounts.update_user(session, actor, user_id, data))
