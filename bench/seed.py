"""Fill a PostgreSQL database with realistic helpdesk data, set-based (no API, no ORM).

    python -m bench.seed --tickets 1000000   # into postgresql://.../ticketdesk_bench

Customers, agents, one admin; tickets spread over the past year with realistic statuses,
priorities, categories, text, SLA due times, first responses and resolutions; two comments and
about one history row per ticket on average. One customer (bench-customer@example.com) owns
exactly 200 tickets, for the "my tickets" scenario. Six tickets in ten carry custom field values
(`plan`: basic/pro/enterprise, `order_number`: A-<id>); the definitions are the benchmark's to
add. Every user's password is `bench-password`.
"""

import argparse
import asyncio
import time
from typing import Any

import asyncpg
from argon2 import PasswordHasher
from sqlalchemy.engine import make_url

from ticketdesk import db
from ticketdesk.search.engines import PG_SEARCH_INDEXES, PostgresSearch

PASSWORD = "bench-password"
CUSTOMER = "bench-customer@example.com"
ADMIN = "bench-admin@example.com"
AGENT = "bench-agent1@example.com"
TABLES = (
    "ticket_activity, ticket_status_history, ticket_comments, ticket_tags, tickets, "
    "ticket_number_counters, settings_audit, users"
)

SUBJECTS = [
    "Unable to generate report",
    "Invoice shows the wrong amount",
    "Cannot log in after password reset",
    "Export to CSV times out",
    "Feature request: dark mode",
    "Webhook deliveries failing with 500",
    "Charged twice this month",
    "Sub-user cannot see shared dashboards",
    "Mobile app crashes on start",
    "How do I change my billing address?",
    "API rate limit lower than documented",
    "Wallet balance not updated",
]
SENTENCES = [
    "When I click generate report, I get an error after a few seconds.",
    "This started yesterday afternoon and affects everyone on our team.",
    "I have already tried clearing my cache and logging out and back in.",
    "The browser console shows a failed request to the export endpoint.",
    "We rely on this every morning, so a quick answer would help a lot.",
    "Steps to reproduce: open the dashboard, choose last month, press export.",
    "Our account is on the enterprise plan, in case that matters.",
    "Screenshots are available on request.",
]
REPLIES = [
    "Thanks for the report, we are looking into it.",
    "Could you tell us which browser and version you are using?",
    "We found the cause and a fix is being rolled out today.",
    "I have tried again and the issue persists.",
    "That worked, thank you!",
    "Escalated to the engineering team; internal ticket linked.",
]


def _sql_array(items: list[str]) -> str:
    quoted = ", ".join("'" + item.replace("'", "''") + "'" for item in items)
    return f"ARRAY[{quoted}]"


# --vocabulary: made-up words (`kalomi`, `tesuvo`, ...) with a Zipf-like spread (word k is
# about k times rarer than the first), appended to descriptions and comments, so that a
# search meets common, middling and rare words as in a real helpdesk's product names, error
# codes and customers' own terms.
VOCABULARY_SIZE = 20_000
SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "ta", "vo", "si", "de", "pa", "ho", "gu"]


def vocabulary_word(rank: int) -> str:
    """The made-up word of this rank (0 is the most common)."""
    n, parts = rank + len(SYLLABLES) ** 2, []
    while n:
        n, digit = divmod(n, len(SYLLABLES))
        parts.append(SYLLABLES[digit])
    return "".join(parts)


def words(seed: str, count: int) -> str:
    """SQL for `count` vocabulary words picked by hashes of `seed` (log-uniform ranks)."""
    picks = [
        f"(SELECT word FROM bench_vocabulary WHERE rank = floor(exp(((hashint4(({seed}) * 7"
        f" + {k}) & 2147483647) / 2147483647::float8) * ln({VOCABULARY_SIZE}::float8)))::int"
        " - 1)"
        for k in range(count)
    ]
    return " || ' ' || ".join(picks)


