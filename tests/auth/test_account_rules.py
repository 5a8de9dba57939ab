"""The last administrator stays; a signed-in user changes their password; weak passwords are
refused wherever a password is set."""

import pytest

from tests.factories import API, PASSWORD, make_user


def me(client, token):
    return client.get(f"{API}/auth/me", headers={"Authorization": f"Bearer {token}"})


@pytest.mark.parametrize("change", [{"role": "agent"}, {"is_active": False}])
def test_the_last_super_admin_cannot_leave(client, people, change):
    admin = people["super_admin"]
    url = f"{API}/users/{admin.id}"
    response = client.patch(url, json=change, headers=admin.headers)
    assert response.status_code == 409
    assert "super_admin" in response.json()["detail"]
    assert me(client, admin.token).json()["role"] == "super_admin"
    # With a second active administrator, the first may step down.
    second = make_user(client, "super_admin")
    assert client.patch(url, json=change, headers=second.headers).status_code == 200
    # ...and then the second is the last one.
    own = client.patch(f"{API}/users/{second.id}", json=change, headers=second.headers)
    assert own.status_code == 409


def test_password_change_ends_other_sessions(client):
    ada = make_user(client, "individual")
    body = {"current_password": PASSWORD, "new_password": "a-whole-new-phrase-42"}
    response = client.post(f"{API}/auth/password", json=body, headers=ada.headers)
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"
    fresh = response.json()["access_token"]
    assert me(client, ada.token).status_code == 401
    assert me(client, fresh).status_code == 200
    login = client.post(
        f"{API}/auth/login", json={"email": ada.email, "password": body["new_password"]}
    )
    assert login.status_code == 200
    old = client.post(f"{API}/auth/login", json={"email": ada.email, "password": PASSWORD})
    assert old.status_code == 401


def test_password_change_needs_the_current_password_and_a_strong_new_one(client):
    ada = make_user(client, "individual")
    url = f"{API}/auth/password"
    wrong = {"current_password": "not-it-at-all", "new_password": "a-whole-new-phrase-42"}
    response = client.post(url, json=wrong, headers=ada.headers)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "current_password"]
    weak = {"current_password": PASSWORD, "new_password": "password1"}
    response = client.post(url, json=weak, headers=ada.headers)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "new_password"]
    assert me(client, ada.token).status_code == 200
    assert client.post(url, json=weak).status_code == 401


@pytest.mark.parametrize(
    "password", ["12345678", "password", "password1", "qwertyuiop", "ada.lovelace@example.com"]
)
def test_common_and_personal_passwords_are_refused(client, people, password):
    body = {"email": "ada.lovelace@example.com", "password": password, "full_name": "Ada Lovelace"}
    response = client.post(f"{API}/auth/register", json=body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "password"]
    assert "input" not in response.json()["detail"][0]
    admin = client.post(
        f"{API}/users", json={**body, "role": "agent"}, headers=people["super_admin"].headers
    )
    assert admin.status_code == 422


def test_a_strong_password_is_accepted(client):
    body = {"email": "ada@example.com", "password": "velvet-orbit-canyon", "full_name": "Ada"}
    assert client.post(f"{API}/auth/register", json=body).status_code == 201
