"""The password reset pages: /login links to them, the request page answers the same for any
address, the mailed link opens the page that sets the new password (once), and every earlier
session ends."""

import re
from typing import Any

from fastapi.testclient import TestClient

from tests.factories import API, PASSWORD, People
from tests.mail.test_password_reset import reset_mails
from tests.web.pages import browser_for, csrf_in
from tests.web.test_signin import sign_in

NEW_PASSWORD = "a-brand-new-password"
LINK = re.compile(r"(http://127\.0\.0\.1:8000)(/reset-password\?token=[A-Za-z0-9_\-]+)")


def ask(client: TestClient, email: str) -> Any:
    form = client.get("/reset-password")
    assert form.status_code == 200
    return client.post("/reset-password", data={"email": email, "csrf_token": csrf_in(form.text)})


def mailed_link(client: TestClient) -> str:
    """The path of the link in the newest reset mail, checked in its text and HTML parts."""
    mail = reset_mails(client)[-1]
    found = LINK.search(mail.body_text)
    assert found is not None
    assert f'href="{found.group(1)}{found.group(2)}"' in mail.body_html
    return found.group(2)


def test_login_links_to_the_request_page(client: TestClient) -> None:
    assert 'href="/reset-password">Forgot password?</a>' in client.get("/login").text
    page = client.get("/reset-password").text
    assert '<label for="email">Email</label>' in page
    assert ">Send reset link</button>" in page


def test_the_request_page_answers_the_same_for_any_address(
    client: TestClient, people: People
) -> None:
    known = ask(client, people["individual"].email)
    unknown = ask(client, "nobody@example.com")
    assert known.status_code == unknown.status_code == 200
    strip = re.compile(r'name="csrf_token" value="[^"]*"')
    assert strip.sub("", known.text) == strip.sub("", unknown.text)
    assert "If the address has an account" in known.text
    assert [m.to_addr for m in reset_mails(client)] == [people["individual"].email]


def test_the_mailed_link_sets_the_password_once_and_ends_sessions(
    client: TestClient, people: People
) -> None:
    customer = people["individual"]
    earlier = browser_for(client, customer)
    assert earlier.get("/portal").status_code == 200
    ask(client, customer.email)
    link = mailed_link(client)
    page = client.get(link)
    assert page.status_code == 200
    assert '<label for="new-password">New password</label>' in page.text
    token = link.split("token=", 1)[1]
    assert f'name="token" value="{token}"' in page.text

    form = {"token": token, "csrf_token": csrf_in(page.text)}
    short = client.post("/reset-password/confirm", data=form | {"new_password": "short"})
    assert short.status_code == 422
    assert "New password:" in short.text
    done = client.post("/reset-password/confirm", data=form | {"new_password": NEW_PASSWORD})
    assert done.status_code == 200
    assert "Password changed" in done.text
    again = client.post(
        "/reset-password/confirm", data=form | {"new_password": "another-new-one-9"}
    )
    assert again.status_code == 400
    assert "invalid, used or expired" in again.text

    assert earlier.get("/portal").status_code == 303  # the old session ended
    assert sign_in(client, customer.email, PASSWORD).status_code == 401  # type: ignore[attr-defined]
    assert sign_in(client, customer.email, NEW_PASSWORD).status_code == 303  # type: ignore[attr-defined]
    response = client.post(
        f"{API}/auth/login", json={"email": customer.email, "password": NEW_PASSWORD}
    )
    assert response.status_code == 200


def test_the_forms_need_their_token(client: TestClient, people: People) -> None:
    refused = client.post("/reset-password", data={"email": people["individual"].email})
    assert refused.status_code == 403
    assert reset_mails(client) == []
    confirm = client.post(
        "/reset-password/confirm", data={"token": "x", "new_password": NEW_PASSWORD}
    )
    assert confirm.status_code == 403


def test_requests_are_throttled_per_address(client: TestClient, people: People) -> None:
    limit = client.app.state.settings.login_attempts_per_minute  # type: ignore[attr-defined]
    for _ in range(limit):
        assert ask(client, people["agent"].email).status_code == 200
    throttled = ask(client, people["agent"].email)
    assert throttled.status_code == 429
    assert "Too many requests" in throttled.text
    assert len(reset_mails(client)) == limit
