"""The two "Workflow Examples" of TICKET_SYSTEM.md, played through the API step by step."""

from tests.factories import API, make_ticket


def _status(client, actor, ticket_id, status, **extra):
    response = client.post(
        f"{API}/tickets/{ticket_id}/status", json={"status": status, **extra}, headers=actor.headers
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_standard_support_flow(client, people, fake_clock):
    customer, admin, agent = people["individual"], people["super_admin"], people["agent"]
    created = fake_clock.current
    ticket = make_ticket(client, customer, priority="high", category="technical_support")
    assert ticket["status"] == "open"
    tid = ticket["id"]

    fake_clock.advance(minutes=5)
    response = client.post(
        f"{API}/tickets/{tid}/assign",
        json={"assigned_to_id": agent.id, "note": "Assigning to Sarah from tech support"},
        headers=admin.headers,
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "in_progress"
    assert response.json()["assigned_to_name"] == "Agent 4"

    fake_clock.advance(minutes=25)
    responded = fake_clock.current
    response = client.post(
        f"{API}/tickets/{tid}/comments", json={"comment": "Looking into it."}, headers=agent.headers
    )
    assert response.status_code == 201, response.text

    fake_clock.advance(minutes=10)
    response = client.post(
        f"{API}/tickets/{tid}/comments", json={"comment": "Still broken."}, headers=customer.headers
    )
    assert response.status_code == 201
    shown = client.get(f"{API}/tickets/{tid}", headers=customer.headers).json()
    assert shown["status"] == "in_progress"
    assert shown["first_response_at"] == responded.isoformat().replace("+00:00", "Z")

    fake_clock.advance(hours=2)
    resolved = _status(
        client, agent, tid, "resolved", note="Fixed in the latest release", is_resolution=True
    )
    assert resolved["status"] == "resolved"
    assert resolved["resolved_at"] == fake_clock.current.isoformat().replace("+00:00", "Z")
    assert resolved["comments_count"] == 3

    closed = _status(client, customer, tid, "closed")
    assert closed["status"] == "closed"
    assert closed["closed_at"] is not None
    assert created < fake_clock.current

    history = client.get(f"{API}/tickets/{tid}/history", headers=agent.headers).json()
    assert [(h["from_status"], h["to_status"]) for h in history] == [
        ("open", "in_progress"),
        ("in_progress", "resolved"),
        ("resolved", "closed"),
    ]
    assert history[0]["to_assigned_to_id"] == agent.id
    assert history[0]["change_note"] == "Assigning to Sarah from tech support"


def test_user_reopening_flow(client, people):
    customer, agent = people["individual"], people["agent"]
    tid = make_ticket(client, customer)["id"]
    _status(client, agent, tid, "closed")

    response = client.post(
        f"{API}/tickets/{tid}/comments", json={"comment": "It is back."}, headers=customer.headers
    )
    assert response.status_code == 201
    ticket = client.get(f"{API}/tickets/{tid}", headers=customer.headers).json()
    assert ticket["status"] == "reopened"
    assert ticket["closed_at"] is None and ticket["resolved_at"] is None

    assert _status(client, agent, tid, "in_progress")["status"] == "in_progress"
    assert _status(client, agent, tid, "resolved")["resolved_at"] is not None
    assert _status(client, customer, tid, "closed")["status"] == "closed"
