"""The mail endpoints for every role, notification preferences, and bad input."""

import pytest
from fastapi.testclient import TestClient

from tests.factories import ALL_ROLES, API, FakeClock, People
from tests.mail.conftest import corpus, post_mail

ADMIN_ONLY = [
    ("GET", "/mail/outbox"),
    ("POST", "/mail/outbox/1/retry"),
    ("GET", "/mail/suppressions"),
    ("DELETE", "/mail/suppressions/a@example.org"),
    ("GET", "/mail/inbound"),
    ("GET", "/mail/inbound/1/raw"),
    ("POST", "/mail/inbound/1/reprocess"),
]
RAW = corpus("new_request.eml", FROM="dana@example.org", MSGID="api-1@example.org")


@pytest.mark.parametrize(("method", "path"), ADMIN_ONLY)
@pytest.mark.parametrize("role", [r for r in ALL_ROLES if r != "super_admin"])
def test_mail_logs_are_for_the_super_admin_only(
    client: TestClient, people: People, role: str, method: str, path: str
) -> None:
    response = client.request(method, f"{API}{path}", headers=people[role].headers)
    assert response.status_code == 403, response.text


@pytest.mark.parametrize(("method", "path"), [*ADMIN_ONLY, ("POST", "/mail/inbound")])
def test_anonymous_callers_get_401(client: TestClient, method: str, path: str) -> None:
    assert client.request(method, f"{API}{path}").status_code == 401


@pytest.mark.parametrize("role", [r for r in ALL_ROLES if r != "super_admin"])
def test_only_the_super_admin_may_post_mail(client: TestClient, people: People, role: str) -> None:
    response = client.post(
        f"{API}/mail/inbound",
        content=RAW,
        headers={**people[role].headers, "Content-Type": "message/rfc822"},
    )
    assert response.status_code == 403
    listing = client.get(f"{API}/mail/inbound", headers=people["super_admin"].headers)
    assert listing.json() == []


def test_inbound_log_lists_and_serves_the_raw_mail(
    client: TestClient, people: People, fake_clock: FakeClock
) -> None:
    admin = people["super_admin"].headers
    accepted = post_mail(client, people["super_admin"], RAW)
    [row] = client.get(f"{API}/mail/inbound", headers=admin).json()
    assert row == {
        "id": accepted["id"],
        "message_id": "<api-1@example.org>",
        "from": "dana@example.org",
        "subject": "Printer on floor 3 is jammed",
        "source": "http",
        "status": "received",
        "ticket_id": None,
        "comment_id": None,
        "error": None,
        "received_at": "2025-01-06T10:00:00Z",
        "processed_at": None,
    }
    assert client.get(f"{API}/mail/inbound?status=failed", headers=admin).json() == []
    raw = client.get(f"{API}/mail/inbound/{accepted['id']}/raw", headers=admin)
    assert raw.status_code == 200 and raw.content == RAW
    assert raw.headers["content-type"] == "message/rfc822"
    assert raw.headers["content-disposition"].startswith("attachment")
    assert client.get(f"{API}/mail/inbound/999/raw", headers=admin).status_code == 404


def test_bad_inbound_bodies_are_refused_and_store_nothing(
    client: TestClient, people: People
) -> None:
    admin = people["super_admin"].headers
    wrong_type = client.post(
        f"{API}/mail/inbound", content=RAW, headers={**admin, "Content-Type": "text/plain"}
    )
    assert wrong_type.status_code == 415 and "message/rfc822" in wrong_type.json()["detail"]
    empty = client.post(
        f"{API}/mail/inbound", content=b"  ", headers={**admin, "Content-Type": "message/rfc822"}
    )
    assert empty.status_code == 400
    assert client.get(f"{API}/mail/inbound", headers=admin).json() == []


def test_an_oversized_mail_is_refused_with_413(settings: object, fake_clock: FakeClock) -> None:
    from tests.factories import make_user
    from ticketdesk.main import create_app

    small = settings.model_copy(update={"max_mail_mb": 0.001})  # type: ignore[attr-defined]
    with TestClient(create_app(small)) as client:
        admin = make_user(client, "super_admin")
        response = client.post(
            f"{API}/mail/inbound",
            content=RAW + b"x" * 2000,
            headers={**admin.headers, "Content-Type": "message/rfc822"},
        )
        assert response.status_code == 413
        assert client.get(f"{API}/mail/inbound", headers=admin.headers).json() == []


@pytest.mark.parametrize("path", ["/mail/outbox/0/retry", "/mail/inbound/abc/reprocess"])
def test_bad_ids_are_422(client: TestClient, people: People, path: str) -> None:
    response = client.post(f"{API}{path}", headers=people["super_admin"].headers)
    assert response.status_code == 422


def test_unknown_outbox_rows_and_suppressions_are_404(client: TestClient, people: People) -> None:
    admin = people["super_admin"].headers
    assert client.post(f"{API}/mail/outbox/5/retry", headers=admin).status_code == 404
    lifted = client.delete(f"{API}/mail/suppressions/nobody@example.org", headers=admin)
    assert lifted.status_code == 404


CUSTOMER_KINDS = {"ticket_received": True, "staff_reply": True, "status_changed": True}
STAFF_KINDS = {
    "ticket_assigned": True,
    "customer_reply": True,
    "new_ticket": False,
    "sla_breach": True,
}


@pytest.mark.parametrize("role", ALL_ROLES)
def test_preferences_list_the_kinds_of_the_callers_role(
    client: TestClient, people: People, role: str
) -> None:
    response = client.get(f"{API}/users/me/notifications", headers=people[role].headers)
    staff = role in ("agent", "super_admin")
    assert response.json() == (STAFF_KINDS if staff else CUSTOMER_KINDS)


def test_preferences_are_changed_one_kind_at_a_time(client: TestClient, people: People) -> None:
    headers = people["individual"].headers
    changed = client.patch(
        f"{API}/users/me/notifications", json={"staff_reply": False}, headers=headers
    )
    assert changed.status_code == 200
    assert changed.json() == CUSTOMER_KINDS | {"staff_reply": False}
    again = client.patch(
        f"{API}/users/me/notifications",
        json={"staff_reply": True, "status_changed": False},
        headers=headers,
    )
    assert again.json() == CUSTOMER_KINDS | {"status_changed": False}
    assert client.get(f"{API}/users/me/notifications", headers=headers).json() == again.json()
    other = client.get(f"{API}/users/me/notifications", headers=people["other"].headers)
    assert other.json() == CUSTOMER_KINDS


@pytest.mark.parametrize(
    "body",
    [{"new_ticket": True}, {"staff_reply": "yes"}, {"nonsense": True}, [], {"staff_reply": None}],
)
def test_bad_preference_changes_are_422_and_change_nothing(
    client: TestClient, people: People, body: object
) -> None:
    headers = people["individual"].headers
    response = client.patch(f"{API}/users/me/notifications", json=body, headers=headers)
    assert response.status_code == 422, response.text
    assert client.get(f"{API}/users/me/notifications", headers=headers).json() == CUSTOMER_KINDS


def test_anonymous_callers_have_no_preferences(client: TestClient) -> None:
    assert client.get(f"{API}/users/me/notifications").status_code == 401
    assert client.patch(f"{API}/users/me/notifications", json={}).status_code == 401
