"""Read sessions refuse to write; routes say which session they take."""

import pytest

from tests.factories import in_db
from ticketdesk import clock, db, http
from ticketdesk.auth.models import User


def test_a_read_session_refuses_to_flush(client):
    async def _try():
        async with client.app.state.database.read() as session:
            assert isinstance(session, db.AsyncReadSession)
            session.add(
                User(
                    email="x@example.com",
                    password_hash="x",
                    full_name="X",
                    role="agent",
                    is_active=True,
                    created_at=clock.now(),
                    updated_at=clock.now(),
                )
            )
            with pytest.raises(db.ReadOnlyError):
                await session.flush()

    client.portal.call(_try)

    async def _count(session):
        from sqlalchemy import func, select

        return await session.scalar(select(func.count()).select_from(User))

    assert in_db(client, _count) == 0


def test_every_route_of_the_api_names_its_session_kind(client):
    """No route that reads takes a writing session."""
    checked = 0
    for route in http.routes(client.app):
        dependant = getattr(route, "dependant", None)
        if dependant is None or not route.path_format.startswith("/api/v1"):
            continue
        checked += 1
        calls = {d.call for d in dependant.dependencies}
        if "GET" in route.methods:
            assert db._write_session not in calls, route.path
    assert checked >= 20
