"""Bulk operations of 500 tickets over HTTP, on PostgreSQL.

    python -m bench.bulk_bench                # on the data of bench.stats_bench (or --seed N)

Times one POST /tickets/bulk per action (assign, status, update) on 500 tickets, each
request all-or-nothing with a history row per ticket, and prints the median of a few runs.
"""

import argparse
import asyncio
import statistics
import time

import asyncpg
import httpx

from bench import seed as seeding
from bench.common import API, login, server

BATCH = 500


async def _ids(url: str, status: str) -> list[int]:
    conn = await asyncpg.connect(**seeding.connect_args(url))
    try:
        rows = await conn.fetch(
            "SELECT id FROM tickets WHERE status = $1 ORDER BY id LIMIT $2", status, BATCH
        )
        agent = await conn.fetchval("SELECT id FROM users WHERE email = $1", seeding.AGENT)
    finally:
        await conn.close()
    return [row["id"] for row in rows] + [agent]


def _timed(client: httpx.Client, headers: dict[str, str], body: dict[str, object]) -> float:
    started = time.perf_counter()
    response = client.post(f"{API}/tickets/bulk", json=body, headers=headers)
    elapsed = (time.perf_counter() - started) * 1000
    response.raise_for_status()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/ticketdesk_bench")
    parser.add_argument("--seed", type=int, default=0, help="seed this many tickets first")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if args.seed:
        asyncio.run(seeding.seed(args.url, tickets=args.seed, customers=500, agents=20))
    *ids, agent = asyncio.run(_ids(args.url, "in_progress"))
    timings: dict[str, list[float]] = {"assign": [], "status": [], "update": []}
    with server(args.url) as base, httpx.Client(base_url=base, timeout=60) as client:
        admin = login(base, seeding.ADMIN, seeding.PASSWORD)
        for round_ in range(args.rounds):
            timings["assign"].append(
                _timed(
                    client,
                    admin,
                    {
                        "ticket_ids": ids,
                        "action": "assign",
                        "assigned_to_id": agent if round_ % 2 == 0 else None,
                    },
                )
            )
            for status in ("waiting_on_customer", "in_progress"):
                timings["status"].append(
                    _timed(
                        client,
                        admin,
                        {
                            "ticket_ids": ids,
                            "action": "status",
                            "status": status,
                            "note": "bulk benchmark",
                        },
                    )
                )
            timings["update"].append(
                _timed(
                    client,
                    admin,
                    {
                        "ticket_ids": ids,
                        "action": "update",
                        "priority": ("high", "low")[round_ % 2],
                        "add_tags": [f"bench{round_}"],
                    },
                )
            )
    for action, samples in timings.items():
        print(
            f"bulk {action:<7} {BATCH} tickets: median {statistics.median(samples):7.1f} ms"
            f" (max {max(samples):.1f} ms, {len(samples)} requests)"
        )


if __name__ == "__main__":
    main()
