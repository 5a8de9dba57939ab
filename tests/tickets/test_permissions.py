"""Who may do what: every endpoint that returns ticket or user data against every role, and
against customers in organizations (a colleague in a sharing organization, a colleague in one
that does not share, its enterprise manager, a member of another organization).

"Their" ticket is filed by `individual` for the role columns and by another member for the
organization columns; "own" is a ticket the caller filed (for anonymous callers and
`individual`, "their" ticket). Lists check whether their ticket is shown (SEES / HIDES). Their
ticket carries an internal note that no customer's response may contain. A refused request
must leave every ticket and user as it was. The module shares one database; each test files
its own target tickets and users.
"""

import itertools

import pytest
from sqlalchemy import func, select

from tests.factories import (
    API,
    in_db,
    make_organization,
    make_ticket,
    make_user,
    post_comment,
    set_organization,
    set_status,
)
from ticketdesk.auth.models import User
from ticketdesk.tickets.models import Ticket, TicketActivity, TicketStatusHistory, TicketTag

ROLES = [
    "anonymous", "individual", "enterprise", "sub_user", "agent", "super_admin",
    # Customers in organizations, looking at a ticket filed by another member (see ORG_VIEWERS).
    "org_shared", "org_unshared", "org_manager", "other_org",
]  # fmt: skip
# column: (viewer, owner of "their" ticket), both from the `org_people` fixture.
ORG_VIEWERS = {
    "org_shared": ("shared_member", "shared_owner"),  # a colleague; the organization shares
    "org_unshared": ("private_member", "private_owner"),  # a colleague; it does not share
    "org_manager": ("private_manager", "private_owner"),  # its enterprise manager
    "other_org": ("other_member", "shared_owner"),  # a member of another organization
}
CUSTOMERS = {"individual", "enterprise", "sub_user", *ORG_VIEWERS}
INTERNAL_MARKER = "Matrix internal note"
SEES, HIDES = "sees", "hides"  # a list answering 200 with / without their ticket
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


def new_organization():
    return {"name": f"Matrix organization {next(_unique)}"}


