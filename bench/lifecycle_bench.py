"""Organizations and satisfaction at 1,000,000 tickets, on PostgreSQL.

    python -m bench.lifecycle_bench                 # seed (bench/seed.py), then measure
    python -m bench.lifecycle_bench --no-seed       # measure the data already there

On top of the seed: about a third of the resolved tickets rated (one in four of those `bad`),
and an organization of the bench customer (200 tickets) with nine colleagues of 100 tickets
each (--colleague-tickets). Times over HTTP, median of --repeat:
- GET /tickets/statistics/agents, beside its own SQL run bare on asyncpg (target: < 1 s);
- the customer's GET /tickets/ with the organization's sharing off, then on (target: within
  1.5x: with sharing on the visibility rule is `user_id = me OR organization_id = mine`);
- the statistics overview, now with its satisfaction figures.
"""

import argparse
import asyncio
import json

import asyncpg
import httpx
from sqlalchemy.dialects import postgresql

from bench import seed as seeding
from bench.common import API, login, median_ms, server
from ticketdesk.stats import queries

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/ticketdesk_bench_lifecycle"
COLLEAGUES = 9

SETUP_SQL = [
    # Ratings: a third of the resolved tickets, one in four of them bad.
    "DELETE FROM satisfaction_ratings",
    """
    INSERT INTO satisfaction_ratings (ticket_id, user_id, rating, comment, created_at, updated_at)
    SELECT id, user_id,
           CASE WHEN (hashint4(id + 53) & 2147483647) % 4 = 0 THEN 'bad' ELSE 'good' END,
           NULL, resolved_at, resolved_at
    FROM tickets
    WHERE resolved_at IS NOT NULL AND (hashint4(id + 51) & 2147483647) % 3 = 0
    """,
    "UPDATE users SET organization_id = NULL",
    "UPDATE tickets SET organization_id = NULL WHERE organization_id IS NOT NULL",
    "DELETE FROM organization_domains",
    "DELETE FROM organizations",
    """
    INSERT INTO organizations (id, name, shared_tickets, created_at, updated_at)
    VALUES (1, 'Bench Org', false, now(), now())
    """,
]


async def setup(url: str, *, colleague_tickets: int) -> dict[str, int]:
    """Ratings and organizations on the seeded data; returns their sizes."""
    conn = await asyncpg.connect(**seeding.connect_args(url))
    try:
        for statement in SETUP_SQL:
            await conn.execute(statement)
        customer = await conn.fetchval("SELECT id FROM users WHERE email = $1", seeding.CUSTOMER)
        # The colleagues: the first customers after the bench customer, as sub-users with
        # `colleague_tickets` tickets each filed while in the organization (the rest of their
        # seeded tickets count as filed before they joined).
        colleagues = await conn.fetch(
            "SELECT id FROM users WHERE role <> 'agent' AND role <> 'super_admin' AND id > $1"
            " ORDER BY id LIMIT $2",
            customer,
            COLLEAGUES,
        )
        members = [customer, *(row["id"] for row in colleagues)]
        await conn.execute(
            "UPDATE users SET organization_id = 1, role = CASE WHEN id = $1 THEN role"
            " ELSE 'sub_user' END WHERE id = ANY($2::int[])",
            customer,
            members,
        )
        for colleague in members[1:]:
            await conn.execute(
                """
                UPDATE tickets SET organization_id = 1 WHERE id IN (
                    SELECT id FROM tickets WHERE user_id = $1 ORDER BY id LIMIT $2)
                """,
                colleague,
                colleague_tickets,
            )
        await conn.execute("UPDATE tickets SET organization_id = 1 WHERE user_id = $1", customer)
        await conn.execute("VACUUM ANALYZE tickets, users, satisfaction_ratings, organizations")
        counts = await conn.fetchrow(
            """
            SELECT (SELECT count(*) FROM satisfaction_ratings) AS ratings,
                   (SELECT count(*) FROM tickets WHERE organization_id = 1) AS org_tickets,
                   (SELECT count(*) FROM tickets) AS tickets
            """
        )
        return dict(counts) | {"customer": customer}
    finally:
        await conn.close()


