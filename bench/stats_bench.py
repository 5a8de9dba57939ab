"""Statistics and paging at scale, on PostgreSQL.

    python bench/stats_bench.py --tickets 1000000          # seed, then measure
    python bench/stats_bench.py --no-seed                    # measure the data already there

Times the statistics overview over HTTP (all time, and one month) against the best single
hand-written SQL query giving the same numbers, on the same data in the same run, and prints the
ratio; then times the staff list at page 1 and page 500 and a customer's /tickets/my.
"""

import argparse
import asyncio
import json
import re
from datetime import UTC, date, datetime, timedelta

import asyncpg
import httpx
from sqlalchemy.dialects import postgresql

from bench import seed as seeding
from bench.common import API, login, median_ms, server
from ticketdesk.stats import queries

HAND_SQL = """
SELECT count(*) AS total,
       count(*) FILTER (WHERE status = 'open') AS open,
       count(*) FILTER (WHERE status = 'in_progress') AS in_progress,
       count(*) FILTER (WHERE status = 'waiting_on_customer') AS waiting,
       count(*) FILTER (WHERE status = 'resolved') AS resolved,
       count(*) FILTER (WHERE status = 'closed') AS closed,
       count(*) FILTER (WHERE status = 'reopened') AS reopened,
       count(*) FILTER (WHERE priority = 'urgent') AS urgent,
       count(*) FILTER (WHERE priority = 'high') AS high,
       count(*) FILTER (WHERE priority = 'medium') AS medium,
       count(*) FILTER (WHERE priority = 'low') AS low,
       count(*) FILTER (WHERE category = 'technical_support') AS technical_support,
       count(*) FILTER (WHERE category = 'billing') AS billing,
       count(*) FILTER (WHERE category = 'account') AS account,
       count(*) FILTER (WHERE category = 'feature_request') AS feature_request,
       count(*) FILTER (WHERE category = 'bug_report') AS bug_report,
       count(*) FILTER (WHERE category = 'general_inquiry') AS general_inquiry,
       count(*) FILTER (WHERE category = 'other') AS other,
       avg(date_part('epoch', resolved_at - created_at)) / 3600 AS avg_resolution,
       avg(date_part('epoch', first_response_at - created_at)) / 3600 AS avg_first_response,
       count(first_response_due_at) AS first_due,
       count(*) FILTER (WHERE first_response_at <= first_response_due_at) AS first_met,
       count(resolution_due_at) AS resolution_due,
       count(*) FILTER (WHERE resolved_at <= resolution_due_at) AS resolution_met
FROM tickets
"""
RANGE = "WHERE created_at >= $1 AND created_at < $2"


# The same query with SUM(CASE ...) for FILTER: on PostgreSQL 15 either may be the quicker.
HAND_SQL_CASE = re.sub(
    r"count\(\*\) FILTER \(WHERE ([^)]*)\)", r"sum(CASE WHEN \1 THEN 1 ELSE 0 END)", HAND_SQL
)


def service_sql(start: date | None, end: date | None) -> str:
    """The service's own overview query, as SQL text with its values written in."""
    query = queries.overview_query("postgresql", start=start, end=end)
    compiled = query.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
    return str(compiled)


async def best_sql_ms(
    url: str,
    bounds: tuple[datetime, datetime] | None,
    service: str,
    repeat: int,
) -> tuple[float, dict]:
    """The quickest of the two hand-written forms and the service's own query run bare."""
    candidates = [(HAND_SQL, bounds), (HAND_SQL_CASE, bounds), (service, None)]
    timed = [await hand_sql_ms(url, sql, args, repeat) for sql, args in candidates]
    return min(timed, key=lambda result: result[0])


