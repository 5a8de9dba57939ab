"""Search at scale: latency of GET /search, and what keeping the index costs the writes.

    python -m bench.search_bench            # seeds once, then measures (make bench-search)
    python -m bench.search_bench --seed     # seed again (1,000,000 tickets, 3,000,000 comments)

Seeding (bench/seed.py, set-based: two public comments and one internal note per ticket, text
with a Zipf-like spread of made-up words) takes a while, so the database is kept and later
runs measure against it. The tickets and comments a run writes are removed at its end.

Reads: closed-loop clients at --concurrency over keep-alive connections, each query of a
class in turn, every response checked (200, a JSON list); p50/p95/p99 per class, and the
database's own time for the same query (EXPLAIN ANALYZE of the page query) for the slowest.
Writes: ticket creation and comments at --write-concurrency, with the index kept in step and
with TICKETDESK_SEARCH_INDEXING=false (writes skip the index), alternated to even out the
noise of a shared machine.
"""

import argparse
import asyncio
import json
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import quote

import asyncpg

from bench.common import API, server_process
from bench.http1 import Connection
from bench.seed import ADMIN, AGENT, CUSTOMER, PASSWORD, connect_args, seed, vocabulary_word
from ticketdesk.search.engines import PostgresSearch
from ticketdesk.search.query import parse, tsquery

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/ticketdesk_search_bench"


def _words(ranks: list[int]) -> list[str]:
    return [vocabulary_word(rank) for rank in ranks]


# Made-up words from the most common (in ~1 of 10 tickets) to rare ones, and helpdesk words
# of the seeded sentences (`export` is in about a third of the tickets).
SINGLE_WORDS = [
    *_words([0, 2, 10, 40, 150, 600, 2500, 9000, 19000]),
    "export",
    "invoice",
    "password",
    "browser",
    "engineering",
    "reports",
]
PHRASES = [
    '"generate report"',
    '"clearing my cache"',
    '"wrong amount"',
    '"export endpoint"',
    '"rate limit"',
    *(f'"{a} {b}"' for a, b in (("kakalo", "lokalo"), ("vopalo", "kakalo"))),
]
PREFIXES = ["repo*", "exp*", "invo*", "pass*", "dash*", "vopa*", "kalo*", "sine*", "ruta*"]
CLASSES = {"single word": SINGLE_WORDS, "phrase": PHRASES, "prefix": PREFIXES}


@dataclass
class Latencies:
    seconds: list[float] = field(default_factory=list)
    by_query: dict[str, list[float]] = field(default_factory=dict)
    errors: int = 0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def login(port: int, email: str) -> bytes:
    connection = Connection("127.0.0.1", port)
    body = json.dumps({"email": email, "password": PASSWORD}).encode()
    response = await connection.request("POST", f"{API}/auth/login", body=body)
    connection.close()
    assert response.status == 200, response.body
    return f"Authorization: Bearer {json.loads(response.body)['access_token']}\r\n".encode()


async def closed_loop(
    port: int,
    concurrency: int,
    seconds: float,
    make_request: Callable[[int, int], tuple[str, str, str, bytes, bytes | None]],
) -> Latencies:
    """`make_request(user, n)` → (label, method, path+query, auth header, body)."""
    result = Latencies()
    deadline = time.perf_counter() + seconds

    async def user(number: int) -> None:
        connection, n = Connection("127.0.0.1", port), 0
        while time.perf_counter() < deadline:
            label, method, path, auth, body = make_request(number, n)
            n += 1
            started = time.perf_counter()
            response = await connection.request(method, path, headers=auth, body=body)
            elapsed = time.perf_counter() - started
            expected = 201 if method == "POST" else 200
            if response.status != expected or response.body[:1] not in (b"[", b"{"):
                result.errors += 1
                continue
            result.seconds.append(elapsed)
            result.by_query.setdefault(label, []).append(elapsed)
        connection.close()

    await asyncio.gather(*(user(i) for i in range(concurrency)))
    return result


def search_requests(
    queries: list[str], auth: bytes
) -> Callable[[int, int], tuple[str, str, str, bytes, bytes | None]]:
    def make(user: int, n: int) -> tuple[str, str, str, bytes, bytes | None]:
        q = queries[(user + n * 7) % len(queries)]
        return q, "GET", f"{API}/search?q={quote(q)}", auth, None

    return make


