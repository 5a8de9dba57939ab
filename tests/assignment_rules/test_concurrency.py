"""Auto-assignment under real concurrency: 50 requests at once against a real server process.

Picks of one rule happen one at a time (the rule's row lock on PostgreSQL, the single writer on
SQLite), so no agent goes over capacity and round robin stays even. One server serves the three
rounds, each with its own rule (by category) and agents."""

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.factories import API, insert_tickets, make_user
from tests.tickets.test_numbering_race import server  # noqa: F401 - the fixture

PARALLEL = 50


def _all_at_once(send: Callable[[httpx.Client, int], httpx.Response]) -> list[httpx.Response]:
    barrier = threading.Barrier(PARALLEL)

    def run(n: int) -> httpx.Response:
        with httpx.Client(timeout=600) as http:
            barrier.wait(timeout=60)
            return send(http, n)

    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        responses = list(pool.map(run, range(PARALLEL)))
    assert [r.status_code for r in responses] == [201] * PARALLEL, [
        r.text for r in responses if r.status_code != 201
    ]
    return responses


def _rule(client, people, category, **rule):
    agents = [make_user(client, "agent", name=f"{category} {n}") for n in range(3)]
    body = {
        "name": category,
        "agent_ids": [a.id for a in agents],
        "conditions": {"categories": [category]},
        **rule,
    }
    response = client.post(
        f"{API}/assignment-rules", json=body, headers=people["super_admin"].headers
    )
    assert response.status_code == 201, response.text
    return agents


def _stored(client, agents):
    """Open tickets per agent as the database holds them (not as the responses said)."""
    counts = {}
    for agent in agents:
        response = client.get(f"{API}/tickets/?assigned_to_id={agent.id}", headers=agent.headers)
        counts[agent.id] = int(response.headers["X-Total-Count"])
    return counts


@pytest.mark.server
def test_fifty_at_once(server, client, people):  # noqa: F811
    customer = people["individual"]
    tickets = f"{server}/api/v1/tickets"

    def create(category):
        def send(http, n):
            body = {"subject": f"Race {n}", "description": "All at once", "category": category}
            return http.post(f"{tickets}/", json=body, headers=customer.headers)

        return send

    # Capacity: three agents, at most ten open each.
    billing = _rule(client, people, "billing", max_open_per_agent=10)
    responses = _all_at_once(create("billing"))
    said = Counter(r.json()["assigned_to_id"] for r in responses)
    assert said == {billing[0].id: 10, billing[1].id: 10, billing[2].id: 10, None: 20}
    assert _stored(client, billing) == {a.id: 10 for a in billing}

    # Round robin without a limit: counts differ by one at most.
    account = _rule(client, people, "account")
    _all_at_once(create("account"))
    counts = _stored(client, account)
    assert sum(counts.values()) == PARALLEL
    assert max(counts.values()) - min(counts.values()) <= 1, counts

    # Reopening takes no ticket-number lock: only the rule's lock orders these picks.
    other = _rule(client, people, "other", max_open_per_agent=10)
    closed = insert_tickets(client, customer.id, PARALLEL, status="closed", category="other")

    def reopen(http, n):
        return http.post(
            f"{tickets}/{closed[n]}/comments",
            json={"comment": "Still broken."},
            headers=customer.headers,
        )

    _all_at_once(reopen)
    assert _stored(client, other) == {a.id: 10 for a in other}
