"""Files on the pages: the new-ticket form, the portal's reply box and the desk composer take
them (the API's limits, errors shown on the page with nothing typed lost), the conversation
links them, and internal files never reach a customer."""

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import _settings
from tests.factories import API, People, count_rows, make_people, make_ticket, post_comment
from tests.web.pages import browser_for
from ticketdesk.attachments.models import Attachment
from ticketdesk.comments.models import TicketComment
from ticketdesk.config import Settings
from ticketdesk.main import create_app
from ticketdesk.tickets.models import Ticket

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
LINK = re.compile(r'href="(/attachments/[0-9a-f-]{36})"[^>]*>([^<]+)</a>')


def links(page: str) -> dict[str, str]:
    """File name -> download link of every attachment on the page."""
    return {name: href for href, name in LINK.findall(page)}


def test_a_new_ticket_with_files_shows_and_serves_them(client: TestClient, people: People) -> None:
    customer = browser_for(client, people["individual"])
    form = {"subject": "Screen broken", "description": "See the photo", "priority": "high"}
    files = [("file", ("photo.png", PNG)), ("file", ("notes.txt", b"line one\n"))]
    response = customer.post("/portal/tickets/new", form, files=files)
    assert response.status_code == 303, response.text
    number = response.headers["location"].rsplit("/", 1)[1]
    page = customer.get(f"/portal/tickets/{number}").text
    found = links(page)
    assert set(found) == {"photo.png", "notes.txt"}
    download = customer.get(found["notes.txt"])
    assert download.status_code == 200
    assert download.content == b"line one\n"
    assert download.headers["content-disposition"].startswith("attachment;")
    assert download.headers["x-content-type-options"] == "nosniff"
    agent = browser_for(client, people["agent"])
    assert set(links(agent.get(f"/desk/tickets/{number}").text)) == {"photo.png", "notes.txt"}
    assert agent.get(found["photo.png"]).content == PNG


def test_replies_carry_files_and_internal_ones_stay_with_staff(
    client: TestClient, people: People
) -> None:
    ticket = make_ticket(client, people["individual"])
    number = ticket["ticket_number"]
    customer = browser_for(client, people["individual"])
    agent = browser_for(client, people["agent"])
    sent = customer.post(
        f"/portal/tickets/{number}/reply",
        {"comment": "Here is the log"},
        files=[("file", ("app.log", b"ERROR 42\n"))],
    )
    assert sent.status_code == 303
    note = agent.post(
        f"/desk/tickets/{number}/comments",
        {"comment": "Our trace", "mode": "note"},
        files=[("file", ("trace-SECRET.txt", b"internal trace\n"))],
    )
    assert note.status_code == 303, note.text
    reply = agent.post(
        f"/desk/tickets/{number}/comments",
        {"comment": "Fixed, see the patch", "mode": "reply", "confirm": "yes"},
        files=[("file", ("patch.diff", b"--- a\n+++ b\n"))],
    )
    assert reply.status_code == 303, reply.text

    desk_page = agent.get(f"/desk/tickets/{number}").text
    assert set(links(desk_page)) == {"app.log", "trace-SECRET.txt", "patch.diff"}
    assert "Internal · staff only" in desk_page
    for url in (f"/portal/tickets/{number}", f"/portal/tickets/{number}/conversation"):
        page = customer.get(url).text
        assert set(links(page)) == {"app.log", "patch.diff"}, url
        assert "trace-SECRET" not in page
    secret = links(desk_page)["trace-SECRET.txt"]
    assert customer.get(secret).status_code == 404
    assert agent.get(secret).content == b"internal trace\n"
    api = client.get(f"{API}/tickets/{ticket['id']}/attachments", headers=people["agent"].headers)
    internal = {a["filename"]: a["is_internal"] for a in api.json()}
    assert internal == {"app.log": False, "trace-SECRET.txt": True, "patch.diff": False}


