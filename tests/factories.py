"""Small factories for tests: users straight into the database, tickets through the API."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from ticketdesk import clock, db
from ticketdesk.auth import security
from ticketdesk.auth import service as accounts
from ticketdesk.auth.models import Role

API = "/api/v1"
PASSWORD = "correct-horse-battery"
DEFAULT_SLA = {"urgent": (15, 240), "high": (60, 480), "medium": (240, 1440), "low": (480, 2880)}
CUSTOMER_ROLES = ("individual", "enterprise", "sub_user")
STAFF_ROLES = ("agent", "super_admin")
ALL_ROLES = CUSTOMER_ROLES + STAFF_ROLES


class FakeClock:
    """A clock that stands still until told to move."""

    def __init__(self, start: datetime = datetime(2025, 1, 6, 10, 0, tzinfo=UTC)) -> None:
        self.current = start

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> datetime:
        self.current += timedelta(**delta)
        return self.current

    def set(self, when: datetime) -> None:
        self.current = when


@dataclass
class Actor:
    id: int
    email: str
    role: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def make_user(
    client: TestClient,
    role: str = "individual",
    *,
    email: str | None = None,
    name: str | None = None,
    password: str = PASSWORD,
) -> Actor:
    sessionmaker = client.app.state.sessionmaker  # type: ignore[attr-defined]
    count = _next_counts(client, 1)[0]
    default_email, default_name = _identity(role, count)

    async def _create() -> Any:
        async with db.session_scope(sessionmaker) as session:
            return await accounts.create_user(
                session,
                email=email or default_email,
                password=password,
                full_name=name or default_name,
                role=Role(role),
            )

    user = client.portal.call(_create)  # type: ignore[union-attr]
    return Actor(user.id, user.email, role, token_for(client, user.id))


def _next_counts(client: TestClient, n: int) -> range:
    """The numbers the client's next `n` users are named with."""
    first = getattr(client, "_user_count", 0) + 1
    client._user_count = first + n - 1  # type: ignore[attr-defined]
    return range(first, first + n)


def _identity(role: str, count: int) -> tuple[str, str]:
    """A made user's e-mail address and full name."""
    return f"{role}{count}@example.com", f"{role.title()} {count}"


def token_for(
    client: TestClient, user_id: int, *, lifetime: timedelta = timedelta(days=3650)
) -> str:
    key = client.app.state.signing_key  # type: ignore[attr-defined]
    return security.issue_token(user_id, key=key, now=clock.now(), lifetime=lifetime)


People = dict[str, Actor]


def make_people(client: TestClient) -> People:
    """One user of every role and a second individual (`other`), as make_user names them,
    written in one transaction with one password hash: every test starts with them."""
    sessionmaker = client.app.state.sessionmaker  # type: ignore[attr-defined]
    keys = [*ALL_ROLES, "other"]
    counts = _next_counts(client, len(keys))

    async def _create() -> list[Any]:
        password_hash = await security.hash_password(PASSWORD)
        async with db.session_scope(sessionmaker) as session:
            users = []
            for count, key in zip(counts, keys, strict=True):
                role = "individual" if key == "other" else key
                email, name = _identity(role, count)
                user = await accounts.create_user(
                    session,
                    email=email,
                    password_hash=password_hash,
                    full_name=name,
                    role=Role(role),
                )
                users.append(user)
            return users

    users = client.portal.call(_create)  # type: ignore[union-attr]
    return {
        key: Actor(user.id, user.email, user.role.value, token_for(client, user.id))
        for key, user in zip(keys, users, strict=True)
    }


def make_ticket(client: TestClient, actor: Actor, **fields: Any) -> dict[str, Any]:
    body = {"subject": "Unable to generate report", "description": "It fails.", **fields}
    response = client.post(f"{API}/tickets/", json=body, headers=actor.headers)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def in_db(client: TestClient, work: Any) -> Any:
    """Run `await work(session)` in one committed transaction on the app's own database."""
    sessionmaker = client.app.state.sessionmaker  # type: ignore[attr-defined]

    async def _run() -> Any:
        async with db.session_scope(sessionmaker) as session:
            return await work(session)

    return client.portal.call(_run)  # type: ignore[union-attr]


def count_rows(client: TestClient, model: Any, *where: Any) -> int:
    """How many rows of `model` (optionally matching `where`) the database holds."""
    from sqlalchemy import func, select

    async def _count(session: Any) -> int:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)))

    return int(in_db(client, _count))


