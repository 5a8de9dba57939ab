"""User management: POST/GET/PATCH /users.

The module shares one database: tests that change a user make their own, and refused requests
are checked to have written nothing.
"""

import itertools

import pytest
from sqlalchemy import select

from tests.factories import (
    API,
    CUSTOMER_ROLES,
    PASSWORD,
    count_rows,
    in_db,
    make_user,
)
from ticketdesk.auth.models import User

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
USERS = f"{API}/users"
ROLES = ["individual", "enterprise", "sub_user", "agent", "super_admin"]
_addresses = itertools.count(1)


# One database and app for the whole module: each test makes its own data.
pytestmark = pytest.mark.shared_database


@pytest.fixture
def users(client):
    before = count_rows(client, User)
    return lambda: count_rows(client, User) - before


def new_user(**fields):
    body = {
        "email": f"new{next(_addresses)}@example.com",
        "password": PASSWORD,
        "full_name": "New Person",
    }
    body.update(fields)
    return body


def assert_no_secret(response):
    assert "password" not in response.text.lower()
    assert "$argon2" not in response.text


def ids(response):
    return [u["id"] for u in response.json()]


def ids_in_db(client, *roles):
    async def _ids(session):
        query = select(User.id).order_by(User.id)
        if roles:
            query = query.where(User.role.in_(roles))
        return list(await session.scalars(query))

    return in_db(client, _ids)


