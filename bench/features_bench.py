"""Agent-productivity benchmark: create throughput with 5 active auto-assignment rules against
none, and the latency of `cf.` filter pages, on PostgreSQL.

    python -m bench.features_bench --tickets 1000000          # make bench-features

Seeds `ticketdesk_features` with bench/seed.py (six tickets in ten carry `plan` and
`order_number` values), defines the two custom fields, adds ten agents of its own with no open
tickets and five rules over them that together match every ticket the create scenario files
(round robin and least loaded, with and without capacity, one with only_available), then starts
`ticketdesk serve` (2 workers) and runs bench/load.py's create scenario (16 logged-in customers,
closed loop) in alternating rounds: rules off, rules on, off, on ... Each round reports req/s
and latency; the cost is 1 - (median req/s with rules) / (median req/s without). Afterwards:
how many tickets the rules assigned, and that no agent went over a capacity.

Before the rounds, one agent reads `cf.` filter pages one after another over a keep-alive
connection (median and p95 of 50 requests each): a rare value (one ticket), a common one (a
third of the tickets with values), and a common one combined with `status=open`.
"""

import argparse
import asyncio
import json
import statistics
import time

import asyncpg

from bench import seed as seeding
from bench.common import API, server_process
from bench.http1 import Connection
from bench.load import Create, Options, Probe, login_all, run_scenario

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/ticketdesk_features"
FIELDS = [
    ("order_number", "Order number", "text", None),
    ("plan", "Plan", "select", ["basic", "pro", "enterprise"]),
]
# name, categories, strategy, agents (indexes into the bench's own agents), options
RULES = [
    ("Billing", ["billing"], "round_robin", [0, 1], {"max_open_per_agent": 5000}),
    ("Technical", ["technical_support"], "least_loaded", [2, 3, 4], {"max_open_per_agent": 5000}),
    ("Accounts", ["account"], "round_robin", [5, 6], {"only_available": True}),
    ("Bugs", ["bug_report"], "least_loaded", [7, 8], {}),
    ("Everything else", [], "round_robin", [9], {"max_open_per_agent": 100000}),
]
FILTERS = {
    "cf.order_number=A-500001 (1 ticket)": "cf.order_number=A-500001",
    "cf.plan=enterprise (~200k tickets)": "cf.plan=enterprise",
    "cf.plan=pro&status=open": "cf.plan=pro&status=open",
}


async def prepare(conn: asyncpg.Connection) -> list[int]:
    """The field definitions, ten agents with no tickets, and the five rules (inactive)."""
    await conn.execute(
        "DELETE FROM assignment_rules; DELETE FROM custom_fields;"
        " UPDATE tickets SET assigned_to_id = NULL WHERE assigned_to_id IN"
        "  (SELECT id FROM users WHERE email LIKE 'bench-rule-agent%');"
        " DELETE FROM ticket_status_history WHERE to_assigned_to_id IN"
        "  (SELECT id FROM users WHERE email LIKE 'bench-rule-agent%')"
        "  OR from_assigned_to_id IN (SELECT id FROM users WHERE email LIKE 'bench-rule-agent%');"
        " DELETE FROM ticket_activity WHERE actor_id IN"
        "  (SELECT id FROM users WHERE email LIKE 'bench-rule-agent%');"
        " DELETE FROM users WHERE email LIKE 'bench-rule-agent%'"
    )
    for position, (key, label, type_, options) in enumerate(FIELDS):
        await conn.execute(
            "INSERT INTO custom_fields (key, label, type, options, required, visible_to_customer,"
            " editable_by_customer, position, created_at, updated_at)"
            " VALUES ($1, $2, $3, $4::json, false, true, false, $5, now(), now())",
            key, label, type_, json.dumps(options) if options else None, position,
        )  # fmt: skip
    password_hash = await conn.fetchval("SELECT password_hash FROM users ORDER BY id LIMIT 1")
    agents = []
    for n in range(10):
        agents.append(
            await conn.fetchval(
                "INSERT INTO users (email, password_hash, full_name, role, is_active, available,"
                " session_epoch, created_at, updated_at)"
                " VALUES ($1, $2, $3, 'agent', true, true, 0, now(), now()) RETURNING id",
                f"bench-rule-agent{n}@example.com",
                password_hash,
                f"Rule agent {n}",
            )
        )
    for position, (name, categories, strategy, members, extra) in enumerate(RULES):
        conditions = {"categories": categories, "priorities": [], "tags": []}
        await conn.execute(
            "INSERT INTO assignment_rules (name, position, is_active, conditions, strategy,"
            " agent_ids, only_available, max_open_per_agent, created_at, updated_at)"
            " VALUES ($1, $2, false, $3::json, $4, $5::json, $6, $7, now(), now())",
            name, position, json.dumps(conditions), strategy,
            json.dumps([agents[m] for m in members]), extra.get("only_available", False),
            extra.get("max_open_per_agent"),
        )  # fmt: skip
    await conn.execute("ANALYZE")
    return agents