# name: (method, path, body factory, expected status per role)
MATRIX = {
    "create ticket": (
        "POST", "/tickets/", new_ticket, codes(401, 201, 201, 201, 201, 201, 201, 201, 201, 201)),
    "list tickets": (
        "GET", "/tickets/", None,
        codes(401, SEES, HIDES, HIDES, SEES, SEES, SEES, HIDES, SEES, HIDES)),
    "list tickets, no slash": (
        "GET", "/tickets", None,
        codes(401, SEES, HIDES, HIDES, SEES, SEES, SEES, HIDES, SEES, HIDES)),
    "list tickets, organization scope": (
        "GET", "/tickets/?scope=organization", None,
        codes(401, HIDES, HIDES, HIDES, HIDES, HIDES, SEES, HIDES, SEES, HIDES)),
    "list tickets by organization": (
        "GET", "/tickets/?organization_id={organization}", None,
        codes(401, 200, 200, 200, 200, 200, 200, 200, 200, 200)),
    "my tickets": (
        "GET", "/tickets/my", None,
        codes(401, SEES, HIDES, HIDES, HIDES, HIDES, HIDES, HIDES, HIDES, HIDES)),
    "get own ticket": (
        "GET", "/tickets/{own}", None, codes(401, 200, 200, 200, 200, 200, 200, 200, 200, 200)),
    "get their ticket": (
        "GET", "/tickets/{theirs}", None,
        codes(401, 200, 404, 404, 200, 200, 200, 404, 200, 404)),
    "get their ticket by number": (
        "GET", "/tickets/{theirs_number}", None,
        codes(401, 200, 404, 404, 200, 200, 200, 404, 200, 404)),
    "get internal ticket filed for their owner": (
        "GET", "/tickets/{internal}", None,
        codes(401, 404, 404, 404, 200, 200, 404, 404, 404, 404)),
    "edit subject of own ticket": (
        "PATCH", "/tickets/{own}", lambda: {"subject": "Edited"},
        codes(401, 200, 200, 200, 200, 200, 200, 200, 200, 200)),
    "edit subject of their ticket": (
        "PATCH", "/tickets/{theirs}", lambda: {"subject": "Edited"},
        codes(401, 200, 404, 404, 200, 200, 403, 404, 403, 404)),
    "edit tags of their ticket by number": (
        "PATCH", "/tickets/{theirs_number}", lambda: {"tags": "edited"},
        codes(401, 200, 404, 404, 200, 200, 403, 404, 403, 404)),
    "edit priority of own ticket": (
        "PATCH", "/tickets/{own}", lambda: {"priority": "urgent"},
        codes(401, 403, 403, 403, 200, 200, 403, 403, 403, 403)),
    "edit category of their ticket": (
        "PATCH", "/tickets/{theirs}", lambda: {"category": "billing"},
        codes(401, 403, 404, 404, 200, 200, 403, 404, 403, 404)),
    "edit internal ticket filed for their owner": (
        "PATCH", "/tickets/{internal}", lambda: {"subject": "Edited"},
        codes(401, 404, 404, 404, 200, 200, 404, 404, 404, 404)),
    "status of their ticket": (
        "POST", "/tickets/{theirs}/status", lambda: {"status": "in_progress"},
        codes(401, 403, 404, 404, 200, 200, 403, 404, 403, 404)),
    "comments of their ticket": (
        "GET", "/tickets/{theirs}/comments", None,
        codes(401, 200, 404, 404, 200, 200, 200, 404, 200, 404)),
    "comment on their ticket": (
        "POST", "/tickets/{theirs}/comments", lambda: {"comment": "Matrix reply"},
        codes(401, 201, 404, 404, 201, 201, 201, 404, 201, 404)),
    "internal note on their ticket": (
        "POST", "/tickets/{theirs}/comments",
        lambda: {"comment": "Matrix staff note", "is_internal": True},
        codes(401, 403, 404, 404, 201, 201, 403, 404, 403, 404)),
    "history of their ticket": (
        "GET", "/tickets/{theirs}/history", None,
        codes(401, 403, 404, 404, 200, 200, 403, 404, 403, 404)),
    "activity of their ticket": (
        "GET", "/tickets/{theirs}/activity", None,
        codes(401, 403, 404, 404, 200, 200, 403, 404, 403, 404)),
    "merge their ticket": (
        "POST", "/tickets/{theirs}/merge", lambda refs: {"into": refs["second"]},
        codes(401, 403, 404, 404, 200, 200, 403, 404, 403, 404)),
    "rating of their resolved ticket": (
        "GET", "/tickets/{resolved}/satisfaction", None,
        codes(401, 200, 404, 404, 200, 200, 403, 404, 403, 404)),
    "rate their resolved ticket": (
        "POST", "/tickets/{resolved}/satisfaction", lambda: {"rating": "good"},
        codes(401, 201, 404, 404, 403, 403, 403, 404, 403, 404)),
    "agent statistics": (
        "GET", "/tickets/statistics/agents", None,
        codes(401, 403, 403, 403, 403, 200, 403, 403, 403, 403)),
    "export own data": (
        "GET", "/auth/me/export", None, codes(401, 200, 200, 200, 200, 200, 200, 200, 200, 200)),
    "export a user's data": (
        "GET", "/users/{user}/export", None,
        codes(401, 403, 403, 403, 403, 200, 403, 403, 403, 403)),
    "anonymize a user": (
        "POST", "/users/{user}/anonymize", None,
        codes(401, 403, 403, 403, 403, 200, 403, 403, 403, 403)),
    "create user": (
        "POST", "/users", new_user, codes(401, 403, 403, 403, 403, 201, 403, 403, 403, 403)),
    "list users": (
        "GET", "/users", None, codes(401, 403, 403, 403, 200, 200, 403, 403, 403, 403)),
    "list agents": (
        "GET", "/users?role=agent", None, codes(401, 403, 403, 403, 200, 200, 403, 403, 403, 403)),
    "list admins": (
        "GET", "/users?role=super_admin", None,
        codes(401, 403, 403, 403, 200, 200, 403, 403, 403, 403)),
    "list customers": (
        "GET", "/users?role=individual", None,
        codes(401, 403, 403, 403, 403, 200, 403, 403, 403, 403)),
    "update user": (
        "PATCH", "/users/{user}", lambda: {"full_name": "Renamed"},
        codes(401, 403, 403, 403, 403, 200, 403, 403, 403, 403)),
    "deactivate user": (
        "PATCH", "/users/{user}", lambda: {"is_active": False},
        codes(401, 403, 403, 403, 403, 200, 403, 403, 403, 403)),
    "move user to an organization": (
        "PATCH", "/users/{user}", lambda refs: {"organization_id": refs["organization"]},
        codes(401, 403, 403, 403, 403, 200, 403, 403, 403, 403)),
    "me": ("GET", "/auth/me", None, codes(401, 200, 200, 200, 200, 200, 200, 200, 200, 200)),
    # Registration needs no token and ignores one.
    "register": (
        "POST", "/auth/register", registration,
        codes(201, 201, 201, 201, 201, 201, 201, 201, 201, 201)),
    "create organization": (
        "POST", "/organizations", new_organization,
        codes(401, 403, 403, 403, 403, 201, 403, 403, 403, 403)),
    "list organizations": (
        "GET", "/organizations", None, codes(401, 403, 403, 403, 403, 200, 403, 403, 403, 403)),
    "get organization": (
        "GET", "/organizations/{organization}", None,
        codes(401, 403, 403, 403, 403, 200, 403, 403, 403, 403)),
    "share organization's tickets": (
        "PATCH", "/organizations/{organization}", lambda: {"shared_tickets": True},
        codes(401, 403, 403, 403, 403, 200, 403, 403, 403, 403)),
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


@pytest.fixture(scope="module")
def org_people(module_client, module_people):
    """Members of three organizations: one sharing its tickets, one not, another sharing."""
    admin = module_people["super_admin"]
    shared = make_organization(module_client, admin, shared_tickets=True)
    private = make_organization(module_client, admin, shared_tickets=False)
    other = make_organization(module_client, admin, shared_tickets=True)
    members = {
        "shared_owner": ("individual", shared),
        "shared_member": ("sub_user", shared),
        "private_owner": ("sub_user", private),
        "private_member": ("sub_user", private),
        "private_manager": ("enterprise", private),
        "other_member": ("individual", other),
    }
    found = {}
    for name, (role, organization) in members.items():
        found[name] = make_user(module_client, role)
        set_organization(module_client, admin, found[name], organization["id"])
    return found


def _actors(role, people, org_people):
    """The caller, and the owner of "their" ticket, for a column of the matrix."""
    if role in ORG_VIEWERS:
        viewer, owner = ORG_VIEWERS[role]
        return org_people[viewer], org_people[owner]
    return (None if role == "anonymous" else people[role]), people["individual"]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", list(MATRIX))
def test_permission_matrix(client, people, org_people, name, role):
    method, path, body, expected = MATRIX[name]
    viewer, owner = _actors(role, people, org_people)
    lists = isinstance(expected[role], str)
    # Only the targets this path names are made.
    refs, ticket_ids, user_id = {}, set(), people["other"].id
    refs["organization"] = _organization_of(client, owner)
    exports = path.endswith("/export")
    needs_theirs = "{theirs" in path or "{resolved}" in path or lists or exports
    if needs_theirs or ("{own}" in path and role in ("anonymous", "individual")):
        theirs = make_ticket(client, owner)
        refs.update(theirs=theirs["id"], theirs_number=theirs["ticket_number"], own=theirs["id"])
        # Staff have left a note on it that no customer may ever receive.
        post_comment(client, people["agent"], theirs["id"], INTERNAL_MARKER, is_internal=True)
        refs["second"] = make_ticket(client, owner)["id"]
        if "{resolved}" in path:
            refs["resolved"] = set_status(client, people["agent"], theirs["id"], "resolved")["id"]
    if "{own}" in path and "own" not in refs:
        refs["own"] = make_ticket(client, viewer)["id"]
    if "{internal}" in path:
        internal = make_ticket(client, people["agent"], user_id=owner.id, is_internal=True)
        refs["internal"] = internal["id"]
    if "{user}" in path:
        refs["user"] = user_id = make_user(client, "individual").id
    ticket_ids = {v for k, v in refs.items() if k in ("own", "theirs", "internal", "second")}
    url = API + path.format(**refs)
    headers = {} if viewer is None else viewer.headers
    payload = None if body is None else body(refs) if body.__code__.co_argcount else body()
    before = snapshot(client, ticket_ids, user_id)
    response = client.request(method, url, json=payload, headers=headers, follow_redirects=False)
    wanted = 200 if lists else expected[role]
    assert response.status_code == wanted, response.text
    if lists:
        shown = {ticket["id"] for ticket in response.json()}
        assert (refs["theirs"] in shown) == (expected[role] == SEES), shown
    if role in CUSTOMERS:
        assert INTERNAL_MARKER not in response.text
    if exports and response.status_code == 200:
        # Their ticket is in their export only, and nobody else's.
        exported = {t["id"] for t in response.json()["tickets"]}
        assert (refs["theirs"] in exported) == (viewer == owner and "{user}" not in path)
    if response.status_code >= 400:
        assert isinstance(response.json()["detail"], str)
        assert snapshot(client, ticket_ids, user_id) == before, "a refused request changed it"
    if response.status_code == 401:
        assert response.headers["WWW-Authenticate"] == "Bearer"


def _organization_of(client, actor):
    """The actor's organization id, or (for people outside any) the first organization's."""

    async def _read(session):
        user = await session.get(User, actor.id)
        if user.organization_id is not None:
            return user.organization_id
        return await session.scalar(select(func.min(User.organization_id)))

    return in_db(client, _read)
