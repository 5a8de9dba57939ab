"""The HTTP edge: request ids, security headers, body limits, safe 422s, an answer for every
error, the Allow header, unknown query parameters, relative links."""

import json

import pytest
from fastapi.testclient import TestClient

from tests.factories import API, PASSWORD, make_ticket, make_user
from ticketdesk import db
from ticketdesk.main import create_app


def test_a_request_id_is_generated_echoed_and_accepted(client):
    generated = client.get("/healthz").headers["X-Request-ID"]
    assert len(generated) == 32
    assert client.get("/healthz").headers["X-Request-ID"] != generated
    given = client.get("/healthz", headers={"X-Request-ID": "abc-123.x"})
    assert given.headers["X-Request-ID"] == "abc-123.x"
    # Something that is no id (spaces, too long) is replaced.
    odd = client.get("/healthz", headers={"X-Request-ID": "a b"}).headers["X-Request-ID"]
    assert odd != "a b" and len(odd) == 32


@pytest.mark.parametrize("path", ["/healthz", f"{API}/nothing", f"{API}/tickets", "/api/docs"])
def test_security_headers_on_every_answer(client, path):
    response = client.get(path)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_json_bodies_over_the_limit_are_413(settings, people_factory=None):
    small = settings.model_copy(update={"max_body_kb": 1})
    with TestClient(create_app(small)) as client:
        ada = make_user(client, "individual")
        body = {"subject": "Big", "description": "x" * 2000}
        response = client.post(f"{API}/tickets", json=body, headers=ada.headers)
        assert response.status_code == 413
        assert "KiB" in response.json()["detail"]
        # Without a Content-Length (streamed), the limit holds too.
        chunks = (
            part for part in [json.dumps(body).encode()[:600], json.dumps(body).encode()[600:]]
        )
        streamed = client.post(
            f"{API}/tickets",
            content=chunks,
            headers={**ada.headers, "Content-Type": "application/json"},
        )
        assert streamed.status_code == 413
        # Multipart bodies are left to the limits of the endpoints that take uploads.
        upload = client.post(
            f"{API}/tickets",
            files={"file": ("a.bin", b"\xff\xfe" * 2000, "application/octet-stream")},
            headers=ada.headers,
        )
        assert upload.status_code != 413


def test_a_binary_multipart_body_is_a_clean_4xx(client, people):
    response = client.post(
        f"{API}/tickets",
        files={"file": ("a.bin", bytes(range(256)) * 4, "application/octet-stream")},
        data={"subject": "x"},
        headers=people["individual"].headers,
    )
    assert 400 <= response.status_code < 500
    assert "detail" in response.json()


def test_422_never_echoes_a_password_and_caps_inputs(client):
    secret = "Zq9#xy"
    response = client.post(
        f"{API}/auth/register",
        json={"email": "a@example.com", "password": secret, "full_name": "A"},
    )
    assert response.status_code == 422
    assert secret not in response.text
    huge = "y" * 100_000
    response = client.post(
        f"{API}/auth/register",
        json={"email": "a@example.com", "password": PASSWORD, "full_name": huge},
    )
    assert response.status_code == 422
    assert len(response.content) < 2_000


def test_an_unreachable_database_is_503_json_with_retry_after(client, people):
    state = client.app.state
    working = (state.engine, state.sessionmaker, state.read_sessionmaker, state.database)
    broken = db.create_engine("postgresql://nobody@127.0.0.1:1/none", timeout=2)
    state.sessionmaker = db.make_sessionmaker(broken)
    state.read_sessionmaker = db.make_read_sessionmaker(broken)
    state.database = db.Database(state.sessionmaker, state.read_sessionmaker)
    try:
        for response in (
            client.get(f"{API}/tickets", headers=people["agent"].headers),
            client.post(
                f"{API}/tickets",
                json={"subject": "s", "description": "d"},
                headers=people["individual"].headers,
            ),
        ):
            assert response.status_code == 503
            assert response.headers["Retry-After"].isdigit()
            assert "detail" in response.json()
    finally:
        state.engine, state.sessionmaker, state.read_sessionmaker, state.database = working
        client.portal.call(broken.dispose)
    assert client.get(f"{API}/tickets", headers=people["agent"].headers).status_code == 200