async def set_rules(conn: asyncpg.Connection, active: bool) -> None:
    await conn.execute("UPDATE assignment_rules SET is_active = $1", active)


async def filter_latency(port: int, token: bytes, query: str, count: int) -> tuple[float, float]:
    conn = Connection("127.0.0.1", port)
    timings = []
    try:
        for n in range(count + 5):
            started = time.perf_counter()
            response = await conn.request("GET", f"{API}/tickets/?{query}", headers=token)
            if response.status != 200:
                raise RuntimeError(f"{query} answered {response.status}: {response.body!r}")
            if n >= 5:  # warm-up
                timings.append((time.perf_counter() - started) * 1000)
    finally:
        conn.close()
    timings.sort()
    return statistics.median(timings), timings[int(0.95 * len(timings)) - 1]


async def main_async(args: argparse.Namespace) -> None:
    if not args.no_seed:
        started = time.perf_counter()
        await seeding.seed(args.url, tickets=args.tickets, customers=500, agents=20)
        print(f"seeded {args.tickets:,} tickets in {time.perf_counter() - started:.0f}s")
    conn = await asyncpg.connect(**seeding.connect_args(args.url))
    agents = await prepare(conn)
    opts = Options(
        url=args.url, seconds=args.seconds, warmup=1.0, concurrency=16, workers=2,
        db_seconds=0, scenarios=("create",),
    )  # fmt: skip
    rates: dict[bool, list[float]] = {False: [], True: []}
    try:
        with server_process(args.url, workers=2) as server:
            tokens = await login_all(server.port)
            probe = Probe(server, conn, seeding.connect_args(args.url)["database"])
            # The filter pages first, on the tickets as seeded: the create rounds (of this run
            # and of earlier ones on the same database) add the newest tickets, without values,
            # which a page of the newest matches would have to step over.
            for label, query in FILTERS.items():
                median, p95 = await filter_latency(server.port, tokens.agent, query, 50)
                print(f"{label:<40} median {median:5.1f} ms   p95 {p95:5.1f} ms")
            print()
            first_new = await conn.fetchval("SELECT max(id) + 1 FROM tickets")
            for round_ in range(args.rounds):
                for active in (False, True):
                    await set_rules(conn, active)
                    result = await run_scenario(probe, Create(tokens), opts)
                    rates[active].append(result.requests_per_second)
                    print(
                        f"round {round_ + 1} rules {'on ' if active else 'off'}: "
                        f"{result.requests_per_second:.0f} req/s, p50 {result.p50_ms:.1f} ms, "
                        f"p95 {result.p95_ms:.1f} ms, errors {result.errors}, "
                        f"server CPU {result.server_cpu_ms_per_request:.2f} ms/req, "
                        f"database CPU {result.database_cpu_ms_per_request:.2f} ms/req, "
                        f"host {result.host_busy_percent:.0f} % busy",
                        flush=True,
                    )
            await set_rules(conn, False)
        off, on = statistics.median(rates[False]), statistics.median(rates[True])
        print(f"\ncreate: {off:.0f} req/s without rules, {on:.0f} with 5 rules: cost "
              f"{(1 - on / off) * 100:.1f} %")  # fmt: skip
        loads = await conn.fetch(
            "SELECT assigned_to_id AS agent, count(*) AS open FROM tickets WHERE id >= $1"
            " AND assigned_to_id = ANY($2::int[]) GROUP BY 1",
            first_new, agents,
        )  # fmt: skip
        assigned = sum(r["open"] for r in loads)
        largest = max((r["open"] for r in loads), default=0)
        print(
            f"assigned by the rules: {assigned} tickets over {len(loads)} agents; "
            f"largest load {largest} (capacities >= 5000)"
        )
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-seed", action="store_true", help="reuse the seeded database")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