async def set_sharing(url: str, organization_id: int, shared: bool) -> None:
    conn = await asyncpg.connect(**seeding.connect_args(url))
    try:
        await conn.execute(
            "UPDATE organizations SET shared_tickets = $1 WHERE id = $2", shared, organization_id
        )
    finally:
        await conn.close()


async def bare_sql_ms(url: str, sql: str, repeat: int) -> tuple[float, int]:
    """The median time of the service's query run straight on asyncpg, and its row count."""
    conn = await asyncpg.connect(**seeding.connect_args(url))
    try:
        rows = await conn.fetch(sql)
        loop = asyncio.get_running_loop()
        samples = []
        for _ in range(repeat):
            started = loop.time()
            await conn.fetch(sql)
            samples.append((loop.time() - started) * 1000)
        samples.sort()
        return samples[len(samples) // 2], len(rows)
    finally:
        await conn.close()


def agents_sql() -> str:
    query = queries.agents_query("postgresql", start=None, end=None)
    compiled = query.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
    return str(compiled)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--no-seed", action="store_true")
    parser.add_argument("--colleague-tickets", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    if not args.no_seed:
        timings = asyncio.run(
            seeding.seed(args.url, tickets=args.tickets, customers=500, agents=20)
        )
        print(f"seeded {args.tickets:,} tickets in {sum(timings.values()):.1f}s")
    sizes = asyncio.run(setup(args.url, colleague_tickets=args.colleague_tickets))
    print(f"data: {json.dumps(sizes)}")

    results: dict[str, float] = {}
    with server(args.url) as base, httpx.Client(base_url=base, timeout=120) as client:
        admin = login(base, seeding.ADMIN, seeding.PASSWORD)
        customer = login(base, seeding.CUSTOMER, seeding.PASSWORD)

        def get(path: str, headers: dict[str, str], **params: str) -> httpx.Response:
            response = client.get(f"{API}{path}", params=params, headers=headers)
            response.raise_for_status()
            return response

        results["agents"] = median_ms(
            lambda: get("/tickets/statistics/agents", admin), repeat=args.repeat
        )
        results["agents_sql"], agent_rows = asyncio.run(
            bare_sql_ms(args.url, agents_sql(), args.repeat)
        )
        assert len(get("/tickets/statistics/agents", admin).json()) == agent_rows
        results["overview"] = median_ms(
            lambda: get("/tickets/statistics/overview", admin), repeat=args.repeat
        )
        list_repeat = max(args.repeat, 31)
        seen = {}
        for shared in (False, True):
            asyncio.run(set_sharing(args.url, 1, shared))
            total = int(get("/tickets/", customer).headers["X-Total-Count"])
            seen[shared] = total
            results[f"list_shared_{shared}"] = median_ms(
                lambda: get("/tickets/", customer), repeat=list_repeat
            )
    ratio = results["list_shared_True"] / results["list_shared_False"]
    print()
    print(f"{'measure':<58} {'ms':>9}")
    print(f"{'GET /tickets/statistics/agents':<58} {results['agents']:>9.1f}")
    print(f"{'  its SQL, bare on asyncpg':<58} {results['agents_sql']:>9.1f}")
    print(
        f"{'GET /tickets/statistics/overview (with satisfaction)':<58} {results['overview']:>9.1f}"
    )
    print(
        f"{f'customer GET /tickets/, sharing off ({seen[False]} visible)':<58} "
        f"{results['list_shared_False']:>9.1f}"
    )
    print(
        f"{f'customer GET /tickets/, sharing on ({seen[True]} visible)':<58} "
        f"{results['list_shared_True']:>9.1f}"
    )
    print(f"{'  ratio on / off':<58} {ratio:>9.2f}")
    print(json.dumps(results | {"ratio": ratio, "visible": seen}))


if __name__ == "__main__":
    main()
