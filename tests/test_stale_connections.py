"""Pooled connections the server closed (a restart, an idle timeout) are replaced before a
request gets one: the next request simply works."""

import asyncio
import time

import asyncpg
import pytest
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
