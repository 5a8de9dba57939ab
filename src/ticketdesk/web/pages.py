"""What every page shares: the signed-in viewer, CSRF checks, templates and error pages."""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode, urlsplit

from fastapi import Depends, Request
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import RedirectResponse, Response

from ticketdesk import clock, db
from ticketdesk.attachments import service as attachments
from ticketdesk.attachments.storage import storage_for
from ticketdesk.attachments.upload import request_files
from ticketdesk.auth import policy
from ticketdesk.auth.models import Role, User
from ticketdesk.comments.models import TicketComment
from ticketdesk.errors import Forbidden, NotFound
from ticketdesk.tickets import service as tickets
from ticketdesk.tickets.schemas import TicketFilters
from ticketdesk.web import sessions
from ticketdesk.web.models import WebSession

HERE = Path(__file__).resolve().parent
SESSION_COOKIE = "ticketdesk_session"
# Before sign-in there is no session row: the login and register forms use a double-submit
# cookie instead.
FORM_COOKIE = "ticketdesk_form"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

templates = Jinja2Templates(directory=HERE / "templates")


class LoginRequired(Exception):
    """Raised for an anonymous visitor; answered with a redirect to /login?next=..."""


@dataclass(frozen=True)
class Viewer:
    user: User
    csrf: str
    token: str
    # Read once: error pages render after the transaction ended and the ORM object expired.
    id: int
    name: str
    role: str
    staff: bool


async def _form_token(request: Request) -> str | None:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    if "form" in request.headers.get("content-type", ""):
        value = (await request.form()).get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


async def require_csrf(request: Request, expected: str | None) -> None:
    """Every state-changing request carries the token: a form field or the X-CSRF-Token header."""
    sent = await _form_token(request)
    if not expected or not sent or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise Forbidden("the form has expired or did not come from this site; reload the page")


async def _resolve(request: Request, token: str) -> tuple[User, WebSession] | None:
    """In the route's own session when it took one first, else in a short read."""
    session = db.request_session(request)
    if session is not None:
        return await sessions.resolve(session, token, now=clock.now())
    async with request.app.state.database.read() as reading:
        return await sessions.resolve(reading, token, now=clock.now())


async def current_viewer(request: Request) -> Viewer:
    """The signed-in user of a page; anonymous visitors are sent to the sign-in page.

    Routes declare their database session before the viewer, so both share it."""
    token = request.cookies.get(SESSION_COOKIE)
    found = await _resolve(request, token) if token else None
    if found is None or token is None:
        raise LoginRequired
    user, row = found
    viewer = Viewer(
        user=user,
        csrf=row.csrf_token,
        token=token,
        id=user.id,
        name=user.full_name,
        role=user.role,
        staff=policy.is_staff(user),
    )
    request.state.viewer = viewer
    if request.method not in SAFE_METHODS:
        await require_csrf(request, row.csrf_token)
    return viewer


PageViewer = Annotated[Viewer, Depends(current_viewer)]


def require_staff(viewer: Viewer) -> None:
    """Staff pages answer 404 to customers, as the API does for what they may not see."""
    if not viewer.staff:
        raise NotFound("page not found")


def require_admin(viewer: Viewer) -> None:
    """The admin console answers 404 to everyone but the super_admin."""
    if viewer.role != Role.SUPER_ADMIN:
        raise NotFound("page not found")


def home_of(user: User) -> str:
    return "/desk" if policy.is_staff(user) else "/portal"


