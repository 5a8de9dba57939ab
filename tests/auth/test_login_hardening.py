"""The token answer is never cached; both login paths share one set of input rules; the
bootstrap admin follows the API's rules."""

import pytest
from fastapi.testclient import TestClient

from tests.factories import API, PASSWORD, make_user
from ticketdesk.main import StartupError, create_app


def test_token_answers_are_not_cached(client):
    ada = make_user(client, "individual")
    for response in (
        client.post(f"{API}/auth/login", json={"email": ada.email, "password": PASSWORD}),
        client.post(f"{API}/auth/token", data={"username": ada.email, "password": PASSWORD}),
    ):
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    ("username", "password", "field"),
    [
        ("a\x00b@x.y", "x", "username"),
        ("not-an-address", "x", "username"),
        ("a@x.y", "pass\x00word", "password"),
        ("a@x.y", "x" * 300, "password"),
    ],
)
def test_the_form_login_applies_the_json_login_rules(client, username, password, field):
    response = client.post(f"{API}/auth/token", data={"username": username, "password": password})
    assert response.status_code == 422
    (problem,) = response.json()["detail"]
    assert problem["loc"] == ["body", field]
    assert "input" not in problem


@pytest.mark.parametrize(
    ("update", "message"),
    [
        ({"admin_email": "Admin", "admin_password": "long-enough-1"}, "TICKETDESK_ADMIN_EMAIL"),
        (
            {"admin_email": "admin@example.com", "admin_password": "abc"},
            "TICKETDESK_ADMIN_PASSWORD",
        ),
    ],
)
def test_an_invalid_bootstrap_admin_stops_the_start(settings, update, message):
    with (
        pytest.raises(StartupError, match=message),
        TestClient(create_app(settings.model_copy(update=update))),
    ):
        pass


@pytest.mark.parametrize(
    ("path", "raw", "loc"),
    [
        ("/auth/password-reset", '{"email": "a\\u0000b@x.y"}', ["body", "email"]),
        (
            "/auth/register",
            '{"email": "a@x.y", "password": "pw\\ud800-long-enough", "full_name": "A"}',
            ["body", "password"],
        ),
    ],
)
def test_text_no_database_can_store_is_refused_in_any_body(client, path, raw, loc):
    """NUL (PostgreSQL cannot store it) and unpaired surrogates (not UTF-8): a 422 from the
    one rule every request body applies, never a 500 from the database."""
    headers = {"Content-Type": "application/json"}
    response = client.post(f"{API}{path}", content=raw, headers=headers)
    assert response.status_code == 422, response.text
    assert [p["loc"] for p in response.json()["detail"]] == [loc]


def test_nested_text_is_checked_too(client):
    customer = make_user(client, "individual")
    body = {"subject": "Tags", "description": "Nested values.", "tags": ["ok", "bad\x00tag"]}
    response = client.post(f"{API}/tickets/", json=body, headers=customer.headers)
    assert response.status_code == 422, response.text
    assert "NUL" in response.text
