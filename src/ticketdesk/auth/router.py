from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import ValidationError

from ticketdesk import clock, paging
from ticketdesk.auth import security
from ticketdesk.auth import service as accounts
from ticketdesk.auth.dependencies import CurrentUser
from ticketdesk.auth.models import Role, User
from ticketdesk.auth.schemas import (
    AnyRole,
    LoginIn,
    PasswordChange,
    RegisterIn,
    TokenOut,
    UserCreate,
    UserRead,
    UserUpdate,
)
from ticketdesk.config import Settings
from ticketdesk.db import Database, DatabaseDep, ReadSession, WriteSession
from ticketdesk.errors import Forbidden
from ticketdesk.paging import WindowDep
from ticketdesk.validation import MAX_ID

router = APIRouter(tags=["auth"])
users_router = APIRouter(prefix="/users", tags=["users"])
UserId = Annotated[int, Path(ge=1, le=MAX_ID)]


def client_address(request: Request) -> str:
    """The caller's IP (behind trusted proxies, the forwarded one): the throttles' client."""
    return request.client.host if request.client else "unknown"


def login_limits(settings: Settings) -> accounts.LoginLimits:
    return accounts.LoginLimits(
        per_address=settings.login_attempts_per_minute,
        per_client=settings.login_failures_per_client_per_minute,
    )


@router.post("/auth/register", status_code=201)
async def register(request: Request, database: DatabaseDep, data: RegisterIn) -> UserRead:
    """Throttled per client (TICKETDESK_REGISTRATIONS_PER_CLIENT_PER_HOUR)."""
    settings: Settings = request.app.state.settings
    if not settings.allow_registration:
        raise Forbidden("registration is switched off")
    user = await accounts.register(
        database,
        email=data.email,
        password=data.password,
        full_name=data.full_name,
        role=Role(data.role),
        client=client_address(request),
        per_client_per_hour=settings.registrations_per_client_per_hour,
        now=clock.now(),
    )
    return UserRead.model_validate(user)


async def _login(
    request: Request, response: Response, database: Database, data: LoginIn
) -> TokenOut:
    user = await accounts.login(
        database,
        data.email,
        data.password,
        client=client_address(request),
        limits=login_limits(request.app.state.settings),
        now=clock.now(),
    )
    return _issue(request, response, user)


@router.post("/auth/login")
async def login(
    request: Request, response: Response, database: DatabaseDep, data: LoginIn
) -> TokenOut:
    """Failed logins are counted per address and client and per client across addresses;
    over either limit the answer is 429 with Retry-After."""
    return await _login(request, response, database, data)


@router.post("/auth/token", include_in_schema=True)
async def token(
    request: Request,
    response: Response,
    database: DatabaseDep,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
) -> TokenOut:
    """The OAuth2 password flow, for the Authorize button of the API docs: the same rules and
    throttles as /auth/login."""
    try:
        data = LoginIn(email=form.username, password=form.password)
    except ValidationError as error:
        raise RequestValidationError(
            [
                {
                    **problem,
                    "loc": ("body", "username" if problem["loc"][0] == "email" else "password"),
                }
                for problem in error.errors(include_input=False, include_url=False)
            ]
        ) from None
    return await _login(request, response, database, data)


def _issue(request: Request, response: Response, user: User) -> TokenOut:
    settings: Settings = request.app.state.settings
    lifetime = timedelta(minutes=settings.access_token_minutes)
    token = security.issue_token(
        user.id,
        key=request.app.state.signing_key,
        now=clock.now(),
        lifetime=lifetime,
        epoch=user.session_epoch,
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return TokenOut(access_token=token, expires_in=int(lifetime.total_seconds()))


@router.post("/auth/password")
async def change_password(
    request: Request,
    response: Response,
    database: DatabaseDep,
    user: CurrentUser,
    data: PasswordChange,
) -> TokenOut:
    """Change the signed-in user's password. Every earlier token (on every device) ends; the
    answer carries a new one."""
    changed = await accounts.change_password(
        database,
        user,
        current=data.current_password,
        new=data.new_password,
        client=client_address(request),
        limits=login_limits(request.app.state.settings),
    )
    return _issue(request, response, changed)


@router.get("/auth/me")
async def me(user: CurrentUser) -> UserRead:
    return UserRead.model_validate(user)


@users_router.post("", status_code=201)
async def create_user(database: DatabaseDep, actor: CurrentUser, data: UserCreate) -> UserRead:
    return UserRead.model_validate(await accounts.admin_create_user(database, actor, data))


@users_router.get("")
async def list_users(
    request: Request,
    response: Response,
    session: ReadSession,
    actor: CurrentUser,
    window: WindowDep,
    role: AnyRole | None = None,
) -> list[UserRead]:
    """In id order, `limit` at a time; `Link: next` leads on."""
    users: list[User] = await accounts.list_users(session, actor, role=role, window=window)
    return [
        UserRead.model_validate(u)
        for u in paging.page(request, response, window, users, lambda u: u.id)
    ]


@users_router.patch("/{user_id}")
async def update_user(
    session: WriteSession, actor: CurrentUser, user_id: UserId, data: UserUpdate
) -> UserRead:
    return UserRead.model_validate(await accounts.update_user(session, actor, user_id, data))
