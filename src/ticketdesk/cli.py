"""The `ticketdesk` command: serve, worker, migrate, create-user, reindex."""

import asyncio
import os
import signal
import tempfile
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from pydantic import ValidationError

from ticketdesk import __version__, db, logs
from ticketdesk import backup as backups
from ticketdesk.auth import passwords, security
from ticketdesk.auth import service as accounts
from ticketdesk.auth.models import Role
from ticketdesk.auth.schemas import UserCreate
from ticketdesk.config import Settings, get_settings
from ticketdesk.errors import DomainError
from ticketdesk.search.engines import engine_for

app = typer.Typer(help="ticketdesk: a support-ticket backend.", no_args_is_help=True)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"ticketdesk {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="print the version"),
    ] = False,
) -> None:
    """ticketdesk: a support-ticket backend."""


def _settings() -> Settings:
    """The settings, or one clear line about the variable that is wrong."""
    try:
        return get_settings()
    except ValidationError as error:
        problem = error.errors(include_input=False)[0]
        name = "TICKETDESK_" + "_".join(str(part) for part in problem["loc"]).upper()
        typer.echo(f"error: {name}: {problem['msg']}", err=True)
        raise typer.Exit(2) from None


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


def _prepare(settings: Settings) -> None:
    """Reach the database and migrate it before any server process starts, so that a wrong
    URL or a missing database is one line, not a traceback per worker."""
    from ticketdesk.main import StartupError, bootstrap_admin_data

    try:
        bootstrap_admin_data(settings)
    except StartupError as error:
        _fail(str(error))

    async def _run() -> None:
        engine = db.create_engine(
            settings.effective_database_url, timeout=settings.db_timeout_seconds
        )
        try:
            await db.migrate(engine)
        finally:
            await engine.dispose()

    try:
        asyncio.run(_run())
    except Exception as error:
        where = db.describe(settings.effective_database_url)
        _fail(f"cannot use the database {where}: {db.explain(error)}")


def _exit_cleanly(_signum: int, _frame: object) -> None:
    raise SystemExit(0)


Port = Annotated[int | None, typer.Option(min=1, max=65535, help="default TICKETDESK_PORT or 8000")]


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="default TICKETDESK_HOST or 127.0.0.1")] = None,
    port: Port = None,
    workers: Annotated[
        int | None, typer.Option(min=1, help="default TICKETDESK_WORKERS or 1")
    ] = None,
) -> None:
    """Apply migrations and serve the API (docs at /api/docs)."""
    import uvicorn

    settings = _settings()
    port = port or settings.port
    if not 1 <= port <= 65535:
        _fail(f"TICKETDESK_PORT: {port} is not a port number (1-65535)")
    workers = workers or settings.workers
    logs.configure(settings.log_format, level=settings.log_level, access_log=settings.access_log)
    _prepare(settings)
    if settings.metrics and workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # The workers add up their request metrics in one folder, whichever answers a scrape.
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="ticketdesk-metrics-")
    # uvicorn finishes the requests in flight on SIGTERM/SIGINT, then raises the signal again
    # under the handler it found: this one makes that a clean exit (status 0).
    for stop in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop, _exit_cleanly)
    uvicorn.run(
        "ticketdesk.main:serve_app",
        factory=True,
        host=host or settings.host,
        port=port,
        workers=workers,
        log_config=logs.uvicorn_log_config(),
        access_log=False,
        # A worker process answers the supervisor's health check only once its imports are
        # done; on a busy machine that takes more than uvicorn's 5 s, and the supervisor would
        # kill and restart it over and over.
        timeout_worker_healthcheck=60,
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        timeout_graceful_shutdown=int(settings.shutdown_seconds),
    )


@app.command()
def backup(
    path: Annotated[Path, typer.Argument(help="an empty or new folder for the copy")],
) -> None:
    """Copy the SQLite database (consistently, while the service runs) and the attachments
    folder into PATH. For PostgreSQL use pg_dump."""
    settings = _settings()
    try:
        written = backups.backup(settings.effective_database_url, settings.data_dir, path)
    except backups.BackupError as error:
        _fail(str(error))
    for item in written:
        typer.echo(f"wrote {item}")


@app.command()
def migrate() -> None:
    """Apply every pending database migration."""

    async def _run() -> None:
        engine = db.create_engine(_settings().effective_database_url)
        await db.migrate(engine)
        await engine.dispose()

    asyncio.run(_run())
    typer.echo("database is up to date")


