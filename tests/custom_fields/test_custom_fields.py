"""Custom fields: definitions, typed values on tickets, customer visibility, the cf. filter."""

import pytest
from sqlalchemy import event, inspect, text

from tests.factories import API, footprint, in_db

FIELDS = f"{API}/custom-fields"
TICKETS = f"{API}/tickets"


def define(client, admin, key, type_, **extra):
    body = {"key": key, "label": key.replace("_", " ").title(), "type": type_, **extra}
    response = client.post(FIELDS, json=body, headers=admin.headers)
    assert response.status_code == 201, response.text
    return response.json()


def create(client, actor, **fields):
    body = {"subject": "Custom", "description": "Fields", **fields}
    return client.post(f"{TICKETS}/", json=body, headers=actor.headers)


def assert_422(response, field):
    assert response.status_code == 422, response.text
    locs = [err["loc"] for err in response.json()["detail"]]
    assert any(field in loc for loc in locs), locs


# type, options, accepted values (sent -> stored), refused values
MATRIX = {
    "text": (
        None,
        [("ORD-1", "ORD-1"), ("  padded  ", "padded")],
        [5, True, ["a"], {"a": 1}, "x" * 1001],
    ),
    "number": (None, [(3, 3), (2.5, 2.5), (-7, -7), (0, 0)], ["3", True, [1], 1e16, {"n": 1}]),
    "date": (
        None,
        [("2025-01-31", "2025-01-31")],
        ["2025-02-30", "31.01.2025", "2025-1-1", 20250131, True],
    ),
    "select": (["basic", "pro"], [("pro", "pro")], ["gold", "PRO", 1, ["pro"], True]),
    "multiselect": (
        ["a", "b", "c"],
        [(["a", "c"], ["a", "c"]), (["b", "b"], ["b"])],
        ["a", ["z"], [1], [["a"]], True],
    ),
    "checkbox": (None, [(True, True), (False, False)], ["true", 1, 0, ["x"]]),
}


@pytest.mark.parametrize("type_", list(MATRIX))
def test_type_matrix(client, people, type_):
    options, good, bad = MATRIX[type_]
    extra = {"options": options} if options else {}
    define(client, people["super_admin"], "field", type_, **extra)
    agent = people["agent"]
    for sent, stored in good:
        response = create(client, agent, custom_fields={"field": sent})
        assert response.status_code == 201, (sent, response.text)
        ticket = response.json()
        assert ticket["custom_fields"] == {"field": stored}
        again = client.get(f"{TICKETS}/{ticket['id']}", headers=agent.headers).json()
        assert again["custom_fields"] == {"field": stored}
    ticket_id = ticket["id"]
    for value in bad:
        assert_422(create(client, agent, custom_fields={"field": value}), "custom_fields.field")
        before = footprint(client, ticket_id)
        patch = client.patch(
            f"{TICKETS}/{ticket_id}",
            json={"custom_fields": {"field": value}},
            headers=agent.headers,
        )
        assert_422(patch, "custom_fields.field")
        assert footprint(client, ticket_id) == before


def test_error_names_the_field_by_label(client, people):
    define(client, people["super_admin"], "order_number", "number")
    response = create(client, people["agent"], custom_fields={"order_number": "A-1"})
    assert_422(response, "custom_fields.order_number")
    assert "Order Number" in response.json()["detail"][0]["msg"]


def test_unknown_key_is_422(client, people):
    response = create(client, people["agent"], custom_fields={"nope": 1})
    assert_422(response, "custom_fields.nope")


def test_required_on_create(client, people):
    admin, agent = people["super_admin"], people["agent"]
    define(client, admin, "plan", "select", options=["basic", "pro"], required=True)
    assert_422(create(client, agent), "custom_fields.plan")
    assert_422(create(client, agent, custom_fields={"plan": None}), "custom_fields.plan")
    assert create(client, agent, custom_fields={"plan": "pro"}).status_code == 201
    # A field customers cannot set is not required of them.
    assert create(client, people["individual"]).status_code == 201


