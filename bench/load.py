"""Load benchmark: closed-loop HTTP load on a production-like server, against the database's rate.

    python -m bench.load --sizes 10000,100000 --seconds 20 --concurrency 16 --workers 2
    python -m bench.load --sizes 1000000                     # the big one, run it rarely

Per size: seed `ticketdesk_load` (bench.seed), start `ticketdesk serve` as in production
(uvicorn, TICKETDESK_WORKERS, keep-alive, jobs off), and run each scenario with `--concurrency`
logged-in users, one keep-alive connection each, back to back for `--seconds` after a warm-up
(users arrive spread over it: a burst of connections would all land on one worker). Scenarios:
create (50 random customers), get (admin, random ids), my (the customer with 200 tickets),
staff_list (an agent, ?status=open&sort=-created_at), comment (admin, public, on random tickets
not open/reopened, so no status change rides along), status (admin, in_progress <->
waiting_on_customer, each user on its own tickets). Any other status code than 201/200 is an
error. Then the server stops and bench/dbrate.py runs the same SQL straight on asyncpg.

Reading the table (JSON with per-process detail in bench/results/load-<size>.json):
- req/s, p50/p95/p99 ms, errors: requests started in the measured window.
- srv CPU ms/req: user+system CPU of the server process and all its children (/proc/<pid>/stat)
  per request; srv split %: each worker's share of it (an even split means balanced workers).
- DB CPU ms/req: CPU of the PostgreSQL backends serving the database, per request (a backend
  born and gone inside the window is missed); new DB conns: connections the server opened
  meanwhile (pg_stat_database.sessions), which should be ~0 with a warm pool.
- srv MiB: VmHWM summed over the server's processes, reset at each scenario's start (peak RSS).
- gen CPU s / wall s, gen %: this process's CPU (the load generator) over the window: far below
  100 % of one core means the generator had headroom. host %: all cores busy, from /proc/stat.
- DB op/s: the same work straight on 16 asyncpg connections; DB cli %: that loop's own CPU
  (near 100 % would make the DB figure a floor); svc/DB: service req/s over DB op/s.
PASS/FAIL lines: every 201 ticket is stored, ticket numbers are unique, the status scenario
wrote one history row per 200 (and the comment scenario one comment row per 201).

Why 2 workers on this 2-core box: a request costs the service 3-9 ms of CPU and PostgreSQL
0.3-3 ms, so the service is the CPU consumer, and one uvicorn worker can use only one core.
Two workers let it use the second core whenever PostgreSQL and the generator leave it idle;
more workers than cores only add context switches, connection pools and ~95 MiB each. Measured
at 10k, 16 users, 3 s per scenario, two alternating rounds each (req/s, mean, 1 -> 2 workers):
create 93 -> 89 (the ticket-number lock, not CPU, limits it), get 256 -> 329, my 124 -> 167,
staff_list 123 -> 193, comment 188 -> 145, status 132 -> 143. Other test suites kept the host
~100 % busy (load 4.5-6), so single runs varied up to 2x; treat these as +20-30 % on reads, a
wash on writes. A single worker also has all 16 users to itself, more than its 10 pooled
connections: it then opened 44-55 new PostgreSQL connections in 3 s of `get` (overflow churn).
"""

import argparse
import asyncio
import json
import random
import sys
import time
from collections import Counter
from collections.abc import Coroutine
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import asyncpg

from bench import seed as seeding
from bench.common import (
    API,
    ROOT,
    Server,
    connections_by_pid,
    cpu_seconds,
    peak_rss_mib,
    process_tree,
    reset_peak_rss,
    rss_mib,
    server_process,
)
from bench.dbrate import CATEGORIES, PRIORITIES, TAGS, Actors, database_rate
from bench.http1 import Connection, Response

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/ticketdesk_load"
RESULTS = ROOT / "bench" / "results"
SCENARIOS = ("create", "get", "my", "staff_list", "comment", "status")
DB_ORDER = ("get", "my", "staff_list", "comment", "status", "create")  # creates last
CUSTOMERS_USED = 50
STATUS_TICKETS_PER_USER = 16
COMMENT_POOL = 5000
TRANSPORT_ERRORS = (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError)


@dataclass
class Options:
    url: str
    seconds: float
    warmup: float
    concurrency: int
    workers: int
    db_seconds: float
    scenarios: tuple[str, ...]
    reseed: bool = True


