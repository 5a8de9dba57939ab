"""The admin console (super_admin): the dashboard, SLA policies and business hours, users.

Everyone else gets 404 on every page here, as the API answers what they may not see."""

from datetime import date, timedelta
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Path, Request
from starlette.responses import RedirectResponse, Response

from ticketdesk import clock
from ticketdesk.auth import reset
from ticketdesk.auth import service as accounts
from ticketdesk.auth.models import Role
from ticketdesk.auth.schemas import UserCreate, UserUpdate
from ticketdesk.db import DatabaseDep, ReadSession, WriteSession
from ticketdesk.errors import Invalid
from ticketdesk.mail.config import mail_config
from ticketdesk.paging import Window
from ticketdesk.sla import service as sla
from ticketdesk.sla.calendar import WEEKDAYS
from ticketdesk.sla.schemas import BusinessHoursIn, PolicyIn
from ticketdesk.stats import queries
from ticketdesk.tickets.models import Category, Priority, Status
from ticketdesk.validation import MAX_ID
from ticketdesk.web.pages import PageViewer, render, require_admin

router = APIRouter(prefix="/admin", include_in_schema=False)
Text = Annotated[str, Form()]
RowId = Annotated[int, Path(ge=1, le=MAX_ID)]
# The per-day series is drawn day by day: a range is at most about a year of days.
LONGEST_RANGE = 366
DEFAULT_RANGE = 30
USERS_PER_PAGE = 100
DAY_NAMES = dict(
    zip(
        WEEKDAYS,
        ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
        strict=True,
    )
)


@router.get("")
async def home(viewer: PageViewer) -> RedirectResponse:
    require_admin(viewer)
    return RedirectResponse("/admin/dashboard", status_code=303)


def _day(request: Request, name: str, default: date) -> date:
    raw = request.query_params.get(name, "").strip()
    if not raw:
        return default
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise Invalid(f"{name}: not a date (YYYY-MM-DD)", field=name, location="query") from None


def _range(request: Request) -> tuple[date, date]:
    today = clock.now().date()
    end = _day(request, "end_date", today)
    start = _day(request, "start_date", end - timedelta(days=DEFAULT_RANGE - 1))
    if end < start:
        raise Invalid("end_date is before start_date", field="end_date", location="query")
    if (end - start).days >= LONGEST_RANGE:
        raise Invalid(
            f"the range may cover at most {LONGEST_RANGE} days",
            field="start_date",
            location="query",
        )
    return start, end


def _charts(overview: dict[str, Any], days: list[dict[str, Any]]) -> dict[str, Any]:
    """Each chart's labels and series: the very numbers its table shows (series as
    [name, values] pairs, kept in order)."""
    charts: dict[str, dict[str, Any]] = {
        "daily": {
            "labels": [row["day"].isoformat() for row in days],
            "series": {
                "Created": [row["created"] for row in days],
                "Resolved": [row["resolved"] for row in days],
                "Backlog": [row["backlog"] for row in days],
            },
        },
        "status": {
            "labels": [s.value for s in Status],
            "series": {"Tickets": [overview[f"{s.value}_tickets"] for s in Status]},
        },
        "priority": {
            "labels": [p.value for p in Priority],
            "series": {"Tickets": [overview["tickets_by_priority"][p.value] for p in Priority]},
        },
        "category": {
            "labels": [c.value for c in Category],
            "series": {"Tickets": [overview["tickets_by_category"][c.value] for c in Category]},
        },
        "sla": {
            "labels": ["first_response", "resolution"],
            "series": {
                "Met (%)": [
                    overview["sla_first_response_compliance"],
                    overview["sla_resolution_compliance"],
                ]
            },
        },
    }
    for chart in charts.values():
        chart["series"] = [[name, values] for name, values in chart["series"].items()]
    return charts


@router.get("/dashboard")
async def dashboard(request: Request, session: ReadSession, viewer: PageViewer) -> Response:
    """Today's counts and the range's figures, each chart beside a table of its numbers."""
    require_admin(viewer)
    start, end = _range(request)
    overview = await queries.overview(session, start=start, end=end)
    days = await queries.daily(session, start=start, end=end)
    context = {
        "counts": await queries.dashboard(session, now=clock.now()),
        "overview": overview,
        "days": days,
        "charts": _charts(overview, days),
        "start": start,
        "end": end,
        "section": "dashboard",
    }
    return render(request, "admin/dashboard.html", context)


# SLA policies and business hours


def _windows(text: str) -> list[list[str]]:
    """ "09:00-12:00, 13:00-17:00" as the API's [["09:00", "12:00"], ...]; the calendar
    checks each time and names the day at fault."""
    found = []
    for part in text.replace(";", ",").split(","):
        if part.strip():
            start, _, end = part.partition("-")
            found.append([start.strip(), end.strip()])
    return found


def _hours_form(form: Any) -> BusinessHoursIn:
    holidays = [line.strip() for line in str(form.get("holidays", "")).split() if line.strip()]
    return BusinessHoursIn.model_validate(
        {
            "timezone": str(form.get("timezone", "")).strip(),
            "weekly": {day: _windows(str(form.get(day, ""))) for day in WEEKDAYS},
            "holidays": holidays,
        }
    )


def _window_text(config: dict[str, Any]) -> dict[str, str]:
    return {day: ", ".join(f"{a}-{b}" for a, b in config["weekly"][day]) for day in WEEKDAYS}


