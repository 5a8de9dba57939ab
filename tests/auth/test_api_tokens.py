"""API tokens: scopes by endpoints, role limits, revocation, expiry, owners, hash-only storage."""

import hashlib
import hmac
from typing import Any

import pytest
from sqlalchemy import event, select

from tests.conftest import TEST_SECRET
from tests.factories import (
    API,
    fetch_ticket,
    in_db,
    make_api_token,
    make_ticket,
    make_user,
)
from ticketdesk.auth.models import ApiToken
from ticketdesk.auth.scopes import Scope
from ticketdesk.models import Base

ME = f"{API}/auth/me"
TOKENS = f"{API}/auth/tokens"
ALL_SCOPES = [s.value for s in Scope]
CUSTOMER_SCOPES = {"tickets:read", "tickets:write"}
ROLE_SCOPES = {
    "individual": CUSTOMER_SCOPES,
    "enterprise": CUSTOMER_SCOPES,
    "sub_user": CUSTOMER_SCOPES,
    "agent": CUSTOMER_SCOPES | {"events:read", "users:read"},
    "super_admin": set(ALL_SCOPES),
}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def scope_refused(response: Any) -> bool:
    return response.status_code == 403 and "lacks the scope" in response.json()["detail"]


# --- Creating, listing, revoking --------------------------------------------------------------


