"""Ticket numbers under real concurrency: 500 creates at once (100 on SQLite) against a real
server process."""

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from tests.servers import serve

PARALLEL = 500
# SQLite's writers wait for its lock by polling, not in a queue: with hundreds waiting, one can
# be passed over past its 30 s busy timeout on a starved machine. Its race is kept smaller.
PARALLEL_SQLITE = 100


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A `ticketdesk serve` process on the test database; yields its base URL once ready."""
    env = {
        # Parallel creates queue on the day's number; on a busy machine the queue can outlast
        # the default statement timeout, which these tests are not about.
        "TICKETDESK_DB_TIMEOUT_SECONDS": "600",
        # Nor about per-user request limits: one user sends hundreds of requests a minute.
        "TICKETDESK_RATE_LIMIT_PER_MINUTE": "0",
    }
    with serve(database_url, tmp_path, env) as running:
        yield running.base


@pytest.mark.server
def test_parallel_creates_get_distinct_consecutive_numbers(server: str, database_url: str) -> None:
    parallel = PARALLEL_SQLITE if database_url.startswith("sqlite") else PARALLEL
    api = f"{server}/api/v1"
    account = {"email": "racer@example.com", "password": "race-password", "full_name": "Racer"}
    assert httpx.post(f"{api}/auth/register", json=account, timeout=30).status_code == 201
    login = httpx.post(
        f"{api}/auth/login",
        json={"email": account["email"], "password": account["password"]},
        timeout=30,
    )
    assert login.status_code == 200, login.text
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}

    async def race() -> list[httpx.Response]:
        # Each request has its own connection, opened before any create is sent. The timeout
        # is the server's lock-queue allowance: on a starved machine the last create waits for
        # all the others.
        limits = httpx.Limits(max_connections=parallel, max_keepalive_connections=parallel)
        async with httpx.AsyncClient(base_url=api, timeout=600, limits=limits) as http:
            await asyncio.gather(*(http.get(f"{server}/healthz") for _ in range(parallel)))

            async def create(n: int) -> httpx.Response:
                body = {"subject": f"Race {n}", "description": "All at once"}
                return await http.post("/tickets/", json=body, headers=headers)

            return await asyncio.gather(*(create(n) for n in range(parallel)))

    day_before = datetime.now(UTC).date()
    responses = asyncio.run(race())
    day_after = datetime.now(UTC).date()
    if day_before != day_after:
        pytest.skip("the UTC day changed during the race")

    assert [r.status_code for r in responses] == [201] * parallel, [
        r.text for r in responses if r.status_code != 201
    ][:5]
    numbers = sorted(r.json()["ticket_number"] for r in responses)
    assert len(set(numbers)) == parallel
    assert numbers == [f"TKT-{day_before:%Y%m%d}-{n:04d}" for n in range(1, parallel + 1)]
    assert sorted(r.json()["subject"] for r in responses) == sorted(
        f"Race {n}" for n in range(parallel)
    )
    # Every ticket is really there, once, under the number it was given.
    listed = httpx.get(f"{api}/tickets/my", params={"page_size": 100}, headers=headers, timeout=30)
    assert listed.headers["X-Total-Count"] == str(parallel)
    for response in responses[:: parallel // 10]:
        ticket = response.json()
        found = httpx.get(f"{api}/tickets/{ticket['ticket_number']}", headers=headers, timeout=30)
        assert found.json()["id"] == ticket["id"]
