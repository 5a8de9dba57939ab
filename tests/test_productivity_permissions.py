"""Who may do what with macros, ticket templates, auto-assignment rules and custom fields:
every endpoint against every role. A refused request leaves every table as it was."""

import pytest
from sqlalchemy import func, select

from tests.factories import API, footprint, in_db, make_ticket, make_user
from ticketdesk.assignment_rules.models import AssignmentRule
from ticketdesk.auth.models import User
from ticketdesk.comments.models import TicketComment
from ticketdesk.custom_fields.models import CustomField
from ticketdesk.events.models import Event
from ticketdesk.macros.models import Macro
from ticketdesk.ticket_templates.models import TicketTemplate
from ticketdesk.tickets.models import Ticket, TicketActivity, TicketStatusHistory

ROLES = ["anonymous", "individual", "enterprise", "sub_user", "agent", "super_admin"]
ADMIN_ONLY_READ = (401, 403, 403, 403, 403, 200)
ADMIN_ONLY_WRITE = (401, 403, 403, 403, 403, 201)
STAFF_WRITE = (401, 403, 403, 403, 201, 201)


def codes(*statuses):
    return dict(zip(ROLES, statuses, strict=True))


def field_body():
    return {"key": f"f{next(_keys)}", "label": "Order number", "type": "text"}


_keys = iter(range(1, 10**6))

# name: (method, path, body factory, expected status per role)
MATRIX = {
    "list custom fields": ("GET", "/custom-fields", None, codes(401, 200, 200, 200, 200, 200)),
    "create custom field": ("POST", "/custom-fields", field_body, codes(*ADMIN_ONLY_WRITE)),
    "edit custom field": (
        "PATCH", "/custom-fields/{field}", lambda: {"label": "X"}, codes(*ADMIN_ONLY_READ)),
    "delete custom field": (
        "DELETE", "/custom-fields/{field}", None, codes(401, 403, 403, 403, 403, 204)),
    "list templates": ("GET", "/ticket-templates", None, codes(401, 200, 200, 200, 200, 200)),
    "create template": (
        "POST", "/ticket-templates", lambda: {"name": "T"}, codes(401, 403, 403, 403, 403, 201)),
    "edit template": (
        "PATCH", "/ticket-templates/{template}", lambda: {"name": "U"},
        codes(401, 403, 403, 403, 403, 200)),
    "delete template": (
        "DELETE", "/ticket-templates/{template}", None, codes(401, 403, 403, 403, 403, 204)),
    "create ticket from template": (
        "POST", "/tickets/", lambda: {"template_id": "{template}"},
        codes(401, 201, 201, 201, 201, 201)),
    "list rules": ("GET", "/assignment-rules", None, codes(*ADMIN_ONLY_READ)),
    "create rule": (
        "POST", "/assignment-rules", lambda: {"name": "R", "agent_ids": ["{agent}"]},
        codes(401, 403, 403, 403, 403, 201)),
    "edit rule": (
        "PATCH", "/assignment-rules/{rule}", lambda: {"is_active": False},
        codes(401, 403, 403, 403, 403, 200)),
    "delete rule": (
        "DELETE", "/assignment-rules/{rule}", None, codes(401, 403, 403, 403, 403, 204)),
    "away switch": (
        "PATCH", "/users/me", lambda: {"available": False}, codes(401, 403, 403, 403, 200, 200)),
    "list macros": ("GET", "/macros", None, codes(401, 403, 403, 403, 200, 200)),
    "create personal macro": (
        "POST", "/macros", lambda: {"name": "M", "body": "Hi"}, codes(*STAFF_WRITE)),
    "create shared macro": (
        "POST", "/macros", lambda: {"name": "M", "is_shared": True},
        codes(401, 403, 403, 403, 403, 201)),
    "get shared macro": ("GET", "/macros/{shared}", None, codes(401, 403, 403, 403, 200, 200)),
    "get another agent's macro": (
        "GET", "/macros/{personal}", None, codes(401, 403, 403, 403, 404, 404)),
    "edit shared macro": (
        "PATCH", "/macros/{shared}", lambda: {"name": "N"}, codes(401, 403, 403, 403, 403, 200)),
    "delete shared macro": (
        "DELETE", "/macros/{shared}", None, codes(401, 403, 403, 403, 403, 204)),
    "delete another agent's macro": (
        "DELETE", "/macros/{personal}", None, codes(401, 403, 403, 403, 404, 404)),
    "apply shared macro to individual's ticket": (
        "POST", "/tickets/{theirs}/macros/{shared}/apply", lambda: {},
        codes(401, 403, 404, 404, 200, 200)),
    "preview shared macro": (
        "POST", "/tickets/{theirs}/macros/{shared}/apply", lambda: {"preview": True},
        codes(401, 403, 404, 404, 200, 200)),
    "apply shared macro to an internal ticket": (
        "POST", "/tickets/{internal}/macros/{shared}/apply", lambda: {},
        codes(401, 404, 404, 404, 200, 200)),
    "filter by a staff-only field": (
        "GET", "/tickets/?cf.{staff_key}=x", None, codes(401, 422, 422, 422, 200, 200)),
}  # fmt: skip

