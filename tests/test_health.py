"""Health probes, the API docs, and paths with or without a trailing slash."""

import pytest
from sqlalchemy import text

from tests.factories import API, count_rows, in_db, make_ticket
from ticketdesk import db
from ticketdesk.tickets.models import Ticket

# One database for the module: these tests file at most a ticket each and count relatively.
# One database and app for the whole module: each test makes its own data.
pytestmark = pytest.mark.shared_database


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_reports_an_unreachable_database(client):
    app = client.app
    working = app.state.engine
    # Nothing listens on port 1: connecting fails at once.
    broken = db.create_engine("postgresql://nobody@127.0.0.1:1/none")
    app.state.engine = broken
    try:
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.json() == {"status": "unavailable", "problems": ["database unreachable"]}
        # The process itself is still up.
        assert client.get("/healthz").status_code == 200
    finally:
        app.state.engine = working
        client.portal.call(broken.dispose)
    assert client.get("/readyz").status_code == 200


def test_health_probes_need_no_token_and_live_outside_the_api(client):
    for path in ("/healthz", "/readyz"):
        assert client.get(path).status_code == 200
        assert client.get(f"{API}{path}").status_code == 404


def test_docs_page(client):
    response = client.get("/api/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "swagger" in response.text.lower()
    assert "/api/openapi.json" in response.text


def test_openapi_document(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    paths = document["paths"]
    for path, method in [
        ("/api/v1/auth/register", "post"),
        ("/api/v1/auth/login", "post"),
        ("/api/v1/auth/token", "post"),
        ("/api/v1/auth/me", "get"),
        ("/api/v1/users", "post"),
        ("/api/v1/users", "get"),
        ("/api/v1/users/{user_id}", "patch"),
        ("/api/v1/tickets", "post"),
        ("/api/v1/tickets", "get"),
        ("/api/v1/tickets/my", "get"),
        ("/api/v1/tickets/{ref}", "get"),
        ("/api/v1/tickets/{ref}", "patch"),
        ("/healthz", "get"),
        ("/readyz", "get"),
    ]:
        assert method in paths.get(path, {}), (path, method)
    # The Authorize button of /api/docs uses the OAuth2 password form.
    schemes = document["components"]["securitySchemes"]
    flows = [s["flows"]["password"]["tokenUrl"] for s in schemes.values() if s["type"] == "oauth2"]
    assert flows == ["/api/v1/auth/token"]


def test_openapi_never_exposes_a_password_hash(client):
    assert "password_hash" not in client.get("/api/openapi.json").text


@pytest.mark.parametrize("path", ["/api/v1/tickets/", "/api/v1/tickets"])
def test_create_with_and_without_trailing_slash(client, people, path):
    body = {"subject": "Slash", "description": "Either way"}
    headers = people["individual"].headers
    before = count_rows(client, Ticket)
    response = client.post(path, json=body, headers=headers, follow_redirects=False)
    assert response.status_code == 201, response.text
    assert response.json()["subject"] == "Slash"
    assert count_rows(client, Ticket) == before + 1


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/tickets",
        "/api/v1/tickets/",
        "/api/v1/tickets/my",
        "/api/v1/tickets/my/",
        "/api/v1/auth/me/",
        "/api/v1/users/",
        "/healthz/",
    ],
)
def test_get_with_and_without_trailing_slash(client, people, path):
    response = client.get(path, headers=people["super_admin"].headers, follow_redirects=False)
    assert response.status_code == 200, response.text


def test_ticket_detail_and_patch_with_trailing_slash(client, people):
    ticket = make_ticket(client, people["individual"])
    headers = people["individual"].headers
    response = client.get(f"{API}/tickets/{ticket['id']}/", headers=headers, follow_redirects=False)
    assert response.status_code == 200
    response = client.patch(
        f"{API}/tickets/{ticket['ticket_number']}/",
        json={"subject": "Slashed"},
        headers=headers,
        follow_redirects=False,
    )
    assert response.status_code == 200
    assert response.json()["subject"] == "Slashed"


def test_login_with_trailing_slash(client, people):
    body = {"email": people["agent"].email, "password": "correct-horse-battery"}
    response = client.post(f"{API}/auth/login/", json=body, follow_redirects=False)
    assert response.status_code == 200
    assert response.json()["token_type"] == "bearer"


def test_unknown_path_is_404_json(client):
    response = client.get(f"{API}/nothing-here")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


def test_readyz_fails_while_migrations_are_pending(client):
    state = client.app.state
    saved = (state.migration_head, state.known_migrations)
    try:
        # Code one migration ahead of the database.
        state.migration_head = "9999_next"
        state.known_migrations = saved[1] | {"9999_next"}
        response = client.get("/readyz")
        assert response.status_code == 503
        assert "migrations pending" in response.json()["problems"][0]
        # Code older than the database (a rolling upgrade): still ready.
        state.migration_head, state.known_migrations = "0001", frozenset({"0001"})
        assert client.get("/readyz").status_code == 200
    finally:
        state.migration_head, state.known_migrations = saved
    assert client.get("/readyz").status_code == 200


def test_readyz_fails_when_the_job_queue_stalls(client, fake_clock):
    from ticketdesk import jobs

    async def _enqueue(session):
        await jobs.enqueue(session, "ops.never_runs", {}, run_at=fake_clock())

    in_db(client, _enqueue)
    assert client.get("/readyz").status_code == 200
    limit = client.app.state.settings.ready_max_job_lag_seconds
    fake_clock.advance(seconds=limit + 1)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert "job queue stalled" in response.json()["problems"][0]
    in_db(client, lambda session: session.execute(text("DELETE FROM jobs")))
    assert client.get("/readyz").status_code == 200