def safe_next(target: str | None) -> str | None:
    """Only a path of this site: no scheme, no host, no `//host`, no backslash tricks."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or "\\" in target or any(ord(c) < 32 for c in target):
        return None
    return target


def login_redirect(request: Request) -> RedirectResponse:
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.method not in SAFE_METHODS:
        return RedirectResponse("/login", status_code=303)
    return RedirectResponse(f"/login?next={quote(here, safe='/')}", status_code=303)


def secure_cookies(request: Request) -> bool:
    return str(request.app.state.settings.public_url).lower().startswith("https://")


def set_cookie(request: Request, response: Response, name: str, value: str, **extra: Any) -> None:
    response.set_cookie(
        name,
        value,
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request),
        path="/",
        **extra,
    )


def form_token(request: Request) -> str:
    """The double-submit token of the anonymous forms (kept if the browser already has one)."""
    existing = request.cookies.get(FORM_COOKIE)
    if existing and len(existing) == 43:
        return existing
    return secrets.token_urlsafe(32)


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    viewer: Viewer | None = getattr(request.state, "viewer", None)
    settings = request.app.state.settings
    base = {
        "viewer": viewer,
        "now": clock.now(),
        "csrf": viewer.csrf if viewer else "",
        # Files that came with a form shown again (an error, a reply collision): a browser
        # cannot refill a file input, so the page names them to be chosen again.
        "dropped_files": [upload.filename for upload in getattr(request.state, "uploads", [])],
        "upload_limits": {
            "max_files": settings.max_upload_files,
            "file_mib": f"{settings.max_upload_mb:g}",
        },
    }
    return templates.TemplateResponse(
        request,
        template,
        base | (context or {}),
        status_code=status_code,
        headers=headers,
    )


FILTER_KEYS = ("status", "priority", "category", "assigned_to_id", "tag", "q", "sort", "page")


async def show_reply(
    request: Request,
    session: AsyncSession,
    viewer: Viewer,
    ref: str,
    reply: TicketComment,
    area: str,
) -> RedirectResponse:
    """After a reply sent from a page (`area`: desk or portal): the form's files attached under
    the API's rules, then the ticket shown at the reply."""
    storage = storage_for(request.app.state.settings)
    files = request_files(request)
    await attachments.attach_to_comment(session, viewer.user, reply, files, storage=storage)
    number = (await tickets.read_ticket(session, viewer.user, ref)).ticket_number
    return RedirectResponse(f"/{area}/tickets/{number}#comment-{reply.id}", status_code=303)


def query_filters(request: Request, preset: dict[str, object] | None = None) -> TicketFilters:
    """The API's list filters from the page's query string (empty fields mean "any"); a
    view's preset applies where the query says nothing. Bad values are a 422 page."""
    given = {
        key: value.strip()
        for key, value in request.query_params.items()
        if key in FILTER_KEYS and value.strip()
    }
    return TicketFilters.model_validate((preset or {}) | given)


FIELD_NAMES = {"full_name": "Full name", "comment": "Message", "new_password": "New password"}


def field_errors(exc: ValidationError) -> list[str]:
    """ "Email: not a valid email address", one line per problem of a form."""
    found = []
    for error in exc.errors():
        name = str((error.get("loc") or ("",))[0])
        message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        found.append(f"{FIELD_NAMES.get(name, _label(name))}: {message}")
    return found


def _asset_version() -> str:
    digest = hashlib.sha256()
    for path in sorted((HERE / "static").iterdir()):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "—"


def _duration(seconds: float) -> str:
    minutes = int(abs(seconds) // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min"


def time_left(due: datetime | None, now: datetime) -> str:
    """ "3 h 20 min left" or "overdue by 25 min"."""
    if due is None:
        return ""
    seconds = (due - now).total_seconds()
    return f"{_duration(seconds)} left" if seconds >= 0 else f"overdue by {_duration(seconds)}"


def _filesize(size: int) -> str:
    """ "812 bytes", "14.2 KiB", "3.0 MiB"."""
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KiB"
    return f"{size / (1024 * 1024):.1f} MiB"


def _label(value: object) -> str:
    text = str(value).replace("_", " ")
    return text[:1].upper() + text[1:]


def _page_query(params: Any, page: int) -> str:
    """The same query string with another page number."""
    items = [(key, value) for key, value in params.multi_items() if key != "page"]
    return urlencode([*items, ("page", str(page))])


templates.env.filters["when"] = _when
templates.env.filters["pageq"] = _page_query
templates.env.filters["label"] = _label
templates.env.filters["filesize"] = _filesize
templates.env.globals["time_left"] = time_left
templates.env.globals["asset_version"] = _asset_version()
