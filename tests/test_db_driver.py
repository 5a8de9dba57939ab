"""Statements built once run on PostgreSQL straight on asyncpg in read sessions (db.execute with
`built_once`): their rows must be exactly what SQLAlchemy returns, their errors answered alike,
and the reading caller built from its row must equal the one the ORM loads."""

from typing import Any

import pytest
from sqlalchemy import bindparam, exc, select, text

from tests.conftest import BACKEND
from tests.factories import make_ticket
from ticketdesk import db
from ticketdesk.auth import policy
from ticketdesk.auth import service as accounts
from ticketdesk.auth.models import User
from ticketdesk.tickets import service as tickets
from ticketdesk.tickets.models import Ticket

postgresql_only = pytest.mark.skipif(BACKEND != "postgresql", reason="the driver path is asyncpg's")


def _read(client: Any, work: Any) -> Any:
    async def _run() -> Any:
        async with client.app.state.database.read() as session:
            return await work(session)

    return client.portal.call(_run)


def _values(row: Any) -> list[tuple[str, Any, type]]:
    return [(key, value, type(value)) for key, value in row._mapping.items()]


def _ticket_both_ways(client: Any, viewer_id: int, number: str) -> tuple[Any, Any]:
    """The ticket as `viewer_id` reads it, through SQLAlchemy and through the driver."""

    async def work(session: Any) -> tuple[Any, Any]:
        viewer = await session.get(User, viewer_id)
        query = tickets._read_query("ticket_number", policy.visibility_shape(viewer))
        params = tickets._ref_params(viewer, number)
        return (
            (await db.execute(session, query, params)).first(),
            (await db.execute(session, query, params, built_once=True)).first(),
        )

    return _read(client, work)


def test_a_ticket_read_either_way_gives_the_same_row(client, people):
    agent = people["agent"]
    number = make_ticket(client, people["individual"], subject="Same either way")["ticket_number"]
    assert client.post(
        f"/api/v1/tickets/{number}/assign",
        json={"assigned_to_id": agent.id},
        headers=people["super_admin"].headers,
    ).is_success

    plain, direct = _ticket_both_ways(client, agent.id, number)
    assert plain is not None and direct is not None
    assert _values(direct) == _values(plain)
    assert direct.status == plain.status and direct.created_at.tzinfo is not None
    assert direct.assigned_to_id == agent.id


def test_a_customer_reads_their_own_ticket_and_not_another_s_either_way(client, people):
    """The viewer is bound into the visibility rule: through the driver, too, another
    customer's ticket is not found (a 404 for the route)."""
    owner, other = people["individual"], people["other"]
    number = make_ticket(client, owner, subject="Only mine")["ticket_number"]

    plain, direct = _ticket_both_ways(client, owner.id, number)
    assert plain is not None and _values(direct) == _values(plain)
    assert _ticket_both_ways(client, other.id, number) == (None, None)
    assert client.get(f"/api/v1/tickets/{number}", headers=other.headers).status_code == 404


def test_a_page_and_an_empty_result_either_way(client, people):
    for n in range(3):
        make_ticket(client, people["individual"], subject=f"Listed {n}")
    statement = select(Ticket.id, Ticket.subject, Ticket.status, Ticket.created_at).order_by(
        Ticket.id
    )
    nothing = select(Ticket.id).where(Ticket.id == bindparam("id"))

    async def _both(session: Any) -> Any:
        return (
            (await db.execute(session, statement)).all(),
            (await db.execute(session, statement, built_once=True)).all(),
            (await db.execute(session, nothing, {"id": -1}, built_once=True)).first(),
            (await db.execute(session, nothing, {"id": -1}, built_once=True)).scalar(),
        )

    plain, direct, none_row, none_value = _read(client, _both)
    assert len(plain) == 3
    assert [_values(row) for row in direct] == [_values(row) for row in plain]
    assert none_row is None and none_value is None


@postgresql_only
def test_an_in_list_is_left_to_sqlalchemy(client):
    """Its size is known only when it runs: not compiled for the driver, and still correct."""
    statement = select(Ticket.id).where(Ticket.id.in_(bindparam("ids", expanding=True)))

    async def _run(session: Any) -> Any:
        return (await db.execute(session, statement, {"ids": [1, 2]}, built_once=True)).all()

    assert _read(client, _run) == []
    assert db._compiled_forms[statement] is None


@postgresql_only
def test_a_broken_connection_is_answered_as_sqlalchemy_would_and_not_reused(client):
    statement = select(text("1"))

    async def _run(session: Any) -> Any:
        await db.execute(session, statement, built_once=True)  # the driver is looked up
        driver = session.info[db._DRIVER]
        await driver.raw.close()
        with pytest.raises(exc.OperationalError) as raised:
            await db.execute(session, statement, built_once=True)
        return raised.value, driver.pooled.is_valid

    error, still_valid = _read(client, _run)
    assert error.connection_invalidated and not still_valid
    assert client.get("/readyz").status_code == 200


@postgresql_only
def test_a_database_error_is_sqlalchemys_error(client):
    statement = select(text("1 / 0"))

    async def _run(session: Any) -> Any:
        with pytest.raises(exc.DBAPIError) as raised:
            await db.execute(session, statement, built_once=True)
        return raised.value

    assert "division" in str(_read(client, _run).orig)


def test_the_reading_caller_is_the_user_the_orm_loads(client, people):
    customer = people["individual"]

    async def _both(session: Any) -> tuple[User, User]:
        built = await accounts.active_user(session, customer.id)
        loaded = await session.scalar(select(User).where(User.id == customer.id))
        return built, loaded

    built, loaded = _read(client, _both)
    assert built is not loaded
    for column in [*User.__table__.columns.keys(), "organization_shares_tickets"]:
        assert getattr(built, column) == getattr(loaded, column), column
    assert built.session_epoch == loaded.session_epoch


def test_a_deactivated_caller_is_not_found_by_a_read(client, people):
    agent = people["agent"]
    admin = people["super_admin"].headers
    assert client.patch(
        f"/api/v1/users/{agent.id}", json={"is_active": False}, headers=admin
    ).is_success
    assert _read(client, lambda session: accounts.active_user(session, agent.id)) is None
    assert client.get("/api/v1/auth/me", headers=agent.headers).status_code == 401


@postgresql_only
def test_the_driver_path_returns_its_connection_when_the_session_closes(client):
    pool = client.app.state.engine.sync_engine.pool
    statement = select(text("1"))

    async def _run(session: Any) -> int:
        await db.execute(session, statement, built_once=True)
        assert isinstance(session.info[db._DRIVER], db._Driver)
        return pool.checkedout()

    before = pool.checkedout()
    during = _read(client, _run)
    assert during == before + 1
    assert pool.checkedout() == before
