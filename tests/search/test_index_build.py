"""Building the index: the migration on a database that already holds tickets, the query plans
PostgreSQL picks, and the search language."""

import asyncio

import pytest
from sqlalchemy import event, text

from tests.conftest import BACKEND, POSTGRES_URL, _admin_execute, _drop_statement
from tests.factories import API, in_db, insert_tickets, make_ticket
from tests.test_cli import run_cli
from ticketdesk import db
from ticketdesk.auth.models import Role, User
from ticketdesk.config import get_settings
from ticketdesk.search.engines import engine_for
from ticketdesk.search.matching import match

SEARCH = f"{API}/search"


def found(client, actor, q, **params):
    response = client.get(SEARCH, params={"q": q, **params}, headers=actor.headers)
    assert response.status_code == 200, response.text
    return [t["id"] for t in response.json()]


# --- the migration on an existing database -----------------------------------------------------


async def _upgrade(url: str, revision: str) -> None:
    from alembic import command

    engine = db.create_engine(url)

    def _run(connection):
        config = db._alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with engine.connect() as connection:
        await connection.run_sync(_run)
        await connection.commit()
    await engine.dispose()


async def _fill_before_search(url: str) -> None:
    """Tickets and comments as the schema before search held them."""
    engine = db.create_engine(url)
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO users (id, email, password_hash, full_name, role, is_active,"
                " created_at, updated_at) VALUES (1, 'c@example.com', 'x', 'C', 'individual',"
                " true, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )
        for n in range(1, 31):
            await connection.execute(
                text(
                    "INSERT INTO tickets (id, ticket_number, user_id, subject, description,"
                    " status, priority, category, tags, is_internal, comments_count,"
                    " public_comments_count, sla_paused_seconds, sla_paused_business_seconds,"
                    " created_at, updated_at) VALUES (:n, :number, 1, :subject, 'Old text.',"
                    " 'open', 'medium', 'other', '', false, 1, 0, 0, 0, CURRENT_TIMESTAMP,"
                    " CURRENT_TIMESTAMP)"
                ),
                {"n": n, "number": f"TKT-20250101-{n:04d}", "subject": f"Legacy ticket {n}"},
            )
            await connection.execute(
                text(
                    "INSERT INTO ticket_comments (ticket_id, user_id, comment, is_internal,"
                    " is_resolution, created_at, updated_at) VALUES (:n, 1, :comment, :internal,"
                    " false, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                ),
                {"n": n, "comment": "hidden walrus" if n % 2 else "public walrus",
                 "internal": bool(n % 2)},
            )  # fmt: skip
    await engine.dispose()


@pytest.fixture
def fresh_database_url(tmp_path):
    if BACKEND == "postgresql":
        url = POSTGRES_URL + "_build"
        asyncio.run(_admin_execute(url, _drop_statement(url)))
        asyncio.run(_admin_execute(url, f'CREATE DATABASE "{url.rsplit("/", 1)[1]}"'))
        yield url
        asyncio.run(_admin_execute(url, _drop_statement(url)))
    else:
        yield f"sqlite:///{tmp_path / 'build.db'}"


def test_the_migration_indexes_existing_tickets(fresh_database_url, tmp_path):
    from alembic.script import ScriptDirectory

    search = ScriptDirectory.from_config(db._alembic_config()).get_revision("0004_search")
    asyncio.run(_upgrade(fresh_database_url, search.down_revision))
    asyncio.run(_fill_before_search(fresh_database_url))
    asyncio.run(_upgrade(fresh_database_url, "head"))

    async def _counts(role):
        engine = db.create_engine(fresh_database_url)
        actor = User(id=1, role=role)
        async with db.session_scope(db.make_sessionmaker(engine)) as session:
            counted = {}
            for q in ("legacy", "walrus", "hidden"):
                hits = match(session, actor, q).hits
                assert hits is not None
                counted[q] = len((await session.execute(hits.select())).all())
        await engine.dispose()
        return counted

    # Odd tickets' comments are internal notes.
    assert asyncio.run(_counts(Role.INDIVIDUAL)) == {"legacy": 30, "walrus": 15, "hidden": 0}
    assert asyncio.run(_counts(Role.AGENT)) == {"legacy": 30, "walrus": 30, "hidden": 15}


# --- PostgreSQL uses its indexes -------------------------------------------------------------


@pytest.mark.skipif(BACKEND != "postgresql", reason="query plans of PostgreSQL")
def test_postgresql_plans_use_the_gin_and_trigram_indexes(client, people):
    customer, agent = people["individual"], people["agent"]
    routine = insert_tickets(client, customer.id, 3000, subject="Routine question")
    in_db(client, lambda session: engine_for(session).index_tickets(session, routine))
    rare = make_ticket(client, customer, subject="Zeppelin crash")
    in_db(client, _analyze)
    statements = _statements_of(
        client,
        lambda: [
            found(client, agent, "zeppelin"),
            found(client, customer, "zeppelin"),
            found(client, agent, rare["ticket_number"][:12]),
            found(client, agent, '"zeppelin crash"', status="open"),
        ],
    )
    plans = [in_db(client, _explainer(statement, parameters)) for statement, parameters in
             statements]  # fmt: skip
    joined = "\n\n".join(plans)
    print(joined)  # shown when the test fails
    assert "ix_ticket_search_staff_doc" in joined
    assert "ix_ticket_search_public_doc" in joined
    assert "ix_tickets_ticket_number_trgm" in joined
    assert "Seq Scan on ticket_search" not in joined


async def _analyze(session):
    """What autovacuum does after a while: statistics, and GIN's pending entries merged."""
    for index in ("ix_ticket_search_staff_doc", "ix_ticket_search_public_doc",
                  "ix_tickets_ticket_number_trgm"):  # fmt: skip
        await session.execute(text(f"SELECT gin_clean_pending_list('{index}'::regclass)"))
    await session.execute(text("ANALYZE tickets"))
    await session.execute(text("ANALYZE ticket_search"))


def _statements_of(client, work):
    """The SQL (with parameters) of the ticket searches `work` makes."""
    engine = client.app.state.engine.sync_engine
    seen = []

    def _record(_conn, _cursor, statement, parameters, _context, _many):
        # A page carries its count: only the statements that count alone are left out.
        if ("@@" in statement or "LIKE" in statement) and not statement.startswith("SELECT count("):
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", _record)
    try:
        work()
    finally:
        event.remove(engine, "before_cursor_execute", _record)
    assert len(seen) >= 4
    return seen


def _explainer(statement, parameters):
    async def _explain(session):
        connection = await session.connection()
        result = await connection.exec_driver_sql("EXPLAIN " + statement, parameters)
        return "\n".join(row[0] for row in result)

    return _explain


# --- language ----------------------------------------------------------------------------------


def test_the_search_language_decides_the_stemming(client, people, database_url, tmp_path,
                                                  monkeypatch):  # fmt: skip
    agent = people["agent"]
    reporting = make_ticket(client, agent, subject="Reporting broken")
    assert found(client, agent, "report") == [reporting["id"]]
    try:
        monkeypatch.setenv("TICKETDESK_SEARCH_LANGUAGE", "simple")
        get_settings.cache_clear()
        result = run_cli(database_url, tmp_path, "reindex")
        assert result.returncode == 0, result.stderr
        assert found(client, agent, "report") == []
        assert found(client, agent, "reporting") == [reporting["id"]]
        plain = make_ticket(client, agent, subject="Reports everywhere")
        assert found(client, agent, "report*") == [plain["id"], reporting["id"]]
    finally:
        monkeypatch.delenv("TICKETDESK_SEARCH_LANGUAGE")
        get_settings.cache_clear()
        result = run_cli(database_url, tmp_path, "reindex")
        assert result.returncode == 0, result.stderr
    assert set(found(client, agent, "report")) == {plain["id"], reporting["id"]}


def test_an_unknown_search_language_is_refused(monkeypatch):
    from pydantic import ValidationError

    from ticketdesk.config import Settings

    monkeypatch.setenv("TICKETDESK_SEARCH_LANGUAGE", "klingon")
    with pytest.raises(ValidationError, match="unknown search language"):
        Settings()
    monkeypatch.setenv("TICKETDESK_SEARCH_LANGUAGE", "German")
    assert Settings().search_language == "german"
