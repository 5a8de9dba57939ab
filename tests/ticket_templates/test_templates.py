"""Ticket templates: kept by the super_admin, read by everyone, pre-filling creation."""

import pytest

from tests.factories import API

TEMPLATES = f"{API}/ticket-templates"
TICKETS = f"{API}/tickets/"

BUG_REPORT = {
    "name": "Bug report",
    "category": "bug_report",
    "priority": "high",
    "subject": "Bug report",
    "description": "Steps to reproduce:\n1.\n2.\nExpected:\nActual:",
    "tags": ["bug", "triage"],
}


def make_template(client, admin, **overrides):
    response = client.post(TEMPLATES, json={**BUG_REPORT, **overrides}, headers=admin.headers)
    assert response.status_code == 201, response.text
    return response.json()


def test_template_fills_every_field_left_out(client, people):
    template = make_template(client, people["super_admin"])
    customer = people["individual"]
    response = client.post(TICKETS, json={"template_id": template["id"]}, headers=customer.headers)
    assert response.status_code == 201, response.text
    ticket = response.json()
    for field in ("category", "priority", "subject", "description", "tags"):
        assert ticket[field] == BUG_REPORT[field], field


def test_request_values_win(client, people):
    template = make_template(client, people["super_admin"])
    body = {
        "template_id": template["id"],
        "subject": "Bug: export crashes",
        "priority": "urgent",
        "tags": [],
    }
    ticket = client.post(TICKETS, json=body, headers=people["individual"].headers).json()
    assert ticket["subject"] == "Bug: export crashes"
    assert ticket["priority"] == "urgent"
    assert ticket["tags"] == []
    assert ticket["category"] == "bug_report"
    assert ticket["description"] == BUG_REPORT["description"]


def test_a_partial_template_leaves_the_rest_to_the_request(client, people):
    template = make_template(
        client, people["super_admin"], name="Billing", category="billing", priority=None,
        subject=None, description=None, tags=[],
    )  # fmt: skip
    customer = people["individual"]
    missing = client.post(TICKETS, json={"template_id": template["id"]}, headers=customer.headers)
    assert missing.status_code == 422
    assert ["body", "subject"] in [e["loc"] for e in missing.json()["detail"]]
    body = {"template_id": template["id"], "subject": "Invoice", "description": "Wrong amount"}
    ticket = client.post(TICKETS, json=body, headers=customer.headers).json()
    assert (ticket["category"], ticket["priority"]) == ("billing", "medium")


def test_template_custom_fields(client, people):
    admin, customer = people["super_admin"], people["individual"]
    for field in (
        {"key": "plan", "label": "Plan", "type": "select", "options": ["basic", "pro"]},
        {"key": "order_number", "label": "Order number", "type": "text",
         "visible_to_customer": True, "editable_by_customer": True},
    ):  # fmt: skip
        assert (
            client.post(f"{API}/custom-fields", json=field, headers=admin.headers).status_code
            == 201
        )
    bad = client.post(
        TEMPLATES, json={"name": "x", "custom_fields": {"plan": "gold"}}, headers=admin.headers
    )
    assert bad.status_code == 422
    template = make_template(client, admin, custom_fields={"plan": "pro", "order_number": "?"})
    # Customers see only the values of fields shown to them.
    listed = client.get(TEMPLATES, headers=customer.headers).json()
    assert listed[0]["custom_fields"] == {"order_number": "?"}
    body = {"template_id": template["id"], "custom_fields": {"order_number": "A-7"}}
    ticket = client.post(TICKETS, json=body, headers=customer.headers).json()
    staff_view = client.get(f"{TICKETS}{ticket['id']}", headers=admin.headers).json()
    assert staff_view["custom_fields"] == {"plan": "pro", "order_number": "A-7"}


def test_unknown_template_is_422(client, people):
    response = client.post(TICKETS, json={"template_id": 999}, headers=people["agent"].headers)
    assert response.status_code == 422
    assert ["body", "template_id"] in [e["loc"] for e in response.json()["detail"]]


def test_update_and_delete(client, people):
    admin = people["super_admin"]
    template = make_template(client, admin)
    url = f"{TEMPLATES}/{template['id']}"
    patched = client.patch(url, json={"priority": None, "name": "Bug"}, headers=admin.headers)
    assert patched.status_code == 200, patched.text
    assert (patched.json()["priority"], patched.json()["name"]) == (None, "Bug")
    assert client.patch(url, json={"name": None}, headers=admin.headers).status_code == 422
    assert client.delete(url, headers=admin.headers).status_code == 204
    assert client.get(TEMPLATES, headers=admin.headers).json() == []
    assert client.delete(url, headers=admin.headers).status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"name": ""},
        {"name": "x", "priority": "huge"},
        {"name": "x", "tags": 5},
        {"name": "x", "subject": ""},
        {"name": "x", "unknown": 1},
    ],
)
def test_bad_templates_are_422(client, people, body):
    response = client.post(TEMPLATES, json=body, headers=people["super_admin"].headers)
    assert response.status_code == 422, response.text