@pytest.mark.parametrize("role", ["enterprise", "sub_user", "other"])
def test_customers_get_404_for_files_of_tickets_not_theirs(
    client: TestClient, people: People, role: str
) -> None:
    ticket = make_ticket(client, people["individual"])
    owner = browser_for(client, people["individual"])
    owner.post(
        f"/portal/tickets/{ticket['ticket_number']}/reply",
        {"comment": "file"},
        files=[("file", ("mine.txt", b"mine"))],
    )
    link = links(owner.get(f"/portal/tickets/{ticket['ticket_number']}").text)["mine.txt"]
    assert browser_for(client, people[role]).get(link).status_code == 404
    assert owner.get("/attachments/not-a-uuid").status_code == 404
    anonymous = client.get(link, follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/login?next=/attachments/")


def test_a_refused_file_keeps_the_text_and_stores_nothing(
    client: TestClient, people: People
) -> None:
    customer = browser_for(client, people["individual"])
    form = {"subject": "Kept subject", "description": "Kept description"}
    response = customer.post(
        "/portal/tickets/new", form, files=[("file", ("run.exe", b"MZ\x90\x00" + b"\x00" * 60))]
    )
    assert response.status_code == 415
    assert "Attachments:" in response.text
    assert "executable" in response.text
    assert 'value="Kept subject"' in response.text
    assert "Kept description" in response.text
    assert count_rows(client, Ticket) == 0

    ticket = make_ticket(client, people["individual"])
    number = ticket["ticket_number"]
    reply = customer.post(
        f"/portal/tickets/{number}/reply",
        {"comment": "My kept reply"},
        files=[("file", ("tool.sh", b"#!/bin/sh\necho hi\n"))],
    )
    assert reply.status_code == 415
    assert "My kept reply" in reply.text
    agent = browser_for(client, people["agent"])
    note = agent.post(
        f"/desk/tickets/{number}/comments",
        {"comment": "My kept note", "mode": "note"},
        files=[("file", ("x.js", b"alert(1)"))],
    )
    assert note.status_code == 415
    assert "My kept note" in note.text
    assert count_rows(client, TicketComment) == 0
    assert count_rows(client, Attachment) == 0


@pytest.fixture
def small_limits(database_url: str, tmp_path: Path) -> Settings:
    settings = _settings(database_url, tmp_path)
    return settings.model_copy(
        update={"max_upload_mb": 0.001, "max_upload_request_mb": 0.5, "max_upload_files": 2}
    )


def test_page_uploads_have_the_api_limits(small_limits: Settings) -> None:
    with TestClient(create_app(small_limits)) as client:
        people = make_people(client)
        ticket = make_ticket(client, people["individual"])
        number = ticket["ticket_number"]
        customer = browser_for(client, people["individual"])
        big = customer.post(
            f"/portal/tickets/{number}/reply",
            {"comment": "Too big a file"},
            files=[("file", ("big.txt", b"x" * 2000))],
        )
        assert big.status_code == 413
        assert "larger than the limit" in big.text
        assert "Too big a file" in big.text
        many = customer.post(
            f"/portal/tickets/{number}/reply",
            {"comment": "Too many files"},
            files=[("file", (f"{i}.txt", b"x")) for i in range(3)],
        )
        assert many.status_code == 413
        assert "at most 2 files" in many.text
        whole = customer.post(
            f"/portal/tickets/{number}/reply",
            {"comment": "A huge request"},
            files=[("file", ("a.txt", b"x" * 600_000))],
        )
        assert whole.status_code == 413
        assert "A huge request" in whole.text
        assert count_rows(client, TicketComment) == 0
        assert count_rows(client, Attachment) == 0
        assert "2 files, 0.001 MiB each" in customer.get(f"/portal/tickets/{number}").text


def test_a_file_form_without_a_valid_token_is_refused(client: TestClient, people: People) -> None:
    ticket = make_ticket(client, people["individual"])
    customer = browser_for(client, people["individual"])
    response = customer.post(
        f"/portal/tickets/{ticket['ticket_number']}/reply",
        {"comment": "forged", "csrf_token": "wrong"},
        files=[("file", ("a.txt", b"a"))],
    )
    assert response.status_code == 403
    anonymous = client.post(
        f"/portal/tickets/{ticket['ticket_number']}/reply",
        data={"comment": "x"},
        files=[("file", ("a.txt", b"a"))],
        follow_redirects=False,
    )
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/login"
    assert count_rows(client, TicketComment) == 0
    assert count_rows(client, Attachment) == 0


def test_a_reply_held_back_by_a_newer_one_keeps_its_text(
    client: TestClient, people: People
) -> None:
    ticket = make_ticket(client, people["individual"])
    agent = browser_for(client, people["agent"])
    post_comment(client, people["super_admin"], ticket["id"], "Answered meanwhile")
    held = agent.post(
        f"/desk/tickets/{ticket['ticket_number']}/comments",
        {"comment": "Late reply", "mode": "reply", "seen_comment_id": "0"},
        files=[("file", ("late.txt", b"late"))],
    )
    assert held.status_code == 409
    assert "Late reply" in held.text
    assert "choose these files again: late.txt" in held.text  # a file input cannot be refilled
    assert count_rows(client, Attachment) == 0


def test_download_matrix_for_every_role(client: TestClient, people: People) -> None:
    """The owner sees the public file only; other customers neither; staff both."""
    ticket = make_ticket(client, people["individual"])
    uploaded = {}
    for name, internal in (("public.txt", "false"), ("internal.txt", "true")):
        response = client.post(
            f"{API}/tickets/{ticket['id']}/attachments",
            files=[("file", (name, name.encode()))],
            data={"is_internal": internal},
            headers=people["agent"].headers,
        )
        assert response.status_code == 201, response.text
        uploaded[name] = f"/attachments/{response.json()[0]['id']}"
    expected = {
        "individual": {"public.txt": 200, "internal.txt": 404},
        "enterprise": {"public.txt": 404, "internal.txt": 404},
        "sub_user": {"public.txt": 404, "internal.txt": 404},
        "other": {"public.txt": 404, "internal.txt": 404},
        "agent": {"public.txt": 200, "internal.txt": 200},
        "super_admin": {"public.txt": 200, "internal.txt": 200},
    }
    for role, statuses in expected.items():
        browser = browser_for(client, people[role])
        for name, status in statuses.items():
            assert browser.get(uploaded[name]).status_code == status, (role, name)
