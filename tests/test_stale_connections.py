"""Pooled connections the server closed (a restart, an idle timeout) are replaced before a
request gets one: the next request simply works."""

import asyncio
import time

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from tests.conftest import BACKEND
from tests.factories import API, make_ticket
from ticketdesk import db

pytestmark = pytest.mark.skipif(BACKEND != "postgresql", reason="PostgreSQL connections only")


async def _terminate_others(url: str) -> int:
    parsed = make_url(url)
    admin = await asyncpg.connect(
        host=parsed.host, port=parsed.port or 5432, user=parsed.username, database="postgres"
    )
    try:
        rows = await admin.fetch(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = $1 AND pid <> pg_backend_pid()",
            parsed.database,
        )
    finally:
        await admin.close()
    return len(rows)


def test_connections_closed_by_the_server_are_replaced(client, people, database_url):
    agent = people["agent"]
    ticket = make_ticket(client, people["individual"])
    url = f"{API}/tickets/{ticket['id']}"
    assert client.get(url, headers=agent.headers).status_code == 200
    assert asyncio.run(_terminate_others(database_url)) >= 1
    time.sleep(db.IDLE_PING_SECONDS + 0.2)
    for _ in range(3):
        response = client.get(url, headers=agent.headers)
        assert response.status_code == 200, response.text
        body = {"subject": "after", "description": "the restart"}
        created = client.post(f"{API}/tickets", json=body, headers=people["individual"].headers)
        assert created.status_code == 201, created.text


def test_a_connection_pinged_after_idling_is_handed_out_outside_any_transaction(client):
    """The ping must not leave the transaction it began open: a statement run alone on the
    connection (auto-assignment's pick) would otherwise be rolled back when it is returned."""
    engine = db.beside(client.app.state.engine)

    async def _idle_then_take() -> bool:
        async with engine.connect():
            pass  # into the pool, then idle
        await asyncio.sleep(db.IDLE_PING_SECONDS + 0.2)
        pooled = await engine.raw_connection()
        try:
            return bool(pooled.driver_connection.is_in_transaction())
        finally:
            pooled.close()

    assert client.portal.call(_idle_then_take) is False


def test_a_statement_run_alone_is_committed_when_it_returns(client, database_url):
    engine = db.beside(client.app.state.engine)
    statement = text("INSERT INTO checkpoints (name, value, updated_at) VALUES (:n, 'x', now())")

    async def _run() -> None:
        async with engine.connect():
            pass
        await asyncio.sleep(db.IDLE_PING_SECONDS + 0.2)  # the pooled connection gets pinged
        await db.execute_alone(engine, statement.bindparams(n="alone"), {})

    client.portal.call(_run)

    async def _seen_elsewhere() -> int:
        parsed = make_url(database_url)
        other = await asyncpg.connect(
            host=parsed.host, port=parsed.port or 5432, user=parsed.username,
            database=parsed.database,
        )  # fmt: skip
        try:
            return int(
                await other.fetchval("SELECT count(*) FROM checkpoints WHERE name = 'alone'")
            )
        finally:
            await other.close()

    assert asyncio.run(_seen_elsewhere()) == 1