async def database_ms(url: str, q: str) -> float:
    """The database's own time for the staff page of `q` as the service asks it (the count up
    to the limit, then the newest window ranked): EXPLAIN ANALYZE, median of 5."""
    engine = PostgresSearch("english")
    text = tsquery(parse(q).terms).replace("'", "''")
    query = f"to_tsquery({engine.config}, '{text}')"
    statements = [
        "EXPLAIN (ANALYZE, FORMAT JSON) SELECT count(*) FROM (SELECT ticket_id FROM ticket_search"
        f" WHERE staff_doc @@ {query} LIMIT 1001) c",
        "EXPLAIN (ANALYZE, FORMAT JSON) SELECT id FROM (SELECT ticket_id AS id,"
        f" ts_rank(staff_doc, {query}) AS rank FROM ticket_search WHERE staff_doc @@ {query}"
        " ORDER BY ticket_id DESC LIMIT 1000) r ORDER BY rank DESC, id DESC LIMIT 20",
    ]
    conn = await asyncpg.connect(**connect_args(url))
    try:
        times = []
        for _ in range(5):
            total = 0.0
            for sql in statements:
                plan = json.loads(await conn.fetchval(sql))
                total += plan[0]["Planning Time"] + plan[0]["Execution Time"]
            times.append(total)
        return statistics.median(times)
    finally:
        await conn.close()


async def measure_reads(url: str, port: int, opts: argparse.Namespace) -> None:
    agent, customer = await login(port, AGENT), await login(port, CUSTOMER)
    print(f"\nsearch over the API, concurrency {opts.concurrency}, {opts.seconds:.0f} s per class")
    print("| class | who | requests | p50 ms | p95 ms | p99 ms | slowest query (p95 ms) | errors |")
    print("|---|---|---|---|---|---|---|---|")
    for who, auth in (("agent", agent), ("customer", customer)):
        for name, queries in CLASSES.items():
            # A warm-up pass, as a running service would have.
            await closed_loop(port, 1, 0, search_requests(queries, auth))
            for q in queries:
                await closed_loop(port, 1, 0.01, search_requests([q], auth))
            got = await closed_loop(
                port, opts.concurrency, opts.seconds, search_requests(queries, auth)
            )
            slowest = max(got.by_query, key=lambda q: percentile(got.by_query[q], 0.95))
            print(
                f"| {name} | {who} | {len(got.seconds)} | {percentile(got.seconds, 0.5):.1f} |"
                f" {percentile(got.seconds, 0.95):.1f} | {percentile(got.seconds, 0.99):.1f} |"
                f" `{slowest}` ({percentile(got.by_query[slowest], 0.95):.1f}) | {got.errors} |"
            )
    conn = await asyncpg.connect(**connect_args(url))
    try:
        print(
            "\nmatching tickets and the database's own time for the staff page (EXPLAIN ANALYZE):"
        )
        for q in [*SINGLE_WORDS[:3], SINGLE_WORDS[9], PHRASES[0], PREFIXES[0]]:
            count = await conn.fetchval(
                "SELECT count(*) FROM ticket_search WHERE staff_doc @@ to_tsquery('english', $1)",
                tsquery(parse(q).terms),
            )
            print(f"  {q!r}: {count:,} tickets, {await database_ms(url, q):.1f} ms")
    finally:
        await conn.close()


async def measure_writes(url: str, opts: argparse.Namespace) -> None:
    conn = await asyncpg.connect(**connect_args(url))
    first_new_ticket = await conn.fetchval("SELECT max(id) FROM tickets")
    first_new_comment = await conn.fetchval("SELECT max(id) FROM ticket_comments")
    pool = [
        row[0]
        for row in await conn.fetch(
            "SELECT id FROM tickets WHERE id > 200 ORDER BY hashint4(id) LIMIT 5000"
        )
    ]
    await conn.close()
    rates: dict[tuple[str, bool], list[float]] = {}
    for repeat in range(opts.repeats):
        for indexing in (True, False) if repeat % 2 == 0 else (False, True):
            for name, rate in (await _write_round(url, opts, indexing, pool)).items():
                rates.setdefault((name, indexing), []).append(rate)
    print(f"\nwrites at concurrency {opts.write_concurrency} (median of {opts.repeats} runs each)")
    print("| write | with index req/s | without req/s | loss |")
    print("|---|---|---|---|")
    for name in ("create", "comment"):
        with_index = statistics.median(rates[(name, True)])
        without = statistics.median(rates[(name, False)])
        loss = 100 * (1 - with_index / without)
        print(f"| {name} | {with_index:.1f} | {without:.1f} | {loss:.1f} % |")
    await _remove_written(url, first_new_ticket, first_new_comment)


