"""Macros: personal and shared, sandboxed bodies, applied all-or-nothing through the services."""

import pytest
from sqlalchemy import func, insert, select

from tests.factories import API, footprint, in_db, make_ticket, make_user, set_status
from ticketdesk import clock
from ticketdesk.comments.models import TicketComment
from ticketdesk.events.models import Event
from ticketdesk.macros import render
from ticketdesk.macros.models import Macro
from ticketdesk.tickets.models import Ticket, TicketActivity, TicketStatusHistory, TicketTag

MACROS = f"{API}/macros"

ASK_FOR_LOGS = {
    "name": "Ask for logs",
    "body": (
        "Hi {{ customer.name }}, please attach the logs for {{ ticket.number }}. {{ agent.name }}"
    ),
    "actions": {"status": "waiting_on_customer", "add_tags": ["logs"], "assign": "me"},
    "is_shared": True,
}  # fmt: skip


def make_macro(client, actor, **body):
    response = client.post(MACROS, json=body, headers=actor.headers)
    assert response.status_code == 201, response.text
    return response.json()


def apply(client, actor, ticket_id, macro_id, **body):
    return client.post(
        f"{API}/tickets/{ticket_id}/macros/{macro_id}/apply", json=body, headers=actor.headers
    )


def table_sizes(client):
    async def _count(session):
        return [
            await session.scalar(select(func.count()).select_from(model))
            for model in (
                Ticket,
                TicketComment,
                TicketStatusHistory,
                TicketActivity,
                TicketTag,
                Event,
            )
        ]

    return in_db(client, _count)


def test_shared_macro_applied_by_an_agent(client, people):
    admin, agent, customer = people["super_admin"], people["agent"], people["individual"]
    macro = make_macro(client, admin, **ASK_FOR_LOGS)
    ticket = make_ticket(client, customer, tags=["export"])
    response = apply(client, agent, ticket["id"], macro["id"])
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["preview"] is False
    after = result["ticket"]
    assert after["status"] == "waiting_on_customer"
    assert after["assigned_to_id"] == agent.id
    assert after["tags"] == ["export", "logs"]
    comment = result["comment"]
    assert comment["comment"] == (
        f"Hi Individual 1, please attach the logs for {ticket['ticket_number']}. Agent 4"
    )
    assert comment["is_internal"] is False
    # The customer sees the reply; the ticket reads the same through the API.
    listed = client.get(f"{API}/tickets/{ticket['id']}/comments", headers=customer.headers).json()
    assert [c["comment"] for c in listed] == [comment["comment"]]
    assert client.get(f"{API}/tickets/{ticket['id']}", headers=agent.headers).json() == after
    history = client.get(f"{API}/tickets/{ticket['id']}/history", headers=agent.headers).json()
    assert [(h["from_status"], h["to_status"]) for h in history] == [
        ("open", "in_progress"),
        ("in_progress", "waiting_on_customer"),
    ]
    assert history[0]["to_assigned_to_id"] == agent.id
    assert all(h["changed_by_id"] == agent.id for h in history)
    assert history[1]["change_note"] == 'macro "Ask for logs"'
    # Each step recorded its event, as the direct calls do.
    kinds = in_db(client, lambda session: _event_types(session, ticket["id"]))
    assert kinds == [
        "ticket.created",
        "ticket.updated",
        "ticket.status_changed",
        "ticket.assigned",
        "comment.created",
        "ticket.status_changed",
    ]


async def _event_types(session, ticket_id):
    query = select(Event.type).where(Event.ticket_id == ticket_id).order_by(Event.id)
    return list(await session.scalars(query))


def test_internal_macro_writes_an_internal_note(client, people):
    agent, customer = people["agent"], people["individual"]
    macro = make_macro(
        client, agent, name="Escalate", body="Escalated: {{ ticket.subject }}",
        actions={"internal": True, "priority": "urgent", "category": "bug_report"},
    )  # fmt: skip
    ticket = make_ticket(client, customer)
    result = apply(client, agent, ticket["id"], macro["id"]).json()
    assert result["comment"]["is_internal"] is True
    assert result["comment"]["comment"] == "Escalated: Unable to generate report"
    assert (result["ticket"]["priority"], result["ticket"]["category"]) == ("urgent", "bug_report")
    assert result["ticket"]["status"] == "open"  # an internal note moves nothing
    seen = client.get(f"{API}/tickets/{ticket['id']}/comments", headers=customer.headers).json()
    assert seen == []


