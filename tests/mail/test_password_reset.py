"""Password reset by mail: a single-use link valid an hour, no account enumeration, throttled,
and every earlier session ends."""

import re
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.factories import API, PASSWORD, FakeClock, People, count_rows, in_db
from ticketdesk.mail.models import OutboundEmail

NEW_PASSWORD = "a-brand-new-password"


def reset_mails(client: TestClient) -> list[OutboundEmail]:
    async def _rows(session: Any) -> list[OutboundEmail]:
        query = select(OutboundEmail).where(OutboundEmail.kind == "password_reset")
        return list(await session.scalars(query.order_by(OutboundEmail.id)))

    return in_db(client, _rows)  # type: ignore[no-any-return]


def request_reset(client: TestClient, email: str) -> str | None:
    """Asks for a reset; the token of the link mailed for it, if a mail was written."""
    before = len(reset_mails(client))
    response = client.post(f"{API}/auth/password-reset", json={"email": email})
    assert response.status_code == 202, response.text
    mails = reset_mails(client)
    if len(mails) == before:
        return None
    found = re.search(r"/reset-password\?token=([A-Za-z0-9_\-]+)", mails[-1].body_text)
    assert found is not None
    return found.group(1)


def confirm(client: TestClient, token: str, password: str = NEW_PASSWORD) -> Any:
    return client.post(
        f"{API}/auth/password-reset/confirm", json={"token": token, "new_password": password}
    )


def login(client: TestClient, email: str, password: str) -> int:
    response = client.post(f"{API}/auth/login", json={"email": email, "password": password})
    return response.status_code


def test_reset_link_sets_a_new_password_once(
    client: TestClient, people: People, fake_clock: FakeClock
) -> None:
    customer = people["individual"]
    token = request_reset(client, customer.email.upper())
    assert token is not None
    [mail] = reset_mails(client)
    assert mail.to_addr == customer.email
    assert mail.headers["Auto-Submitted"] == "auto-generated"
    assert f"http://127.0.0.1:8000/reset-password?token={token}" in mail.body_text
    assert "60 minutes" in mail.body_text
    assert confirm(client, token).status_code == 204
    assert login(client, customer.email, NEW_PASSWORD) == 200
    assert login(client, customer.email, PASSWORD) == 401
    again = confirm(client, token, "yet-another-password")
    assert again.status_code == 400 and "invalid, used or expired" in again.json()["detail"]
    assert login(client, customer.email, NEW_PASSWORD) == 200


def test_earlier_sessions_end_with_the_reset(
    fake_clock: FakeClock, client: TestClient, people: People
) -> None:
    customer = people["individual"]
    assert client.get(f"{API}/auth/me", headers=customer.headers).status_code == 200
    token = request_reset(client, customer.email)
    assert token is not None
    fake_clock.advance(seconds=5)
    assert confirm(client, token).status_code == 204
    assert client.get(f"{API}/auth/me", headers=customer.headers).status_code == 401
    fresh = client.post(
        f"{API}/auth/login", json={"email": customer.email, "password": NEW_PASSWORD}
    ).json()["access_token"]
    me = client.get(f"{API}/auth/me", headers={"Authorization": f"Bearer {fresh}"})
    assert me.status_code == 200


def test_a_link_expires_after_an_hour(
    client: TestClient, people: People, fake_clock: FakeClock
) -> None:
    token = request_reset(client, people["agent"].email)
    assert token is not None
    fake_clock.advance(minutes=60)
    assert confirm(client, token).status_code == 400
    assert login(client, people["agent"].email, PASSWORD) == 200


def test_a_newer_reset_voids_nothing_but_using_one_voids_all(
    client: TestClient, people: People, fake_clock: FakeClock
) -> None:
    email = people["individual"].email
    first, second = request_reset(client, email), request_reset(client, email)
    assert first is not None and second is not None and first != second
    assert confirm(client, second).status_code == 204
    assert confirm(client, first).status_code == 400


def test_unknown_addresses_get_the_same_answer_and_no_mail(
    client: TestClient, people: People, fake_clock: FakeClock
) -> None:
    assert request_reset(client, "nobody@example.org") is None
    assert request_reset(client, "not even an address") is None
    assert count_rows(client, OutboundEmail) == 0


def test_reset_requests_are_throttled_per_address(
    client: TestClient, people: People, fake_clock: FakeClock
) -> None:
    email = people["individual"].email
    for _ in range(10):
        request_reset(client, email)
    response = client.post(f"{API}/auth/password-reset", json={"email": email})
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0
    assert len(reset_mails(client)) == 10
    fake_clock.advance(minutes=1, seconds=1)
    assert request_reset(client, email) is not None


def test_bad_confirmations_are_rejected_and_change_nothing(
    client: TestClient, people: People, fake_clock: FakeClock
) -> None:
    customer = people["individual"]
    token = request_reset(client, customer.email)
    assert token is not None
    short = confirm(client, token, "short")
    assert short.status_code == 422
    assert confirm(client, "not-a-token").status_code == 400
    missing = client.post(f"{API}/auth/password-reset/confirm", json={"token": token})
    assert missing.status_code == 422
    assert login(client, customer.email, PASSWORD) == 200
    assert confirm(client, token).status_code == 204
