"""The lists that grow without bound come in pages: users, comments, history, activity, the
SLA audit (`limit`, `after`, `Link: next`)."""

from urllib.parse import parse_qs, urlsplit

from tests.factories import API, make_ticket, make_user


def walk(client, url, headers, params):
    """Every item, following `next`; and how many pages it took."""
    response = client.get(url, params=params, headers=headers)
    assert response.status_code == 200, response.text
    items, pages = list(response.json()), 1
    while "Link" in response.headers:
        target = response.headers["Link"].split(";")[0].strip("<>")
        assert target.startswith(url)
        query = parse_qs(urlsplit(target).query)
        assert query["limit"] == [str(params["limit"])]
        response = client.get(target, headers=headers)
        items += response.json()
        pages += 1
    return items, pages


def test_users_in_pages(client, people):
    for _ in range(3):
        make_user(client, "agent")
    admin = people["super_admin"].headers
    everyone = client.get(f"{API}/users", headers=admin).json()
    assert len(everyone) == 9
    items, pages = walk(client, f"{API}/users", admin, {"limit": 2})
    assert [u["id"] for u in items] == [u["id"] for u in everyone]
    assert pages == 5
    agents, _ = walk(client, f"{API}/users", admin, {"limit": 1, "role": "agent"})
    assert {u["role"] for u in agents} == {"agent"}
    assert len(agents) == 4
    assert client.get(f"{API}/users", params={"limit": 501}, headers=admin).status_code == 422


def test_comments_history_and_activity_in_pages(client, people):
    agent = people["agent"]
    ticket = make_ticket(client, people["individual"])
    url = f"{API}/tickets/{ticket['id']}"
    for n in range(5):
        body = {"comment": f"note {n}", "is_internal": n % 2 == 0}
        assert client.post(f"{url}/comments", json=body, headers=agent.headers).status_code == 201
    for status in ("waiting_on_customer", "in_progress", "waiting_on_customer"):
        client.post(f"{url}/status", json={"status": status}, headers=agent.headers)
    comments, pages = walk(client, f"{url}/comments", agent.headers, {"limit": 2})
    assert [c["comment"] for c in comments] == [f"note {n}" for n in range(5)]
    assert pages == 3
    public, _ = walk(client, f"{url}/comments", people["individual"].headers, {"limit": 1})
    assert [c["comment"] for c in public] == ["note 1", "note 3"]
    everything = client.get(f"{url}/history", headers=agent.headers).json()
    history, _ = walk(client, f"{url}/history", agent.headers, {"limit": 1})
    assert history == everything
    activity_all = client.get(f"{url}/activity", headers=agent.headers).json()
    activity, pages = walk(client, f"{url}/activity", agent.headers, {"limit": 3})
    assert [a["id"] for a in activity] == [a["id"] for a in activity_all]
    assert pages > 1


def test_sla_audit_in_pages(client, people):
    admin = people["super_admin"].headers
    for minutes in (10, 20, 30):
        body = {"priority": "urgent", "first_response_time": minutes, "resolution_time": 600}
        assert client.post(f"{API}/tickets/sla/config", json=body, headers=admin).status_code == 200
    everything = client.get(f"{API}/tickets/sla/audit", headers=admin).json()
    assert len(everything) == 3
    items, pages = walk(client, f"{API}/tickets/sla/audit", admin, {"limit": 2})
    assert items == everything
    assert pages == 2
