"""Parallel ticket creates on a real server process: how long the day's number queue makes them.

Every create takes the day's ticket-number counter row; this measures N creates sent at once
(with `--rule`, an auto-assignment rule active, so each create also picks an agent) and checks
the numbers run consecutively. Prints the wall time, the creates' p50/p95 and how many
database sessions wait on a lock meanwhile.

    python -m bench.numbering_bench [--postgres URL] [--creates 200] [--workers 2] [--rule]
                                    [--sqlite]
"""

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid

import asyncpg
import httpx

from bench.common import API, server
from bench.login_bench import _drop_postgres, _fresh_postgres, p

ADMIN = "admin@example.com"
PASSWORD = "velvet-orbit-canyon-42"


async def _token(client: httpx.AsyncClient, email: str) -> dict[str, str]:
    response = await client.post(f"{API}/auth/login", json={"email": email, "password": PASSWORD})
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def _prepare(client: httpx.AsyncClient, rule: bool) -> dict[str, str]:
    """With `rule`, three agents behind a round-robin rule; a customer's headers."""
    admin = await _token(client, ADMIN)
    if rule:
        await _rule(client, admin)
    email = f"customer-{uuid.uuid4().hex[:6]}@example.com"
    body = {"email": email, "password": PASSWORD, "full_name": "Customer"}
    (await client.post(f"{API}/auth/register", json=body)).raise_for_status()
    return await _token(client, email)


async def _rule(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    agents = []
    for n in range(3):
        body = {
            "email": f"agent{n}-{uuid.uuid4().hex[:6]}@example.com",
            "password": PASSWORD,
            "full_name": f"Agent {n}",
            "role": "agent",
        }
        response = await client.post(f"{API}/users", json=body, headers=admin)
        response.raise_for_status()
        agents.append(response.json()["id"])
    rule = {"name": "everyone", "agent_ids": agents, "conditions": {}}
    response = await client.post(f"{API}/assignment-rules", json=rule, headers=admin)
    response.raise_for_status()


async def _lock_waiters(url: str, stop: asyncio.Event) -> list[int]:
    """Every 20 ms: how many of the database's sessions wait for a row lock."""
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    samples = []
    try:
        while not stop.is_set():
            waiting = await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            samples.append(int(waiting))
            await asyncio.sleep(0.02)
    finally:
        await conn.close()
    return samples


async def parallel_creates(
    base: str, creates: int, url: str | None, *, rule: bool
) -> tuple[float, list[float], list[int]]:
    limits = httpx.Limits(max_connections=creates + 4, max_keepalive_connections=creates + 4)
    async with httpx.AsyncClient(base_url=base, timeout=600, limits=limits) as client:
        headers = await _prepare(client, rule)

        async def create(n: int) -> tuple[float, str]:
            body = {"subject": f"Parallel {n}", "description": "All at once"}
            started = time.perf_counter()
            response = await client.post(f"{API}/tickets", json=body, headers=headers)
            assert response.status_code == 201, response.text
            return (time.perf_counter() - started) * 1000, response.json()["ticket_number"]

        # Warm every connection first so the figure is about the database, not TCP handshakes.
        await asyncio.gather(*(client.get("/healthz") for _ in range(creates)))
        stop = asyncio.Event()
        sampler = asyncio.create_task(_lock_waiters(url, stop)) if url else None
        started = time.perf_counter()
        results = await asyncio.gather(*(create(n) for n in range(creates)))
        wall = time.perf_counter() - started
        stop.set()
        waiters = await sampler if sampler else []
    numbers = sorted(int(number.rsplit("-", 1)[1]) for _, number in results)
    assert numbers == list(range(numbers[0], numbers[0] + creates)), "numbers not consecutive"
    return wall, [ms for ms, _ in results], waiters


def run(label: str, url: str, creates: int, workers: int, *, rule: bool) -> None:
    env = {"TICKETDESK_ADMIN_EMAIL": ADMIN, "TICKETDESK_ADMIN_PASSWORD": PASSWORD}
    with server(url, workers=workers, extra_env=env) as base:
        postgres = url if url.startswith("postgresql") else None
        wall, times, waiters = asyncio.run(parallel_creates(base, creates, postgres, rule=rule))
    locks = (
        f"; sessions waiting on a lock: mean {statistics.mean(waiters):.1f}, max {max(waiters)}"
        if waiters
        else ""
    )
    print(
        f"{label}, {workers} worker(s){', a rule' if rule else ''}:"
        f" {creates} parallel creates in {wall:.2f} s;"
        f" p50 {statistics.median(times):.0f} ms, p95 {p(times, 0.95):.0f} ms,"
        f" max {max(times):.0f} ms; numbers consecutive{locks}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--creates", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2, help="server processes")
    parser.add_argument("--rule", action="store_true", help="an auto-assignment rule active")
    parser.add_argument("--sqlite", action="store_true", help="measure SQLite too")
    args = parser.parse_args()
    if args.sqlite:
        run(
            "SQLite",
            f"sqlite:///{tempfile.mkdtemp()}/bench.db",
            args.creates,
            args.workers,
            rule=args.rule,
        )
    url = asyncio.run(_fresh_postgres(args.postgres))
    try:
        run("PostgreSQL", url, args.creates, args.workers, rule=args.rule)
    finally:
        asyncio.run(_drop_postgres(url))


if __name__ == "__main__":
    main()