def test_create_shows_the_token_once(client, people):
    response = client.post(
        TOKENS,
        json={"name": "nightly export", "scopes": ["TICKETS:READ"], "expires_in_days": 30},
        headers=people["agent"].headers,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["token"].startswith("td_") and len(body["token"]) == 52
    assert body["name"] == "nightly export"
    assert body["scopes"] == ["tickets:read"]
    assert body["user_id"] == people["agent"].id
    assert body["last_used_at"] is None
    assert body["expires_at"] > body["created_at"]

    listed = client.get(TOKENS, headers=people["agent"].headers).json()
    assert [t["id"] for t in listed] == [body["id"]]
    assert "token" not in listed[0]
    assert body["token"] not in str(listed)


def test_the_token_is_stored_only_as_a_keyed_hash(client, people):
    token = make_api_token(client, people["super_admin"], ["admin"]).token
    assert client.get(ME, headers=bearer(token)).status_code == 200

    async def dump(session):
        rows = []
        for table in Base.metadata.sorted_tables:
            rows += [str(tuple(row)) for row in await session.execute(select(table))]
        stored = await session.scalar(select(ApiToken.token_hash))
        return "\n".join(rows), stored

    everything, stored = in_db(client, dump)
    body = token[3:]
    assert token not in everything and body not in everything and body[:20] not in everything
    # A keyed hash: not the plain SHA-256 that a copied database could be searched with.
    assert stored != hashlib.sha256(token.encode()).hexdigest()
    key = hmac.new(TEST_SECRET.encode(), b"ticketdesk api-token digest v1", hashlib.sha256).digest()
    assert stored == hmac.new(key, token.encode(), hashlib.sha256).hexdigest()


@pytest.mark.parametrize("role", list(ROLE_SCOPES))
def test_a_scope_beyond_the_role_is_refused(client, people, role):
    granted = []
    for scope in ALL_SCOPES:
        response = client.post(
            TOKENS, json={"name": "t", "scopes": [scope]}, headers=people[role].headers
        )
        if scope in ROLE_SCOPES[role]:
            assert response.status_code == 201, (scope, response.text)
            granted.append(scope)
        else:
            assert response.status_code == 422, (scope, response.text)
            assert response.json()["detail"][0]["loc"] == ["body", "scopes"]
    # One refused scope among allowed ones refuses the whole token.
    if role != "super_admin":
        response = client.post(
            TOKENS,
            json={"name": "t", "scopes": ["tickets:read", "admin"]},
            headers=people[role].headers,
        )
        assert response.status_code == 422
    listed = client.get(TOKENS, headers=people[role].headers).json()
    assert sorted(t["scopes"][0] for t in listed) == sorted(granted)
    assert set(granted) == ROLE_SCOPES[role]


@pytest.mark.parametrize(
    "body",
    [
        {"name": "t", "scopes": []},
        {"name": "t", "scopes": ["tickets:delete"]},
        {"name": "t"},
        {"name": "", "scopes": ["tickets:read"]},
        {"name": "t", "scopes": ["tickets:read"], "expires_in_days": 0},
        {"name": "t", "scopes": ["tickets:read"], "expires_in_days": 366},
        {"name": "t", "scopes": ["tickets:read"], "expires_in_days": "30"},
        {"name": "t", "scopes": ["tickets:read"], "expires_in_days": None},
        {"name": "t", "scopes": ["tickets:read"], "owner": 1},
    ],
)
def test_bad_create_input_is_422(client, people, body):
    response = client.post(TOKENS, json=body, headers=people["agent"].headers)
    assert response.status_code == 422, response.text
    assert client.get(TOKENS, headers=people["agent"].headers).json() == []


def test_revocation_takes_effect_on_the_next_request(client, people):
    created = client.post(
        TOKENS, json={"name": "t", "scopes": ["tickets:read"]}, headers=people["individual"].headers
    ).json()
    assert client.get(f"{API}/tickets", headers=bearer(created["token"])).status_code == 200
    response = client.delete(f"{TOKENS}/{created['id']}", headers=people["individual"].headers)
    assert response.status_code == 204
    response = client.get(f"{API}/tickets", headers=bearer(created["token"]))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    again = client.delete(f"{TOKENS}/{created['id']}", headers=people["individual"].headers)
    assert again.status_code == 404


def test_only_the_owner_or_the_super_admin_revokes(client, people):
    created = client.post(
        TOKENS, json={"name": "t", "scopes": ["tickets:read"]}, headers=people["individual"].headers
    ).json()
    for intruder in ("other", "agent"):
        response = client.delete(f"{TOKENS}/{created['id']}", headers=people[intruder].headers)
        assert response.status_code == 404
    assert client.get(ME, headers=bearer(created["token"])).status_code == 200
    response = client.delete(f"{TOKENS}/{created['id']}", headers=people["super_admin"].headers)
    assert response.status_code == 204
    assert client.get(ME, headers=bearer(created["token"])).status_code == 401


def test_listing_another_users_tokens_is_for_the_super_admin(client, people):
    make_api_token(client, people["individual"], ["tickets:read"])
    own = people["individual"].id
    response = client.get(TOKENS, params={"user_id": own}, headers=people["super_admin"].headers)
    assert [t["user_id"] for t in response.json()] == [own]
    response = client.get(TOKENS, params={"user_id": own}, headers=people["agent"].headers)
    assert response.status_code == 403
    assert client.get(TOKENS, headers=people["agent"].headers).json() == []
    response = client.get(TOKENS, params={"user_id": own}, headers=people["individual"].headers)
    assert len(response.json()) == 1


def test_tokens_are_managed_with_a_login_or_the_admin_scope(client, people):
    customer = make_api_token(client, people["individual"], ["tickets:read", "tickets:write"])
    body = {"name": "t", "scopes": ["tickets:read"]}
    assert scope_refused(client.post(TOKENS, json=body, headers=customer.headers))
    assert scope_refused(client.get(TOKENS, headers=customer.headers))
    admin = make_api_token(client, people["super_admin"], ["admin"])
    assert client.post(TOKENS, json=body, headers=admin.headers).status_code == 201


# --- Using a token ----------------------------------------------------------------------------


def test_a_token_acts_as_its_owner(client, people):
    token = make_api_token(client, people["individual"], ["tickets:read", "tickets:write"])
    me = client.get(ME, headers=token.headers).json()
    assert me["id"] == people["individual"].id
    ticket = make_ticket(client, token)
    assert ticket["user_id"] == people["individual"].id
    # Still a customer: staff-only fields and other customers' tickets stay out of reach.
    other = make_ticket(client, people["other"])
    assert client.get(f"{API}/tickets/{other['id']}", headers=token.headers).status_code == 404
    response = client.post(
        f"{API}/tickets/{ticket['id']}/comments",
        json={"comment": "note", "is_internal": True},
        headers=token.headers,
    )
    assert response.status_code == 403


@pytest.mark.parametrize(
    "token",
    [
        "td_",
        "td_short",
        "td_" + "0" * 49,  # right length, wrong checksum
        "td_" + "!" * 49,
    ],
)
def test_malformed_tokens_are_401(client, people, token):
    response = client.get(ME, headers=bearer(token))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_a_well_formed_unknown_token_is_401(client, people):
    from ticketdesk.auth import tokens

    real = make_api_token(client, people["agent"], ["tickets:read"]).token
    unknown = tokens.generate()
    assert tokens.well_formed(unknown)
    assert client.get(ME, headers=bearer(unknown)).status_code == 401
    tampered = real[:10] + ("a" if real[10] != "a" else "b") + real[11:]
    assert client.get(ME, headers=bearer(tampered)).status_code == 401


def test_expired_tokens_stop_working(client, people, fake_clock):
    token = make_api_token(client, people["agent"], ["tickets:read"], expires_in_days=1)
    fake_clock.advance(hours=23, minutes=59)
    assert client.get(ME, headers=token.headers).status_code == 200
    fake_clock.advance(minutes=1)
    assert client.get(ME, headers=token.headers).status_code == 401


def test_the_default_lifetime_is_90_days(client, people, fake_clock):
    created = client.post(
        TOKENS, json={"name": "t", "scopes": ["tickets:read"]}, headers=people["agent"].headers
    ).json()
    assert created["created_at"] == "2025-01-06T10:00:00Z"
    assert created["expires_at"] == "2025-04-06T10:00:00Z"


def test_a_deactivated_owners_tokens_stop_working(client, people):
    agent = make_user(client, "agent")
    token = make_api_token(client, agent, ["tickets:read"])
    assert client.get(ME, headers=token.headers).status_code == 200
    admin = people["super_admin"].headers
    client.patch(f"{API}/users/{agent.id}", json={"is_active": False}, headers=admin)
    assert client.get(ME, headers=token.headers).status_code == 401
    # For good, as its logins: reactivating the account does not bring old tokens back.
    client.patch(f"{API}/users/{agent.id}", json={"is_active": True}, headers=admin)
    assert client.get(ME, headers=token.headers).status_code == 401


def test_ending_the_owners_sessions_ends_the_tokens(client, people):
    from ticketdesk.auth import service as accounts
    from ticketdesk.auth.models import User

    token = make_api_token(client, people["agent"], ["tickets:read"])
    assert client.get(ME, headers=token.headers).status_code == 200

    async def end(session):
        await accounts.end_sessions(session, await session.get(User, people["agent"].id))

    in_db(client, end)
    assert client.get(ME, headers=token.headers).status_code == 401


def test_a_demoted_owners_token_narrows_to_the_new_role(client, people):
    boss = make_user(client, "super_admin")
    token = make_api_token(client, boss, ["admin", "tickets:read"])
    assert client.get(f"{API}/users", headers=token.headers).status_code == 200
    client.patch(
        f"{API}/users/{boss.id}", json={"role": "agent"}, headers=people["super_admin"].headers
    )
    # `admin` is beyond an agent: what is left is tickets:read.
    assert scope_refused(client.get(f"{API}/users", headers=token.headers))
    assert client.get(f"{API}/tickets", headers=token.headers).status_code == 200


def test_last_used_at_is_written_at_most_once_a_minute(client, people, fake_clock):
    token = make_api_token(client, people["agent"], ["tickets:read"])

    def last_used():
        return client.get(TOKENS, headers=people["agent"].headers).json()[0]["last_used_at"]

    assert last_used() is None
    client.get(ME, headers=token.headers)
    assert last_used() == "2025-01-06T10:00:00Z"
    fake_clock.advance(seconds=59)
    client.get(f"{API}/tickets", headers=token.headers)
    client.post(f"{API}/tickets", json={}, headers=token.headers)  # refused, still a use
    assert last_used() == "2025-01-06T10:00:00Z"
    fake_clock.advance(seconds=1)
    client.get(ME, headers=token.headers)
    assert last_used() == "2025-01-06T10:01:00Z"


def test_logins_keep_every_scope_of_their_role(client, people):
    ticket = make_ticket(client, people["individual"])
    assert client.get(f"{API}/users", headers=people["super_admin"].headers).status_code == 200
    assert fetch_ticket(client, people["agent"], ticket["id"])["id"] == ticket["id"]


def test_nothing_of_the_token_reaches_the_logs_of_sql(client, people):
    """The plain token is never a bind parameter: the lookup sends its hash."""
    token = make_api_token(client, people["agent"], ["tickets:read"]).token
    seen: list[str] = []
    engine = client.app.state.engine.sync_engine

    def record(_conn, _cursor, statement, parameters, _context, _many):
        seen.append(f"{statement} {parameters}")

    event.listen(engine, "before_cursor_execute", record)
    try:
        assert client.get(ME, headers=bearer(token)).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert seen and not any(token in line or token[3:] in line for line in seen)