@app.command("create-user")
def create_user(
    email: Annotated[str, typer.Option()],
    password: Annotated[str, typer.Option()],
    role: Annotated[
        Role, typer.Option(case_sensitive=False, help="any case: agent, Agent, AGENT")
    ] = Role.INDIVIDUAL,
    name: Annotated[str, typer.Option()] = "",
) -> None:
    """Create a user with any role (migrates the database first); the API's rules apply."""
    try:
        data = UserCreate(email=email, password=password, full_name=name or email, role=role)
    except ValidationError as error:
        problem = error.errors()[0]
        field = str(problem["loc"][0])
        hint = "--name" if field == "full_name" else f"--{field}"
        raise typer.BadParameter(problem["msg"], param_hint=hint) from None
    weak = passwords.weakness(data.password, email=data.email, full_name=data.full_name)
    if weak:
        raise typer.BadParameter(weak, param_hint="--password")

    async def _run() -> None:
        engine = db.create_engine(_settings().effective_database_url)
        await db.migrate(engine)
        password_hash = await security.hash_password(data.password)
        async with db.session_scope(db.make_sessionmaker(engine)) as session:
            user = await accounts.create_user(
                session,
                email=data.email,
                password_hash=password_hash,
                full_name=data.full_name,
                role=data.role,
            )
        await engine.dispose()
        typer.echo(f"created user {user.id} <{user.email}> as {user.role}")

    try:
        asyncio.run(_run())
    except DomainError as error:
        typer.echo(f"error: {error.detail}", err=True)
        raise typer.Exit(1) from None


@app.command()
def reindex(
    batch: Annotated[int, typer.Option(min=1, help="tickets per transaction")] = 5_000,
) -> None:
    """Rebuild the search index from every ticket and comment (after a change of
    TICKETDESK_SEARCH_LANGUAGE, or to repair it). The service keeps running meanwhile."""

    async def _run() -> int:
        engine = db.create_engine(get_settings().effective_database_url)
        await db.migrate(engine)
        try:
            async with engine.connect() as connection:
                return await engine_for(connection).reindex(connection, batch=batch)
        finally:
            await engine.dispose()

    typer.echo(f"search index rebuilt: {asyncio.run(_run())} tickets")


@app.command()
def worker(
    concurrency: Annotated[
        int | None, typer.Option(help="jobs run at once; default TICKETDESK_WORKER_CONCURRENCY")
    ] = None,
    once: Annotated[bool, typer.Option("--once", help="run every due job, then exit")] = False,
) -> None:
    """Run background jobs only (mail, webhooks, auto-close, …), without serving HTTP."""
    import ticketdesk.jobs.catalog  # noqa: F401 - registers every job handler
    from ticketdesk.jobs.worker import Worker

    settings = _settings()
    logs.configure(settings.log_format, level=settings.log_level, access_log=settings.access_log)

    async def _run() -> None:
        engine = db.create_engine(settings.effective_database_url)
        await db.migrate(engine)
        runner = Worker(db.make_sessionmaker(engine), settings, concurrency=concurrency)
        try:
            if once:
                ran = await runner.drain()
                typer.echo(f"jobs done: {ran} jobs run")
                return
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(signum, stop.set)
            typer.echo(f"worker started ({runner.concurrency} at once)")
            await runner.run(stop)
        finally:
            await engine.dispose()

    asyncio.run(_run())


@app.command("run-jobs", hidden=True)
def run_jobs(
    once: Annotated[bool, typer.Option("--once", help="run every due job, then exit")] = False,
) -> None:
    """The former name of `ticketdesk worker`."""
    worker(concurrency=None, once=once)


@app.command()
def mailgate(
    url: Annotated[str, typer.Option(help="the service's base URL, e.g. https://help.example.com")],
    token: Annotated[str, typer.Option(help="an API token with scope mail:inbound")],
) -> None:
    """Read one mail on standard input and hand it to the service (for an MTA alias).

    Exit status 0 once it is stored, 75 to have the MTA try again later, 65 if refused.
    """
    import sys

    from ticketdesk.mail.mailgate import deliver

    status, message = deliver(url, token, sys.stdin.buffer.read())
    typer.echo(f"ticketdesk mailgate: {message}", err=status != 0)
    raise typer.Exit(status)


if __name__ == "__main__":
    app()
