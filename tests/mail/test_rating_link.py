"""The resolved-ticket mail asks "How did we do?" with signed links to the rating page: opening
a link records nothing, the page's POST does (FEATURES.md)."""

import re
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from tests.factories import API, FakeClock, People, make_people, make_ticket, run_jobs, set_status
from tests.mail.conftest import SMTPSink


@pytest.fixture
def people(mail_client: TestClient, fake_clock: FakeClock) -> People:
    return make_people(mail_client)


def status_mails(client: TestClient, sink: SMTPSink, address: str) -> list[str]:
    run_jobs(client)
    return [
        d.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        for d in sink.handler.to(address)
        if "now:" in d.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    ]


def test_the_resolved_mail_carries_the_rating_links(
    mail_client: TestClient, people: People, smtp_sink: SMTPSink
) -> None:
    customer, agent = people["individual"], people["agent"]
    ticket = make_ticket(mail_client, customer)
    set_status(mail_client, agent, ticket["id"], "waiting_on_customer")
    set_status(mail_client, agent, ticket["id"], "resolved")
    waiting, resolved = status_mails(mail_client, smtp_sink, customer.email)
    assert "How did we do?" not in waiting and "/satisfaction/" not in waiting
    assert "How did we do?" in resolved
    good = re.search(r"Good: (\S+)", resolved).group(1)  # type: ignore[union-attr]
    bad = re.search(r"Bad: (\S+)", resolved).group(1)  # type: ignore[union-attr]
    assert good.startswith("https://help.example.com/satisfaction/") and good.endswith("=good")
    assert bad.endswith("=bad")
    path = urlsplit(good)
    # A mail scanner opening the link records nothing.
    page = mail_client.get(f"{path.path}?{path.query}")
    assert page.status_code == 200
    rating = f"{API}/tickets/{ticket['id']}/satisfaction"
    assert mail_client.get(rating, headers=customer.headers).json()["rating"] is None
    posted = mail_client.post(path.path, data={"rating": "good", "comment": "Quick, thanks"})
    assert posted.status_code == 200, posted.text
    assert mail_client.get(rating, headers=customer.headers).json()["rating"] == "good"


def test_a_rating_link_names_one_ticket_and_its_customer(
    mail_client: TestClient, people: People, smtp_sink: SMTPSink
) -> None:
    customer, other, agent = people["individual"], people["other"], people["agent"]
    mine = make_ticket(mail_client, customer)
    theirs = make_ticket(mail_client, other)
    set_status(mail_client, agent, mine["id"], "resolved")
    set_status(mail_client, agent, theirs["id"], "resolved")
    (text,) = status_mails(mail_client, smtp_sink, customer.email)
    token = urlsplit(re.search(r"Bad: (\S+)", text).group(1)).path  # type: ignore[union-attr]
    assert mail_client.post(token, data={"rating": "bad"}).status_code == 200
    mine_rating = f"{API}/tickets/{mine['id']}/satisfaction"
    theirs_rating = f"{API}/tickets/{theirs['id']}/satisfaction"
    assert mail_client.get(mine_rating, headers=customer.headers).json()["rating"] == "bad"
    assert mail_client.get(theirs_rating, headers=other.headers).json()["rating"] is None
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    assert mail_client.post(tampered, data={"rating": "good"}).status_code == 404
