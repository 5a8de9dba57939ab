"""Every page and every role: who sees what, the 404s customers get, and no internal note or
staff-only ticket in any customer page."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.factories import CUSTOMER_ROLES, STAFF_ROLES, People, make_ticket, post_comment
from tests.web.pages import browser_for

pytestmark = pytest.mark.shared_database

VIEWS = ("my_open", "unassigned", "all_open", "waiting", "breaching", "recent")


@pytest.fixture(scope="module")
def world(module_client: TestClient, module_people: People) -> dict[str, Any]:
    """Each customer's own ticket with a reply and an internal note; a staff-only ticket filed
    for the individual customer; the other customer's ticket."""
    client, people = module_client, module_people
    tickets = {role: make_ticket(client, people[role]) for role in CUSTOMER_ROLES}
    for ticket in tickets.values():
        post_comment(client, people["agent"], ticket["id"], "PUBLIC-REPLY")
        post_comment(client, people["agent"], ticket["id"], "SECRET-NOTE", is_internal=True)
    tickets["other"] = make_ticket(client, people["other"], subject="OTHER-CUSTOMER")
    tickets["staff_only"] = make_ticket(
        client,
        people["agent"],
        subject="STAFF-ONLY-SUBJECT",
        user_id=people["individual"].id,
        is_internal=True,
    )
    return tickets


def pages_of(ticket: dict[str, Any]) -> list[str]:
    number = ticket["ticket_number"]
    return [
        "/portal",
        "/portal/tickets/new",
        f"/portal/tickets/{number}",
        f"/portal/tickets/{number}/conversation",
        *(f"/desk?view={view}" for view in VIEWS),
        f"/desk/tickets/{number}",
        f"/desk/tickets/{number}/conversation",
    ]


def test_anonymous_visitors_are_sent_to_login_from_every_page(
    client: TestClient, world: dict[str, Any]
) -> None:
    for url in pages_of(world["individual"]):
        response = client.get(url, follow_redirects=False)
        assert response.status_code == 303, url
        assert response.headers["location"].startswith("/login?next=/"), url


@pytest.mark.parametrize("role", CUSTOMER_ROLES)
def test_customers_see_their_portal_and_nothing_of_the_desk(
    client: TestClient, people: People, world: dict[str, Any], role: str
) -> None:
    browser = browser_for(client, people[role])
    number = world[role]["ticket_number"]
    for url in ("/portal", "/portal/tickets/new", f"/portal/tickets/{number}"):
        assert browser.get(url).status_code == 200, url
    assert browser.get(f"/portal/tickets/{number}/conversation").status_code == 200
    for url in ("/desk", *(f"/desk?view={v}" for v in VIEWS), f"/desk/tickets/{number}"):
        assert browser.get(url).status_code == 404, url
    assert browser.get(f"/desk/tickets/{number}/conversation").status_code == 404


@pytest.mark.parametrize("role", CUSTOMER_ROLES)
def test_customers_get_404_for_tickets_not_theirs(
    client: TestClient, people: People, world: dict[str, Any], role: str
) -> None:
    browser = browser_for(client, people[role])
    others = [world["other"], world["staff_only"]]
    others += [world[r] for r in CUSTOMER_ROLES if r != role]
    for ticket in others:
        for url in pages_of(ticket)[2:4]:
            assert browser.get(url).status_code == 404, url
        number = ticket["ticket_number"]
        for action in ("reply", "close", "reopen"):
            response = browser.post(f"/portal/tickets/{number}/{action}", {"comment": "hi"})
            assert response.status_code == 404, action


@pytest.mark.parametrize("role", CUSTOMER_ROLES)
def test_no_internal_note_or_staff_only_ticket_reaches_a_customer_page(
    client: TestClient, people: People, world: dict[str, Any], role: str
) -> None:
    browser = browser_for(client, people[role])
    number = world[role]["ticket_number"]
    for url in (
        "/portal",
        "/portal?q=STAFF",
        f"/portal/tickets/{number}",
        f"/portal/tickets/{number}/conversation",
    ):
        page = browser.get(url).text
        assert "SECRET-NOTE" not in page, url
        assert "Internal note" not in page, url
        assert "STAFF-ONLY-SUBJECT" not in page, url
        assert "OTHER-CUSTOMER" not in page, url
    assert "PUBLIC-REPLY" in browser.get(f"/portal/tickets/{number}").text


@pytest.mark.parametrize("role", CUSTOMER_ROLES)
def test_customers_cannot_use_desk_actions(
    client: TestClient, people: People, world: dict[str, Any], role: str
) -> None:
    browser = browser_for(client, people[role])
    number = world[role]["ticket_number"]
    posts = {
        f"/desk/tickets/{number}/comments": {"comment": "x", "mode": "note"},
        f"/desk/tickets/{number}/take": {},
        f"/desk/tickets/{number}/properties": {"status": "closed"},
        "/desk/bulk": {"action": "status:closed", "ticket_ids": str(world[role]["id"])},
    }
    for url, data in posts.items():
        assert browser.post(url, data).status_code == 404, url
    ticket = client.get(
        f"/api/v1/tickets/{world[role]['id']}", headers=people["agent"].headers
    ).json()
    assert ticket["status"] == "in_progress"
    assert ticket["assigned_to_id"] is None


@pytest.mark.parametrize("role", STAFF_ROLES)
def test_staff_see_every_desk_page_and_are_sent_from_the_portal(
    client: TestClient, people: People, world: dict[str, Any], role: str
) -> None:
    browser = browser_for(client, people[role])
    for ticket in (world["individual"], world["staff_only"], world["other"]):
        number = ticket["ticket_number"]
        for url in (*(f"/desk?view={v}" for v in VIEWS), f"/desk/tickets/{number}"):
            assert browser.get(url).status_code == 200, url
        page = browser.get(f"/desk/tickets/{number}").text
        assert number in page
        assert browser.get(f"/portal/tickets/{number}").headers["location"] == (
            f"/desk/tickets/{number}"
        )
    assert browser.get("/portal").headers["location"] == "/desk"
    note_page = browser.get(f"/desk/tickets/{world['individual']['ticket_number']}").text
    assert "SECRET-NOTE" in note_page
    assert "Internal note · staff only" in note_page
    assert browser.get("/desk/tickets/TKT-20990101-0001").status_code == 404


def test_bulk_actions_are_the_super_admins(
    client: TestClient, people: People, world: dict[str, Any]
) -> None:
    ids = [world["individual"]["id"], world["other"]["id"]]
    form = {"action": "priority:urgent", "ticket_ids": [str(i) for i in ids], "next": "/desk"}
    agent = browser_for(client, people["agent"])
    assert agent.post("/desk/bulk", form).status_code == 403
    assert "Bulk action" not in agent.get("/desk").text
    admin = browser_for(client, people["super_admin"])
    assert "Bulk action" in admin.get("/desk").text
    response = admin.post("/desk/bulk", form)
    assert response.status_code == 303
    for ticket_id in ids:
        got = client.get(f"/api/v1/tickets/{ticket_id}", headers=people["agent"].headers)
        assert got.json()["priority"] == "urgent"
