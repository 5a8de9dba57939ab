"""Logins under pressure, on a real server process (SQLite, and PostgreSQL when reachable).

1. Timing: failed logins for an existing address and for an unknown one (the hash runs for
   both, so the two medians should be within 20% of each other).
2. Storm: 50 concurrent logins in waves while one client keeps creating tickets; prints the
   creates' p50/p95 (target p95 < 200 ms) beside the same creates with no logins running.

    python -m bench.login_bench [--postgres URL] [--seconds 10]
"""

import argparse
import asyncio
import statistics
import time
import uuid

import asyncpg
import httpx
from sqlalchemy.engine import make_url

from bench.common import API, server

PASSWORD = "velvet-orbit-canyon-42"


async def _register(client: httpx.AsyncClient, email: str) -> None:
    body = {"email": email, "password": PASSWORD, "full_name": "Bench User"}
    response = await client.post(f"{API}/auth/register", json=body)
    response.raise_for_status()


async def _token(client: httpx.AsyncClient, email: str) -> str:
    response = await client.post(f"{API}/auth/login", json={"email": email, "password": PASSWORD})
    response.raise_for_status()
    return str(response.json()["access_token"])


async def timing(base: str, repeat: int) -> tuple[float, float]:
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        email = f"known-{uuid.uuid4().hex[:8]}@example.com"
        await _register(client, email)

        async def failed(address: str) -> float:
            started = time.perf_counter()
            response = await client.post(
                f"{API}/auth/login", json={"email": address, "password": "wrong-guess-123"}
            )
            assert response.status_code == 401, response.text
            return (time.perf_counter() - started) * 1000

        known, unknown = [], []
        for n in range(repeat):
            known.append(await failed(email))
            unknown.append(await failed(f"nobody-{n}@example.com"))
    return statistics.median(known), statistics.median(unknown)


async def storm(base: str, seconds: float, logins: int) -> tuple[list[float], list[float]]:
    async with httpx.AsyncClient(
        base_url=base, timeout=60, limits=httpx.Limits(max_connections=logins + 4)
    ) as client:
        email = f"storm-{uuid.uuid4().hex[:8]}@example.com"
        await _register(client, email)
        headers = {"Authorization": f"Bearer {await _token(client, email)}"}

        async def creates(until: float) -> list[float]:
            times = []
            while time.perf_counter() < until:
                started = time.perf_counter()
                response = await client.post(
                    f"{API}/tickets", json={"subject": "Storm", "description": "d"}, headers=headers
                )
                assert response.status_code == 201, response.text
                times.append((time.perf_counter() - started) * 1000)
            return times

        quiet = await creates(time.perf_counter() + seconds / 2)
        stop = time.perf_counter() + seconds

        async def login_loop() -> None:
            while time.perf_counter() < stop:
                await client.post(f"{API}/auth/login", json={"email": email, "password": PASSWORD})

        storming = [asyncio.create_task(login_loop()) for _ in range(logins)]
        loud = await creates(stop)
        await asyncio.gather(*storming)
    return quiet, loud


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _fresh_postgres(url: str) -> str:
    parsed = make_url(url)
    name = f"ticketdesk_login_bench_{uuid.uuid4().hex[:6]}"
    admin = await asyncpg.connect(
        host=parsed.host, port=parsed.port or 5432, user=parsed.username, database="postgres"
    )
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    return parsed.set(database=name).render_as_string(hide_password=False)


def run(label: str, url: str, seconds: float) -> None:
    with server(url) as base:
        known, unknown = asyncio.run(timing(base, 30))
        spread = abs(known - unknown) / max(known, unknown)
        print(
            f"{label}: failed login, existing address {known:.1f} ms, unknown {unknown:.1f} ms"
            f" (differ by {spread:.0%}; target within 20%)"
        )
        quiet, loud = asyncio.run(storm(base, seconds, 50))
        print(
            f"{label}: creates alone p50 {p(quiet, 0.5):.1f} ms p95 {p(quiet, 0.95):.1f} ms;"
            f" during 50 concurrent logins p50 {p(loud, 0.5):.1f} ms p95 {p(loud, 0.95):.1f} ms"
            f" ({len(loud)} creates; target p95 < 200 ms)"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()
    import tempfile

    run("SQLite", f"sqlite:///{tempfile.mkdtemp()}/bench.db", args.seconds)
    try:
        url = asyncio.run(_fresh_postgres(args.postgres))
    except OSError as error:
        print(f"PostgreSQL: skipped ({error})")
        return
    try:
        run("PostgreSQL", url, args.seconds)
    finally:
        asyncio.run(_drop_postgres(url))


async def _drop_postgres(url: str) -> None:
    parsed = make_url(url)
    admin = await asyncpg.connect(
        host=parsed.host, port=parsed.port or 5432, user=parsed.username, database="postgres"
    )
    await admin.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
    await admin.close()


if __name__ == "__main__":
    main()