TICKETS_SQL = f"""
INSERT INTO tickets (
    id, ticket_number, user_id, assigned_to_id, subject, description, status, priority,
    category, tags, is_internal, comments_count, public_comments_count, first_response_at,
    resolved_at, closed_at, first_response_due_at, resolution_due_at, sla_paused_at,
    sla_paused_seconds, created_at, updated_at, custom_fields)
SELECT
    g.i,
    'TKT-' || to_char(g.created, 'YYYYMMDD') || '-'
        || lpad((row_number() OVER (PARTITION BY g.created::date ORDER BY g.i))::text, 4, '0'),
    g.owner, g.assignee, g.subject, g.description, g.status, g.priority, g.category, g.tags,
    false, $8, $9,
    CASE WHEN g.status <> 'open' THEN g.created + g.response END,
    CASE WHEN g.status IN ('resolved', 'closed') THEN g.created + g.response + g.work END,
    CASE WHEN g.status = 'closed' THEN g.created + g.response + g.work + interval '2 days' END,
    g.created + (CASE g.priority WHEN 'urgent' THEN 15 WHEN 'high' THEN 60
                                 WHEN 'medium' THEN 240 ELSE 480 END) * interval '1 minute',
    g.created + (CASE g.priority WHEN 'urgent' THEN 240 WHEN 'high' THEN 480
                                 WHEN 'medium' THEN 1440 ELSE 2880 END) * interval '1 minute',
    CASE WHEN g.status = 'waiting_on_customer' THEN g.created + g.response END,
    0, g.created, g.created + g.response + g.work, g.custom_fields
FROM (
    SELECT
        i,
        now() - (hashint4(i) & 2147483647) % (365 * 86400) * interval '1 second' AS created,
        CASE WHEN i <= 200 THEN $2 ELSE $3 + (hashint4(i + 7) & 2147483647) % $4 END AS owner,
        CASE WHEN (hashint4(i + 11) & 2147483647) % 10 < 8
             THEN $5 + (hashint4(i + 13) & 2147483647) % $6 END AS assignee,
        ({_sql_array(SUBJECTS)})[1 + (hashint4(i + 17) & 2147483647) % {len(SUBJECTS)}] AS subject,
        ({_sql_array(SENTENCES)})[1 + (hashint4(i + 19) & 2147483647) % {len(SENTENCES)}] || ' '
        || ({_sql_array(SENTENCES)})[1 + (hashint4(i + 23) & 2147483647) % {len(SENTENCES)}]
        || CASE WHEN $7 THEN ' ' || {words("g.i", 4)} ELSE '' END
            AS description,
        (ARRAY['closed','closed','closed','closed','closed','resolved','in_progress',
               'in_progress','open','open','waiting_on_customer','reopened'])
            [1 + (hashint4(i + 29) & 2147483647) % 12] AS status,
        (ARRAY['low','low','medium','medium','medium','medium','medium','high','high','urgent'])
            [1 + (hashint4(i + 31) & 2147483647) % 10] AS priority,
        (ARRAY['technical_support','technical_support','billing','account','feature_request',
               'bug_report','general_inquiry','other'])
            [1 + (hashint4(i + 37) & 2147483647) % 8] AS category,
        (ARRAY['', 'report', 'billing,urgent', 'export', 'login', 'api,webhook'])
            [1 + (hashint4(i + 41) & 2147483647) % 6] AS tags,
        (hashint4(i + 43) & 2147483647) % 600 * interval '1 minute' AS response,
        (hashint4(i + 47) & 2147483647) % 4000 * interval '1 minute' AS work,
        CASE WHEN (hashint4(i + 53) & 2147483647) % 10 < 6
             THEN jsonb_build_object(
                 'plan',
                 (ARRAY['basic','pro','enterprise'])[1 + (hashint4(i + 59) & 2147483647) % 3],
                 'order_number', 'A-' || i)
             ELSE '{{}}'::jsonb END AS custom_fields
    FROM generate_series(1, $1) AS g(i)
) AS g
"""

COMMENTS_SQL = f"""
INSERT INTO ticket_comments (ticket_id, user_id, comment, is_internal, is_resolution,
                             created_at, updated_at)
SELECT t.id, CASE WHEN n <> 2 THEN coalesce(t.assigned_to_id, $1) ELSE t.user_id END,
       ({_sql_array(REPLIES)})[1 + (hashint4(t.id * 2 + n) & 2147483647) % {len(REPLIES)}]
       || CASE WHEN $3 THEN ' ' || {words("t.id * 3 + n", 2)} ELSE '' END,
       n = 3, false, t.created_at + n * interval '30 minutes',
       t.created_at + n * interval '30 minutes'
FROM tickets t CROSS JOIN generate_series(1, $2) AS n
"""


HISTORY_SQL = """
INSERT INTO ticket_status_history (ticket_id, changed_by_id, from_status, to_status, changed_at)
SELECT id, coalesce(assigned_to_id, $1), 'open', 'in_progress', first_response_at
FROM tickets WHERE status <> 'open' AND first_response_at IS NOT NULL
"""


def connect_args(url: str) -> dict[str, Any]:
    """asyncpg's keyword arguments for a PostgreSQL URL."""
    parsed = make_url(url)
    return {
        "host": parsed.host,
        "port": parsed.port or 5432,
        "user": parsed.username,
        "database": parsed.database,
    }


async def ensure_database(url: str) -> None:
    """Create the benchmark's database if it is missing (connecting to `postgres`)."""
    args = connect_args(url)
    conn = await asyncpg.connect(**{**args, "database": "postgres"})
    try:
        exists = "SELECT 1 FROM pg_database WHERE datname = $1"
        if not await conn.fetchval(exists, args["database"]):
            await conn.execute(f'CREATE DATABASE "{args["database"]}"')
    finally:
        await conn.close()