def test_macro_without_body_adds_no_comment(client, people):
    agent = people["agent"]
    macro = make_macro(client, agent, name="Tag", actions={"remove_tags": ["a"], "add_tags": ["b"]})
    ticket = make_ticket(client, people["individual"], tags=["a", "c"])
    result = apply(client, agent, ticket["id"], macro["id"]).json()
    assert result["comment"] is None
    assert result["ticket"]["tags"] == ["c", "b"]


REFUSED = {
    # the status step comes last: everything before it must be undone
    "illegal transition": ({"status": "reopened", "add_tags": ["x"], "assign": "me"}, 409, "agent"),
    "agent assigns someone else": ({"add_tags": ["x"], "assign": "{other_agent}"}, 403, "agent"),
    "assignee is not staff": ({"add_tags": ["x"], "assign": "{customer}"}, 422, "super_admin"),
    "too many tags": ({"add_tags": [f"t{n}" for n in range(15)]}, 422, "agent"),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_a_refused_step_changes_nothing(client, people, case):
    actions, status, applier = REFUSED[case]
    agent, customer = people[applier], people["individual"]
    other_agent = people["super_admin"]
    if isinstance(actions.get("assign"), str) and actions["assign"] != "me":
        ids = {"{other_agent}": other_agent.id, "{customer}": customer.id}
        actions = {**actions, "assign": ids[actions["assign"]]}
    macro = make_macro(
        client, agent, name="Refused", body="A reply that must not stay.", actions=actions
    )
    ticket = make_ticket(client, customer, tags=[f"old{n}" for n in range(10)])
    before, sizes = footprint(client, ticket["id"]), table_sizes(client)
    response = apply(client, agent, ticket["id"], macro["id"])
    assert response.status_code == status, response.text
    assert footprint(client, ticket["id"]) == before
    assert table_sizes(client) == sizes
    # The same refusal as a preview.
    assert apply(client, agent, ticket["id"], macro["id"], preview=True).status_code == status
    assert footprint(client, ticket["id"]) == before


def test_the_refusal_code_is_the_direct_calls(client, people):
    """A status the machine refuses: the same 409 as POST /tickets/{id}/status."""
    agent = people["agent"]
    ticket = make_ticket(client, people["individual"])
    set_status(client, agent, ticket["id"], "closed")
    macro = make_macro(client, agent, name="Resolve", actions={"status": "resolved"})
    direct = client.post(
        f"{API}/tickets/{ticket['id']}/status", json={"status": "resolved"}, headers=agent.headers
    )
    via_macro = apply(client, agent, ticket["id"], macro["id"])
    assert (via_macro.status_code, via_macro.json()) == (direct.status_code, direct.json())


def test_preview_writes_nothing_and_equals_apply(client, people, fake_clock):
    admin, agent = people["super_admin"], people["agent"]
    macro = make_macro(client, admin, **ASK_FOR_LOGS)
    ticket = make_ticket(client, people["individual"])
    before, sizes = footprint(client, ticket["id"]), table_sizes(client)
    preview = apply(client, agent, ticket["id"], macro["id"], preview=True)
    assert preview.status_code == 200, preview.text
    assert preview.json()["preview"] is True
    assert footprint(client, ticket["id"]) == before
    assert table_sizes(client) == sizes
    applied = apply(client, agent, ticket["id"], macro["id"]).json()
    for key in ("status", "assigned_to_id", "tags", "priority", "updated_at"):
        assert preview.json()["ticket"][key] == applied["ticket"][key], key
    assert preview.json()["comment"]["comment"] == applied["comment"]["comment"]


# --- who may do what --------------------------------------------------------------------------


def test_personal_and_shared(client, people):
    admin, agent = people["super_admin"], people["agent"]
    ben_agent = make_user(client, "agent", name="Ben")
    ben = ben_agent.headers
    mine = make_macro(client, agent, name="Mine", body="x")
    shared = make_macro(client, admin, name="Shared", body="y", is_shared=True)
    refused = client.post(MACROS, json={"name": "S", "is_shared": True}, headers=agent.headers)
    assert refused.status_code == 403
    names = [m["name"] for m in client.get(MACROS, headers=agent.headers).json()]
    assert names == ["Mine", "Shared"]
    assert [m["name"] for m in client.get(MACROS, headers=ben).json()] == ["Shared"]
    assert client.get(f"{MACROS}/{mine['id']}", headers=ben).status_code == 404
    assert (
        client.patch(f"{MACROS}/{mine['id']}", json={"name": "B"}, headers=ben).status_code == 404
    )
    ticket = make_ticket(client, people["individual"])
    assert apply(client, ben_agent, ticket["id"], mine["id"]).status_code == 404
    # Agents use shared macros but do not change them, nor share their own.
    assert (
        client.patch(
            f"{MACROS}/{shared['id']}", json={"name": "Z"}, headers=agent.headers
        ).status_code
        == 403
    )
    assert client.delete(f"{MACROS}/{shared['id']}", headers=agent.headers).status_code == 403
    share = client.patch(f"{MACROS}/{mine['id']}", json={"is_shared": True}, headers=agent.headers)
    assert share.status_code == 403
    renamed = client.patch(f"{MACROS}/{mine['id']}", json={"name": "Mine 2"}, headers=agent.headers)
    assert renamed.json()["name"] == "Mine 2"
    assert client.delete(f"{MACROS}/{mine['id']}", headers=agent.headers).status_code == 204


# --- the sandbox ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "{{ ''.__class__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ ticket.__class__ }}",
        "{{ ticket.secret }}",
        "{{ config }}",
        "{{ self }}",
        "{{ lipsum.__globals__ }}",
        "{% for i in range(100000) %}x{% endfor %}",
        "{{ cycler.__init__.__globals__.os }}",
        "{{ ticket.number|attr('__class__') }}",
        "{% set x = 1 %}",
        "{{ ticket.number",
    ],
)
def test_unsafe_bodies_are_refused(client, people, body):
    response = client.post(
        MACROS, json={"name": "Evil", "body": body}, headers=people["agent"].headers
    )
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["body", "body"]


