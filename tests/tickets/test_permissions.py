"""Who may do what: every ticket, user and auth endpoint of API.md against every role.

`individual`'s ticket is "theirs" for everyone else; "own" is a ticket the caller filed (for
anonymous callers, `individual`'s). A refused request must leave every ticket and user as it
was. The module shares one database; each test files its own target tickets and users.
"""

import itertools

import pytest
from sqlalchemy import func, select

from tests.factories import API, in_db, make_ticket, make_user
from ticketdesk.auth.models import User
from ticketdesk.tickets.models import Ticket, TicketActivity, TicketStatusHistory, TicketTag

ROLES = ["anonymous", "individual", "enterprise", "sub_user", "agent", "super_admin"]
_unique = itertools.count(1)


def codes(*statuses):
    """The expected status for each of ROLES, in that order."""
    return dict(zip(ROLES, statuses, strict=True))


def new_ticket():
    return {"subject": "Matrix", "description": "Filed by the permission matrix"}


def new_user():
    return {
        "email": f"matrix{next(_unique)}@example.com",
        "password": "long-enough-password",
        "full_name": "Matrix User",
        "role": "agent",
    }


def registration():
    body = new_user()
    del body["role"]
    return body


# name: (method, path, body factory, expected status per role)
MATRIX = {
    "create ticket": ("POST", "/tickets/", new_ticket, codes(401, 201, 201, 201, 201, 201)),
    "list tickets": ("GET", "/tickets/", None, codes(401, 200, 200, 200, 200, 200)),
    "list tickets, no slash": ("GET", "/tickets", None, codes(401, 200, 200, 200, 200, 200)),
    "my tickets": ("GET", "/tickets/my", None, codes(401, 200, 200, 200, 200, 200)),
    "get own ticket": ("GET", "/tickets/{own}", None, codes(401, 200, 200, 200, 200, 200)),
    "get their ticket": ("GET", "/tickets/{theirs}", None, codes(401, 200, 404, 404, 200, 200)),
    "get their ticket by number": (
        "GET", "/tickets/{theirs_number}", None, codes(401, 200, 404, 404, 200, 200)),
    "get internal ticket filed for individual": (
        "GET", "/tickets/{internal}", None, codes(401, 404, 404, 404, 200, 200)),
    "edit subject of own ticket": (
        "PATCH", "/tickets/{own}", lambda: {"subject": "Edited"},
        codes(401, 200, 200, 200, 200, 200)),
    "edit subject of their ticket": (
        "PATCH", "/tickets/{theirs}", lambda: {"subject": "Edited"},
        codes(401, 200, 404, 404, 200, 200)),
    "edit tags of their ticket by number": (
        "PATCH", "/tickets/{theirs_number}", lambda: {"tags": "edited"},
        codes(401, 200, 404, 404, 200, 200)),
    "edit priority of own ticket": (
        "PATCH", "/tickets/{own}", lambda: {"priority": "urgent"},
        codes(401, 403, 403, 403, 200, 200)),
    "edit category of their ticket": (
        "PATCH", "/tickets/{theirs}", lambda: {"category": "billing"},
        codes(401, 403, 404, 404, 200, 200)),
    "edit internal ticket filed for individual": (
        "PATCH", "/tickets/{internal}", lambda: {"subject": "Edited"},
        codes(401, 404, 404, 404, 200, 200)),
    "create user": ("POST", "/users", new_user, codes(401, 403, 403, 403, 403, 201)),
    "list users": ("GET", "/users", None, codes(401, 403, 403, 403, 200, 200)),
    "list agents": ("GET", "/users?role=agent", None, codes(401, 403, 403, 403, 200, 200)),
    "list admins": ("GET", "/users?role=super_admin", None, codes(401, 403, 403, 403, 200, 200)),
    "list customers": (
        "GET", "/users?role=individual", None, codes(401, 403, 403, 403, 403, 200)),
    "update user": (
        "PATCH", "/users/{user}", lambda: {"full_name": "Renamed"},
        codes(401, 403, 403, 403, 403, 200)),
    "deactivate user": (
        "PATCH", "/users/{user}", lambda: {"is_active": False},
        codes(401, 403, 403, 403, 403, 200)),
    "me": ("GET", "/auth/me", None, codes(401, 200, 200, 200, 200, 200)),
    # Registration needs no token and ignores one.
    "register": ("POST", "/auth/register", registration, codes(201, 201, 201, 201, 201, 201)),
}  # fmt: skip


# One database and app for the whole module: each test makes its own data.
pytestmark = pytest.mark.shared_database


def snapshot(client, ticket_ids, user_id):
    """The target tickets and user column by column, and the size of every table involved."""

    async def _read(session):
        tickets = await session.scalars(
            select(Ticket).where(Ticket.id.in_(ticket_ids)).order_by(Ticket.id)
        )
        user = await session.get(User, user_id)
        counts = [
            await session.scalar(select(func.count()).select_from(table))
            for table in (Ticket, User, TicketStatusHistory, TicketActivity, TicketTag)
        ]
        return (
            [{c.key: getattr(t, c.key) for c in Ticket.__table__.columns} for t in tickets],
            {c.key: getattr(user, c.key) for c in User.__table__.columns},
            counts,
        )

    return in_db(client, _read)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", list(MATRIX))
def test_permission_matrix(client, people, name, role):
    method, path, body, expected = MATRIX[name]
    # Only the targets this path names are made.
    refs, ticket_ids, user_id = {}, set(), people["other"].id
    if "{theirs" in path or ("{own}" in path and role in ("anonymous", "individual")):
        theirs = make_ticket(client, people["individual"])
        refs.update(theirs=theirs["id"], theirs_number=theirs["ticket_number"], own=theirs["id"])
    if "{own}" in path and "own" not in refs:
        refs["own"] = make_ticket(client, people[role])["id"]
    if "{internal}" in path:
        internal = make_ticket(
            client, people["agent"], user_id=people["individual"].id, is_internal=True
        )
        refs["internal"] = internal["id"]
    if "{user}" in path:
        refs["user"] = user_id = make_user(client, "individual").id
    ticket_ids = {v for k, v in refs.items() if k in ("own", "theirs", "internal")}
    url = API + path.format(**refs)
    headers = {} if role == "anonymous" else people[role].headers
    before = snapshot(client, ticket_ids, user_id)
    response = client.request(
        method, url, json=body() if body else None, headers=headers, follow_redirects=False
    )
    assert response.status_code == expected[role], response.text
    if response.status_code >= 400:
        assert isinstance(response.json()["detail"], str)
        assert snapshot(client, ticket_ids, user_id) == before, "a refused request changed it"
    if response.status_code == 401:
        assert response.headers["WWW-Authenticate"] == "Bearer"
