"""Custom fields on the pages: the new-ticket form offers those customers may set, the desk
shows and edits every one, the service's checks are shown on the page, and a customer never
sees a field not meant for them."""

from typing import Any

from fastapi.testclient import TestClient

from tests.factories import API, People, count_rows, fetch_ticket, make_ticket
from tests.web.pages import browser_for, visible_text
from ticketdesk.tickets.models import Ticket

FIELDS: list[dict[str, Any]] = [
    {"key": "plan", "label": "Plan", "type": "select", "options": ["free", "pro"],
     "visible_to_customer": True, "editable_by_customer": True, "required": True},
    {"key": "order_no", "label": "Order number", "type": "number",
     "visible_to_customer": True, "editable_by_customer": True},
    {"key": "region", "label": "Region shown", "type": "text", "visible_to_customer": True},
    {"key": "risk", "label": "Risk score SECRET", "type": "number"},
    {"key": "urgent_fix", "label": "Hotfix needed", "type": "checkbox"},
    {"key": "areas", "label": "Areas", "type": "multiselect", "options": ["ui", "api", "db"]},
]  # fmt: skip


def define_fields(client: TestClient, people: People) -> None:
    for body in FIELDS:
        response = client.post(
            f"{API}/custom-fields", json=body, headers=people["super_admin"].headers
        )
        assert response.status_code == 201, response.text


def test_the_new_ticket_form_offers_only_what_customers_may_set(
    client: TestClient, people: People
) -> None:
    define_fields(client, people)
    page = browser_for(client, people["individual"]).get("/portal/tickets/new").text
    assert ">Plan <span" in page
    assert 'name="cf.plan"' in page
    assert ">Order number</label>" in page
    for hidden in ("cf.region", "cf.risk", "Risk score", "cf.urgent_fix", "cf.areas"):
        assert hidden not in page


def test_a_customer_sets_fields_on_a_new_ticket_and_errors_keep_the_input(
    client: TestClient, people: People
) -> None:
    define_fields(client, people)
    customer = browser_for(client, people["individual"])
    form = {"subject": "Billing", "description": "Charged twice", "cf.order_no": "12x"}
    refused = customer.post("/portal/tickets/new", form)
    assert refused.status_code == 422
    assert "Order number: must be a number" in visible_text(refused.text)
    assert 'value="12x"' in refused.text
    missing = customer.post("/portal/tickets/new", form | {"cf.order_no": "12"})
    assert missing.status_code == 422
    assert "Plan is required" in missing.text
    assert count_rows(client, Ticket) == 0

    made = customer.post("/portal/tickets/new", form | {"cf.order_no": "12", "cf.plan": "pro"})
    assert made.status_code == 303
    number = made.headers["location"].rsplit("/", 1)[1]
    ticket = client.get(f"{API}/tickets/{number}", headers=people["agent"].headers).json()
    assert ticket["custom_fields"] == {"plan": "pro", "order_no": 12}
    shown = visible_text(customer.get(f"/portal/tickets/{number}").text)
    assert "Plan" in shown and "pro" in shown and "Order number" in shown


def test_the_desk_edits_every_field_and_shows_the_services_refusal(
    client: TestClient, people: People
) -> None:
    define_fields(client, people)
    ticket = make_ticket(client, people["individual"], custom_fields={"plan": "free"})
    number = ticket["ticket_number"]
    agent = browser_for(client, people["agent"])
    page = agent.get(f"/desk/tickets/{number}").text
    for key in ("plan", "order_no", "region", "risk", "urgent_fix", "areas"):
        assert f'name="cf.{key}"' in page
    base = {"status": "open", "priority": "medium", "category": "general_inquiry", "tags": ""}
    bad = agent.post(
        f"/desk/tickets/{number}/properties", base | {"cf.plan": "free", "cf.risk": "high"}
    )
    assert bad.status_code == 422
    assert "Risk score SECRET: must be a number" in visible_text(bad.text)
    assert 'value="high"' in bad.text
    assert fetch_ticket(client, people["agent"], ticket["id"])["custom_fields"] == {"plan": "free"}

    good = agent.post(
        f"/desk/tickets/{number}/properties",
        base
        | {"cf.plan": "pro", "cf.risk": "7.5", "cf.urgent_fix": "true", "cf.areas": ["ui", "db"]},
    )
    assert good.status_code == 303, good.text
    stored = fetch_ticket(client, people["agent"], ticket["id"])["custom_fields"]
    assert stored == {"plan": "pro", "risk": 7.5, "urgent_fix": True, "areas": ["ui", "db"]}
    page = agent.get(f"/desk/tickets/{number}").text
    assert 'id="cf-urgent_fix" name="cf.urgent_fix" type="checkbox" value="true" checked' in page
    assert '<option value="db" selected>' in page

    cleared = agent.post(f"/desk/tickets/{number}/properties", base | {"cf.plan": "pro"})
    assert cleared.status_code == 303
    stored = fetch_ticket(client, people["agent"], ticket["id"])["custom_fields"]
    assert stored == {"plan": "pro", "urgent_fix": False}  # emptied inputs; the box unticked


def test_customers_never_see_staff_only_fields(client: TestClient, people: People) -> None:
    define_fields(client, people)
    ticket = make_ticket(client, people["individual"], custom_fields={"plan": "free"})
    agent = browser_for(client, people["agent"])
    number = ticket["ticket_number"]
    base = {"status": "open", "priority": "medium", "category": "general_inquiry", "tags": ""}
    form = base | {"cf.plan": "free", "cf.region": "EU-WEST", "cf.risk": "99", "cf.areas": "api"}
    assert agent.post(f"/desk/tickets/{number}/properties", form).status_code == 303
    page = browser_for(client, people["individual"]).get(f"/portal/tickets/{number}").text
    assert "EU-WEST" in visible_text(page)
    assert "Risk score" not in page
    assert "Areas" not in page
    assert ">99<" not in page
    for role in ("enterprise", "sub_user", "other"):
        assert browser_for(client, people[role]).get(f"/portal/tickets/{number}").status_code == 404
    desk = visible_text(agent.get(f"/desk/tickets/{number}").text)
    assert "Risk score SECRET" in desk
