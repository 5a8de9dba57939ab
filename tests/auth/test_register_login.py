"""Registration, login (JSON and OAuth2 form), /auth/me, login throttling.

The module shares one database: every test registers its own address (the `ada` fixture), and
checks that refused requests wrote nothing by counting users before and after.
"""

import itertools
import json

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import TEST_SECRET
from tests.factories import API, PASSWORD, count_rows, in_db, make_user
from ticketdesk.auth.models import User
from ticketdesk.main import create_app

USER_KEYS = {
    "id",
    "email",
    "full_name",
    "role",
    "is_active",
    "available",
    "organization_id",
    "created_at",
}
_addresses = itertools.count(1)


# One database and app for the whole module: each test makes its own data.
pytestmark = pytest.mark.shared_database


@pytest.fixture
def ada():
    """An address nobody in this module's database has used."""
    return f"ada{next(_addresses)}@example.com"


@pytest.fixture
def users(client):
    """The number of users before the test; call it to compare with now."""
    before = count_rows(client, User)
    return lambda: count_rows(client, User) - before


def register(client, address, **fields):
    body = {"email": address, "password": PASSWORD, "full_name": "Ada Lovelace"}
    body.update(fields)
    body = {k: v for k, v in body.items() if v is not ...}
    return client.post(f"{API}/auth/register", json=body)


def login(client, email, password=PASSWORD):
    return client.post(f"{API}/auth/login", json={"email": email, "password": password})


def assert_no_secret(response):
    text = response.text.lower()
    assert "password" not in text
    assert "$argon2" not in text
    assert PASSWORD not in response.text


def field_errors(response):
    return [err["loc"][-1] for err in response.json()["detail"]]


# --- registration -------------------------------------------------------------------------


def test_register_returns_exactly_the_user_fields(client, fake_clock, ada, users):
    response = register(client, ada)
    assert response.status_code == 201, response.text
    user = response.json()
    assert set(user) == USER_KEYS
    assert user["email"] == ada
    assert user["full_name"] == "Ada Lovelace"
    assert user["role"] == "individual"
    assert user["is_active"] is True
    assert user["created_at"] == "2025-01-06T10:00:00Z"
    assert isinstance(user["id"], int)
    assert_no_secret(response)
    assert users() == 1


def test_register_stores_a_slow_hash_not_the_password(client, ada):
    assert register(client, ada).status_code == 201

    async def _read(session):
        return await session.scalar(select(User.password_hash).where(User.email == ada))

    stored = in_db(client, _read)
    assert PASSWORD not in stored
    assert stored.startswith(("$argon2", "$2b$", "$2a$", "$2y$"))


@pytest.mark.parametrize("role", ["enterprise", "ENTERPRISE", "Individual", "individual"])
def test_register_self_service_roles(client, ada, role):
    response = register(client, ada, role=role)
    assert response.status_code == 201, response.text
    assert response.json()["role"] == role.lower()


@pytest.mark.parametrize("role", ["agent", "super_admin", "sub_user", "SUPER_ADMIN"])
def test_register_staff_and_sub_user_roles_are_rejected(client, ada, users, role):
    response = register(client, ada, role=role)
    assert response.status_code == 422, response.text
    assert "role" in field_errors(response)
    assert users() == 0


def test_register_bad_role_values(client, ada, users):
    for role in ("bogus", "", None, 1, ["individual"]):
        response = register(client, ada, role=role)
        assert response.status_code == 422, role
        assert "role" in field_errors(response), role
    assert users() == 0


def test_register_email_is_unique_regardless_of_case(client, ada, users):
    first = register(client, ada.upper())
    assert first.status_code == 201
    assert first.json()["email"] == ada
    for spelling in (ada, ada.upper(), ada.capitalize(), f"  {ada} "):
        again = register(client, spelling, full_name="Someone Else", password="other-password")
        assert again.status_code == 409, spelling
        assert isinstance(again.json()["detail"], str)
    assert users() == 1
    # The original account is untouched: its password still works, the other does not.
    assert login(client, ada).status_code == 200
    assert login(client, ada, "other-password").status_code == 401


def test_register_trims_the_email(client, ada):
    response = register(client, f"  {ada} ")
    assert response.status_code == 201
    assert response.json()["email"] == ada