# --- the database: creating it, reading the actors, counting rows ---------------------------


async def load_actors(conn: asyncpg.Connection, size: int, concurrency: int) -> Actors:
    """User ids by the seed's e-mails; a comment pool; disjoint status pools per user."""
    ids = {r["email"]: r["id"] for r in await conn.fetch("SELECT id, email FROM users")}
    comment_pool = await conn.fetch(
        "SELECT id FROM tickets WHERE id <= $1 AND status NOT IN ('open', 'reopened') "
        "ORDER BY random() LIMIT $2",
        size,
        COMMENT_POOL,
    )
    status_ids = await conn.fetch(
        "SELECT id FROM tickets WHERE id <= $1 ORDER BY random() LIMIT $2",
        size,
        concurrency * STATUS_TICKETS_PER_USER,
    )
    pool = [r["id"] for r in status_ids]
    return Actors(
        admin=ids[seeding.ADMIN],
        agent=ids[seeding.AGENT],
        owner=ids[seeding.CUSTOMER],
        customers=[ids[f"bench-customer{i}@example.com"] for i in range(1, CUSTOMERS_USED + 1)],
        get_ids=range(1, size + 1),
        comment_pool=[r["id"] for r in comment_pool],
        status_pools=[pool[i::concurrency] for i in range(concurrency)],
    )


async def reset_status_pool(conn: asyncpg.Connection, actors: Actors) -> None:
    """Every pool ticket in_progress with its SLA clock running: the first change is allowed."""
    ids = [i for pool in actors.status_pools for i in pool]
    await conn.execute(
        "UPDATE tickets SET status = 'in_progress', sla_paused_at = NULL, resolved_at = NULL, "
        "closed_at = NULL WHERE id = ANY($1::int[])",
        ids,
    )


async def max_id(conn: asyncpg.Connection, table: str) -> int:
    return int(await conn.fetchval(f"SELECT coalesce(max(id), 0) FROM {table}"))


async def rows_after(conn: asyncpg.Connection, table: str, last_id: int) -> int:
    return int(await conn.fetchval(f"SELECT count(*) FROM {table} WHERE id > $1", last_id))


# --- scenarios: what each virtual user sends --------------------------------------------------


@dataclass(slots=True)
class Call:
    method: str
    path: str
    auth: bytes
    body: bytes | None = None
    expect: int = 200
    ticket: int = 0
    target: str = ""


def bearer(token: str) -> bytes:
    return f"Authorization: Bearer {token}\r\n".encode()


@dataclass
class Tokens:
    admin: bytes
    agent: bytes
    owner: bytes
    customers: list[bytes]


class Scenario:
    """Makes each virtual user's next call; `succeeded` sees each expected answer."""

    name = ""

    def call(self, vu: int, rng: random.Random) -> Call:
        raise NotImplementedError

    def succeeded(self, call: Call, response: Response) -> None:
        return None


class Create(Scenario):
    name = "create"

    def __init__(self, tokens: Tokens) -> None:
        self.customers = tokens.customers
        self.created: list[tuple[int, str]] = []

    def call(self, vu: int, rng: random.Random) -> Call:
        body = {
            "subject": f"Load test ticket from user {vu}",
            "description": "Export to CSV times out after a few seconds on the reports page.",
            "priority": rng.choice(PRIORITIES),
            "category": rng.choice(CATEGORIES),
            "tags": TAGS,
        }
        auth = rng.choice(self.customers)
        return Call("POST", f"{API}/tickets/", auth, json.dumps(body).encode(), expect=201)

    def succeeded(self, call: Call, response: Response) -> None:
        ticket = json.loads(response.body)
        self.created.append((ticket["id"], ticket["ticket_number"]))


class Get(Scenario):
    name = "get"

    def __init__(self, tokens: Tokens, ids: range) -> None:
        self.auth, self.ids = tokens.admin, ids

    def call(self, vu: int, rng: random.Random) -> Call:
        return Call("GET", f"{API}/tickets/{rng.choice(self.ids)}", self.auth)


class Fixed(Scenario):
    """The same GET every time."""

    def __init__(self, name: str, path: str, auth: bytes) -> None:
        self.name, self.path, self.auth = name, path, auth

    def call(self, vu: int, rng: random.Random) -> Call:
        return Call("GET", self.path, self.auth)