def test_required_customer_field_is_required_of_customers(client, people):
    define(
        client,
        people["super_admin"],
        "order_number",
        "text",
        required=True,
        visible_to_customer=True,
        editable_by_customer=True,
    )
    customer = people["individual"]
    assert_422(create(client, customer), "custom_fields.order_number")
    response = create(client, customer, custom_fields={"order_number": "A-1"})
    assert response.status_code == 201
    assert response.json()["custom_fields"] == {"order_number": "A-1"}


def test_patch_merges_and_null_removes(client, people):
    admin, agent = people["super_admin"], people["agent"]
    define(client, admin, "plan", "select", options=["basic", "pro"])
    define(client, admin, "seats", "number")
    ticket = create(client, agent, custom_fields={"plan": "pro", "seats": 5}).json()
    url = f"{TICKETS}/{ticket['id']}"
    patched = client.patch(url, json={"custom_fields": {"seats": 7}}, headers=agent.headers)
    assert patched.json()["custom_fields"] == {"plan": "pro", "seats": 7}
    patched = client.patch(url, json={"custom_fields": {"plan": None}}, headers=agent.headers)
    assert patched.json()["custom_fields"] == {"seats": 7}
    activity = client.get(f"{url}/activity", headers=agent.headers).json()
    changes = [a["details"] for a in activity if a["kind"] == "field_changed"]
    assert changes[-1] == {
        "field": "custom_fields",
        "old": {"plan": "pro", "seats": 7},
        "new": {"seats": 7},
    }