def set_ticket_columns(client: TestClient, ticket_id: int, **values: Any) -> None:
    """Write ticket columns straight into the database (for states no endpoint reaches yet)."""
    from sqlalchemy import update

    from ticketdesk.tickets.models import Ticket

    async def _update(session: Any) -> None:
        await session.execute(update(Ticket).where(Ticket.id == ticket_id).values(**values))

    in_db(client, _update)


# --- Status, history and trail helpers (tickets workflow tests) -----------------------------

STATUSES = ("open", "in_progress", "waiting_on_customer", "resolved", "closed", "reopened")

# The shortest way from `open` to each status, as staff status changes.
PATH_FROM_OPEN = {
    "open": (),
    "in_progress": ("in_progress",),
    "waiting_on_customer": ("waiting_on_customer",),
    "resolved": ("resolved",),
    "closed": ("closed",),
    "reopened": ("closed", "reopened"),
}


def iso(when: datetime | None) -> str | None:
    """A datetime as the API writes it: ISO 8601 in UTC with a `Z`."""
    return None if when is None else when.isoformat().replace("+00:00", "Z")


def set_status(
    client: TestClient, actor: Actor, ticket_id: int | str, status: str, **extra: Any
) -> dict[str, Any]:
    """POST /tickets/{id}/status and insist that it worked; the ticket after the change."""
    response = client.post(
        f"{API}/tickets/{ticket_id}/status", json={"status": status, **extra}, headers=actor.headers
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def ticket_in_status(
    client: TestClient, people: People, status: str, *, owner: str = "individual", **fields: Any
) -> dict[str, Any]:
    """A ticket of `people[owner]` driven through the API (by the agent) into `status`."""
    ticket = make_ticket(client, people[owner], **fields)
    for step in PATH_FROM_OPEN[status]:
        ticket = set_status(client, people["agent"], ticket["id"], step)
    assert ticket["status"] == status
    return ticket


def rows_of(client: TestClient, model: Any, ticket_id: int) -> list[Any]:
    """The rows of a ticket's child table (history, activity, comments, tags), oldest first."""
    from sqlalchemy import select

    order = model.id if hasattr(model, "id") else model.tag

    async def _rows(session: Any) -> list[Any]:
        query = select(model).where(model.ticket_id == ticket_id).order_by(order)
        return list(await session.scalars(query))

    return in_db(client, _rows)  # type: ignore[no-any-return]


def ticket_row(client: TestClient, ticket_id: int) -> Any:
    """The ticket as stored (ORM object, detached)."""
    from ticketdesk.tickets.models import Ticket

    async def _get(session: Any) -> Any:
        return await session.get(Ticket, ticket_id)

    return in_db(client, _get)


TICKET_STATE_COLUMNS = (
    "status",
    "assigned_to_id",
    "priority",
    "category",
    "tags",
    "subject",
    "description",
    "comments_count",
    "public_comments_count",
    "first_response_at",
    "resolved_at",
    "closed_at",
    "first_response_due_at",
    "resolution_due_at",
    "sla_paused_at",
    "sla_paused_seconds",
    "updated_at",
)


def footprint(client: TestClient, ticket_id: int) -> dict[str, Any]:
    """Everything a write could touch for one ticket: its columns and its child rows.

    Compare before and after a refused request to show that nothing was written.
    """
    from sqlalchemy import select

    from ticketdesk.comments.models import TicketComment
    from ticketdesk.tickets.models import Ticket, TicketActivity, TicketStatusHistory, TicketTag

    async def _read(session: Any) -> dict[str, Any]:
        ticket = await session.get(Ticket, ticket_id)
        state: dict[str, Any] = {c: getattr(ticket, c) for c in TICKET_STATE_COLUMNS}
        for key, model in (("history", TicketStatusHistory), ("activity", TicketActivity)):
            query = select(model.id).where(model.ticket_id == ticket_id)
            state[key] = len(list(await session.scalars(query)))
        comments = select(TicketComment).where(TicketComment.ticket_id == ticket_id)
        state["comment_rows"] = [
            (c.id, c.comment, c.updated_at)
            for c in await session.scalars(comments.order_by(TicketComment.id))
        ]
        tags = select(TicketTag.tag).where(TicketTag.ticket_id == ticket_id)
        state["tag_rows"] = sorted(await session.scalars(tags))
        return state

    return in_db(client, _read)  # type: ignore[no-any-return]


def insert_tickets(client: TestClient, owner_id: int, count: int, **columns: Any) -> list[int]:
    """`count` tickets written set-based straight into the database (fast, no history rows).

    Defaults to open, medium, general_inquiry, created now; `columns` override any column.
    """
    from sqlalchemy import insert, select

    from ticketdesk.tickets.models import Category, Priority, Status, Ticket

    now = clock.now()
    prefix = f"TKT-BULK{getattr(client, '_insert_batch', 0):03d}"
    client._insert_batch = getattr(client, "_insert_batch", 0) + 1  # type: ignore[attr-defined]
    base = {
        "user_id": owner_id,
        "subject": "Inserted ticket",
        "description": "Written straight into the database.",
        "status": Status.OPEN,
        "priority": Priority.MEDIUM,
        "category": Category.GENERAL_INQUIRY,
        "tags": "",
        "is_internal": False,
        "comments_count": 0,
        "public_comments_count": 0,
        "sla_paused_seconds": 0,
        "created_at": now,
        "updated_at": now,
        **columns,
    }
    rows = [{**base, "ticket_number": f"{prefix}-{n:05d}"} for n in range(count)]

    async def _insert(session: Any) -> list[int]:
        await session.execute(insert(Ticket), rows)
        query = select(Ticket.id).where(Ticket.ticket_number.like(f"{prefix}-%"))
        return list(await session.scalars(query.order_by(Ticket.id)))

    return in_db(client, _insert)  # type: ignore[no-any-return]


# --- SLA and statistics helpers ---------------------------------------------------------------


def utc(text: str) -> datetime:
    """An instant written as the API writes it ("2025-01-06T10:00:00Z"), as an aware datetime."""
    return datetime.fromisoformat(text)


def post_comment(
    client: TestClient, actor: Actor, ticket_id: int, text: str = "A reply.", **extra: Any
) -> dict[str, Any]:
    """POST /tickets/{id}/comments and insist that it worked; the comment."""
    response = client.post(
        f"{API}/tickets/{ticket_id}/comments",
        json={"comment": text, **extra},
        headers=actor.headers,
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def fetch_ticket(client: TestClient, actor: Actor, ticket_id: int) -> dict[str, Any]:
    """GET /tickets/{id} and insist that it worked; the ticket."""
    response = client.get(f"{API}/tickets/{ticket_id}", headers=actor.headers)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def set_sla_policy(
    client: TestClient,
    admin: Actor,
    priority: str,
    first_response_time: int,
    resolution_time: int,
    applies_business_hours_only: bool,
) -> dict[str, Any]:
    """POST /tickets/sla/config and insist that it worked; the policy."""
    body = {
        "priority": priority,
        "first_response_time": first_response_time,
        "resolution_time": resolution_time,
        "applies_business_hours_only": applies_business_hours_only,
    }
    response = client.post(f"{API}/tickets/sla/config", json=body, headers=admin.headers)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def run_jobs(client: TestClient, settings: Any = None) -> int:
    """Runs every due job to completion in-process, as a worker would; returns how many ran.

    Periodic work whose slot has come is queued first (the test apps run no worker of their
    own, so nothing else runs jobs behind a test's back).
    """
    from ticketdesk.jobs.worker import drain

    app = client.app
    return client.portal.call(  # type: ignore[union-attr]
        drain,
        app.state.sessionmaker,
        settings or app.state.settings,  # type: ignore[attr-defined]
    )


# --- API tokens --------------------------------------------------------------------------------


def make_api_token(
    client: TestClient, owner: Actor, scopes: list[str] | tuple[str, ...], **fields: Any
) -> Actor:
    """POST /auth/tokens as `owner`; an Actor that sends the new `td_` token."""
    body = {"name": "script", "scopes": list(scopes), **fields}
    response = client.post(f"{API}/auth/tokens", json=body, headers=owner.headers)
    assert response.status_code == 201, response.text
    return Actor(owner.id, owner.email, owner.role, response.json()["token"])


# --- Organizations -----------------------------------------------------------------------------


def make_organization(
    client: TestClient,
    admin: Actor,
    *,
    name: str | None = None,
    domains: tuple[str, ...] = (),
    shared_tickets: bool = False,
) -> dict[str, Any]:
    """POST /organizations and insist that it worked; the organization."""
    count = getattr(client, "_organization_count", 0) + 1
    client._organization_count = count  # type: ignore[attr-defined]
    body = {
        "name": name or f"Organization {count}",
        "domains": list(domains),
        "shared_tickets": shared_tickets,
    }
    response = client.post(f"{API}/organizations", json=body, headers=admin.headers)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def set_organization(
    client: TestClient, admin: Actor, user: Actor, organization_id: int | None
) -> None:
    """PATCH /users/{id} with the user's organization, and insist that it worked."""
    response = client.patch(
        f"{API}/users/{user.id}", json={"organization_id": organization_id}, headers=admin.headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["organization_id"] == organization_id