def test_405_names_every_allowed_method(client, people):
    ticket = make_ticket(client, people["individual"])
    response = client.put(f"{API}/tickets/{ticket['id']}", headers=people["agent"].headers)
    assert response.status_code == 405
    allowed = {m.strip() for m in response.headers["Allow"].split(",")}
    assert allowed == {"GET", "HEAD", "PATCH"}
    assert response.json() == {"detail": "method not allowed"}


def test_unknown_query_parameters_are_refused(client, people):
    headers = people["agent"].headers
    response = client.get(f"{API}/tickets", params={"stauts": "open"}, headers=headers)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "stauts"]
    assert (
        client.get(f"{API}/tickets", params={"status": "open"}, headers=headers).status_code == 200
    )
    # Custom-field filters have a prefix of their own: a defined field filters, an undefined
    # one is refused by the custom fields' own rule (naming the field), not as unknown.
    field = {"key": "team", "label": "Team", "type": "text"}
    admin = people["super_admin"].headers
    assert client.post(f"{API}/custom-fields", json=field, headers=admin).status_code == 201
    assert client.get(f"{API}/tickets", params={"cf.team": "x"}, headers=headers).status_code == 200
    refused = client.get(f"{API}/tickets", params={"cf.nope": "x"}, headers=headers)
    assert refused.status_code == 422
    assert "nope" in str(refused.json()["detail"])
    assert client.get(f"{API}/auth/me", params={"x": "1"}).status_code == 422


@pytest.mark.parametrize("value", ["0", "20250101", "1.5", "yesterday"])
def test_dates_in_queries_are_written_as_dates(client, people, value):
    admin = people["super_admin"].headers
    url = f"{API}/tickets/statistics/overview"
    assert client.get(url, params={"start_date": value}, headers=admin).status_code == 422
    assert client.get(url, params={"start_date": "2025-01-01"}, headers=admin).status_code == 200
    lists = client.get(f"{API}/tickets", params={"created_from": value}, headers=admin)
    assert lists.status_code == 422


def test_status_through_patch_points_to_its_endpoint(client, people):
    ticket = make_ticket(client, people["individual"])
    response = client.patch(
        f"{API}/tickets/{ticket['id']}",
        json={"status": "resolved"},
        headers=people["agent"].headers,
    )
    assert response.status_code == 422
    assert "/status" in response.json()["detail"][0]["msg"]


def test_links_never_repeat_the_host_header(client, people):
    for _ in range(3):
        make_ticket(client, people["individual"])
    response = client.get(
        f"{API}/tickets",
        params={"page_size": 1},
        headers={**people["agent"].headers, "Host": "evil.example"},
    )
    assert response.status_code == 200
    assert "evil.example" not in response.headers["Link"]
    assert response.headers["Link"].startswith(f"<{API}/tickets?")


def test_links_use_the_public_url(settings, people_factory=None):
    public = settings.model_copy(update={"public_url": "https://help.example.com/"})
    with TestClient(create_app(public)) as client:
        ada = make_user(client, "agent")
        for _ in range(2):
            make_ticket(client, ada)
        response = client.get(f"{API}/tickets", params={"page_size": 1}, headers=ada.headers)
        assert response.headers["Link"].startswith(f"<https://help.example.com{API}/tickets?")


def test_json_without_a_content_type_gets_a_clear_answer(client, people):
    response = client.post(
        f"{API}/tickets",
        content=json.dumps({"subject": "s", "description": "d"}),
        headers={**people["individual"].headers, "Content-Type": ""},
    )
    assert response.status_code in (201, 415, 422)
    if response.status_code != 201:
        assert "application/json" in response.text