class Comment(Scenario):
    name = "comment"
    BODY = json.dumps({"comment": "Thanks, we are looking into it."}).encode()

    def __init__(self, tokens: Tokens, pool: list[int]) -> None:
        self.auth, self.pool = tokens.admin, pool
        self.succeeded_count = 0

    def call(self, vu: int, rng: random.Random) -> Call:
        path = f"{API}/tickets/{rng.choice(self.pool)}/comments"
        return Call("POST", path, self.auth, self.BODY, expect=201)

    def succeeded(self, call: Call, response: Response) -> None:
        self.succeeded_count += 1


class Status(Scenario):
    """Each virtual user cycles through its own tickets, flipping each one's status."""

    name = "status"
    FLIP: ClassVar[dict[str, str]] = {
        "in_progress": "waiting_on_customer",
        "waiting_on_customer": "in_progress",
    }

    def __init__(self, tokens: Tokens, pools: list[list[int]]) -> None:
        self.auth, self.pools = tokens.admin, pools
        self.state = {ticket: "in_progress" for pool in pools for ticket in pool}
        self.turn = [0] * len(pools)
        self.succeeded_count = 0

    def call(self, vu: int, rng: random.Random) -> Call:
        pool = self.pools[vu]
        ticket = pool[self.turn[vu] % len(pool)]
        self.turn[vu] += 1
        target = self.FLIP[self.state[ticket]]
        body = json.dumps({"status": target}).encode()
        path = f"{API}/tickets/{ticket}/status"
        return Call("POST", path, self.auth, body, ticket=ticket, target=target)

    def succeeded(self, call: Call, response: Response) -> None:
        self.state[call.ticket] = call.target
        self.succeeded_count += 1


def make_scenario(name: str, tokens: Tokens, actors: Actors) -> Scenario:
    if name == "create":
        return Create(tokens)
    if name == "get":
        return Get(tokens, actors.get_ids)
    if name == "my":
        return Fixed("my", f"{API}/tickets/my", tokens.owner)
    if name == "staff_list":
        return Fixed("staff_list", f"{API}/tickets/?status=open&sort=-created_at", tokens.agent)
    if name == "comment":
        return Comment(tokens, actors.comment_pool)
    return Status(tokens, actors.status_pools)


# --- logging in -------------------------------------------------------------------------------


async def login(port: int, email: str) -> bytes:
    conn = Connection("127.0.0.1", port)
    body = json.dumps({"email": email, "password": seeding.PASSWORD}).encode()
    try:
        response = await conn.request("POST", f"{API}/auth/login", body=body)
    finally:
        conn.close()
    if response.status != 200:
        raise RuntimeError(f"login of {email} answered {response.status}: {response.body!r}")
    return bearer(json.loads(response.body)["access_token"])


async def login_all(port: int) -> Tokens:
    """Each user logs in once (argon2 on the server: a few at a time)."""
    gate = asyncio.Semaphore(4)

    async def one(email: str) -> bytes:
        async with gate:
            return await login(port, email)

    emails = [f"bench-customer{i}@example.com" for i in range(1, CUSTOMERS_USED + 1)]
    admin, agent, owner, *customers = await asyncio.gather(
        *(one(e) for e in [seeding.ADMIN, seeding.AGENT, seeding.CUSTOMER, *emails])
    )
    return Tokens(admin=admin, agent=agent, owner=owner, customers=customers)


# --- running one scenario ---------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    """The clocks a scenario's figures are differences of."""

    wall: float
    generator_cpu: float
    server_cpu: dict[int, float]
    database_cpu: dict[int, float]
    database_sessions: int  # pg_stat_database.sessions: connections ever opened to the database
    host_busy: float
    host_total: float


