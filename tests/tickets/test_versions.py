"""ETag on ticket answers, If-Match on PATCH, status and assign (412 when stale)."""

from tests.factories import API, make_ticket


def test_etag_round_trip(client, people, fake_clock):
    agent = people["agent"].headers
    ticket = make_ticket(client, people["individual"])
    url = f"{API}/tickets/{ticket['id']}"
    read = client.get(url, headers=agent)
    etag = read.headers["ETag"]
    assert etag.startswith('"') and etag.endswith('"')
    # The same state, the same tag, whoever reads it.
    assert client.get(url, headers=people["individual"].headers).headers["ETag"] == etag
    patched = client.patch(url, json={"subject": "New"}, headers={**agent, "If-Match": etag})
    assert patched.status_code == 200
    newer = patched.headers["ETag"]
    assert newer != etag
    assert client.get(url, headers=agent).headers["ETag"] == newer
    # The old tag is stale now: nothing changes.
    stale = client.patch(url, json={"subject": "Lost"}, headers={**agent, "If-Match": etag})
    assert stale.status_code == 412
    assert client.get(url, headers=agent).json()["subject"] == "New"


def test_if_match_on_status_and_assign(client, people):
    agent = people["agent"]
    ticket = make_ticket(client, people["individual"])
    url = f"{API}/tickets/{ticket['id']}"
    etag = client.get(url, headers=agent.headers).headers["ETag"]
    assign = client.post(
        f"{url}/assign",
        json={"assigned_to_id": agent.id},
        headers={**agent.headers, "If-Match": etag},
    )
    assert assign.status_code == 200
    stale = client.post(
        f"{url}/status",
        json={"status": "waiting_on_customer"},
        headers={**agent.headers, "If-Match": etag},
    )
    assert stale.status_code == 412
    fresh = client.post(
        f"{url}/status",
        json={"status": "waiting_on_customer"},
        headers={**agent.headers, "If-Match": assign.headers["ETag"]},
    )
    assert fresh.status_code == 200
    star = client.post(
        f"{url}/status", json={"status": "resolved"}, headers={**agent.headers, "If-Match": "*"}
    )
    assert star.status_code == 200


def test_without_if_match_nothing_is_checked(client, people):
    ticket = make_ticket(client, people["individual"])
    url = f"{API}/tickets/{ticket['id']}"
    response = client.patch(url, json={"subject": "Plain"}, headers=people["agent"].headers)
    assert response.status_code == 200