def test_customer_visibility_and_editability(client, people):
    admin, agent, customer = people["super_admin"], people["agent"], people["individual"]
    define(
        client, admin, "order_number", "text", visible_to_customer=True, editable_by_customer=True
    )
    define(client, admin, "plan", "select", options=["basic", "pro"], visible_to_customer=True)
    define(client, admin, "risk", "select", options=["low", "high"])
    ticket = create(
        client,
        agent,
        user_id=customer.id,
        custom_fields={"order_number": "A-1", "plan": "pro", "risk": "high"},
    ).json()
    url = f"{TICKETS}/{ticket['id']}"
    staff_view = {"order_number": "A-1", "plan": "pro", "risk": "high"}
    customer_view = {"order_number": "A-1", "plan": "pro"}
    assert client.get(url, headers=agent.headers).json()["custom_fields"] == staff_view
    assert client.get(url, headers=customer.headers).json()["custom_fields"] == customer_view
    listed = client.get(f"{TICKETS}/", headers=customer.headers).json()
    assert [t["custom_fields"] for t in listed] == [customer_view]
    mine = client.get(f"{TICKETS}/my", headers=customer.headers).json()
    assert [t["custom_fields"] for t in mine] == [customer_view]
    # The definitions list shows customers only their fields.
    keys = [f["key"] for f in client.get(FIELDS, headers=customer.headers).json()]
    assert keys == ["order_number", "plan"]
    # Editable: yes. Visible but not editable: 403. Hidden: as if it did not exist.
    before = footprint(client, ticket["id"])
    denied = client.patch(url, json={"custom_fields": {"plan": "basic"}}, headers=customer.headers)
    assert denied.status_code == 403
    hidden = client.patch(url, json={"custom_fields": {"risk": "low"}}, headers=customer.headers)
    assert_422(hidden, "custom_fields.risk")
    assert footprint(client, ticket["id"]) == before
    edited = client.patch(
        url, json={"custom_fields": {"order_number": "A-2"}}, headers=customer.headers
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["custom_fields"] == {"order_number": "A-2", "plan": "pro"}
    # The hidden value stayed.
    assert client.get(url, headers=agent.headers).json()["custom_fields"]["risk"] == "high"
    # Customers cannot filter by a field they cannot see.
    response = client.get(f"{TICKETS}/?cf.risk=high", headers=customer.headers)
    assert_422(response, "cf.risk")


def test_customer_creating_may_not_set_staff_fields(client, people):
    define(client, people["super_admin"], "plan", "select", options=["a"], visible_to_customer=True)
    response = create(client, people["individual"], custom_fields={"plan": "a"})
    assert response.status_code == 403


def test_deleting_a_definition_hides_old_values_and_keeps_the_key(client, people):
    admin, agent = people["super_admin"], people["agent"]
    field = define(client, admin, "plan", "select", options=["basic", "pro"])
    ticket = create(client, agent, custom_fields={"plan": "pro"}).json()
    url = f"{TICKETS}/{ticket['id']}"
    assert client.delete(f"{FIELDS}/{field['id']}", headers=admin.headers).status_code == 204
    assert client.get(url, headers=agent.headers).json()["custom_fields"] == {}
    assert client.get(FIELDS, headers=agent.headers).json() == []
    # The key stays reserved: a new field of that name would give old values a new meaning.
    again = client.post(
        FIELDS, json={"key": "plan", "label": "Plan", "type": "text"}, headers=admin.headers
    )
    assert again.status_code == 409
    assert (
        client.patch(
            f"{FIELDS}/{field['id']}", json={"label": "x"}, headers=admin.headers
        ).status_code
        == 404
    )
    assert_422(create(client, agent, custom_fields={"plan": "pro"}), "custom_fields.plan")


def _definition_reads(client, read):
    """What `read()` answers, and how many statements read the field definitions meanwhile."""
    engine = client.app.state.engine.sync_engine
    seen = []

    def _record(_conn, _cursor, statement, _parameters, _context, _many):
        if "FROM custom_fields_version LEFT OUTER JOIN custom_fields" in statement:
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", _record)
    try:
        return read(), len(seen)
    finally:
        event.remove(engine, "before_cursor_execute", _record)


def test_definitions_are_reread_only_after_a_change(client, people):
    admin, agent = people["super_admin"], people["agent"]
    define(client, admin, "plan", "select", options=["basic", "pro"])
    define(client, admin, "order_number", "text")
    ticket = create(client, agent, custom_fields={"plan": "pro", "order_number": "A-1"}).json()
    url = f"{TICKETS}/{ticket['id']}"

    def values():
        response = client.get(url, headers=agent.headers)
        assert response.status_code == 200, response.text
        return response.json()["custom_fields"]

    values()
    assert _definition_reads(client, values) == ({"plan": "pro", "order_number": "A-1"}, 0)

    # Changed behind the API's back (an operator's SQL): the next read sees it.
    async def _drop_order_number(session):
        await session.execute(
            text("UPDATE custom_fields SET deleted_at = updated_at WHERE key = 'order_number'")
        )

    in_db(client, _drop_order_number)
    assert _definition_reads(client, values) == ({"plan": "pro"}, 1)
    assert _definition_reads(client, values) == ({"plan": "pro"}, 0)
    # And through the API.
    define(client, admin, "region", "text")
    patched = client.patch(url, json={"custom_fields": {"region": "EU"}}, headers=agent.headers)
    assert patched.status_code == 200, patched.text

    def listed():
        page = client.get(f"{TICKETS}/", headers=agent.headers).json()
        return [t["custom_fields"] for t in page if t["id"] == ticket["id"]]

    assert _definition_reads(client, listed) == ([{"plan": "pro", "region": "EU"}], 1)
    assert _definition_reads(client, listed) == ([{"plan": "pro", "region": "EU"}], 0)


def test_definitions_a_rolled_back_change_showed_are_not_kept(client, people):
    """A writing transaction sees its own uncommitted definitions: were they kept, a later
    commit that reaches the same version would be presented with them."""
    admin, agent, customer = people["super_admin"], people["agent"], people["individual"]
    define(client, admin, "plan", "text")  # staff only
    ticket = create(client, agent, user_id=customer.id, custom_fields={"plan": "pro"}).json()
    url = f"{TICKETS}/{ticket['id']}"

    async def _show_to_customers_then_roll_back(session):
        from ticketdesk.custom_fields import service
        from ticketdesk.tickets.models import Ticket
        from ticketdesk.tickets.service import TICKET_VIEW

        await session.execute(text("UPDATE custom_fields SET visible_to_customer = true"))
        row = (await session.execute(TICKET_VIEW.where(Ticket.id == ticket["id"]))).one()
        fields = await service.field_set_for(session, [row])
        await session.rollback()
        return fields.fields["plan"].visible_to_customer

    assert in_db(client, _show_to_customers_then_roll_back) is True

    async def _relabel(session):
        await session.execute(text("UPDATE custom_fields SET label = 'Plan name'"))

    in_db(client, _relabel)
    shown = client.get(url, headers=customer.headers)
    assert shown.status_code == 200, shown.text
    assert shown.json()["custom_fields"] == {}
    assert client.get(url, headers=agent.headers).json()["custom_fields"] == {"plan": "pro"}


def test_adding_a_field_never_alters_the_tickets_table(client, people):
    async def _columns(session):
        connection = await session.connection()
        return await connection.run_sync(
            lambda sync: sorted(c["name"] for c in inspect(sync).get_columns("tickets"))
        )

    before = in_db(client, _columns)
    define(client, people["super_admin"], "order_number", "text")
    define(client, people["super_admin"], "plan", "multiselect", options=["a", "b"])
    assert in_db(client, _columns) == before
    assert "custom_fields" in before


@pytest.mark.parametrize(
    "body",
    [
        {"key": "Plan", "label": "Plan", "type": "text"},
        {"key": "1plan", "label": "Plan", "type": "text"},
        {"key": "plan-x", "label": "Plan", "type": "text"},
        {"key": "plan", "label": "Plan", "type": "select"},
        {"key": "plan", "label": "Plan", "type": "select", "options": []},
        {"key": "plan", "label": "Plan", "type": "select", "options": ["a", "a"]},
        {"key": "plan", "label": "Plan", "type": "text", "options": ["a"]},
        {"key": "plan", "label": "Plan", "type": "colour"},
        {"key": "plan", "label": "", "type": "text"},
        {"key": "plan", "label": "Plan", "type": "text", "editable_by_customer": True},
        {"key": "plan", "label": "Plan", "type": "text", "extra": 1},
    ],
)
def test_bad_definitions_are_422(client, people, body):
    response = client.post(FIELDS, json=body, headers=people["super_admin"].headers)
    assert response.status_code == 422, response.text
    assert client.get(FIELDS, headers=people["super_admin"].headers).json() == []


def test_key_and_type_never_change(client, people):
    admin = people["super_admin"]
    field = define(client, admin, "plan", "select", options=["a", "b"])
    url = f"{FIELDS}/{field['id']}"
    for change in ({"key": "other"}, {"type": "text"}):
        assert client.patch(url, json=change, headers=admin.headers).status_code == 422
    renamed = client.patch(
        url, json={"label": "Plan", "options": ["a", "b", "c"]}, headers=admin.headers
    )
    assert renamed.status_code == 200
    assert renamed.json()["options"] == ["a", "b", "c"]
    not_visible = client.patch(url, json={"editable_by_customer": True}, headers=admin.headers)
    assert not_visible.status_code == 422


# --- the event log ----------------------------------------------------------------------------


def events_of(client, ticket_id, kind):
    from sqlalchemy import select

    from ticketdesk.events.models import Event

    async def _read(session):
        query = select(Event).where(Event.ticket_id == ticket_id, Event.type == kind)
        return [e.data for e in await session.scalars(query.order_by(Event.id))]

    return in_db(client, _read)


def test_values_are_in_the_events(client, people):
    admin, agent = people["super_admin"], people["agent"]
    define(client, admin, "plan", "select", options=["basic", "pro"])
    define(client, admin, "seats", "number")
    ticket = create(client, agent, custom_fields={"plan": "basic"}).json()
    (created,) = events_of(client, ticket["id"], "ticket.created")
    assert created["custom_fields"] == {"plan": "basic"}
    url = f"{TICKETS}/{ticket['id']}"
    client.patch(url, json={"custom_fields": {"plan": "pro", "seats": 3}}, headers=agent.headers)
    (updated,) = events_of(client, ticket["id"], "ticket.updated")
    assert updated["changes"] == {"custom_fields": [{"plan": "basic"}, {"plan": "pro", "seats": 3}]}


def test_text_no_database_can_store_is_refused_in_a_value(client, people):
    """A NUL in a field's value is refused by the rule every request body applies (naming
    `custom_fields`), before the field's own checks; nothing is stored."""
    define(client, people["super_admin"], "field", "text")
    agent = people["agent"]
    response = create(client, agent, custom_fields={"field": "nul\x00"})
    assert response.status_code == 422, response.text
    assert [e["loc"] for e in response.json()["detail"]] == [["body", "custom_fields"]]
    assert "NUL" in response.text
    listed = client.get(f"{TICKETS}/", headers=agent.headers)
    assert listed.json() == []
