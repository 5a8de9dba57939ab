"""The database's own rate for each load scenario: the same SQL, without the service.

Each scenario's work is run in a tight loop by N asyncpg connections with prepared statements,
for a fixed time. The statements are those the service issues for one request (traced from
SQLAlchemy's log), minus what only the ORM needs: the user row the auth dependency reads, then

- create: in one transaction, the per-day counter upsert (INSERT ... ON CONFLICT DO UPDATE ...
  RETURNING), the ticket INSERT (due times computed in Python from the default SLA), the
  ticket_tags INSERT and the ticket_activity INSERT;
- get: the ticket joined with its creator and assignee;
- my / staff_list: the count(*) (stopped after 10,001 rows, as the service's default
  TICKETDESK_LIST_COUNT_LIMIT stops it) and the page (deferred join: the page's ids in a sub-select,
  then those rows with their people), with the service's WHERE and ORDER BY;
- comment: in one transaction, the ticket SELECT ... FOR UPDATE, the comment INSERT, the
  ticket's counters/updated_at UPDATE and the activity INSERT;
- status: in one transaction, the ticket (with its people) SELECT ... FOR UPDATE, the ticket
  UPDATE, the history INSERT and the activity INSERT.
"""

import asyncio
import json
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg

TICKET_COLUMNS = (
    "id, ticket_number, user_id, assigned_to_id, subject, description, status, priority, "
    "category, tags, is_internal, comments_count, public_comments_count, first_response_at, "
    "resolved_at, closed_at, first_response_due_at, resolution_due_at, sla_paused_at, "
    "sla_paused_seconds, created_at, updated_at"
)
USER_COLUMNS = "id, email, password_hash, full_name, role, is_active, created_at, updated_at"


def _prefixed(columns: str, alias: str) -> str:
    return ", ".join(f"{alias}.{name}" for name in columns.split(", "))


WITH_PEOPLE = (
    f"SELECT {_prefixed(TICKET_COLUMNS, 't')}, {_prefixed(USER_COLUMNS, 'c')}, "
    f"{_prefixed(USER_COLUMNS, 'a')} FROM tickets t "
    "LEFT JOIN users c ON c.id = t.user_id LEFT JOIN users a ON a.id = t.assigned_to_id "
)
ORDER = "ORDER BY created_at DESC, id DESC"
T_ORDER = "ORDER BY t.created_at DESC, t.id DESC"
MY_WHERE = "user_id = $1 AND is_internal IS false"
STAFF_WHERE = "status IN ($1)"

# The service stops counting after TICKETDESK_LIST_COUNT_LIMIT (default 10,000) matches.
COUNT_CAP = "LIMIT 10001"

