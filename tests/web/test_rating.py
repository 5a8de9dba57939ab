"""The satisfaction rating on the pages: offered to the ticket's customer on a resolved ticket,
given and changed there while the API allows it, shown on the desk, never for anyone else."""

from fastapi.testclient import TestClient

from tests.factories import API, FakeClock, People, make_ticket, set_status, ticket_in_status
from tests.web.pages import browser_for, visible_text


def words(page: str) -> str:
    return " ".join(visible_text(page).split())


def test_a_resolved_ticket_offers_the_rating_and_records_it(
    client: TestClient, people: People
) -> None:
    ticket = make_ticket(client, people["individual"])
    number = ticket["ticket_number"]
    customer = browser_for(client, people["individual"])
    assert "How did we do?" not in customer.get(f"/portal/tickets/{number}").text
    for step in ("in_progress", "resolved"):
        set_status(client, people["agent"], ticket["id"], step)
    page = customer.get(f"/portal/tickets/{number}").text
    assert "How did we do?" in page
    assert ">Send rating</button>" in page

    response = customer.post(
        f"/portal/tickets/{number}/rating", {"rating": "good", "comment": "Quick <b>fix</b>"}
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/portal/tickets/{number}#rating"
    api = client.get(
        f"{API}/tickets/{ticket['id']}/satisfaction", headers=people["individual"].headers
    )
    assert api.json()["rating"] == "good"
    assert api.json()["comment"] == "Quick <b>fix</b>"
    page = customer.get(f"/portal/tickets/{number}").text
    assert "You rated this: Good" in words(page)
    assert "<b>fix</b>" not in page  # shown as text
    assert "Change your rating" in page

    changed = customer.post(f"/portal/tickets/{number}/rating", {"rating": "bad"})
    assert changed.status_code == 303
    desk = words(browser_for(client, people["agent"]).get(f"/desk/tickets/{number}").text)
    assert "Rated: Bad" in desk
    assert "Send rating" not in desk


def test_a_missing_choice_is_shown_on_the_page(client: TestClient, people: People) -> None:
    ticket = ticket_in_status(client, people, "resolved")
    customer = browser_for(client, people["individual"])
    response = customer.post(f"/portal/tickets/{ticket['ticket_number']}/rating", {"rating": ""})
    assert response.status_code == 422
    assert "Choose Good or Bad" in response.text


def test_the_rating_closes_seven_days_after_the_ticket_closes(
    client: TestClient, people: People, fake_clock: FakeClock
) -> None:
    ticket = ticket_in_status(client, people, "closed")
    number = ticket["ticket_number"]
    customer = browser_for(client, people["individual"])
    assert "How did we do?" in customer.get(f"/portal/tickets/{number}").text
    fake_clock.advance(days=7, seconds=1)
    customer = browser_for(client, people["individual"])
    assert "How did we do?" not in customer.get(f"/portal/tickets/{number}").text
    late = customer.post(f"/portal/tickets/{number}/rating", {"rating": "good"})
    assert late.status_code == 409
    assert "closed more than 7 days ago" in late.text


def test_only_the_tickets_customer_rates(client: TestClient, people: People) -> None:
    ticket = ticket_in_status(client, people, "resolved")
    number = ticket["ticket_number"]
    for role in ("enterprise", "sub_user", "other"):
        browser = browser_for(client, people[role])
        assert browser.post(f"/portal/tickets/{number}/rating", {"rating": "bad"}).status_code == (
            404
        ), role
    agent = browser_for(client, people["agent"])
    assert agent.post(f"/portal/tickets/{number}/rating", {"rating": "bad"}).status_code == 403
    assert "How did we do?" not in agent.get(f"/desk/tickets/{number}").text
    api = client.get(f"{API}/tickets/{ticket['id']}/satisfaction", headers=people["agent"].headers)
    assert api.json()["rating"] is None
