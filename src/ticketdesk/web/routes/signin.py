"""Sign-in, sign-out, registration and `/`."""

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import RedirectResponse, Response

from ticketdesk import clock
from ticketdesk.auth import service as accounts
from ticketdesk.auth.models import Role, User
from ticketdesk.auth.router import client_address, login_limits
from ticketdesk.auth.schemas import RegisterIn
from ticketdesk.db import Database, DatabaseDep, ReadSession, WriteSession
from ticketdesk.errors import Conflict, Forbidden, NotFound, Throttled, Unauthorized
from ticketdesk.web import sessions
from ticketdesk.web.pages import (
    FORM_COOKIE,
    SESSION_COOKIE,
    PageViewer,
    field_errors,
    form_token,
    home_of,
    render,
    require_csrf,
    safe_next,
    set_cookie,
)

router = APIRouter(include_in_schema=False)
Text = Annotated[str, Form()]


def _form_page(
    request: Request, template: str, context: dict[str, object], *, status_code: int = 200
) -> Response:
    token = form_token(request)
    response = render(request, template, context | {"form_csrf": token}, status_code=status_code)
    set_cookie(request, response, FORM_COOKIE, token)
    return response


async def _signed_in_home(request: Request, session: AsyncSession) -> str | None:
    token = request.cookies.get(SESSION_COOKIE)
    found = await sessions.resolve(session, token, now=clock.now()) if token else None
    return home_of(found[0]) if found else None


@router.get("/")
async def root(request: Request, session: ReadSession) -> RedirectResponse:
    """Signed-in users go home, anyone else to the sign-in page."""
    return RedirectResponse(await _signed_in_home(request, session) or "/login", status_code=303)


@router.get("/login")
async def login_page(request: Request, session: ReadSession, next: str | None = None) -> Response:
    home = await _signed_in_home(request, session)
    if home:
        return RedirectResponse(safe_next(next) or home, status_code=303)
    return _form_page(request, "login.html", {"next": safe_next(next) or "", "email": ""})


@router.post("/login")
async def login(
    request: Request,
    database: DatabaseDep,
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    """The API's login function (same checks, same throttles), then a session cookie."""
    await require_csrf(request, request.cookies.get(FORM_COOKIE))
    settings = request.app.state.settings
    context: dict[str, object] = {"next": safe_next(next) or "", "email": email[:320]}
    now = clock.now()
    try:
        user = await accounts.login(
            database,
            request.app.state.throttles,
            email,
            password,
            client=client_address(request),
            limits=login_limits(settings),
            now=now,
        )
    except Throttled as exc:
        context["error"] = f"Too many failed sign-ins. Try again in {exc.retry_after} seconds."
        return _form_page(request, "login.html", context, status_code=429)
    except Unauthorized:
        context["error"] = "Incorrect email or password."
        return _form_page(request, "login.html", context, status_code=401)
    return await _signed_in(request, database, user, safe_next(next) or home_of(user))


async def _signed_in(request: Request, database: Database, user: User, to: str) -> Response:
    hours = request.app.state.settings.web_session_hours
    async with database.write() as session:
        token, _row = await sessions.start(
            session, user, now=clock.now(), lifetime=timedelta(hours=hours)
        )
    response = RedirectResponse(to, status_code=303)
    set_cookie(request, response, SESSION_COOKIE, token, max_age=int(hours * 3600))
    response.delete_cookie(FORM_COOKIE, path="/")
    return response


@router.post("/logout")
async def logout(session: WriteSession, viewer: PageViewer) -> Response:
    """The session row goes: the cookie stops working on the server, not only in this browser."""
    await sessions.end(session, viewer.token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/register")
async def register_page(request: Request) -> Response:
    if not request.app.state.settings.allow_registration:
        raise NotFound("registration is switched off")
    return _form_page(request, "register.html", {"full_name": "", "email": ""})


@router.post("/register")
async def register(
    request: Request,
    database: DatabaseDep,
    full_name: Annotated[str, Form()] = "",
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
) -> Response:
    """The API's registration (same rules, same throttle); the new customer is signed in."""
    settings = request.app.state.settings
    if not settings.allow_registration:
        raise Forbidden("registration is switched off")
    await require_csrf(request, request.cookies.get(FORM_COOKIE))
    context: dict[str, object] = {"full_name": full_name[:200], "email": email[:320]}
    try:
        data = RegisterIn(email=email, password=password, full_name=full_name)
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
    except ValidationError as exc:
        context["errors"] = field_errors(exc)
        return _form_page(request, "register.html", context, status_code=422)
    except Conflict as exc:
        context["errors"] = [exc.detail[:1].upper() + exc.detail[1:] + "."]
        return _form_page(request, "register.html", context, status_code=409)
    return await _signed_in(request, database, user, home_of(user))