async def _write_round(
    url: str, opts: argparse.Namespace, indexing: bool, pool: list[int]
) -> dict[str, float]:
    """Requests per second of creates and of comments, on a server with or without indexing."""
    rng = random.Random(7)
    create = json.dumps(
        {
            "subject": "Export to CSV times out",
            "description": "The export job stops at 80 percent; kalomi sinevo error 504.",
        }
    ).encode()
    comment = json.dumps({"comment": "We found the cause; a fix is being rolled out."}).encode()
    env = {"TICKETDESK_SEARCH_INDEXING": str(indexing).lower()}
    rates = {}
    with server_process(url, workers=opts.workers, extra_env=env) as running:
        customer = await login(running.port, CUSTOMER)
        admin = await login(running.port, ADMIN)

        def creating(user: int, n: int) -> tuple[str, str, str, bytes, bytes | None]:
            return "create", "POST", f"{API}/tickets/", customer, create

        def commenting(user: int, n: int) -> tuple[str, str, str, bytes, bytes | None]:
            ticket = rng.choice(pool)
            return "comment", "POST", f"{API}/tickets/{ticket}/comments", admin, comment

        for name, make in (("create", creating), ("comment", commenting)):
            got = await closed_loop(running.port, opts.write_concurrency, opts.write_seconds, make)
            rates[name] = len(got.seconds) / opts.write_seconds
            print(
                f"  {name:7} indexing={indexing!s:5} {rates[name]:7.1f} req/s"
                f" p95 {percentile(got.seconds, 0.95):.1f} ms errors {got.errors}"
            )
    return rates


async def _remove_written(url: str, last_ticket: int, last_comment: int) -> None:
    """The benchmark's own tickets and comments go; the documents of the commented tickets are
    rebuilt, so the next run starts from the same database."""
    conn = await asyncpg.connect(**connect_args(url))
    try:
        touched = await conn.fetch(
            "SELECT DISTINCT ticket_id FROM ticket_comments WHERE id > $1", last_comment
        )
        await conn.execute("DELETE FROM ticket_comments WHERE id > $1", last_comment)
        for table in ("ticket_activity", "ticket_status_history", "ticket_tags", "ticket_comments"):
            await conn.execute(f"DELETE FROM {table} WHERE ticket_id > $1", last_ticket)
        await conn.execute("DELETE FROM tickets WHERE id > $1", last_ticket)
        await conn.execute(
            "UPDATE tickets t SET comments_count = c.n, public_comments_count = c.public"
            " FROM (SELECT ticket_id, count(*) AS n, count(*) FILTER (WHERE NOT is_internal)"
            " AS public FROM ticket_comments WHERE ticket_id = ANY($1::int[])"
            " GROUP BY ticket_id) c WHERE t.id = c.ticket_id",
            [row[0] for row in touched],
        )
        await conn.execute(
            PostgresSearch("english").index_sql("t.id = ANY($1::int[])"),
            [row[0] for row in touched],
        )
        await conn.execute("VACUUM ANALYZE ticket_search")
    finally:
        await conn.close()


async def ensure_seeded(url: str, opts: argparse.Namespace) -> None:
    try:
        conn = await asyncpg.connect(**connect_args(url))
    except asyncpg.InvalidCatalogNameError:
        count = 0
    else:
        try:
            count = await conn.fetchval(
                "SELECT CASE WHEN to_regclass('ticket_search') IS NULL THEN 0"
                " ELSE (SELECT count(*) FROM ticket_search) END"
            )
        finally:
            await conn.close()
    if opts.seed or count < opts.tickets:
        print(f"seeding {opts.tickets:,} tickets with {3 * opts.tickets:,} comments ...")
        started = time.perf_counter()
        timings = await seed(
            url, tickets=opts.tickets, customers=500, agents=20, comments=3, vocabulary=True
        )
        steps = ", ".join(f"{k} {v:.0f}s" for k, v in timings.items())
        print(f"seeded in {time.perf_counter() - started:.0f}s ({steps})")


async def main_async(opts: argparse.Namespace) -> None:
    await ensure_seeded(opts.url, opts)
    conn = await asyncpg.connect(**connect_args(opts.url))
    tickets = await conn.fetchval("SELECT count(*) FROM tickets")
    comments = await conn.fetchval("SELECT count(*) FROM ticket_comments")
    await conn.close()
    print(f"database: {tickets:,} tickets, {comments:,} comments")
    if not opts.skip_reads:
        with server_process(opts.url, workers=opts.workers) as running:
            await measure_reads(opts.url, running.port, opts)
    if not opts.skip_writes:
        await measure_writes(opts.url, opts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--seed", action="store_true", help="seed again even if seeded")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--write-concurrency", type=int, default=16)
    parser.add_argument("--write-seconds", type=float, default=15)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--skip-reads", action="store_true")
    parser.add_argument("--skip-writes", action="store_true")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