@router.get("/sla")
async def sla_page(request: Request, session: ReadSession, viewer: PageViewer) -> Response:
    require_admin(viewer)
    config = (await sla.get_business_hours(session, viewer.user)).to_config()
    context = {
        "policies": await sla.list_policies(session, viewer.user),
        "hours": config,
        "windows": _window_text(dict(config)),
        "days": DAY_NAMES,
        "priorities": list(Priority),
        "saved": request.query_params.get("saved", ""),
        "section": "sla",
    }
    return render(request, "admin/sla.html", context)


@router.post("/sla/policies")
async def save_policy(
    session: WriteSession,
    viewer: PageViewer,
    priority: Text = "",
    first_response_time: Text = "",
    resolution_time: Text = "",
    business_hours: Text = "",
) -> Response:
    """The API's policy change; its 422 messages are the page's."""
    require_admin(viewer)
    data = PolicyIn.model_validate(
        {
            "priority": priority,
            "first_response_time": _minutes(first_response_time, "first_response_time"),
            "resolution_time": _minutes(resolution_time, "resolution_time"),
            "applies_business_hours_only": business_hours == "on",
        }
    )
    await sla.set_policy(session, viewer.user, data)
    return RedirectResponse(f"/admin/sla?saved={quote(priority)}#policy-{quote(priority)}", 303)


def _minutes(text: str, field: str) -> int:
    value = text.strip()
    if not (value.isascii() and value.isdigit() and len(value) < 10):
        raise Invalid(f"{field}: a whole number of minutes", field=field)
    return int(value)


@router.post("/sla/hours")
async def save_hours(request: Request, session: WriteSession, viewer: PageViewer) -> Response:
    require_admin(viewer)
    await sla.set_business_hours(session, viewer.user, _hours_form(await request.form()))
    return RedirectResponse("/admin/sla?saved=hours#hours", 303)


@router.get("/sla/preview")
async def preview(request: Request, session: ReadSession, viewer: PageViewer) -> Response:
    """htmx: the due times of a ticket created now, by the SLA engine, with the business hours
    as the form stands (not yet saved); the calendar's complaints if it cannot be used."""
    require_admin(viewer)
    params = request.query_params
    choice = params.get("preview_priority", Priority.HIGH.value)
    priority = Priority(choice) if choice in Priority.__members__.values() else Priority.HIGH
    now = clock.now()
    context: dict[str, Any] = {"priority": priority, "created": now, "error": None, "due": None}
    try:
        hours = sla.parse_hours(_hours_form(params)) if "timezone" in params else None
        context["due"] = await sla.preview_due(session, viewer.user, priority, now=now, hours=hours)
        context["zone"] = hours.timezone if hours else None
    except Invalid as error:
        context["error"] = error.detail
    except ValueError as error:  # the form's shape (pydantic): the API's 422 text
        context["error"] = str(error)
    return render(request, "admin/_preview.html", context)


# Users


@router.get("/users")
async def users(request: Request, session: ReadSession, viewer: PageViewer) -> Response:
    require_admin(viewer)
    params = request.query_params
    role = next((r for r in Role if r.value == params.get("role")), None)
    raw = params.get("after", "")
    after = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 11 else None
    rows = await accounts.list_users(
        session, viewer.user, role=role, window=Window(after, USERS_PER_PAGE)
    )
    context = {
        "users": rows[:USERS_PER_PAGE],
        "next_after": rows[USERS_PER_PAGE - 1].id if len(rows) > USERS_PER_PAGE else None,
        "role": role,
        "roles": list(Role),
        "section": "users",
        "done": request.query_params.get("done", ""),
    }
    return render(request, "admin/users.html", context)


@router.post("/users")
async def create_user(
    database: DatabaseDep,
    viewer: PageViewer,
    email: Text = "",
    full_name: Text = "",
    password: Text = "",
    role: Text = "",
) -> Response:
    """The API's user creation (the password is hashed before the transaction)."""
    require_admin(viewer)
    data = UserCreate.model_validate(
        {"email": email, "full_name": full_name, "password": password, "role": role}
    )
    await accounts.admin_create_user(database, viewer.user, data)
    return RedirectResponse("/admin/users?done=created", 303)


@router.post("/users/{user_id}")
async def update_user(
    session: WriteSession,
    viewer: PageViewer,
    user_id: RowId,
    role: Text = "",
    is_active: Text = "",
) -> Response:
    """Change a role, deactivate or reactivate; never the last active super_admin (409)."""
    require_admin(viewer)
    changes: dict[str, Any] = {}
    if role:
        changes["role"] = role
    if is_active:
        changes["is_active"] = is_active == "true"
    await accounts.update_user(session, viewer.user, user_id, UserUpdate.model_validate(changes))
    return RedirectResponse(f"/admin/users?done=updated#user-{user_id}", 303)


@router.post("/users/{user_id}/reset-link")
async def reset_link(
    request: Request, session: WriteSession, viewer: PageViewer, user_id: RowId
) -> Response:
    """Mails the user a password-reset link: the password-reset flow of the API."""
    require_admin(viewer)
    user = await accounts.get_user(session, viewer.user, user_id)
    config = mail_config(request.app.state.settings)
    await reset.request_reset(session, config, user.email, now=clock.now())
    return RedirectResponse(f"/admin/users?done=reset#user-{user_id}", 303)