@pytest.mark.parametrize(
    ("field", "values"),
    [
        ("password", ["short", "1234567", "", None, 12345678]),
        ("email", ["not-an-email", "two@@example.com", "a b@example.com", "", None]),
        ("full_name", ["", "   ", "x" * 201, "nul\x00name", None]),
    ],
)
def test_register_invalid_fields(client, ada, users, field, values):
    for value in values:
        response = register(client, ada, **{field: value})
        assert response.status_code == 422, (value, response.text)
        assert field in field_errors(response), value
    assert users() == 0


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/auth/register", "full_name"),
        ("/auth/register", "email"),
        ("/auth/register", "password"),
        ("/auth/login", "email"),
    ],
)
def test_lone_surrogate_is_422_not_500(client, ada, users, path, field):
    body = {"email": ada, "password": PASSWORD, "full_name": "Ada"}
    if path == "/auth/login":
        del body["full_name"]
    raw = json.dumps({**body, field: "x"}).replace('"x"', '"x\\ud800"')
    response = client.post(
        f"{API}{path}", content=raw.encode(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert field in field_errors(response)
    assert users() == 0


def test_register_password_of_exactly_eight_characters_is_fine(client, ada):
    assert register(client, ada, password="kx7#Qm2v").status_code == 201
    assert login(client, ada, "kx7#Qm2v").status_code == 200


@pytest.mark.parametrize("missing", ["email", "password", "full_name"])
def test_register_missing_fields(client, ada, users, missing):
    response = register(client, ada, **{missing: ...})
    assert response.status_code == 422
    assert missing in field_errors(response)
    assert users() == 0


def test_register_rejects_unknown_fields(client, ada, users):
    for extra in ({"is_active": False}, {"password_hash": "x"}, {"id": 1}, {"nickname": "a"}):
        assert register(client, ada, **extra).status_code == 422, extra
    assert users() == 0


def test_register_non_object_body(client, users):
    for content in ("not json", "[]", "", '"x"', "null"):
        response = client.post(
            f"{API}/auth/register", content=content, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 422, content
    assert users() == 0


def test_registration_can_be_switched_off(client, ada, users):
    closed = client.app.state.settings.model_copy(update={"allow_registration": False})
    with TestClient(create_app(closed)) as closed_client:
        response = register(closed_client, ada)
        assert response.status_code == 403
        assert isinstance(response.json()["detail"], str)
        assert users() == 0
        # Logging in still works for existing users.
        existing = make_user(closed_client, "individual", email=f"old-{ada}")
        assert login(closed_client, existing.email).status_code == 200


# --- login --------------------------------------------------------------------------------


def test_login_returns_a_bearer_token_that_works(client, ada):
    assert register(client, ada).status_code == 201
    response = login(client, ada)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == client.app.state.settings.access_token_minutes * 60
    claims = jwt.decode(body["access_token"], TEST_SECRET, algorithms=["HS256"])
    assert claims["exp"] - claims["iat"] == body["expires_in"]
    me = client.get(f"{API}/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json()["email"] == ada


def test_expires_in_follows_the_setting(client, ada):
    custom = client.app.state.settings.model_copy(update={"access_token_minutes": 5})
    with TestClient(create_app(custom)) as short_client:
        assert register(short_client, ada).status_code == 201
        body = login(short_client, ada).json()
        assert body["expires_in"] == 300
        claims = jwt.decode(body["access_token"], TEST_SECRET, algorithms=["HS256"])
        assert claims["exp"] - claims["iat"] == 300


def test_login_email_is_case_insensitive(client, ada):
    assert register(client, ada).status_code == 201
    assert login(client, f"  {ada.upper()} ").status_code == 200


def test_oauth2_token_form(client, ada):
    assert register(client, ada).status_code == 201
    response = client.post(f"{API}/auth/token", data={"username": ada, "password": PASSWORD})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == client.app.state.settings.access_token_minutes * 60
    me = client.get(f"{API}/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json()["email"] == ada


def test_oauth2_token_form_wrong_password(client, ada):
    assert register(client, ada).status_code == 201
    response = client.post(
        f"{API}/auth/token", data={"username": ada, "password": "wrong-password"}
    )
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_oauth2_token_form_missing_fields(client, ada):
    assert client.post(f"{API}/auth/token", data={"username": ada}).status_code == 422
    assert client.post(f"{API}/auth/token", data={"password": PASSWORD}).status_code == 422
    # The form endpoint does not take JSON.
    body = {"username": ada, "password": PASSWORD}
    assert client.post(f"{API}/auth/token", json=body).status_code == 422


def test_login_failures_look_alike(client, ada):
    assert register(client, ada).status_code == 201
    for email, password in [
        (ada, "wrong-password"),
        (f"nobody-{ada}", PASSWORD),
        (ada, PASSWORD.upper()),
    ]:
        response = login(client, email, password)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert response.json() == {"detail": "incorrect email or password"}


def test_login_of_a_deactivated_user_fails(client, people):
    target = make_user(client, "individual")
    patched = client.patch(
        f"{API}/users/{target.id}",
        json={"is_active": False},
        headers=people["super_admin"].headers,
    )
    assert patched.status_code == 200
    response = login(client, target.email)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    # The same answer as a wrong password: a deactivated account is not revealed.
    assert response.json() == {"detail": "incorrect email or password"}


def test_login_incomplete_or_unknown_body(client, ada):
    assert register(client, ada).status_code == 201
    for body in (
        {"email": ada},
        {"password": PASSWORD},
        {},
        {"email": ada, "password": ""},
        {"email": ada, "password": PASSWORD, "remember": True},
    ):
        assert client.post(f"{API}/auth/login", json=body).status_code == 422, body


# --- /auth/me -----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["individual", "enterprise", "sub_user", "agent", "super_admin"])
def test_me_is_the_caller(client, people, role):
    actor = people[role]
    response = client.get(f"{API}/auth/me", headers=actor.headers)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == USER_KEYS
    assert (body["id"], body["email"], body["role"]) == (actor.id, actor.email, role)
    assert_no_secret(response)


def test_me_without_a_token(client):
    response = client.get(f"{API}/auth/me")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


# --- throttling ---------------------------------------------------------------------------


def test_failed_logins_are_throttled_then_released(client, fake_clock, ada):
    assert register(client, ada).status_code == 201
    limit = client.app.state.settings.login_attempts_per_minute
    for _ in range(limit):
        assert login(client, ada, "wrong-password").status_code == 401
        fake_clock.advance(seconds=1)
    # Even the right password is refused while throttled, with a Retry-After.
    throttled = login(client, ada)
    assert throttled.status_code == 429
    assert isinstance(throttled.json()["detail"], str)
    retry_after = int(throttled.headers["Retry-After"])
    # The first failure was `limit` seconds ago: it leaves the one-minute window then.
    assert retry_after == 60 - limit
    # Other addresses are not affected; the address in another case is not exempt.
    other = make_user(client, "individual")
    assert login(client, other.email).status_code == 200
    assert login(client, ada.upper()).status_code == 429
    # The form login shares the throttle.
    form = client.post(f"{API}/auth/token", data={"username": ada, "password": PASSWORD})
    assert form.status_code == 429
    assert int(form.headers["Retry-After"]) == retry_after
    # Once the oldest failure is a minute old, the address may log in again.
    fake_clock.advance(seconds=retry_after)
    assert login(client, ada).status_code == 200


def test_throttle_window_slides(client, fake_clock, ada):
    assert register(client, ada).status_code == 201
    for _ in range(client.app.state.settings.login_attempts_per_minute):
        assert login(client, ada, "wrong-password").status_code == 401
    assert login(client, ada).status_code == 429
    fake_clock.advance(seconds=59)
    response = login(client, ada)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "1"
    fake_clock.advance(seconds=1)
    assert login(client, ada).status_code == 200


def test_throttling_unknown_addresses_too(client, fake_clock, ada):
    """No account needed: probing an address that does not exist is throttled the same way."""
    for _ in range(client.app.state.settings.login_attempts_per_minute):
        assert login(client, ada, "wrong-password").status_code == 401
    assert login(client, ada, "wrong-password").status_code == 429


def test_a_successful_login_resets_the_failures(client, fake_clock, ada):
    assert register(client, ada).status_code == 201
    limit = client.app.state.settings.login_attempts_per_minute
    for _ in range(2):
        for _ in range(limit - 1):
            assert login(client, ada, "wrong-password").status_code == 401
        assert login(client, ada).status_code == 200
