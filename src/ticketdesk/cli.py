"""The `ticketdesk` command: serve, worker, migrate, create-user, reindex."""

import asyncio
from typing import Annotated

import typer
from pydantic import ValidationError

from ticketdesk import db
from ticketdesk.auth import service as accounts
from ticketdesk.auth.models import Role
from ticketdesk.auth.schemas import UserCreate
from ticketdesk.config import get_settings
from ticketdesk.errors import DomainError
from ticketdesk.search.engines import engine_for

app = typer.Typer(help="ticketdesk: a support-ticket backend.", no_args_is_help=True)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="default TICKETDESK_HOST or 127.0.0.1")] = None,
    port: Annotated[int | None, typer.Option(help="default TICKETDESK_PORT or 8000")] = None,
    workers: Annotated[int | None, typer.Option(help="default TICKETDESK_WORKERS or 1")] = None,
) -> None:
    """Apply migrations and serve the API (docs at /api/docs)."""
    import uvicorn

    settings = get_settings()
    uvicorn.run(
        "ticketdesk.main:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers or settings.workers,
        log_level="info",
        access_log=False,
        # A worker process answers the supervisor's health check only once its imports are
        # done; on a busy machine that takes more than uvicorn's 5 s, and the supervisor would
        # kill and restart it over and over.
        timeout_worker_healthcheck=60,
    )


@app.command()
def migrate() -> None:
    """Apply every pending database migration."""

    async def _run() -> None:
        engine = db.create_engine(get_settings().effective_database_url)
        await db.migrate(engine)
        await engine.dispose()

    asyncio.run(_run())
    typer.echo("database is up to date")


@app.command("create-user")
def create_user(
    email: Annotated[str, typer.Option()],
    password: Annotated[str, typer.Option()],
    role: Annotated[Role, typer.Option()] = Role.INDIVIDUAL,
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

    async def _run() -> None:
        engine = db.create_engine(get_settings().effective_database_url)
        await db.migrate(engine)
        async with db.session_scope(db.make_sessionmaker(engine)) as session:
            user = await accounts.create_user(
                session,
                email=data.email,
                password=data.password,
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
    import signal

    import ticketdesk.jobs.catalog  # noqa: F401 - registers every job handler
    from ticketdesk.jobs.worker import Worker

    settings = get_settings()

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
