"""Webhook delivery benchmark: 3 webhooks subscribed to every event, under create/comment load.

    python -m bench.webhooks_bench --seconds 20 --concurrency 16

A fresh PostgreSQL database, one `ticketdesk serve` (its embedded worker delivers), and a
local receiver in its own process (bench/webhook_receiver.py: checks every signature, counts
duplicates). For `--seconds`, `--concurrency` users create tickets (customers) and comment on
them (an agent), back to back. When the load stops, the backlog is the deliveries still owed
(3 per event written); the drain time is how long until the receiver has them all.
Prints: load req/s, events written, deliveries sent during the load, the backlog at the stop,
the drain time, the delivery rate over the whole run and during the drain, and the checks
(every delivery received once, every signature valid, every delivery row succeeded).
"""

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.common import API, ROOT, free_port, server_process
from bench.http1 import Connection

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/ticketdesk_webhooks"
RESULTS = ROOT / "bench" / "results"
ADMIN = ("bench-admin@example.com", "bench-admin-password")
PASSWORD = "bench-password"


async def recreate(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    admin = await asyncpg.connect(url.rsplit("/", 1)[0] + "/postgres")
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()


def receiver_process(port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.webhook_receiver", "--port", str(port)], cwd=ROOT
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/_stats", timeout=1)
            return process
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("the receiver did not start")


def stats(port: int) -> dict:
    return httpx.get(f"http://127.0.0.1:{port}/_stats", timeout=10).json()


def bearer(token: str) -> bytes:
    return f"Authorization: Bearer {token}\r\n".encode()


async def load(
    port: int, admin: str, agent: str, customers: list[str], seconds: float, concurrency: int
) -> dict:
    """Half the users create tickets, half comment on them, until the time is up."""
    tickets: list[int] = []
    counts = {"create": 0, "comment": 0, "errors": 0}
    stop = time.monotonic() + seconds

    async def creator(n: int) -> None:
        connection = Connection("127.0.0.1", port)
        headers = bearer(customers[n % len(customers)])
        while time.monotonic() < stop:
            body = json.dumps(
                {"subject": f"Load {n}", "description": "Webhook benchmark."}
            ).encode()
            response = await connection.request(
                "POST", f"{API}/tickets", headers=headers, body=body
            )
            if response.status == 201:
                counts["create"] += 1
                tickets.append(json.loads(response.body)["id"])
            else:
                counts["errors"] += 1
        connection.close()

    async def commenter(n: int) -> None:
        connection = Connection("127.0.0.1", port)
        headers = bearer(agent)
        while time.monotonic() < stop:
            if not tickets:
                await asyncio.sleep(0.05)
                continue
            ticket = random.choice(tickets)
            body = json.dumps({"comment": f"Answer {n}"}).encode()
            path = f"{API}/tickets/{ticket}/comments"
            response = await connection.request("POST", path, headers=headers, body=body)
            if response.status == 201:
                counts["comment"] += 1
            else:
                counts["errors"] += 1
        connection.close()

    users = [creator(n) for n in range(concurrency // 2)]
    users += [commenter(n) for n in range(concurrency - concurrency // 2)]
    started = time.monotonic()
    await asyncio.gather(*users)
    counts["seconds"] = time.monotonic() - started
    return counts


async def owed(url: str, webhooks: int) -> tuple[int, int]:
    """Events written since the webhooks exist, and delivery rows not yet succeeded."""
    connection = await asyncpg.connect(url)
    try:
        start = await connection.fetchval("SELECT min(start_after_event_id) FROM webhooks")
        events = await connection.fetchval("SELECT count(*) FROM events WHERE id > $1", start)
        unsent = await connection.fetchval(
            "SELECT count(*) FROM webhook_deliveries WHERE status <> 'succeeded'"
        )
        return int(events) * webhooks, int(unsent)
    finally:
        await connection.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--webhooks", type=int, default=3)
    parser.add_argument("--workers", type=int, default=1, help="server processes")
    parser.add_argument("--timeout", type=float, default=300, help="give up draining after")
    parser.add_argument(
        "--backlog",
        action="store_true",
        help="no worker during the load; a `ticketdesk worker` starts when it stops (capacity)",
    )
    args = parser.parse_args()

    asyncio.run(recreate(args.url))
    receiver_port = free_port()
    receiver = receiver_process(receiver_port)
    env = {
        "TICKETDESK_ADMIN_EMAIL": ADMIN[0],
        "TICKETDESK_ADMIN_PASSWORD": ADMIN[1],
        "TICKETDESK_WEBHOOK_ALLOW_PRIVATE": "true",
        "TICKETDESK_WORKER": "false" if args.backlog else "true",
        "TICKETDESK_LOG_LEVEL": os.environ.get("TICKETDESK_LOG_LEVEL", "warning"),
    }
    try:
        with server_process(args.url, workers=args.workers, extra_env=env) as server:
            base = server.base
            client = httpx.Client(base_url=base + API, timeout=30)
            admin = client.post("/auth/login", json={"email": ADMIN[0], "password": ADMIN[1]})
            admin_token = admin.json()["access_token"]
            headers = {"Authorization": f"Bearer {admin_token}"}

            def user(role: str, n: int) -> str:
                email = f"{role}{n}@example.com"
                body = {
                    "email": email,
                    "password": PASSWORD,
                    "full_name": f"{role} {n}",
                    "role": role,
                }
                client.post("/users", json=body, headers=headers).raise_for_status()
                login = client.post("/auth/login", json={"email": email, "password": PASSWORD})
                return str(login.json()["access_token"])

            agent = user("agent", 0)
            customers = [user("individual", n) for n in range(20)]
            secrets = {}
            for n in range(args.webhooks):
                path = f"/hook{n}"
                body = {"url": f"http://127.0.0.1:{receiver_port}{path}", "event_types": ["*"]}
                response = client.post("/webhooks", json=body, headers=headers)
                response.raise_for_status()
                secrets[path] = response.json()["secret"]
            httpx.post(f"http://127.0.0.1:{receiver_port}/_secrets", json=secrets)

            counts = asyncio.run(
                load(server.port, admin_token, agent, customers, args.seconds, args.concurrency)
            )
            stopped = time.monotonic()
            expected, _ = asyncio.run(owed(args.url, args.webhooks))
            at_stop = stats(receiver_port)["total"]
            worker = None
            if args.backlog:
                worker = subprocess.Popen(
                    [str(Path(sys.executable).parent / "ticketdesk"), "worker"],
                    env={**os.environ, **env, "TICKETDESK_DATABASE_URL": args.url},
                    cwd=ROOT,
                    stdout=subprocess.DEVNULL,
                )
            while time.monotonic() - stopped < args.timeout:
                if stats(receiver_port)["total"] >= expected:
                    break
                time.sleep(0.05)
            drained = time.monotonic() - stopped
            final = stats(receiver_port)
            _, unsent = asyncio.run(owed(args.url, args.webhooks))
            if worker is not None:
                worker.terminate()
                worker.wait(timeout=30)
    finally:
        receiver.terminate()
        receiver.wait(timeout=10)

    report(args, counts, expected, at_stop, drained, final, unsent)


def report(
    args: argparse.Namespace,
    counts: dict[str, float],
    expected: int,
    at_stop: int,
    drained: float,
    final: dict[str, Any],
    unsent: int,
) -> None:
    total = final["total"]
    backlog = expected - at_stop
    span = (final["last"] or 0) - (final["first"] or 0)
    overall = total / span if span else 0.0
    drain_rate = backlog / drained if drained else 0.0
    requests = counts["create"] + counts["comment"]
    events = expected // args.webhooks if args.webhooks else 0
    print(
        f"load: {requests / counts['seconds']:.0f} req/s for {counts['seconds']:.1f} s "
        f"({counts['create']:.0f} creates, {counts['comment']:.0f} comments, "
        f"{counts['errors']:.0f} errors), {args.concurrency} users, "
        f"{args.workers} server process(es)"
    )
    print(f"events written: {events}; deliveries owed: {expected} ({args.webhooks} webhooks)")
    print(f"delivered during the load: {at_stop}; backlog when the load stopped: {backlog}")
    mode = "a worker started when the load stopped" if args.backlog else "the embedded worker"
    print(f"drain time after the load stopped ({mode}): {drained:.2f} s")
    print(f"drain rate: {drain_rate:.0f} deliveries/s")
    print(f"deliveries/s from the first delivery to the last: {overall:.0f}")
    ok = total == expected and not final["duplicates"] and not final["bad_signatures"]
    print(
        f"{'PASS' if ok and not unsent else 'FAIL'}: received {total} of {expected}, "
        f"duplicates {final['duplicates']}, bad signatures {final['bad_signatures']}, "
        f"delivery rows not succeeded {unsent}"
    )
    fast = drained <= 10 and max(overall, drain_rate) >= 200
    print(f"{'PASS' if fast else 'FAIL'}: drained within 10 s of the stop, >= 200 deliveries/s")
    RESULTS.mkdir(exist_ok=True)
    summary = {"counts": counts, "expected": expected, "at_stop": at_stop, "final": final}
    (RESULTS / "webhooks.json").write_text(json.dumps(summary | {"drained": drained}, indent=2))


if __name__ == "__main__":
    main()
