"""Password reset pages (EMAIL.md): ask for a link, then choose a new password from it."""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from pydantic import ValidationError
from starlette.responses import Response

from ticketdesk import clock
from ticketdesk.auth import reset, security
from ticketdesk.auth.router import reset_limit
from ticketdesk.auth.schemas import PasswordResetConfirm, PasswordResetIn
from ticketdesk.db import DatabaseDep
from ticketdesk.errors import DomainError, Throttled
from ticketdesk.mail.config import mail_config
from ticketdesk.web.pages import (
    FORM_COOKIE,
    field_errors,
    form_token,
    render,
    require_csrf,
    set_cookie,
)

router = APIRouter(prefix="/reset-password", include_in_schema=False)
Text = Annotated[str, Form()]
SENT = (
    "If the address has an account, a link to choose a new password is on its way. "
    "It works once, within 60 minutes."
)
INVALID = "This link is invalid, used or expired. Ask for a new one below."


def _page(request: Request, context: dict[str, object], *, status_code: int = 200) -> Response:
    token = form_token(request)
    response = render(
        request, "reset.html", {"email": "", "token": ""} | context | {"form_csrf": token},
        status_code=status_code,
    )  # fmt: skip
    set_cookie(request, response, FORM_COOKIE, token)
    return response


@router.get("")
async def reset_page(request: Request, token: str | None = None) -> Response:
    """Without a token: ask for a link. With one (the mail's link): choose a new password.
    Opening the link changes nothing."""
    if token:
        return _page(request, {"step": "choose", "token": token[:200]})
    return _page(request, {"step": "ask"})


@router.post("")
async def ask_for_link(request: Request, database: DatabaseDep, email: Text = "") -> Response:
    """The API's reset request: the same answer whether or not the address has an account."""
    await require_csrf(request, request.cookies.get(FORM_COOKIE))
    settings = request.app.state.settings
    try:
        data = PasswordResetIn(email=email)
        await reset.request_reset_limited(
            database, request.app.state.throttles, mail_config(settings), data.email,
            limit=reset_limit(settings), now=clock.now(),
        )  # fmt: skip
    except ValidationError:
        return _page(request, {"step": "sent", "notice": SENT})
    except Throttled as exc:
        errors = [f"Too many requests for this address. Try again in {exc.retry_after} seconds."]
        return _page(
            request, {"step": "ask", "email": email[:320], "errors": errors}, status_code=429
        )
    return _page(request, {"step": "sent", "notice": SENT})


@router.post("/confirm")
async def choose_password(
    request: Request, database: DatabaseDep, token: Text = "", new_password: Text = ""
) -> Response:
    """The API's confirmation: the link works once, and every earlier session ends."""
    await require_csrf(request, request.cookies.get(FORM_COOKIE))
    try:
        data = PasswordResetConfirm(token=token, new_password=new_password)
    except ValidationError as exc:
        errors = field_errors(exc)
        context: dict[str, object] = {"step": "choose", "token": token[:200], "errors": errors}
        return _page(request, context, status_code=422)
    password_hash = await security.hash_password(data.new_password)
    try:
        async with database.write() as session:
            await reset.confirm_reset(session, data.token, password_hash, now=clock.now())
    except DomainError:
        return _page(request, {"step": "ask", "errors": [INVALID]}, status_code=400)
    return _page(request, {"step": "done"})
