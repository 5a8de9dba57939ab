"""Ending sessions: every earlier token dies, deactivation ends them for good."""

from fastapi.testclient import TestClient

from tests.factories import API, PASSWORD, in_db, make_user
from ticketdesk.auth import service as accounts
from ticketdesk.auth.models import User


def me(client: TestClient, token: str) -> int:
    return client.get(f"{API}/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code


def login_token(client: TestClient, email: str) -> str:
    response = client.post(f"{API}/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def end_sessions_of(client: TestClient, user_id: int) -> None:
    async def _end(session):
        await accounts.end_sessions(session, await session.get(User, user_id))

    in_db(client, _end)


def test_end_sessions_kills_every_earlier_token_but_not_later_ones(client, people):
    ada = make_user(client, "individual")
    first, second = login_token(client, ada.email), login_token(client, ada.email)
    assert me(client, first) == me(client, second) == 200
    end_sessions_of(client, ada.id)
    assert me(client, first) == 401
    assert me(client, second) == 401
    assert me(client, ada.token) == 401
    fresh = login_token(client, ada.email)
    assert me(client, fresh) == 200
    # Someone else's sessions are untouched.
    assert me(client, people["agent"].token) == 200


def test_deactivation_ends_tokens_for_good(client, people):
    ada = make_user(client, "individual")
    token = login_token(client, ada.email)
    admin = people["super_admin"].headers
    url = f"{API}/users/{ada.id}"
    assert client.patch(url, json={"is_active": False}, headers=admin).status_code == 200
    assert me(client, token) == 401
    assert client.patch(url, json={"is_active": True}, headers=admin).status_code == 200
    # Reactivated: the old token stays dead, a new login works.
    assert me(client, token) == 401
    assert me(client, login_token(client, ada.email)) == 200


def test_other_user_edits_keep_sessions(client, people):
    ada = make_user(client, "agent")
    url = f"{API}/users/{ada.id}"
    response = client.patch(url, json={"full_name": "Ada"}, headers=people["super_admin"].headers)
    assert response.status_code == 200
    assert me(client, ada.token) == 200


def test_session_is_current_compares_epochs():
    user = User(session_epoch=3)
    assert accounts.session_is_current(user, 3)
    assert not accounts.session_is_current(user, 2)
