"""Sign-in, sign-out, registration, `/` and `next=`: sessions live on the server."""

from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from tests.factories import API, PASSWORD, People, count_rows
from tests.web.pages import browser_for, csrf_in
from ticketdesk.config import Settings
from ticketdesk.main import create_app
from ticketdesk.web.models import WebSession


def sign_in(client: TestClient, email: str, password: str = PASSWORD, next: str = "") -> object:
    form = client.get("/login" + (f"?next={quote(next)}" if next else ""))
    assert form.status_code == 200
    data = {"email": email, "password": password, "csrf_token": csrf_in(form.text)}
    if next:
        data["next"] = next
    return client.post("/login", data=data, follow_redirects=False)


def test_login_page_has_the_contract_labels(client: TestClient) -> None:
    page = client.get("/login").text
    assert '<label for="email">Email</label>' in page
    assert '<label for="password">Password</label>' in page
    assert ">Sign in</button>" in page
    assert "Forgot password?" in page


@pytest.mark.parametrize(("role", "home"), [("individual", "/portal"), ("agent", "/desk")])
def test_sign_in_lands_customers_in_the_portal_and_staff_in_the_desk(
    client: TestClient, people: People, role: str, home: str
) -> None:
    response = sign_in(client, people[role].email)
    assert response.status_code == 303
    assert response.headers["location"] == home
    assert client.get("/", follow_redirects=False).headers["location"] == home
    assert client.get(home).status_code == 200


def test_session_cookie_is_httponly_and_samesite_lax(client: TestClient, people: People) -> None:
    cookie = sign_in(client, people["individual"].email).headers["set-cookie"].lower()
    assert "ticketdesk_session=" in cookie
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "secure" not in cookie


def test_cookie_is_secure_when_the_public_url_is_https(settings: Settings, people: People) -> None:
    settings.public_url = "https://help.example.com"
    with TestClient(create_app(settings), base_url="https://testserver") as secure:
        cookie = sign_in(secure, people["individual"].email).headers["set-cookie"].lower()
    assert "; secure" in cookie


def test_wrong_password_shows_an_error_on_the_page(client: TestClient, people: People) -> None:
    response = sign_in(client, people["individual"].email, password="wrong-password")
    assert response.status_code == 401
    assert "Incorrect email or password." in response.text
    assert count_rows(client, WebSession) == 0


def test_the_page_and_the_api_share_one_login_throttle(client: TestClient, people: People) -> None:
    email = people["individual"].email
    for _ in range(10):
        body = {"email": email, "password": "wrong-password"}
        assert client.post(f"{API}/auth/login", json=body).status_code == 401
    response = sign_in(client, email)
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.text


def test_logout_ends_the_session_on_the_server(client: TestClient, people: People) -> None:
    browser = browser_for(client, people["individual"])
    assert browser.get("/portal").status_code == 200
    response = browser.post("/logout")
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    # The old cookie, replayed, names nothing any more.
    assert browser.get("/portal").headers["location"] == "/login?next=/portal"
    assert count_rows(client, WebSession) == 0


def test_logout_needs_the_csrf_token(client: TestClient, people: People) -> None:
    browser = browser_for(client, people["individual"])
    assert browser.post("/logout", csrf=False).status_code == 403
    assert browser.get("/portal").status_code == 200


def test_a_deactivated_user_is_signed_out(client: TestClient, people: People) -> None:
    browser = browser_for(client, people["individual"])
    response = client.patch(
        f"{API}/users/{people['individual'].id}",
        json={"is_active": False},
        headers=people["super_admin"].headers,
    )
    assert response.status_code == 200
    assert browser.get("/portal").status_code == 303


def test_root_sends_anonymous_visitors_to_login(client: TestClient) -> None:
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"


@pytest.mark.parametrize(
    ("next", "lands"),
    [
        ("/portal/tickets/new", "/portal/tickets/new"),
        ("//evil.example.com/x", "/portal"),
        ("https://evil.example.com/", "/portal"),
        ("/\\evil.example.com", "/portal"),
        ("javascript:alert(1)", "/portal"),
    ],
)
def test_next_only_leads_to_our_own_paths(
    client: TestClient, people: People, next: str, lands: str
) -> None:
    response = sign_in(client, people["individual"].email, next=next)
    assert response.headers["location"] == lands


def test_anonymous_visitors_are_sent_to_login_with_next(client: TestClient) -> None:
    response = client.get("/desk?view=recent", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/desk%3Fview%3Drecent"


def test_login_without_the_form_token_is_refused(client: TestClient, people: People) -> None:
    body = {"email": people["individual"].email, "password": PASSWORD}
    response = client.post("/login", data=body, follow_redirects=False)
    assert response.status_code == 403
    assert count_rows(client, WebSession) == 0


def test_register_creates_a_customer_and_signs_them_in(client: TestClient) -> None:
    form = client.get("/register")
    for label in ("Full name", "Email", "Password"):
        assert f">{label}</label>" in form.text
    data = {
        "full_name": "Jane Doe",
        "email": "jane@example.com",
        "password": "long-enough-password",
        "csrf_token": csrf_in(form.text),
    }
    response = client.post("/register", data=data, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/portal"
    assert "Jane Doe" in client.get("/portal").text


def test_register_shows_what_is_wrong(client: TestClient) -> None:
    form = client.get("/register")
    data = {"full_name": "J", "email": "no-at-sign", "password": "short", "csrf_token": ""}
    data["csrf_token"] = csrf_in(form.text)
    response = client.post("/register", data=data, follow_redirects=False)
    assert response.status_code == 422
    assert "Email: not a valid email address" in response.text
    assert "Password:" in response.text


def test_register_is_gone_when_registration_is_off(settings: Settings) -> None:
    settings.allow_registration = False
    with TestClient(create_app(settings)) as closed:
        assert closed.get("/register").status_code == 404
        assert "Create an account" not in closed.get("/login").text


def test_ending_every_session_of_a_user_ends_their_web_sessions(
    client: TestClient, people: People
) -> None:
    from typing import Any

    from tests.factories import in_db
    from ticketdesk.auth import service as accounts
    from ticketdesk.auth.models import User

    browser = browser_for(client, people["individual"])
    assert browser.get("/portal").status_code == 200

    async def end(session: Any) -> None:
        await accounts.end_sessions(session, await session.get(User, people["individual"].id))

    in_db(client, end)
    assert browser.get("/portal").status_code == 303
    assert browser_for(client, people["individual"]).get("/portal").status_code == 200