# --- POST /users --------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_super_admin_creates_any_role(client, people, users, role):
    body = new_user(role=role.upper())
    response = client.post(USERS, json=body, headers=people["super_admin"].headers)
    assert response.status_code == 201, response.text
    created = response.json()
    assert set(created) == USER_KEYS
    assert created["role"] == role
    assert created["email"] == body["email"]
    assert created["is_active"] is True
    assert_no_secret(response)
    assert users() == 1
    login = client.post(f"{API}/auth/login", json={"email": body["email"], "password": PASSWORD})
    assert login.status_code == 200
    token = login.json()["access_token"]
    me = client.get(f"{API}/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json() == created


@pytest.mark.parametrize("actor", [*CUSTOMER_ROLES, "agent"])
def test_only_the_super_admin_creates_users(client, people, users, actor):
    for role in ("agent", "super_admin", "individual"):
        response = client.post(USERS, json=new_user(role=role), headers=people[actor].headers)
        assert response.status_code == 403, role
    assert users() == 0


def test_anonymous_cannot_create_users(client, people, users):
    response = client.post(USERS, json=new_user(role="agent"))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert users() == 0


def test_create_user_duplicate_email_any_case(client, people, users):
    body = new_user(email=people["agent"].email.upper(), role="agent")
    response = client.post(USERS, json=body, headers=people["super_admin"].headers)
    assert response.status_code == 409
    assert users() == 0


def test_create_user_validation(client, people, users):
    for change in (
        {"role": "bogus"},
        {"role": None},
        {"password": "short"},
        {"email": "nope"},
        {"full_name": ""},
        {"is_active": False},
        {"id": 1},
    ):
        body = new_user(role="agent") | change
        response = client.post(USERS, json=body, headers=people["super_admin"].headers)
        assert response.status_code == 422, change
    for missing in ("role", "email", "password", "full_name"):
        body = new_user(role="agent")
        del body[missing]
        response = client.post(USERS, json=body, headers=people["super_admin"].headers)
        assert response.status_code == 422, missing
        assert missing in [err["loc"][-1] for err in response.json()["detail"]]
    assert users() == 0


# --- GET /users ---------------------------------------------------------------------------


def test_super_admin_lists_everyone(client, people):
    response = client.get(USERS, headers=people["super_admin"].headers)
    assert response.status_code == 200
    assert ids(response) == ids_in_db(client)
    assert {a.id for a in people.values()} <= set(ids(response))
    for user in response.json():
        assert set(user) == USER_KEYS
    assert_no_secret(response)


@pytest.mark.parametrize("role", ROLES)
def test_super_admin_filters_by_role(client, people, role):
    response = client.get(USERS, params={"role": role}, headers=people["super_admin"].headers)
    assert response.status_code == 200
    assert ids(response) == ids_in_db(client, role)
    assert people[role].id in ids(response)
    assert {u["role"] for u in response.json()} == {role}


def test_role_filter_accepts_any_case(client, people):
    response = client.get(USERS, params={"role": "AGENT"}, headers=people["super_admin"].headers)
    assert response.status_code == 200
    assert ids(response) == ids_in_db(client, "agent")


def test_role_filter_rejects_unknown_roles(client, people):
    for role in ("bogus", "", "agents"):
        response = client.get(USERS, params={"role": role}, headers=people["super_admin"].headers)
        assert response.status_code == 422, role


@pytest.mark.parametrize(
    ("role", "expected"),
    [("agent", ["agent"]), ("super_admin", ["super_admin"]), (None, ["agent", "super_admin"])],
)
def test_agent_may_list_staff(client, people, role, expected):
    params = {"role": role} if role else {}
    response = client.get(USERS, params=params, headers=people["agent"].headers)
    assert response.status_code == 200
    assert ids(response) == ids_in_db(client, *expected)
    assert {u["role"] for u in response.json()} == set(expected)
    assert_no_secret(response)


@pytest.mark.parametrize("role", CUSTOMER_ROLES)
def test_agent_may_not_list_customers(client, people, role):
    response = client.get(USERS, params={"role": role}, headers=people["agent"].headers)
    assert response.status_code == 403


@pytest.mark.parametrize("actor", CUSTOMER_ROLES)
def test_customers_may_not_list_users(client, people, actor):
    for role in (None, "agent", "super_admin", "individual", actor):
        params = {"role": role} if role else {}
        response = client.get(USERS, params=params, headers=people[actor].headers)
        assert response.status_code == 403, role


def test_anonymous_may_not_list_users(client, people):
    response = client.get(USERS)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


# --- PATCH /users/{id} --------------------------------------------------------------------


def patch(client, people, user_id, body, actor="super_admin"):
    return client.patch(f"{USERS}/{user_id}", json=body, headers=people[actor].headers)


def current(client, people, user_id):
    users = client.get(USERS, headers=people["super_admin"].headers).json()
    return next(u for u in users if u["id"] == user_id)


def test_super_admin_updates_role_name_and_activity(client, people):
    target = make_user(client, "individual")
    response = patch(client, people, target.id, {"role": "Enterprise", "full_name": "  Renamed  "})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == USER_KEYS
    assert (body["role"], body["full_name"], body["is_active"]) == ("enterprise", "Renamed", True)
    assert body["email"] == target.email
    assert current(client, people, target.id) == body
    response = patch(client, people, target.id, {"is_active": False})
    assert response.json()["is_active"] is False
    assert response.json()["role"] == "enterprise"
    assert current(client, people, target.id)["is_active"] is False
    assert_no_secret(response)


def test_deactivated_user_can_be_reactivated(client, people):
    target = make_user(client, "sub_user")
    assert patch(client, people, target.id, {"is_active": False}).status_code == 200
    assert client.get(f"{API}/auth/me", headers=target.headers).status_code == 401
    assert patch(client, people, target.id, {"is_active": True}).status_code == 200
    login = client.post(f"{API}/auth/login", json={"email": target.email, "password": PASSWORD})
    assert login.status_code == 200


@pytest.mark.parametrize("actor", [*CUSTOMER_ROLES, "agent"])
def test_only_the_super_admin_updates_users(client, people, actor):
    target = make_user(client, "individual")
    before = current(client, people, target.id)
    for body in ({"role": "super_admin"}, {"is_active": False}, {"full_name": "Hacked"}):
        assert patch(client, people, target.id, body, actor=actor).status_code == 403, body
    assert current(client, people, target.id) == before


@pytest.mark.parametrize("role", [*CUSTOMER_ROLES, "agent"])
def test_nobody_but_the_super_admin_promotes_themself(client, role):
    me = make_user(client, role)
    response = client.patch(f"{USERS}/{me.id}", json={"role": "super_admin"}, headers=me.headers)
    assert response.status_code == 403
    assert client.get(f"{API}/auth/me", headers=me.headers).json()["role"] == role


def test_anonymous_cannot_update_users(client, people):
    target = make_user(client, "individual")
    response = client.patch(f"{USERS}/{target.id}", json={"is_active": False})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert current(client, people, target.id)["is_active"] is True


@pytest.mark.parametrize(
    "body",
    [
        {"role": None},
        {"full_name": None},
        {"is_active": None},
        {"role": "agent", "is_active": None},
        {"role": "bogus"},
        {"full_name": ""},
        {"full_name": "   "},
        {"full_name": "x" * 201},
        {"full_name": "a\x00b"},
        {"is_active": "maybe"},
        {"email": "x@example.com"},
        {"password": "new-password-123"},
        {"role": "agent", "id": 1},
    ],
)
def test_update_validation_changes_nothing(client, people, body):
    target = make_user(client, "individual")
    before = current(client, people, target.id)
    response = patch(client, people, target.id, body)
    assert response.status_code == 422, response.text
    assert current(client, people, target.id) == before


def test_update_unknown_user(client, people, users):
    response = patch(client, people, 999_999, {"role": "agent"})
    assert response.status_code == 404
    assert isinstance(response.json()["detail"], str)
    assert users() == 0


@pytest.mark.parametrize("user_id", ["0", "-1", "99999999999", "abc", "1.5"])
def test_update_impossible_ids_are_422_not_500(client, people, user_id):
    response = patch(client, people, user_id, {"role": "agent"})
    assert response.status_code == 422


def test_update_with_an_empty_body_changes_nothing(client, people):
    target = make_user(client, "enterprise")
    before = current(client, people, target.id)
    response = patch(client, people, target.id, {})
    assert response.status_code == 200
    assert response.json() == before
