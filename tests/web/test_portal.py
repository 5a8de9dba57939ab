"""The customer portal through its forms: submit, follow, reply, close, reopen."""

from fastapi.testclient import TestClient

from tests.factories import API, People, count_rows, make_ticket, set_status
from tests.web.pages import browser_for, visible_text
from ticketdesk.tickets.models import Ticket

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_new_ticket_form_has_the_contract_fields(client: TestClient, people: People) -> None:
    page = browser_for(client, people["individual"]).get("/portal/tickets/new").text
    for label in ("Subject", "Description", "Priority", "Category", "Tags"):
        assert f">{label}</label>" in page
    assert ">Submit ticket</button>" in page


def test_submit_a_ticket_and_land_on_its_page(client: TestClient, people: People) -> None:
    browser = browser_for(client, people["individual"])
    form = {
        "subject": "Unable to generate report",
        "description": "First line\nSecond line",
        "priority": "high",
        "category": "technical_support",
        "tags": "report, Error",
    }
    response = browser.post("/portal/tickets/new", form)
    assert response.status_code == 303
    number = response.headers["location"].rsplit("/", 1)[1]
    assert number.startswith("TKT-")
    ticket = client.get(f"{API}/tickets/{number}", headers=people["individual"].headers).json()
    assert ticket["priority"] == "high"
    assert ticket["category"] == "technical_support"
    assert ticket["tags"] == ["report", "error"]
    page = browser.get(f"/portal/tickets/{number}").text
    assert "First line\nSecond line" in page
    assert number in browser.get("/portal").text


def test_an_invalid_ticket_keeps_the_input_and_says_why(client: TestClient, people: People) -> None:
    browser = browser_for(client, people["individual"])
    form = {"subject": "   ", "description": "Kept text", "priority": "panic"}
    response = browser.post("/portal/tickets/new", form)
    assert response.status_code == 422
    assert "Subject:" in response.text
    assert "Priority:" in response.text
    assert "Kept text" in response.text
    assert count_rows(client, Ticket) == 0


def test_customer_text_is_shown_literally(client: TestClient, people: People) -> None:
    ticket = make_ticket(client, people["individual"], subject=HOSTILE, description=HOSTILE)
    browser = browser_for(client, people["individual"])
    browser.post(f"/portal/tickets/{ticket['ticket_number']}/reply", {"comment": HOSTILE})
    for url in ("/portal", f"/portal/tickets/{ticket['ticket_number']}"):
        page = browser.get(url).text
        assert "<script>alert" not in page
        assert "<img src=x" not in page
        assert HOSTILE in visible_text(page)
    agent = browser_for(client, people["agent"])
    for url in ("/desk?view=all_open", f"/desk/tickets/{ticket['ticket_number']}"):
        page = agent.get(url).text
        assert "<script>alert" not in page
        assert "&lt;script&gt;" in page


def test_reply_close_and_reopen(client: TestClient, people: People) -> None:
    ticket = make_ticket(client, people["individual"])
    number = ticket["ticket_number"]
    browser = browser_for(client, people["individual"])
    page = browser.get(f"/portal/tickets/{number}").text
    assert ">Reply</label>" in page and ">Send</button>" in page
    assert "Close ticket" not in page and ">Reopen<" not in page
    response = browser.post(f"/portal/tickets/{number}/reply", {"comment": "More detail"})
    assert response.status_code == 303
    assert "More detail" in browser.get(f"/portal/tickets/{number}").text
    set_status(client, people["agent"], ticket["id"], "resolved")
    page = browser.get(f"/portal/tickets/{number}").text
    assert "Close ticket" in page and ">Reopen<" in page
    assert browser.post(f"/portal/tickets/{number}/close").status_code == 303
    got = client.get(f"{API}/tickets/{ticket['id']}", headers=people["individual"].headers)
    assert got.json()["status"] == "closed"
    page = browser.get(f"/portal/tickets/{number}").text
    assert "Close ticket" not in page and ">Reopen<" in page
    assert browser.post(f"/portal/tickets/{number}/reopen").status_code == 303
    got = client.get(f"{API}/tickets/{ticket['id']}", headers=people["individual"].headers)
    assert got.json()["status"] == "reopened"


def test_closing_an_unresolved_ticket_is_refused_with_a_page(
    client: TestClient, people: People
) -> None:
    ticket = make_ticket(client, people["individual"])
    browser = browser_for(client, people["individual"])
    response = browser.post(f"/portal/tickets/{ticket['ticket_number']}/close")
    assert response.status_code == 403
    assert "text/html" in response.headers["content-type"]


def test_an_empty_reply_is_refused_and_nothing_is_written(
    client: TestClient, people: People
) -> None:
    ticket = make_ticket(client, people["individual"])
    browser = browser_for(client, people["individual"])
    response = browser.post(f"/portal/tickets/{ticket['ticket_number']}/reply", {"comment": " "})
    assert response.status_code == 422
    assert "Message:" in response.text


def test_filter_by_status_and_search(client: TestClient, people: People) -> None:
    make_ticket(client, people["individual"], subject="Printer on fire")
    done = make_ticket(client, people["individual"], subject="Billing question")
    set_status(client, people["agent"], done["id"], "resolved")
    browser = browser_for(client, people["individual"])
    page = browser.get("/portal?status=resolved").text
    assert "Billing question" in page and "Printer on fire" not in page
    page = browser.get("/portal?q=printer").text
    assert "Printer on fire" in page and "Billing question" not in page
    assert browser.get("/portal?status=bogus").status_code == 422


def test_every_portal_form_needs_the_csrf_token(client: TestClient, people: People) -> None:
    ticket = make_ticket(client, people["individual"])
    set_status(client, people["agent"], ticket["id"], "resolved")
    browser = browser_for(client, people["individual"])
    number = ticket["ticket_number"]
    for url, data in (
        ("/portal/tickets/new", {"subject": "s", "description": "d"}),
        (f"/portal/tickets/{number}/reply", {"comment": "c"}),
        (f"/portal/tickets/{number}/close", {}),
        (f"/portal/tickets/{number}/reopen", {}),
    ):
        assert browser.post(url, data, csrf=False).status_code == 403, url
        assert browser.post(url, data | {"csrf_token": "forged"}).status_code == 403, url
    other = browser_for(client, people["individual"])
    response = browser.post(f"/portal/tickets/{number}/close", {"csrf_token": other.csrf})
    assert response.status_code == 403
    assert count_rows(client, Ticket) == 1
    got = client.get(f"{API}/tickets/{ticket['id']}", headers=people["individual"].headers)
    assert got.json()["status"] == "resolved"
    assert got.json()["comments_count"] == 0
