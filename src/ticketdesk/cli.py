"""The `ticketdesk` command: serve, migrate, create-user, run-jobs."""

import asyncio
from typing import Annotated

import typer
from pydantic import ValidationError

from ticketdesk import db, jobs
from ticketdesk.auth import service as accounts
from ticketdesk.auth.models import Role
from ticketdesk.auth.schemas import UserCreate
from ticketdesk.config import get_settings
from ticketdesk.errors import DomainError

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


@app.command("run-jobs")
def run_jobs(
    once: Annotated[bool, typer.Option("--once", help="run the jobs one time and exit")] = False,
) -> None:
    """Run the periodic jobs (auto-close), once or forever."""
    settings = get_settings()

    async def _run() -> None:
        engine = db.create_engine(settings.effective_database_url)
        await db.migrate(engine)
        sessionmaker = db.make_sessionmaker(engine)
        try:
            if once:
                changed = await jobs.run_once(sessionmaker, settings)
                typer.echo(f"jobs done: {changed} tickets changed")
            else:
                await jobs.run_periodically(sessionmaker, settings)
        finally:
            await engine.dispose()

    asyncio.run(_run())
