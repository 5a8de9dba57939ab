"""On PostgreSQL the `cf.` filter is one JSONB containment served by the GIN index."""

import pytest
from sqlalchemy import event, text

from tests.conftest import BACKEND
from tests.factories import API, in_db, insert_tickets

pytestmark = pytest.mark.skipif(
    BACKEND != "postgresql", reason="the GIN index exists on PostgreSQL only"
)


def test_filter_plan_uses_the_gin_index(client, people):
    admin, agent = people["super_admin"], people["agent"]
    for body in (
        {"key": "plan", "label": "Plan", "type": "select", "options": ["basic", "pro"]},
        {"key": "order_number", "label": "Order number", "type": "text"},
    ):
        assert (
            client.post(f"{API}/custom-fields", json=body, headers=admin.headers).status_code == 201
        )
    insert_tickets(client, people["individual"].id, 5_000, custom_fields={"plan": "basic"})
    wanted = insert_tickets(
        client, people["individual"].id, 3, custom_fields={"plan": "pro", "order_number": "X-1"}
    )

    async def _analyze(session):
        await session.execute(text("ANALYZE tickets"))

    in_db(client, _analyze)
    engine = client.app.state.engine.sync_engine
    seen = []

    def _record(_conn, _cursor, statement, parameters, _context, _many):
        if "@>" in statement:
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", _record)
    try:
        response = client.get(f"{API}/tickets/?cf.order_number=X-1", headers=agent.headers)
    finally:
        event.remove(engine, "before_cursor_execute", _record)
    assert response.status_code == 200, response.text
    assert sorted(t["id"] for t in response.json()) == wanted
    assert len(seen) == 1  # the page, which carries its count

    async def _plans(session):
        connection = await session.connection()
        plans = []
        for statement, parameters in seen:
            result = await connection.exec_driver_sql(f"EXPLAIN {statement}", parameters)
            plans.append("\n".join(row[0] for row in result))
        return plans

    for plan in in_db(client, _plans):
        assert "ix_tickets_custom_fields" in plan, plan
        assert "Seq Scan on tickets" not in plan, plan


def test_the_values_index_has_no_pending_list(client):
    """New values go into the index at once: filtered reads never scan a pending list."""

    async def _options(session):
        return (
            await session.execute(
                text("SELECT reloptions FROM pg_class WHERE relname = 'ix_tickets_custom_fields'")
            )
        ).scalar()

    assert in_db(client, _options) == ["fastupdate=off"]