async def seed(
    url: str,
    *,
    tickets: int,
    customers: int,
    agents: int,
    comments: int = 2,
    vocabulary: bool = False,
) -> dict[str, float]:
    """Rebuild the schema from the migrations and fill it; returns seconds per step.

    `comments` per ticket: the first from staff, the second from the customer, a third an
    internal note; `vocabulary` adds made-up words to the text (for search benchmarks).
    """
    await ensure_database(url)
    conn = await asyncpg.connect(**connect_args(url))
    await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    engine = db.create_engine(url)
    await db.migrate(engine)
    await engine.dispose()
    password_hash = PasswordHasher().hash(PASSWORD)
    timings: dict[str, float] = {}
    try:
        started = time.perf_counter()
        await conn.execute(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE")
        await conn.execute(
            """
            INSERT INTO users (id, email, password_hash, full_name, role, is_active,
                               created_at, updated_at)
            SELECT i,
                   CASE WHEN i = 1 THEN $2 WHEN i = 2 THEN $3
                        WHEN i <= 2 + $4 THEN 'bench-agent' || (i - 2) || '@example.com'
                        ELSE 'bench-customer' || (i - 2 - $4) || '@example.com' END,
                   $1,
                   CASE WHEN i = 1 THEN 'Bench Admin' WHEN i <= 2 + $4 THEN 'Agent ' || (i - 2)
                        ELSE 'Customer ' || (i - 2 - $4) END,
                   CASE WHEN i = 1 THEN 'super_admin' WHEN i = 2 THEN 'individual'
                        WHEN i <= 2 + $4 THEN 'agent'
                        ELSE (ARRAY['individual','enterprise','sub_user'])[1 + i % 3] END,
                   true, now(), now()
            FROM generate_series(1, 2 + $4 + $5) AS i
            """,
            password_hash,
            ADMIN,
            CUSTOMER,
            agents,
            customers,
        )
        await conn.execute("SELECT setval('users_id_seq', (SELECT max(id) FROM users))")
        timings["users"] = time.perf_counter() - started

        started = time.perf_counter()
        first_customer = 3 + agents
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS bench_vocabulary (rank int PRIMARY KEY, word text)"
        )
        await conn.execute("TRUNCATE bench_vocabulary")
        await conn.executemany(
            "INSERT INTO bench_vocabulary VALUES ($1, $2)",
            [(rank, vocabulary_word(rank)) for rank in range(VOCABULARY_SIZE)],
        )
        public_comments = min(comments, 2)
        await conn.execute(
            TICKETS_SQL,
            tickets,
            2,
            first_customer,
            customers,
            3,
            agents,
            vocabulary,
            comments,
            public_comments,
        )
        await conn.execute("SELECT setval('tickets_id_seq', (SELECT max(id) FROM tickets))")
        await conn.execute(
            """
            INSERT INTO ticket_number_counters (day, last_value)
            SELECT to_char(created_at, 'YYYYMMDD'), count(*) FROM tickets GROUP BY 1
            """
        )
        await conn.execute(
            """
            INSERT INTO ticket_tags (ticket_id, tag)
            SELECT id, unnest(string_to_array(tags, ',')) FROM tickets WHERE tags <> ''
            """
        )
        timings["tickets"] = time.perf_counter() - started

        started = time.perf_counter()
        await conn.execute(COMMENTS_SQL, 3, comments, vocabulary)
        await conn.execute(HISTORY_SQL, 3)
        timings["comments_history"] = time.perf_counter() - started

        started = time.perf_counter()
        await build_search_index(url, tickets)
        timings["search_index"] = time.perf_counter() - started

        started = time.perf_counter()
        await conn.execute("VACUUM ANALYZE")
        timings["analyze"] = time.perf_counter() - started
    finally:
        await conn.close()
    return timings


async def build_search_index(url: str, tickets: int, *, parts: int = 2) -> None:
    """The search documents, set-based in `parts` concurrent slices, then their indexes
    built in one go (far quicker than growing them row by row)."""
    conn = await asyncpg.connect(**connect_args(url))
    try:
        for name in PG_SEARCH_INDEXES:
            await conn.execute(f"DROP INDEX IF EXISTS {name}")
        await conn.execute("TRUNCATE ticket_search")
    finally:
        await conn.close()
    fill = PostgresSearch("english").index_sql("t.id > $1 AND t.id <= $2")
    step = -(-tickets // parts)

    async def _fill(first: int) -> None:
        part = await asyncpg.connect(**connect_args(url))
        try:
            await part.execute(fill, first, first + step)
        finally:
            await part.close()

    await asyncio.gather(*(_fill(first) for first in range(0, tickets, step)))
    conn = await asyncpg.connect(**connect_args(url))
    try:
        await conn.execute("SET maintenance_work_mem = '1GB'")
        for name, definition in PG_SEARCH_INDEXES.items():
            await conn.execute(f"CREATE INDEX {name} ON {definition}")
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/ticketdesk_bench")
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=500)
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--comments", type=int, default=2, help="per ticket (3: with a note)")
    parser.add_argument("--vocabulary", action="store_true", help="made-up words for search")
    args = parser.parse_args()
    timings = asyncio.run(
        seed(
            args.url,
            tickets=args.tickets,
            customers=args.customers,
            agents=args.agents,
            comments=args.comments,
            vocabulary=args.vocabulary,
        )
    )
    total = sum(timings.values())
    steps = ", ".join(f"{k} {v:.1f}s" for k, v in timings.items())
    print(f"seeded {args.tickets:,} tickets in {total:.1f}s ({steps})")


if __name__ == "__main__":
    main()
