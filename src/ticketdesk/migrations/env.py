"""Alembic environment. Migration files are static (they never import the models); the models'
metadata is given to Alembic only so that `make revision` can draft the next file."""

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from ticketdesk.config import get_settings
from ticketdesk.db import create_engine
from ticketdesk.models import Base
from ticketdesk.search.engines import is_search_object

config = context.config
target_metadata = Base.metadata


def _sqlite_foreign_keys(connection: Connection, *, on: bool) -> None:
    """SQLite changes a table's columns by copying it (Alembic's batch mode): with foreign keys
    enforced, dropping the old table fails once other rows point at it. The pragma only takes
    effect outside a transaction, so it goes straight to the driver."""
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
    finally:
        cursor.close()


def _run(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite and not connection.in_transaction():
        _sqlite_foreign_keys(connection, on=False)
    try:
        _migrate(connection)
    finally:
        if sqlite:
            # Back on before the connection serves anything else (it returns to the pool).
            if connection.in_transaction():
                connection.commit()
            _sqlite_foreign_keys(connection, on=True)


def _migrate(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        render_as_batch=connection.dialect.name == "sqlite",
        # The search engine's tables and indexes differ per database and are not models.
        include_name=lambda name, _type, _parents: not is_search_object(name),
        # Each migration commits on its own, so that one may build an index concurrently
        # (PostgreSQL's CREATE INDEX CONCURRENTLY runs outside any transaction).
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async(url: str) -> None:
    engine = create_engine(url)
    async with engine.connect() as connection:
        await connection.run_sync(_run)
        await connection.commit()
    await engine.dispose()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.attributes.get("url") or get_settings().effective_database_url
    asyncio.run(_run_async(url))


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported")
run_migrations_online()