SQL: dict[str, dict[str, str]] = {
    "create": {
        "counter": (
            "INSERT INTO ticket_number_counters (day, last_value) VALUES ($1, 1) "
            "ON CONFLICT (day) DO UPDATE SET last_value = ticket_number_counters.last_value + 1 "
            "RETURNING last_value"
        ),
        "ticket": (
            "INSERT INTO tickets (ticket_number, user_id, assigned_to_id, subject, description, "
            "status, priority, category, tags, is_internal, comments_count, "
            "public_comments_count, first_response_due_at, resolution_due_at, "
            "sla_paused_seconds, created_at, updated_at) "
            "VALUES ($1, $2, NULL, $3, $4, 'open', $5, $6, $7, false, 0, 0, $8, $9, 0, $10, $10) "
            "RETURNING id"
        ),
        "tags": "INSERT INTO ticket_tags (ticket_id, tag) SELECT $1, unnest($2::text[])",
    },
    "get": {"ticket": WITH_PEOPLE + "WHERE t.id = $1"},
    "my": {
        "count": f"SELECT count(*) FROM (SELECT id FROM tickets WHERE {MY_WHERE} {COUNT_CAP}) m",
        "page": WITH_PEOPLE
        + f"WHERE t.id IN (SELECT id FROM tickets WHERE {MY_WHERE} {ORDER} LIMIT 20) {T_ORDER}",
    },
    "staff_list": {
        "count": f"SELECT count(*) FROM (SELECT id FROM tickets WHERE {STAFF_WHERE} {COUNT_CAP}) m",
        "page": WITH_PEOPLE
        + f"WHERE t.id IN (SELECT id FROM tickets WHERE {STAFF_WHERE} {ORDER} LIMIT 20) {T_ORDER}",
    },
    "comment": {
        "lock": f"SELECT {TICKET_COLUMNS} FROM tickets WHERE id = $1 FOR UPDATE",
        "comment": (
            "INSERT INTO ticket_comments (ticket_id, user_id, comment, is_internal, "
            "is_resolution, created_at, updated_at) VALUES ($1, $2, $3, false, false, $4, $4) "
            "RETURNING id"
        ),
        "ticket": (
            "UPDATE tickets SET comments_count = $2, public_comments_count = $3, "
            "first_response_at = $4, updated_at = $5 WHERE id = $1"
        ),
    },
    "status": {
        "lock": WITH_PEOPLE + "WHERE t.id = $1 FOR UPDATE OF t",
        "ticket": (
            "UPDATE tickets SET status = $2, sla_paused_at = $3, sla_paused_seconds = $4, "
            "resolution_due_at = $5, updated_at = $6 WHERE id = $1"
        ),
        "history": (
            "INSERT INTO ticket_status_history (ticket_id, changed_by_id, from_status, "
            "to_status, changed_at) VALUES ($1, $2, $3, $4, $5) RETURNING id"
        ),
    },
}
COMMON = {
    "user": f"SELECT {USER_COLUMNS} FROM users WHERE id = $1",
    "activity": (
        "INSERT INTO ticket_activity (ticket_id, actor_id, kind, details, created_at) "
        "VALUES ($1, $2, $3, $4, $5) RETURNING id"
    ),
}
# API.md's default SLA (minutes): first response, resolution.
DEFAULT_SLA = {"urgent": (15, 240), "high": (60, 480), "medium": (240, 1440), "low": (480, 2880)}
PRIORITIES = list(DEFAULT_SLA)
CATEGORIES = ["technical_support", "billing", "account", "bug_report", "general_inquiry"]
TAGS = ["load", "billing"]
Statements = dict[str, asyncpg.prepared_stmt.PreparedStatement]


@dataclass(frozen=True)
class Actors:
    """What the scenarios act on: user ids and ticket ids from the seeded database."""

    admin: int
    agent: int
    owner: int  # bench-customer, who owns 200 tickets
    customers: list[int]
    get_ids: range
    comment_pool: list[int]
    status_pools: list[list[int]]  # one disjoint set per connection


@dataclass(frozen=True)
class Rate:
    operations: int
    seconds: float
    errors: int
    client_cpu_seconds: float  # this process's CPU meanwhile: the loop's own cost

    @property
    def per_second(self) -> float:
        return self.operations / self.seconds if self.seconds else 0.0


Op = Callable[[asyncpg.Connection, Statements, Actors, int, random.Random], Awaitable[None]]


async def _create(
    conn: asyncpg.Connection, st: Statements, actors: Actors, _worker: int, rng: random.Random
) -> None:
    user = rng.choice(actors.customers)
    now = datetime.now(UTC)
    priority = rng.choice(PRIORITIES)
    first, resolution = DEFAULT_SLA[priority]
    await st["user"].fetchrow(user)
    async with conn.transaction():
        value = await st["counter"].fetchval(f"{now:%Y%m%d}")
        ticket_id = await st["ticket"].fetchval(
            f"TKT-{now:%Y%m%d}-{value:04d}",
            user,
            "Load test ticket",
            "Created by the database-rate loop of bench.load.",
            priority,
            rng.choice(CATEGORIES),
            ",".join(TAGS),
            now + timedelta(minutes=first),
            now + timedelta(minutes=resolution),
            now,
        )
        await st["tags"].fetch(ticket_id, TAGS)
        await st["activity"].fetchval(ticket_id, user, "created", "{}", now)


async def _get(
    _conn: asyncpg.Connection, st: Statements, actors: Actors, _worker: int, rng: random.Random
) -> None:
    await st["user"].fetchrow(actors.admin)
    await st["ticket"].fetchrow(rng.choice(actors.get_ids))