pytestmark = pytest.mark.shared_database

TABLES = (
    Macro, TicketTemplate, AssignmentRule, CustomField, Ticket, TicketComment,
    TicketStatusHistory, TicketActivity, User, Event,
)  # fmt: skip


def snapshot(client, ticket_ids):
    async def _read(session):
        counts = [await session.scalar(select(func.count()).select_from(t)) for t in TABLES]
        macros = [(m.id, m.name) for m in await session.scalars(select(Macro).order_by(Macro.id))]
        fields = [
            (f.id, f.label, f.deleted_at)
            for f in await session.scalars(select(CustomField).order_by(CustomField.id))
        ]
        rules = [
            (r.id, r.is_active)
            for r in await session.scalars(select(AssignmentRule).order_by(AssignmentRule.id))
        ]
        templates = [(t.id, t.name) for t in await session.scalars(select(TicketTemplate))]
        availability = [(u.id, u.available) for u in await session.scalars(select(User))]
        return counts, macros, fields, rules, templates, availability

    return in_db(client, _read), [footprint(client, i) for i in sorted(ticket_ids)]


def _make(client, people, path):
    admin = people["super_admin"]
    refs = {"agent": people["agent"].id}

    def post(url, body):
        response = client.post(f"{API}{url}", json=body, headers=admin.headers)
        assert response.status_code == 201, response.text
        return response.json()

    if "{field}" in path:
        refs["field"] = post("/custom-fields", field_body())["id"]
    if "{staff_key}" in path:
        refs["staff_key"] = post("/custom-fields", field_body())["key"]
    if "{template}" in path:
        refs["template"] = post(
            "/ticket-templates", {"name": "T", "subject": "S", "description": "D"}
        )["id"]
    if "{rule}" in path:
        refs["rule"] = post(
            "/assignment-rules", {"name": "R", "agent_ids": [admin.id], "is_active": False}
        )["id"]
    if "{shared}" in path:
        refs["shared"] = post("/macros", {"name": "S", "body": "Hello", "is_shared": True})["id"]
    if "{personal}" in path:
        owner = make_user(client, "agent")
        response = client.post(f"{API}/macros", json={"name": "P"}, headers=owner.headers)
        refs["personal"] = response.json()["id"]
    if "{theirs}" in path:
        refs["theirs"] = make_ticket(client, people["individual"])["id"]
    if "{internal}" in path:
        refs["internal"] = make_ticket(
            client, people["agent"], user_id=people["individual"].id, is_internal=True
        )["id"]
    return refs


def _fill(value, refs):
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return refs[value[1:-1]]
    if isinstance(value, list):
        return [_fill(v, refs) for v in value]
    return value


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", list(MATRIX))
def test_permission_matrix(client, people, name, role):
    method, path, body, expected = MATRIX[name]
    refs = _make(client, people, path + str(body() if body else ""))
    url = API + path.format(**refs)
    payload = {k: _fill(v, refs) for k, v in body().items()} if body else None
    headers = {} if role == "anonymous" else people[role].headers
    ticket_ids = {v for k, v in refs.items() if k in ("theirs", "internal")}
    before = snapshot(client, ticket_ids)
    response = client.request(method, url, json=payload, headers=headers)
    assert response.status_code == expected[role], response.text
    if response.status_code >= 400:
        assert snapshot(client, ticket_ids) == before, "a refused request changed something"
    if name == "preview shared macro" and response.status_code == 200:
        assert snapshot(client, ticket_ids) == before, "a preview wrote something"
