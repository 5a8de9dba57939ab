"""Test setup: a real database (SQLite or PostgreSQL, chosen by TICKETDESK_TEST_DB), built by
running the migrations once per session and emptied before every test."""

import asyncio
import json
import os
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import make_url

from tests.factories import DEFAULT_SLA, FakeClock, People, make_people
from ticketdesk import clock, db
from ticketdesk.auth import security
from ticketdesk.config import Settings
from ticketdesk.main import create_app

# The same algorithm with a low cost, so that creating users in tests is quick.
security.hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)

BACKEND = os.environ.get("TICKETDESK_TEST_DB", "sqlite")
# Each test session gets a database of its own, so that concurrent runs never collide.
POSTGRES_SERVER = os.environ.get(
    "TICKETDESK_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/ticketdesk_test"
)
_server = make_url(POSTGRES_SERVER)
POSTGRES_URL = _server.set(database=f"{_server.database}_{os.getpid()}").render_as_string(
    hide_password=False
)
TEST_SECRET = "test-signing-key-that-is-long-enough-for-hs256"

# Children first, so that deleting never trips a foreign key.
DATA_TABLES = (
    "mail_suppressions",
    "mail_outbox",
    "mail_inbound",
    "notification_preferences",
    "password_reset_tokens",
    "webhook_deliveries",
    "webhooks",
    "events",
    "jobs",
    "checkpoints",
    "attachments",
    "attachment_blobs",
    "macros",
    "ticket_templates",
    "assignment_rules",
    "custom_fields",
    "web_presence",
    "web_sessions",
    "satisfaction_ratings",
    "ticket_activity",
    "ticket_status_history",
    "ticket_comments",
    "ticket_tags",
    "ticket_search",
    "tickets",
    "agent_loads",
    "assignment_holds",
    "ticket_number_counters",
    "settings_audit",
    "throttle_hits",
    "api_tokens",
    "rate_counts",
    "idempotent_requests",
    "users",
    "organization_domains",
    "organizations",
)
OFFICE_WEEK = {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")} | {
    "sat": [],
    "sun": [],
}
SERIAL_TABLES = (
    "mail_outbox",
    "mail_inbound",
    "password_reset_tokens",
    "webhook_deliveries",
    "webhooks",
    "events",
    "jobs",
    "attachments",
    "macros",
    "ticket_templates",
    "assignment_rules",
    "custom_fields",
    "ticket_activity",
    "ticket_status_history",
    "ticket_comments",
    "tickets",
    "settings_audit",
    "throttle_hits",
    "api_tokens",
    "users",
    "organizations",
)


def pytest_report_header() -> str:
    return f"ticketdesk test database: {BACKEND}"


async def _admin_execute(url: str, statement: str) -> None:
    parsed = make_url(url)
    admin = await asyncpg.connect(
        host=parsed.host, port=parsed.port or 5432, user=parsed.username, database="postgres"
    )
    try:
        await admin.execute(statement)
    finally:
        await admin.close()


def _drop_statement(url: str) -> str:
    return f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'


async def _recreate_postgres(url: str) -> None:
    await _admin_execute(url, _drop_statement(url))
    await _admin_execute(url, f'CREATE DATABASE "{make_url(url).database}"')


async def _migrate(url: str) -> None:
    engine = db.create_engine(url)
    await db.migrate(engine)
    await engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A freshly migrated database for this test session, dropped at its end."""
    if BACKEND == "postgresql":
        url = POSTGRES_URL
        asyncio.run(_recreate_postgres(url))
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'ticketdesk.db'}"
    asyncio.run(_migrate(url))
    yield url
    if BACKEND == "postgresql":
        asyncio.run(_admin_execute(url, _drop_statement(url)))


def _reset_statements(postgresql: bool) -> list[str]:
    """Empty every data table and put the SLA policies and business hours back."""
    statements = [f"DELETE FROM {table}" for table in DATA_TABLES]  # quicker than TRUNCATE here
    if postgresql:
        statements += [
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), 1, false)"
            for table in SERIAL_TABLES
        ]
    for priority, (first, resolution) in DEFAULT_SLA.items():
        statements.append(
            f"UPDATE sla_policies SET first_response_time={int(first)},"
            f" resolution_time={int(resolution)}, applies_business_hours_only=false"
            f" WHERE priority='{priority}'"
        )
    week = json.dumps(OFFICE_WEEK).replace("'", "''")
    statements.append(f"UPDATE business_hours SET timezone='UTC', weekly='{week}', holidays='[]'")
    return statements


async def _reset(url: str) -> None:
    if BACKEND == "postgresql":
        # One round trip: the statements go as one simple query, itself one transaction.
        parsed = make_url(url)
        conn = await asyncpg.connect(
            host=parsed.host,
            port=parsed.port or 5432,
            user=parsed.username,
            password=parsed.password,
            database=parsed.database,
        )
        try:
            await conn.execute(";\n".join(_reset_statements(postgresql=True)))
        finally:
            await conn.close()
        return
    engine = db.create_engine(url)
    async with engine.begin() as conn:
        for statement in _reset_statements(postgresql=False):
            await conn.execute(text(statement))
    await engine.dispose()


def _shares_database(request: pytest.FixtureRequest) -> bool:
    return request.node.get_closest_marker("shared_database") is not None


@pytest.fixture(autouse=True)
def clean_database(request: pytest.FixtureRequest, database_url: str) -> None:
    """Every test starts on an empty database, except in `shared_database` modules."""
    if not _shares_database(request):
        asyncio.run(_reset(database_url))


def _settings(database_url: str, data_dir: Path) -> Settings:
    return Settings(
        database_url=database_url,
        data_dir=data_dir,
        secret_key=TEST_SECRET,
        worker=False,
        # Tests make many users and failed logins from one client; tests of these limits
        # build an app with low ones.
        registrations_per_client_per_hour=100_000,
        login_failures_per_client_per_minute=100_000,
        # Rate limits are tested by apps built with them on.
        rate_limit_per_minute=0,
    )


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return _settings(database_url, tmp_path)


@pytest.fixture(scope="module")
def module_client(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    """One emptied database and one app for a whole `shared_database` module."""
    asyncio.run(_reset(database_url))
    app = create_app(_settings(database_url, tmp_path_factory.mktemp("data")))
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def module_people(module_client: TestClient) -> People:
    return make_people(module_client)


@pytest.fixture
def client(request: pytest.FixtureRequest, settings: Settings) -> Iterator[TestClient]:
    """The app on the test database; shared by the module in `shared_database` modules."""
    if _shares_database(request):
        yield request.getfixturevalue("module_client")
        return
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def people(request: pytest.FixtureRequest, client: TestClient) -> People:
    """One user of every role, plus a second individual customer (`other`)."""
    if _shares_database(request):
        return request.getfixturevalue("module_people")  # type: ignore[no-any-return]
    return make_people(client)


@pytest.fixture
def fake_clock() -> Iterator[FakeClock]:
    frozen = FakeClock()
    clock.set_clock(frozen)
    yield frozen
    clock.set_clock(None)