async def hand_sql_ms(
    url: str, sql: str, bounds: tuple[datetime, datetime] | None, repeat: int
) -> tuple[float, dict]:
    """The median time of a hand-written query (prepared, run straight on asyncpg)."""
    # A custom plan for every run, as the service gets by writing its date bounds inline.
    custom = {"plan_cache_mode": "force_custom_plan"}
    conn = await asyncpg.connect(**seeding.connect_args(url), server_settings=custom)
    try:
        statement = await conn.prepare(sql + (RANGE if bounds else ""))  # a range is $1, $2
        args = bounds or ()
        row = await statement.fetchrow(*args)
        samples = []
        loop = asyncio.get_running_loop()
        for _ in range(2):
            await statement.fetchrow(*args)
        for _ in range(repeat):
            started = loop.time()
            await statement.fetchrow(*args)
            samples.append((loop.time() - started) * 1000)
        samples.sort()
        return samples[len(samples) // 2], dict(row)
    finally:
        await conn.close()


def last_full_month(today: date) -> tuple[date, date]:
    end = today.replace(day=1) - timedelta(days=1)
    return end.replace(day=1), end


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/ticketdesk_bench")
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--no-seed", action="store_true")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    if not args.no_seed:
        timings = asyncio.run(
            seeding.seed(args.url, tickets=args.tickets, customers=500, agents=20)
        )
        print(f"seeded {args.tickets:,} tickets in {sum(timings.values()):.1f}s")

    month_start, month_end = last_full_month(datetime.now(UTC).date())
    ranges = {
        "all time": (None, None),
        f"one month ({month_start:%Y-%m})": (month_start, month_end),
    }
    rows = []
    with server(args.url) as base, httpx.Client(base_url=base, timeout=60) as client:
        admin = login(base, seeding.ADMIN, seeding.PASSWORD)
        customer = login(base, seeding.CUSTOMER, seeding.PASSWORD)
        for label, (start, end) in ranges.items():
            params = {k: v.isoformat() for k, v in (("start_date", start), ("end_date", end)) if v}

            def overview(params: dict[str, str] = params) -> httpx.Response:
                response = client.get(
                    f"{API}/tickets/statistics/overview", params=params, headers=admin
                )
                response.raise_for_status()
                return response

            api_ms = median_ms(overview, repeat=args.repeat)
            bounds = None
            if start and end:
                low = datetime.combine(start, datetime.min.time(), UTC)
                bounds = (low, datetime.combine(end, datetime.min.time(), UTC) + timedelta(days=1))
            service = service_sql(start, end)
            sql_ms, sql_row = asyncio.run(best_sql_ms(args.url, bounds, service, args.repeat))
            assert overview().json()["total_tickets"] == sql_row["total"], "numbers differ"
            rows.append((f"statistics overview, {label}", api_ms, sql_ms))

        def page(n: int) -> None:
            response = client.get(
                f"{API}/tickets/", params={"status": "open", "page": n}, headers=admin
            )
            response.raise_for_status()

        page1 = median_ms(lambda: page(1), repeat=args.repeat)
        page500 = median_ms(lambda: page(500), repeat=args.repeat)
        mine = median_ms(
            lambda: client.get(f"{API}/tickets/my", headers=customer).raise_for_status(),
            repeat=args.repeat,
        )
    print()
    print(f"{'measure':<44} {'endpoint ms':>12} {'SQL ms':>9} {'ratio':>7}")
    for label, api_ms, sql_ms in rows:
        print(f"{label:<44} {api_ms:>12.1f} {sql_ms:>9.1f} {api_ms / sql_ms:>7.2f}")
    print(f"{'GET /tickets/?status=open page 1':<44} {page1:>12.1f}")
    depth = page500 / page1
    print(f"{'GET /tickets/?status=open page 500':<44} {page500:>12.1f} {'':>9} {depth:>7.2f}")
    print(f"{'GET /tickets/my (customer, 200 tickets)':<44} {mine:>12.1f}")
    print(json.dumps({"rows": rows, "page1_ms": page1, "page500_ms": page500, "my_ms": mine}))


if __name__ == "__main__":
    main()
