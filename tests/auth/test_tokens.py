"""Bearer tokens: every kind of bad token is a 401 with `WWW-Authenticate: Bearer`."""

import base64
import json
from datetime import timedelta

import jwt
import pytest

from tests.conftest import TEST_SECRET
from tests.factories import (
    API,
    PASSWORD,
    count_rows,
    make_ticket,
    make_user,
    token_for,
)
from ticketdesk.tickets.models import Ticket

ME = f"{API}/auth/me"


# One database for the whole module: most tests here only send requests that must fail, and
# the few that change a user make their own.
# One database and app for the whole module: each test makes its own data.
pytestmark = pytest.mark.shared_database


def b64(data: dict) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def assert_unauthorized(response) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert isinstance(response.json()["detail"], str)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_valid_token_works(client, people):
    response = client.get(ME, headers=people["individual"].headers)
    assert response.status_code == 200
    assert response.json()["id"] == people["individual"].id


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": ""},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer "},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Token abc"},
    ],
    ids=["none", "empty", "scheme-only", "scheme-space", "basic", "other-scheme"],
)
def test_missing_token(client, people, headers):
    assert_unauthorized(client.get(ME, headers=headers))


@pytest.mark.parametrize(
    "token", ["garbage", "a.b.c", "a.b", "...", "eyJhbGciOiJIUzI1NiJ9.e30.", "Bearer x" * 10]
)
def test_garbage_token(client, people, token):
    assert_unauthorized(client.get(ME, headers=bearer(token)))


def test_tampered_signature(client, people):
    header, payload, signature = people["individual"].token.split(".")
    flipped = ("B" if signature[0] == "A" else "A") + signature[1:]
    assert_unauthorized(client.get(ME, headers=bearer(f"{header}.{payload}.{flipped}")))
    assert_unauthorized(client.get(ME, headers=bearer(f"{header}.{payload}.")))


def test_tampered_payload_cannot_become_another_user(client, people):
    header, payload, signature = people["individual"].token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = str(people["super_admin"].id)
    forged = f"{header}.{b64(claims)}.{signature}"
    assert_unauthorized(client.get(ME, headers=bearer(forged)))


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
def test_alg_none_token(client, people, fake_clock, alg):
    claims = {"sub": str(people["super_admin"].id), "exp": int(fake_clock().timestamp()) + 3600}
    for signature in ("", "x"):
        token = f"{b64({'alg': alg, 'typ': 'JWT'})}.{b64(claims)}.{signature}"
        assert_unauthorized(client.get(ME, headers=bearer(token)))


def test_token_signed_with_another_key(client, people, fake_clock):
    claims = {"sub": str(people["individual"].id), "exp": fake_clock() + timedelta(hours=1)}
    token = jwt.encode(claims, "some-other-key-that-is-long-enough-for-hs256", algorithm="HS256")
    assert_unauthorized(client.get(ME, headers=bearer(token)))


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_token_with_another_algorithm_and_the_right_key(client, people, fake_clock):
    claims = {"sub": str(people["individual"].id), "exp": fake_clock() + timedelta(hours=1)}
    token = jwt.encode(claims, TEST_SECRET, algorithm="HS512")
    assert_unauthorized(client.get(ME, headers=bearer(token)))


@pytest.mark.parametrize(
    "claims",
    [
        {"sub": "1"},  # no expiry
        {"exp": 4102444800},  # no subject
        {"sub": "abc", "exp": 4102444800},
        {"sub": "", "exp": 4102444800},
        {"sub": "99999", "exp": 4102444800},  # nobody
        {"sub": "99999999999999999999", "exp": 4102444800},
        {"sub": "-1", "exp": 4102444800},
        {"sub": "1", "exp": "tomorrow"},
    ],
)
def test_correctly_signed_but_unusable_claims(client, people, claims):
    claims = dict(claims)
    if claims.get("sub") == "1":
        claims["sub"] = str(people["individual"].id)
    token = jwt.encode(claims, TEST_SECRET, algorithm="HS256")
    assert_unauthorized(client.get(ME, headers=bearer(token)))


def test_expired_token(client, people, fake_clock):
    token = token_for(client, people["individual"].id, lifetime=timedelta(minutes=5))
    assert client.get(ME, headers=bearer(token)).status_code == 200
    fake_clock.advance(minutes=4, seconds=59)
    assert client.get(ME, headers=bearer(token)).status_code == 200
    fake_clock.advance(seconds=1)
    assert_unauthorized(client.get(ME, headers=bearer(token)))
    fake_clock.advance(days=1)
    assert_unauthorized(client.get(ME, headers=bearer(token)))


def test_login_token_expires_after_the_configured_lifetime(client, people, fake_clock):
    response = client.post(
        f"{API}/auth/login", json={"email": people["agent"].email, "password": PASSWORD}
    )
    token = response.json()["access_token"]
    fake_clock.advance(minutes=client.app.state.settings.access_token_minutes - 1)
    assert client.get(ME, headers=bearer(token)).status_code == 200
    fake_clock.advance(minutes=1)
    assert_unauthorized(client.get(ME, headers=bearer(token)))


def test_deactivated_users_token_stops_working_at_once(client, people):
    target = make_user(client, "agent")
    assert client.get(ME, headers=target.headers).status_code == 200
    response = client.patch(
        f"{API}/users/{target.id}", json={"is_active": False}, headers=people["super_admin"].headers
    )
    assert response.status_code == 200
    assert response.json()["is_active"] is False
    tickets_before = count_rows(client, Ticket)
    assert_unauthorized(client.get(ME, headers=target.headers))
    assert_unauthorized(client.get(f"{API}/tickets/", headers=target.headers))
    body = {"subject": "s", "description": "d"}
    assert_unauthorized(client.post(f"{API}/tickets/", json=body, headers=target.headers))
    assert count_rows(client, Ticket) == tickets_before


def test_role_change_takes_effect_at_once(client, people):
    agent = make_user(client, "agent")
    customer = make_user(client, "individual")
    theirs = make_ticket(client, customer)
    seen = client.get(f"{API}/tickets/", params={"user_id": customer.id}, headers=agent.headers)
    assert [t["id"] for t in seen.json()] == [theirs["id"]]
    response = client.patch(
        f"{API}/users/{agent.id}",
        json={"role": "individual"},
        headers=people["super_admin"].headers,
    )
    assert response.status_code == 200
    assert response.json()["role"] == "individual"
    # The same token now acts as a customer: scoped list, no ticket of others, no user list.
    assert client.get(ME, headers=agent.headers).json()["role"] == "individual"
    assert client.get(f"{API}/tickets/", headers=agent.headers).json() == []
    assert client.get(f"{API}/tickets/{theirs['id']}", headers=agent.headers).status_code == 404
    assert client.get(f"{API}/users", headers=agent.headers).status_code == 403


def test_promotion_takes_effect_at_once(client, people):
    customer = make_user(client, "enterprise")
    assert client.get(f"{API}/users", headers=customer.headers).status_code == 403
    response = client.patch(
        f"{API}/users/{customer.id}", json={"role": "AGENT"}, headers=people["super_admin"].headers
    )
    assert response.json()["role"] == "agent"
    assert client.get(f"{API}/users", headers=customer.headers).status_code == 200
