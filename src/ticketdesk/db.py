"""Engine, declarative base and the per-request session (one transaction per request)."""

import asyncio
import functools
import time
import weakref
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, cast

import asyncpg  # type: ignore[import-untyped]
from fastapi import Depends, Request
from sqlalchemy import DateTime, Executable, MetaData, Result, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.engine.result import IteratorResult, SimpleResultMetaData
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Session
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.types import TypeDecorator
from sqlalchemy.util import greenlet_spawn

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None or value.tzinfo is UTC:
            return value
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def async_url(url: str) -> URL:
    """Map plain `sqlite://` and `postgresql://` URLs to their async drivers."""
    parsed = make_url(url)
    if parsed.drivername in ("sqlite", "sqlite+pysqlite"):
        parsed = parsed.set(drivername="sqlite+aiosqlite")
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    elif parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    return parsed


def _configure_sqlite(engine: AsyncEngine) -> None:
    """Foreign keys on, WAL, a busy timeout, and write transactions that queue instead of fail.

    Every writing transaction starts with BEGIN IMMEDIATE: a deferred transaction that later
    needs the write lock fails at once with SQLITE_BUSY in WAL mode instead of waiting out the
    timeout. Reading transactions (READ_ONLY below) begin deferred, so reads run side by side.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        reading = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if reading else "BEGIN IMMEDIATE")


def create_engine(url: str, *, timeout: float | None = None, **kwargs: Any) -> AsyncEngine:
    """An engine whose stale connections are replaced unnoticed (checked before each use),
    and, with `timeout` (seconds), whose connects, statements and waits for a pooled
    connection give up instead of hanging on an unreachable database."""
    parsed = async_url(url)
    if timeout is not None:
        kwargs.setdefault("pool_timeout", timeout)
    if parsed.get_backend_name() == "sqlite":
        engine = create_async_engine(parsed, connect_args={"timeout": 30}, **kwargs)
        _configure_sqlite(engine)
        return engine
    # Enough pooled connections for a worker's concurrent requests: opening a PostgreSQL
    # connection costs more than most requests.
    kwargs.setdefault("pool_size", 20)
    kwargs.setdefault("max_overflow", 10)
    if timeout is not None:
        kwargs["connect_args"] = {
            "timeout": timeout,
            # The server cancels a statement past the timeout; the client gives up a little
            # later on a server that does not answer at all.
            "command_timeout": timeout + 2,
            "server_settings": {"statement_timeout": str(int(timeout * 1000))},
            **kwargs.get("connect_args", {}),
        }
    engine = create_async_engine(parsed, **kwargs)
    _ping_idle_connections(engine)
    _settings_of[engine.sync_engine] = (parsed, kwargs)
    return engine


# How each PostgreSQL engine was made, for the pool beside it.
_settings_of: "weakref.WeakKeyDictionary[Engine, tuple[URL, dict[str, Any]]]" = (
    weakref.WeakKeyDictionary()
)
_beside: "weakref.WeakKeyDictionary[Engine, AsyncEngine]" = weakref.WeakKeyDictionary()


def beside(engine: AsyncEngine) -> AsyncEngine:
    """A small pool of its own next to `engine`'s, for short transactions a request runs
    beside its own and waits for (auto-assignment's pick). Taken from the request's pool, they
    could wait for connections held by requests that wait for them. Disposed with `engine`.

    Its commits do not wait for the disk: what is written there matters only together with
    the request's own commit, which comes later in the same log and does wait for it."""
    found = _beside.get(engine.sync_engine)
    if found is not None:
        return found
    url, kwargs = _settings_of.get(engine.sync_engine, (engine.url, {}))
    connect_args = kwargs.get("connect_args", {})
    server_settings = {**connect_args.get("server_settings", {}), "synchronous_commit": "off"}
    side = create_async_engine(
        url,
        **{
            **kwargs,
            "pool_size": 4,
            "max_overflow": 16,
            "connect_args": {**connect_args, "server_settings": server_settings},
        },
    )
    _ping_idle_connections(side)
    _beside[engine.sync_engine] = side

    @event.listens_for(engine.sync_engine, "engine_disposed")
    def _disposed(_engine: Engine) -> None:
        # Runs inside AsyncEngine.dispose's greenlet, where the driver can be awaited.
        side.sync_engine.dispose()
        _beside.pop(engine.sync_engine, None)

    return side


# A pooled connection idle longer than this is checked before use. Busy connections are not:
# a ping per request would cost a round trip on every read.
IDLE_PING_SECONDS = 1.0


def _ping_idle_connections(engine: AsyncEngine) -> None:
    """Replace connections the server closed while they sat in the pool (a database restart,
    an idle timeout) before a request gets one; the pool retries with a fresh connection."""

    @event.listens_for(engine.sync_engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < IDLE_PING_SECONDS:
            return
        try:
            cursor = dbapi_connection.cursor()
            cursor.execute("SELECT 1")
            cursor.close()
            # The driver's adapter began a transaction for the ping: end it, so the connection
            # is handed out as the pool keeps it, outside any transaction (the driver path and
            # `execute_alone` rely on that).
            dbapi_connection.rollback()
        except Exception as error:
            raise DisconnectionError("stale pooled connection") from error


READ_ONLY = "ticketdesk_read_only"


class ReadOnlyError(RuntimeError):
    """A read session was asked to write."""


class _ReadOnlySession(Session):
    def flush(self, objects: Any = None) -> None:
        if self.new or self.dirty or self.deleted:
            raise ReadOnlyError("a read session cannot write: take a write session")


class AsyncReadSession(AsyncSession):
    """A session for reading: no write lock on SQLite, no transaction round trips on
    PostgreSQL, and any attempt to flush a change raises ReadOnlyError."""

    sync_session_class = _ReadOnlySession

    async def close(self) -> None:
        """Also returns the connection the driver path took (`execute`), if it took one."""
        driver = self.info.pop(_DRIVER, None)
        try:
            if isinstance(driver, _Driver):
                await driver.release()
        finally:
            await super().close()


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions for writing: one transaction each (BEGIN IMMEDIATE on SQLite)."""
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


def make_read_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncReadSession]:
    """Sessions for reading only (autocommit on PostgreSQL, a deferred BEGIN on SQLite)."""
    if engine.dialect.name == "postgresql":
        engine = engine.execution_options(isolation_level="AUTOCOMMIT")
    else:
        engine = engine.execution_options(**{READ_ONLY: True})
    return async_sessionmaker(
        engine, class_=AsyncReadSession, expire_on_commit=False, autoflush=False
    )


@asynccontextmanager
async def session_scope(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """A unit of work: commit on success, roll back on any error."""
    async with sessionmaker() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


@asynccontextmanager
async def read_scope(
    sessionmaker: async_sessionmaker[AsyncReadSession],
) -> AsyncIterator[AsyncReadSession]:
    """A reading unit: nothing to commit, closed (and its connection returned) on exit."""
    async with sessionmaker() as session:
        yield session


class Database:
    """The app's two kinds of unit of work, for routes that open their own transactions
    (for example to hash a password before taking any lock)."""

    def __init__(
        self,
        write: async_sessionmaker[AsyncSession],
        read: async_sessionmaker[AsyncReadSession],
    ) -> None:
        self._write = write
        self._read = read

    def write(self) -> AbstractAsyncContextManager[AsyncSession]:
        return session_scope(self._write)

    def read(self) -> AbstractAsyncContextManager[AsyncReadSession]:
        return read_scope(self._read)


async def _database(request: Request) -> Database:
    return request.app.state.database  # type: ignore[no-any-return]


async def _write_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with session_scope(request.app.state.sessionmaker) as session:
        request.state.db_session = session
        yield session


async def _read_session(request: Request) -> AsyncReadSession:
    """Not a `yield` dependency, which FastAPI wraps in several context managers per request:
    the session's own exit (a shielded close, as its `async with` does) goes on the stack
    FastAPI unwinds when the route returns, before the response is sent (what
    `scope="function"` does for a `yield` dependency; a read session holds nothing to commit).
    Reads are the most frequent requests."""
    session: AsyncReadSession = request.app.state.read_sessionmaker()
    request.state.db_session = session
    request.scope["fastapi_function_astack"].push_async_exit(session)
    return session


READING_METHODS = frozenset({"GET", "HEAD"})


# The write session's scope="function": the commit happens before the response is sent, so a
# failed commit is an error response and never a 201 for data that was not saved.
ReadSession = Annotated[AsyncReadSession, Depends(_read_session)]
WriteSession = Annotated[AsyncSession, Depends(_write_session, scope="function")]
DatabaseDep = Annotated[Database, Depends(_database)]


def request_session(request: Request) -> AsyncSession | None:
    """The session the route already holds, if it took one before asking for the caller."""
    return getattr(request.state, "db_session", None)


async def execute(
    session: AsyncSession,
    statement: Executable,
    params: Mapping[str, Any] | None = None,
    *,
    built_once: bool = False,
) -> Result[Any]:
    """Run a statement that reads rows (not ORM objects) in the session's transaction, past
    the ORM's per-statement bookkeeping: the hot reads run here.

    `built_once`: the statement object is built once and reused (module level, functools.cache)
    with its values bound. In a read session on PostgreSQL it then runs straight on the
    driver's connection, compiled once (see `_Compiled`): SQLAlchemy's execution costs about
    twice the driver's own work per statement, and a ticket's GET is two statements."""
    if built_once and isinstance(session, AsyncReadSession):
        driver = session.info.get(_DRIVER)
        if driver is None:
            driver = session.info[_DRIVER] = await _driver_of(session)
        if isinstance(driver, _Driver):
            compiled = _compiled(statement, driver.dialect)
            if compiled is not None:
                return await compiled.run(driver, params or {})
    connection = await session.connection()
    return await connection.execute(statement, params)


async def execute_alone(
    engine: AsyncEngine, statement: Executable, params: Mapping[str, Any]
) -> Result[Any]:
    """Run one statement built once as a transaction of its own (autocommit): one round trip,
    its rows fetched before the connection goes back to `engine`'s pool. On asyncpg it runs
    straight on the driver, as `execute` does in a read session."""
    if engine.dialect.driver == "asyncpg":
        driver = _Driver(await engine.raw_connection(), engine.dialect)
        try:
            if driver.raw.is_in_transaction():
                raise RuntimeError("a pooled connection was handed out inside a transaction")
            compiled = _compiled(statement, driver.dialect)
            if compiled is not None:
                return await compiled.run(driver, params)
        finally:
            await driver.release()
    async with engine.connect() as connection:
        alone = await connection.execution_options(isolation_level="AUTOCOMMIT")
        return (await alone.execute(statement, params)).freeze()()


_DRIVER = "ticketdesk_driver"


class _Driver:
    """The pooled connection a read session's driver path runs on, taken from the pool the
    first time the session needs it (past the ORM session's own connection handling, which
    costs more than a short statement) and returned when the session closes."""

    def __init__(self, pooled: PoolProxiedConnection, dialect: Any) -> None:
        self.pooled = pooled
        self.dialect = dialect
        self.raw: Any = pooled.driver_connection

    async def release(self) -> None:
        await greenlet_spawn(self.pooled.close)

    async def invalidate(self, error: BaseException) -> None:
        await greenlet_spawn(self.pooled.invalidate, error)


async def _driver_of(session: AsyncSession) -> "_Driver | bool":
    """Looked up once per session (False: not asyncpg, the path is SQLAlchemy's). A read
    session on PostgreSQL runs in autocommit, as this connection does: each statement sees
    what was committed when it began, whichever connection runs it."""
    engine = session.bind
    if not isinstance(engine, AsyncEngine) or engine.dialect.driver != "asyncpg":
        return False
    return _Driver(await engine.raw_connection(), engine.dialect)


class _Compiled:
    """A read statement compiled once for asyncpg: its SQL, its parameters in order with the
    conversions SQLAlchemy applies to them, and the conversions of its columns (enums, UTC
    datetimes, JSON), so that its rows are what SQLAlchemy itself would return."""

    def __init__(self, compiled: Any, dialect: Any) -> None:
        self.compiled = compiled
        self.sql = str(compiled)
        self.names = tuple(compiled.positiontup or ())
        processors = compiled._bind_processors
        self.binds = tuple(processors.get(name) for name in self.names)
        columns = compiled._result_columns
        self.results = tuple(
            column.type._cached_result_processor(dialect, None) for column in columns
        )
        self.converts = any(self.results)
        self.metadata = SimpleResultMetaData([column.keyname for column in columns])

    async def run(self, driver: _Driver, params: Mapping[str, Any]) -> Result[Any]:
        values = self.compiled.construct_params(params)
        arguments = [
            value if convert is None else convert(value)
            for value, convert in zip(
                (values[name] for name in self.names), self.binds, strict=True
            )
        ]
        try:
            records = await driver.raw.fetch(self.sql, *arguments)
        except Exception as error:
            raise await _driver_error(driver, self.sql, error) from error
        rows: Any = records
        if self.converts:
            results = self.results
            rows = [
                tuple(
                    value if convert is None else convert(value)
                    for value, convert in zip(record, results, strict=True)
                )
                for record in records
            ]
        return IteratorResult(self.metadata, iter(rows))


# Statements built once, with their compiled form (None: not for the driver, e.g. an IN list
# whose size is known only when it runs).
_compiled_forms: "weakref.WeakKeyDictionary[Executable, _Compiled | None]" = (
    weakref.WeakKeyDictionary()
)


def _compiled(statement: Executable, dialect: Any) -> _Compiled | None:
    try:
        return _compiled_forms[statement]
    except KeyError:
        pass
    compiled = cast(Any, statement).compile(dialect=dialect)
    expanding = any(bind.expanding or bind.literal_execute for bind in compiled.binds.values())
    form = None if expanding else _Compiled(compiled, dialect)
    _compiled_forms[statement] = form
    return form


async def _driver_error(driver: _Driver, sql: str, error: Exception) -> Exception:
    """The driver's error as SQLAlchemy would raise it, so that it is answered alike (503 while
    the database is unreachable); a connection that broke is not handed out again."""
    if isinstance(error, asyncpg.InterfaceError | ConnectionError | OSError | asyncio.TimeoutError):
        await driver.invalidate(error)
        return sa_exc.OperationalError(sql, None, error, connection_invalidated=True)
    if isinstance(error, asyncpg.PostgresError):
        return sa_exc.DBAPIError(sql, None, error)
    return error


# Shipped inside the package, so an installed wheel can migrate its database.
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def _alembic_config() -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    return config


@functools.cache
def migration_head() -> tuple[str | None, frozenset[str]]:
    """The newest migration this code ships, and every one it knows (read once per process:
    the shipped scripts do not change while it runs)."""
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(_alembic_config())
    known = frozenset(script.revision for script in scripts.walk_revisions())
    return scripts.get_current_head(), known


def _at_head(connection: Any) -> bool:
    """Whether the database already stands at the newest migration: one SELECT, instead of
    loading every migration script on each start."""
    from alembic.runtime.migration import MigrationContext

    current = MigrationContext.configure(connection).get_current_heads()
    connection.rollback()
    return current == (migration_head()[0],)


def _upgrade(connection: Any) -> None:
    from alembic import command

    if _at_head(connection):
        return
    postgresql = connection.dialect.name == "postgresql"
    if postgresql:
        # Several server processes may start at once: one migrates, the others wait. A session
        # lock, held across the transactions of the migrations (each migration commits on its
        # own, and some build indexes concurrently, outside any transaction). A migration may
        # take longer than a request's statement timeout.
        connection.exec_driver_sql("SET statement_timeout = 0")
        connection.exec_driver_sql("SELECT pg_advisory_lock(7415001)")
        connection.commit()
    try:
        config = _alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    finally:
        if postgresql:
            connection.rollback()
            connection.exec_driver_sql("SELECT pg_advisory_unlock(7415001)")
            connection.commit()


async def migrate(engine: AsyncEngine) -> None:
    """Apply every pending migration."""
    async with engine.connect() as connection:
        await connection.run_sync(_upgrade)
        await connection.commit()


def describe(url: str) -> str:
    """The database URL without its password, for logs and messages."""
    return make_url(url).render_as_string(hide_password=True)


def explain(error: BaseException) -> str:
    """One line saying why the database could not be used."""
    cause: BaseException = getattr(error, "orig", None) or error
    name = type(cause).__name__
    if name == "InvalidCatalogNameError":
        return f"{cause} (create it first, e.g. `createdb <name>`)"
    if isinstance(cause, ConnectionError | OSError) or "connect" in str(cause).lower():
        return f"cannot connect ({cause}); is the server running and reachable?"
    text = str(cause).strip().splitlines()
    return f"{name}: {text[0] if text else ''}"
