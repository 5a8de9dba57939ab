from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import ValidationError

from ticketdesk import clock, paging
from ticketdesk.auth import reset, security, throttle, tokens
from ticketdesk.auth import service as accounts
from ticketdesk.auth.dependencies import ApiRoute, CurrentUser, any_api_token, require_scope
from ticketdesk.auth.models import ApiToken, Role, User
from ticketdesk.auth.schemas import (
    AnyRole,
    ApiTokenCreate,
    ApiTokenCreated,
    ApiTokenRead,
    AvailabilityIn,
    LoginIn,
    PasswordChange,
    PasswordResetConfirm,
    PasswordResetIn,
    RegisterIn,
    TokenOut,
    UserCreate,
    UserRead,
    UserUpdate,
)
from ticketdesk.auth.scopes import Scope
from ticketdesk.config import Settings
from ticketdesk.db import Database, DatabaseDep, ReadSession, WriteSession
from ticketdesk.errors import Forbidden
from ticketdesk.mail.config import mail_config
from ticketdesk.openapi import errors
from ticketdesk.paging import WindowDep
from ticketdesk.validation import MAX_ID

router = APIRouter(route_class=ApiRoute, tags=["auth"])
# API tokens: listing needs users:read, creating and changing users needs admin.
users_router = APIRouter(
    route_class=ApiRoute,
    prefix="/users",
    tags=["users"],
    dependencies=[require_scope(Scope.USERS_READ, write=Scope.ADMIN)],
)
UserId = Annotated[int, Path(ge=1, le=MAX_ID)]


def client_address(request: Request) -> str:
    """The caller's IP (behind trusted proxies, the forwarded one): the throttles' client."""
    return request.client.host if request.client else "unknown"


def login_limits(settings: Settings) -> accounts.LoginLimits:
    return accounts.LoginLimits(
        per_address=settings.login_attempts_per_minute,
        per_client=settings.login_failures_per_client_per_minute,
    )


@router.post(
    "/auth/register",
    responses=errors(403, 409, 429),
    operation_id="registerAccount",
    summary="Register a customer account",
    status_code=201,
)
async def register(request: Request, database: DatabaseDep, data: RegisterIn) -> UserRead:
    """Throttled per client (TICKETDESK_REGISTRATIONS_PER_CLIENT_PER_HOUR)."""
    settings: Settings = request.app.state.settings
    if not settings.allow_registration:
        raise Forbidden("registration is switched off")
    user = await accounts.register(
        database,
        request.app.state.throttles,
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
        request.app.state.throttles,
        data.email,
        data.password,
        client=client_address(request),
        limits=login_limits(request.app.state.settings),
        now=clock.now(),
    )
    return _issue(request, response, user)


@router.post(
    "/auth/login",
    responses=errors(401, 429),
    operation_id="logIn",
    summary="Log in with email and password",
)
async def login(
    request: Request, response: Response, database: DatabaseDep, data: LoginIn
) -> TokenOut:
    """Failed logins are counted per address and client and per client across addresses;
    over either limit the answer is 429 with Retry-After."""
    return await _login(request, response, database, data)


@router.post(
    "/auth/token",
    responses=errors(401, 429),
    operation_id="issueToken",
    summary="Log in with the OAuth2 password form",
    include_in_schema=True,
)
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


@router.post(
    "/auth/password", summary="Change your password", dependencies=[require_scope(Scope.ADMIN)]
)
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
        request.app.state.throttles,
        user,
        current=data.current_password,
        new=data.new_password,
        client=client_address(request),
        limits=login_limits(request.app.state.settings),
    )
    return _issue(request, response, changed)


@router.get(
    "/auth/me",
    operation_id="getCurrentUser",
    summary="Get the signed-in user",
    dependencies=[any_api_token()],
)
async def me(user: CurrentUser) -> UserRead:
    """The caller's own account, as the token in use identifies it."""
    return UserRead.model_validate(user)


@users_router.post("", responses=errors(409), summary="Create a user", status_code=201)
async def create_user(database: DatabaseDep, actor: CurrentUser, data: UserCreate) -> UserRead:
    """Super admins create an account of any role, staff included. The email must not be taken (409)
    and the password must be strong enough (422)."""
    return UserRead.model_validate(await accounts.admin_create_user(database, actor, data))