@pytest.mark.parametrize(
    "body",
    [
        "{{ ''.__class__ }}",
        "{{ ''.__class__.__mro__ }}",
        "{{ ticket.number.__class__.__mro__[1].__subclasses__() }}",
        "{{ lipsum.__globals__['os'] }}",
    ],
)
def test_the_sandbox_renders_nothing_dangerous(body):
    """Even a body that was never checked (written straight into the database) cannot reach
    Python objects: it renders nothing, or is refused."""
    try:
        text = render.render(body, number="TKT-1", subject="S", customer="C", agent="A")
    except render.BodyError:
        return
    assert "class" not in text and "module" not in text and "<" not in text


def test_an_unchecked_body_in_the_database_is_refused_on_apply(client, people):
    agent = people["agent"]

    async def _insert(session):
        now = clock.now()
        statement = insert(Macro).values(
            name="Stored", body="{{ ''.__class__.__mro__[1].__subclasses__() }}", actions={},
            is_shared=False, owner_id=agent.id, created_at=now, updated_at=now,
        )  # fmt: skip
        return (await session.execute(statement.returning(Macro.id))).scalar_one()

    macro_id = in_db(client, _insert)
    ticket = make_ticket(client, people["individual"])
    before = footprint(client, ticket["id"])
    response = apply(client, agent, ticket["id"], macro_id)
    assert response.status_code in (200, 422), response.text
    if response.status_code == 200:
        assert "class" not in (response.json()["comment"] or {}).get("comment", "")
    else:
        assert footprint(client, ticket["id"]) == before


def test_allowed_template_features(client, people):
    body = (
        "{% if customer.name %}Hi {{ customer.name|title }}{% else %}Hello{% endif %}"
        ", re {{ ticket.subject|lower }}"
    )
    macro = make_macro(client, people["agent"], name="Greeting", body=body)
    ticket = make_ticket(client, people["individual"], subject="Export FAILS")
    result = apply(client, people["agent"], ticket["id"], macro["id"]).json()
    assert result["comment"]["comment"] == "Hi Individual 1, re export fails"