async def _my(
    _conn: asyncpg.Connection, st: Statements, actors: Actors, _worker: int, _rng: random.Random
) -> None:
    await st["user"].fetchrow(actors.owner)
    await st["count"].fetchval(actors.owner)
    await st["page"].fetch(actors.owner)


async def _staff_list(
    _conn: asyncpg.Connection, st: Statements, actors: Actors, _worker: int, _rng: random.Random
) -> None:
    await st["user"].fetchrow(actors.agent)
    await st["count"].fetchval("open")
    await st["page"].fetch("open")


async def _comment(
    conn: asyncpg.Connection, st: Statements, actors: Actors, _worker: int, rng: random.Random
) -> None:
    ticket_id = rng.choice(actors.comment_pool)
    text = "Thanks, we are looking into it."
    await st["user"].fetchrow(actors.admin)
    async with conn.transaction():
        row = await st["lock"].fetchrow(ticket_id)
        now = datetime.now(UTC)
        await st["comment"].fetchval(ticket_id, actors.admin, text, now)
        await st["ticket"].fetch(
            ticket_id,
            row["comments_count"] + 1,
            row["public_comments_count"] + 1,
            row["first_response_at"] or now,
            now,
        )
        details = json.dumps({"text": text, "is_internal": False})
        await st["activity"].fetchval(ticket_id, actors.admin, "comment_added", details, now)


async def _status(
    conn: asyncpg.Connection, st: Statements, actors: Actors, worker: int, rng: random.Random
) -> None:
    ticket_id = rng.choice(actors.status_pools[worker])
    await st["user"].fetchrow(actors.admin)
    async with conn.transaction():
        row = await st["lock"].fetchrow(ticket_id)
        now = datetime.now(UTC)
        current = row["status"]
        paused_at: datetime | None
        target, paused_at = "waiting_on_customer", now  # the SLA clock pauses
        paused_seconds, due = row["sla_paused_seconds"], row["resolution_due_at"]
        if current == "waiting_on_customer":  # the SLA clock resumes: the due time moves
            target, paused_at = "in_progress", None
            paused = now - (row["sla_paused_at"] or now)
            paused_seconds += int(paused.total_seconds())
            due = due + paused if due else None
        await st["ticket"].fetch(ticket_id, target, paused_at, paused_seconds, due, now)
        await st["history"].fetchval(ticket_id, actors.admin, current, target, now)
        details = json.dumps({"old": current, "new": target, "note": None})
        await st["activity"].fetchval(ticket_id, actors.admin, "status_changed", details, now)


OPS: dict[str, Op] = {
    "create": _create,
    "get": _get,
    "my": _my,
    "staff_list": _staff_list,
    "comment": _comment,
    "status": _status,
}


async def _prepare(conn: asyncpg.Connection, scenario: str) -> Statements:
    return {name: await conn.prepare(sql) for name, sql in {**COMMON, **SQL[scenario]}.items()}


async def _worker(
    conn: asyncpg.Connection,
    statements: Statements,
    op: Op,
    actors: Actors,
    worker: int,
    deadline: float,
) -> tuple[int, int]:
    rng = random.Random(worker)
    done = errors = 0
    while time.perf_counter() < deadline:
        try:
            await op(conn, statements, actors, worker, rng)
            done += 1
        except asyncpg.PostgresError:
            errors += 1
    return done, errors


async def database_rate(
    connections: list[asyncpg.Connection], scenario: str, actors: Actors, seconds: float
) -> Rate:
    """Operations per second of `scenario`'s SQL over all connections, for `seconds`."""
    prepared = await asyncio.gather(*(_prepare(conn, scenario) for conn in connections))
    op = OPS[scenario]
    started, cpu_started = time.perf_counter(), time.process_time()
    deadline = started + seconds
    results = await asyncio.gather(
        *(
            _worker(conn, statements, op, actors, i, deadline)
            for i, (conn, statements) in enumerate(zip(connections, prepared, strict=True))
        )
    )
    elapsed = time.perf_counter() - started
    return Rate(
        operations=sum(done for done, _ in results),
        seconds=elapsed,
        errors=sum(errors for _, errors in results),
        client_cpu_seconds=time.process_time() - cpu_started,
    )