@users_router.get("", summary="List users")
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


@users_router.patch("/me", operation_id="updateCurrentUser", summary="Update your own profile")
async def update_me(session: WriteSession, actor: CurrentUser, data: AvailabilityIn) -> UserRead:
    """Staff: `available: false` is the "away" switch auto-assignment rules respect."""
    return UserRead.model_validate(await accounts.set_available(session, actor, data.available))


@users_router.patch("/{user_id}", responses=errors(409), summary="Update a user")
async def update_user(
    session: WriteSession, actor: CurrentUser, user_id: UserId, data: UserUpdate
) -> UserRead:
    """Super admins change a user's role, name or active flag. A deactivated user's tokens stop
    working at once; the last active super admin cannot be demoted or deactivated (409)."""
    return UserRead.model_validate(await accounts.update_user(session, actor, user_id, data))


# Managing API tokens takes a login, or a token with the admin scope: a leaked token must not
# be able to mint tokens that outlive its own revocation.
TokenId = Annotated[int, Path(ge=1, le=MAX_ID)]


def _token_read(row: ApiToken) -> ApiTokenRead:
    return ApiTokenRead(
        id=row.id,
        user_id=row.user_id,
        name=row.name,
        scopes=sorted(tokens.scopes_of(row)),
        created_at=row.created_at,
        expires_at=row.expires_at,
        last_used_at=row.last_used_at,
    )


@router.post(
    "/auth/tokens",
    summary="Create an API token",
    status_code=201,
    dependencies=[require_scope(Scope.ADMIN)],
)
async def create_api_token(
    request: Request, session: WriteSession, actor: CurrentUser, data: ApiTokenCreate
) -> ApiTokenCreated:
    """The token is in this answer only: it is stored as a keyed hash and cannot be shown
    again. Scopes beyond the caller's role are refused (422)."""
    row, plain = await tokens.create_token(
        session,
        actor,
        name=data.name,
        scopes=data.scopes,
        expires_in_days=data.expires_in_days,
        signing_key=request.app.state.signing_key,
        now=clock.now(),
    )
    return ApiTokenCreated(**_token_read(row).model_dump(), token=plain)


@router.get(
    "/auth/tokens", summary="List your API tokens", dependencies=[require_scope(Scope.ADMIN)]
)
async def list_api_tokens(
    session: ReadSession,
    actor: CurrentUser,
    user_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> list[ApiTokenRead]:
    """The caller's tokens; a super_admin may name another user with `user_id`."""
    rows = await tokens.list_tokens(session, actor, user_id=user_id)
    return [_token_read(row) for row in rows]


@router.delete(
    "/auth/tokens/{token_id}",
    summary="Revoke an API token",
    status_code=204,
    dependencies=[require_scope(Scope.ADMIN)],
)
async def revoke_api_token(
    session: WriteSession, actor: CurrentUser, token_id: TokenId
) -> Response:
    """The token stops working on the next request."""
    await tokens.revoke_token(session, actor, token_id)
    return Response(status_code=204)


def reset_limit(settings: Settings) -> throttle.Limit:
    """Reset requests per address, counted like failed logins."""
    return throttle.Limit(
        "password-reset", settings.login_attempts_per_minute, timedelta(minutes=1)
    )


@router.post(
    "/auth/password-reset",
    responses=errors(429),
    summary="Request a password reset mail",
    status_code=202,
)
async def request_password_reset(
    request: Request, database: DatabaseDep, data: PasswordResetIn
) -> dict[str, str]:
    """Always 202, whether or not the address has an account; throttled per address."""
    settings: Settings = request.app.state.settings
    await reset.request_reset_limited(
        database,
        request.app.state.throttles,
        mail_config(settings),
        data.email,
        limit=reset_limit(settings),
        now=clock.now(),
    )
    return {"detail": "if the address has an account, a reset link is on its way"}


@router.post(
    "/auth/password-reset/confirm",
    responses=errors(400),
    summary="Set a new password with a reset token",
    status_code=204,
)
async def confirm_password_reset(database: DatabaseDep, data: PasswordResetConfirm) -> Response:
    """The new password is hashed before the transaction begins."""
    password_hash = await security.hash_password(data.new_password)
    async with database.write() as session:
        await reset.confirm_reset(session, data.token, password_hash, now=clock.now())
    return Response(status_code=204)