def host_ticks() -> tuple[float, float]:
    """Busy and total jiffies of all cores (/proc/stat); idle and iowait count as not busy."""
    fields = [float(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    total = sum(fields[:8])  # guest time is already inside user time
    return total - fields[3] - fields[4], total


@dataclass(frozen=True)
class Probe:
    """Where a scenario's CPU is read: the server's processes, and the PostgreSQL backends
    serving the benchmark's database (found with `monitor`, which is left out)."""

    server: Server
    monitor: asyncpg.Connection
    database: str


async def backend_pids(probe: Probe) -> list[int]:
    rows = await probe.monitor.fetch(
        "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
        probe.database,
    )
    return [row["pid"] for row in rows]


async def sessions_opened(probe: Probe) -> int:
    query = "SELECT sessions FROM pg_stat_database WHERE datname = $1"
    return int(await probe.monitor.fetchval(query, probe.database))


async def snapshot(probe: Probe) -> Snapshot:
    backends = await backend_pids(probe)
    sessions = await sessions_opened(probe)
    busy, total = host_ticks()
    return Snapshot(
        wall=time.perf_counter(),
        generator_cpu=time.process_time(),
        server_cpu=cpu_seconds(process_tree(probe.server.pid)),
        database_cpu=cpu_seconds(backends),
        database_sessions=sessions,
        host_busy=busy,
        host_total=total,
    )


def cpu_spent(before: dict[int, float], after: dict[int, float]) -> dict[int, float]:
    """CPU per process between two readings; a process born in between counts from zero."""
    return {pid: seconds - before.get(pid, 0.0) for pid, seconds in after.items()}


@dataclass
class Window:
    start: float
    end: float


@dataclass
class Outcome:
    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)


async def virtual_user(
    conn: Connection, scenario: Scenario, vu: int, window: Window, out: Outcome, delay: float
) -> None:
    """Closed loop: the next request goes out as soon as the previous answer is in.

    Users arrive `delay` apart, during the warm-up, as real clients do: sixteen connections
    opened in one burst are mostly accepted by whichever uvicorn worker wakes first, and keep-alive
    then pins them there for the whole scenario.
    """
    rng = random.Random(f"{scenario.name}-{vu}")
    await asyncio.sleep(vu * delay)
    while (started := time.perf_counter()) < window.end:
        call = scenario.call(vu, rng)
        try:
            response = await conn.request(call.method, call.path, headers=call.auth, body=call.body)
        except TRANSPORT_ERRORS as error:
            kind = type(error).__name__
            await asyncio.sleep(0.01)  # a dead server must not turn this into a busy loop
        else:
            kind = "" if response.status == call.expect else str(response.status)
            if not kind:
                scenario.succeeded(call, response)
        if started >= window.start:
            out.latencies.append(time.perf_counter() - started)
            if kind:
                out.errors[kind] += 1


async def snapshot_at(moment: float, probe: Probe) -> tuple[Snapshot, dict[int, int]]:
    """The clocks when the measured window opens, and where the connections landed."""
    await asyncio.sleep(max(0.0, moment - time.perf_counter()))
    server = probe.server
    return await snapshot(probe), connections_by_pid(process_tree(server.pid), server.port)


@dataclass
class Result:
    scenario: str
    requests: int
    seconds: float
    requests_per_second: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    errors: int
    error_kinds: dict[str, int]
    server_cpu_seconds: float
    server_cpu_ms_per_request: float
    server_cpu_seconds_by_pid: dict[int, float]
    database_cpu_ms_per_request: float
    database_connections_opened: int
    server_cpu_split: str
    connections_by_pid: dict[int, int]
    server_peak_rss_mib_sum: float
    server_peak_rss_mib_by_pid: dict[int, float]
    server_peak_is_per_scenario: bool
    server_rss_mib_after: float
    generator_cpu_seconds: float
    generator_cpu_percent: float
    host_busy_percent: float
    db_ops_per_second: float | None = None
    db_errors: int | None = None
    db_client_cpu_percent: float | None = None
    service_over_db: float | None = None


def percentile_ms(sorted_seconds: list[float], q: float) -> float:
    if not sorted_seconds:
        return float("nan")
    return sorted_seconds[min(len(sorted_seconds) - 1, int(q * len(sorted_seconds)))] * 1000


def cpu_split(by_pid: dict[int, float], workers: int) -> str:
    """The busiest `workers` processes' shares of the server CPU, e.g. "52/48" or "100/0"."""
    total = sum(by_pid.values()) or 1.0
    shares = sorted(by_pid.values(), reverse=True)[:workers]
    return "/".join(f"{share / total * 100:.0f}" for share in shares)


@dataclass
class Observed:
    """What one scenario's run saw, before it is summarized."""

    name: str
    out: Outcome
    before: Snapshot
    after: Snapshot
    connections: dict[int, int]
    peak_is_per_scenario: bool


def summarize(seen: Observed, pid: int, workers: int) -> Result:
    before, after = seen.before, seen.after
    wall = after.wall - before.wall
    latencies = sorted(seen.out.latencies)
    requests = len(latencies)
    by_pid = cpu_spent(before.server_cpu, after.server_cpu)
    server_cpu = sum(by_pid.values())
    database_cpu = sum(cpu_spent(before.database_cpu, after.database_cpu).values())
    pids = process_tree(pid)
    peaks = peak_rss_mib(pids)
    generator_cpu = after.generator_cpu - before.generator_cpu
    host_total = after.host_total - before.host_total
    return Result(
        scenario=seen.name,
        requests=requests,
        seconds=wall,
        requests_per_second=requests / wall,
        p50_ms=percentile_ms(latencies, 0.50),
        p95_ms=percentile_ms(latencies, 0.95),
        p99_ms=percentile_ms(latencies, 0.99),
        errors=sum(seen.out.errors.values()),
        error_kinds=dict(seen.out.errors),
        server_cpu_seconds=server_cpu,
        server_cpu_ms_per_request=server_cpu / requests * 1000 if requests else float("nan"),
        server_cpu_seconds_by_pid=by_pid,
        database_cpu_ms_per_request=database_cpu / requests * 1000 if requests else float("nan"),
        database_connections_opened=after.database_sessions - before.database_sessions,
        server_cpu_split=cpu_split(by_pid, workers),
        connections_by_pid=seen.connections,
        server_peak_rss_mib_sum=sum(peaks.values()),
        server_peak_rss_mib_by_pid=peaks,
        server_peak_is_per_scenario=seen.peak_is_per_scenario,
        server_rss_mib_after=sum(rss_mib(pids).values()),
        generator_cpu_seconds=generator_cpu,
        generator_cpu_percent=generator_cpu / wall * 100,
        host_busy_percent=(after.host_busy - before.host_busy) / host_total * 100,
    )


async def run_scenario(probe: Probe, scenario: Scenario, opts: Options) -> Result:
    """`opts.concurrency` users for the warm-up and then `opts.seconds`; only requests started
    after the warm-up count, and the window closes when the last of them is answered."""
    server = probe.server
    per_scenario_peak = reset_peak_rss(process_tree(server.pid))
    conns = [Connection("127.0.0.1", server.port) for _ in range(opts.concurrency)]
    begin = time.perf_counter()
    window = Window(start=begin + opts.warmup, end=begin + opts.warmup + opts.seconds)
    delay = opts.warmup / 2 / opts.concurrency
    out = Outcome()
    first = asyncio.create_task(snapshot_at(window.start, probe))
    try:
        users = (virtual_user(c, scenario, i, window, out, delay) for i, c in enumerate(conns))
        await asyncio.gather(*users)
    finally:
        for conn in conns:
            conn.close()
    before, connections = await first
    after = await snapshot(probe)
    seen = Observed(scenario.name, out, before, after, connections, per_scenario_peak)
    return summarize(seen, server.pid, opts.workers)


# --- checks -----------------------------------------------------------------------------------


@dataclass
class Check:
    name: str
    passed: bool
    detail: str


async def check_created(conn: asyncpg.Connection, created: list[tuple[int, str]]) -> Check:
    found = await conn.fetchval(
        "SELECT count(*) FROM tickets t JOIN unnest($1::int[], $2::text[]) AS c(id, number) "
        "ON t.id = c.id AND t.ticket_number = c.number",
        [i for i, _ in created],
        [n for _, n in created],
    )
    detail = f"{found} of {len(created)} tickets answered 201 are in the database"
    return Check("created tickets stored", found == len(created), detail)


async def check_unique_numbers(conn: asyncpg.Connection) -> Check:
    row = await conn.fetchrow(
        "SELECT count(*) AS n, count(DISTINCT ticket_number) AS d FROM tickets"
    )
    detail = f"{row['n']} tickets, {row['d']} distinct numbers"
    return Check("ticket numbers unique", row["n"] == row["d"], detail)


def check_rows(name: str, table: str, rows: int, answered: int, what: str) -> Check:
    detail = f"{rows} {table} rows written, {answered} {what}"
    return Check(name, rows == answered, detail)


# --- one size, start to end -------------------------------------------------------------------


@dataclass
class HttpRun:
    results: dict[str, Result]
    scenarios: dict[str, Scenario]
    rows_written: dict[str, int]  # table -> rows its scenario wrote


async def run_http(
    conn: asyncpg.Connection,
    actors: Actors,
    opts: Options,
    extra_env: dict[str, str] | None = None,
) -> HttpRun:
    run = HttpRun(results={}, scenarios={}, rows_written={})
    tables = {"status": "ticket_status_history", "comment": "ticket_comments"}
    with server_process(opts.url, workers=opts.workers, extra_env=extra_env) as server:
        tokens = await login_all(server.port)
        probe = Probe(server, conn, seeding.connect_args(opts.url)["database"])
        for name in opts.scenarios:
            scenario = make_scenario(name, tokens, actors)
            if name == "status":
                await reset_status_pool(conn, actors)
            table = tables.get(name)
            last = await max_id(conn, table) if table else 0
            result = await run_scenario(probe, scenario, opts)
            if table:
                run.rows_written[table] = await rows_after(conn, table, last)
            run.results[name], run.scenarios[name] = result, scenario
            print(f"  {name}: {result.requests_per_second:.0f} req/s", flush=True)
    return run


async def run_checks(conn: asyncpg.Connection, run: HttpRun) -> list[Check]:
    checks = [await check_unique_numbers(conn)]
    create = run.scenarios.get("create")
    if isinstance(create, Create):
        checks.insert(0, await check_created(conn, create.created))
    status = run.scenarios.get("status")
    if isinstance(status, Status):
        rows = run.rows_written["ticket_status_history"]
        checks.append(
            check_rows("history per status change", "history", rows, status.succeeded_count, "200s")
        )
    comment = run.scenarios.get("comment")
    if isinstance(comment, Comment):
        rows = run.rows_written["ticket_comments"]
        checks.append(check_rows("comment rows", "comment", rows, comment.succeeded_count, "201s"))
    return checks


async def run_database(actors: Actors, run: HttpRun, opts: Options) -> None:
    """The database's own rate for each scenario, with the server stopped."""
    conns = [
        await asyncpg.connect(**seeding.connect_args(opts.url)) for _ in range(opts.concurrency)
    ]
    try:
        await reset_status_pool(conns[0], actors)
        for name in (n for n in DB_ORDER if n in run.results):
            rate = await database_rate(conns, name, actors, opts.db_seconds)
            result = run.results[name]
            result.db_ops_per_second, result.db_errors = rate.per_second, rate.errors
            result.db_client_cpu_percent = rate.client_cpu_seconds / rate.seconds * 100
            result.service_over_db = result.requests_per_second / rate.per_second
            print(f"  database {name}: {rate.per_second:.0f} op/s", flush=True)
    finally:
        await asyncio.gather(*(conn.close() for conn in conns))


async def run_size(size: int, opts: Options) -> bool:
    started = time.perf_counter()
    if opts.reseed:
        print(f"== {size:,} tickets: seeding", flush=True)
        await seeding.seed(opts.url, tickets=size, customers=500, agents=20)
    else:
        print(f"== {size:,} tickets: the database as an earlier run left it", flush=True)
    seed_seconds = time.perf_counter() - started
    conn = await asyncpg.connect(**seeding.connect_args(opts.url))
    try:
        actors = await load_actors(conn, size, opts.concurrency)
        print(f"   seeded in {seed_seconds:.1f}s; HTTP load ({opts.workers} workers)", flush=True)
        run = await run_http(conn, actors, opts)
        checks = await run_checks(conn, run)
    finally:
        await conn.close()
    if opts.db_seconds > 0:
        await run_database(actors, run, opts)
    print_table(size, opts, list(run.results.values()))
    for check in checks:
        print(f"{'PASS' if check.passed else 'FAIL'} {check.name}: {check.detail}")
    write_json(size, opts, seed_seconds, list(run.results.values()), checks)
    return all(check.passed for check in checks)


# --- output -----------------------------------------------------------------------------------

COLUMNS = (
    ("scenario", 10, "{:<10}"),
    ("req/s", 6, "{:>6.0f}"),
    ("p50 ms", 6, "{:>6.1f}"),
    ("p95 ms", 6, "{:>6.1f}"),
    ("p99 ms", 6, "{:>6.1f}"),
    ("errors", 6, "{:>6d}"),
    ("srv CPU ms/req", 14, "{:>14.2f}"),
    ("srv split %", 11, "{:>11}"),
    ("DB CPU ms/req", 13, "{:>13.2f}"),
    ("new DB conns", 12, "{:>12d}"),
    ("srv MiB", 7, "{:>7.0f}"),
    ("gen CPU s/wall s", 16, "{:>16}"),
    ("gen %", 5, "{:>5.0f}"),
    ("host %", 6, "{:>6.0f}"),
    ("DB op/s", 7, "{:>7}"),
    ("DB cli %", 8, "{:>8}"),
    ("svc/DB", 6, "{:>6}"),
)


def _optional(value: float | None, fmt: str) -> str:
    return "-" if value is None else fmt.format(value)


def _cells(r: Result) -> tuple[object, ...]:
    return (
        r.scenario,
        r.requests_per_second,
        r.p50_ms,
        r.p95_ms,
        r.p99_ms,
        r.errors,
        r.server_cpu_ms_per_request,
        r.server_cpu_split,
        r.database_cpu_ms_per_request,
        r.database_connections_opened,
        r.server_peak_rss_mib_sum,
        f"{r.generator_cpu_seconds:.1f} / {r.seconds:.1f}",
        r.generator_cpu_percent,
        r.host_busy_percent,
        _optional(r.db_ops_per_second, "{:.0f}"),
        _optional(r.db_client_cpu_percent, "{:.0f}"),
        _optional(r.service_over_db, "{:.3f}"),
    )


def print_table(size: int, opts: Options, results: list[Result]) -> None:
    print()
    print(
        f"{size:,} tickets; {opts.workers} workers; {opts.concurrency} users; "
        f"{opts.seconds:g} s per scenario (+{opts.warmup:g} s warm-up); database: "
        f"{opts.concurrency} connections x {opts.db_seconds:g} s"
    )
    peak = (
        "during the scenario"
        if all(r.server_peak_is_per_scenario for r in results)
        else ("since the server started")
    )
    print(
        f"srv split % = each worker's share of the server CPU; "
        f"srv MiB = sum over the server's processes of VmHWM, the peak RSS {peak}"
    )
    print("  ".join(f"{title:>{width}}" for title, width, _ in COLUMNS))
    for result in results:
        cells = _cells(result)
        print("  ".join(fmt.format(cell) for (_, _, fmt), cell in zip(COLUMNS, cells, strict=True)))
    print()


def write_json(
    size: int, opts: Options, seed_seconds: float, results: list[Result], checks: list[Check]
) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"load-{size}.json"
    document = {
        "size": size,
        "options": asdict(opts),
        "seed_seconds": seed_seconds,
        "results": [asdict(r) for r in results],
        "checks": [asdict(c) for c in checks],
    }
    path.write_text(json.dumps(document, indent=2) + "\n")
    print(f"wrote {path.relative_to(ROOT)}")


# --- command line -----------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> tuple[list[int], Options]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated ticket counts")
    parser.add_argument("--seconds", type=float, default=20.0, help="measured time per scenario")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured lead-in")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--db-seconds", type=float, default=5.0, help="0 skips the DB rate")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument(
        "--no-seed", action="store_true", help="reuse the database an earlier run seeded"
    )
    args = parser.parse_args(argv)
    scenarios = tuple(s.strip() for s in args.scenarios.split(",") if s.strip())
    unknown = set(scenarios) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    sizes = [int(s) for s in args.sizes.split(",")]
    opts = Options(
        url=args.url,
        seconds=args.seconds,
        warmup=args.warmup,
        concurrency=args.concurrency,
        workers=args.workers,
        db_seconds=args.db_seconds,
        scenarios=tuple(s for s in SCENARIOS if s in scenarios),
        reseed=not args.no_seed,
    )
    return sizes, opts


async def main_async(sizes: list[int], opts: Options) -> bool:
    await seeding.ensure_database(opts.url)
    passed = True
    for size in sizes:
        passed = await run_size(size, opts) and passed
    return passed


def run(coroutine: Coroutine[Any, Any, bool]) -> bool:
    """On uvloop when it is installed (it is, with uvicorn[standard]): a cheaper generator."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


def main() -> None:
    sizes, opts = parse_args()
    sys.exit(0 if run(main_async(sizes, opts)) else 1)


if __name__ == "__main__":
    main()
