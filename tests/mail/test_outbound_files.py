"""Mails of a public staff comment carry its public files: attached up to 10 MB in all, linked
beyond; an internal file never goes to a customer. Sent through a real SMTP server."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.factories import API, FakeClock, People, make_people, make_ticket, run_jobs
from tests.mail.conftest import SMTPSink
from ticketdesk.mail import compose

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
MB = 1024 * 1024


@pytest.fixture
def people(mail_client: TestClient, fake_clock: FakeClock) -> People:
    return make_people(mail_client)


def reply_with_files(
    client: TestClient, actor: Any, ticket_id: int, text: str, *files: tuple[str, bytes, str]
) -> dict[str, Any]:
    response = client.post(
        f"{API}/tickets/{ticket_id}/comments",
        data={"comment": text},
        files=[("file", (name, data, kind)) for name, data, kind in files],
        headers=actor.headers,
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def staff_reply_to(client: TestClient, sink: SMTPSink, address: str) -> Any:
    run_jobs(client)
    (mail,) = [d.message for d in sink.handler.to(address) if "Re:" in d.message["Subject"]]
    return mail


def files_in(mail: Any) -> dict[str, bytes]:
    return {part.get_filename(): part.get_content() for part in mail.iter_attachments()}


def test_a_staff_reply_mail_carries_its_files(
    mail_client: TestClient, people: People, smtp_sink: SMTPSink
) -> None:
    customer = people["individual"]
    ticket = make_ticket(mail_client, customer)
    reply_with_files(
        mail_client, people["agent"], ticket["id"], "Screenshot and manual attached.",
        ("screen.png", PNG, "image/png"), ("Handbuch für Sie.pdf", PDF, "application/pdf"),
    )  # fmt: skip
    mail = staff_reply_to(mail_client, smtp_sink, customer.email)
    assert files_in(mail) == {"screen.png": PNG, "Handbuch für Sie.pdf": PDF}
    assert [p.get_content_type() for p in mail.iter_attachments()] == [
        "image/png",
        "application/pdf",
    ]
    text = mail.get_body(("plain",)).get_content()
    assert "Screenshot and manual attached." in text
    assert "- screen.png (" in text and "attached" in text
    html = mail.get_body(("html",)).get_content()
    assert "Handbuch für Sie.pdf" in html and html.rstrip().endswith("</html>")


def test_an_internal_file_never_reaches_the_customer(
    mail_client: TestClient, people: People, smtp_sink: SMTPSink
) -> None:
    customer, agent = people["individual"], people["agent"]
    ticket = make_ticket(mail_client, customer)
    comment = reply_with_files(
        mail_client, agent, ticket["id"], "Here is the manual.", ("manual.pdf", PDF, "x/y")
    )
    # Before the mail leaves, an internal file is put on the same public comment.
    secret = b"SECRET-INTERNAL-" + PDF
    response = mail_client.post(
        f"{API}/tickets/{ticket['id']}/attachments",
        files=[("file", ("refund-notes.pdf", secret, "application/pdf"))],
        data={"comment_id": str(comment["id"]), "is_internal": "true"},
        headers=agent.headers,
    )
    assert response.status_code == 201, response.text
    mail = staff_reply_to(mail_client, smtp_sink, customer.email)
    assert files_in(mail) == {"manual.pdf": PDF}
    assert all(b"SECRET-INTERNAL" not in d.data for d in smtp_sink.deliveries)
    assert all(b"refund-notes" not in d.data for d in smtp_sink.deliveries)


def test_files_of_a_customer_comment_and_of_an_internal_note_are_not_mailed(
    mail_client: TestClient, people: People, smtp_sink: SMTPSink
) -> None:
    customer, agent = people["individual"], people["agent"]
    ticket = make_ticket(mail_client, customer)
    reply_with_files(mail_client, customer, ticket["id"], "My log", ("app.log", b"ERR", "x/y"))
    response = mail_client.post(
        f"{API}/tickets/{ticket['id']}/comments",
        data={"comment": "note", "is_internal": "true"},
        files=[("file", ("internal.pdf", b"SECRET-NOTE-" + PDF, "application/pdf"))],
        headers=agent.headers,
    )
    assert response.status_code == 201, response.text
    run_jobs(mail_client)
    assert smtp_sink.deliveries
    assert all(not list(d.message.iter_attachments()) for d in smtp_sink.deliveries)
    assert all(b"SECRET-NOTE" not in d.data for d in smtp_sink.deliveries)


def test_files_over_the_limit_are_linked_not_attached(
    mail_client: TestClient, people: People, smtp_sink: SMTPSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The same rule as at 10 MB, at a size a test can send quickly.
    monkeypatch.setattr(compose, "ATTACH_LIMIT_BYTES", len(PDF) + 10)
    customer = people["individual"]
    ticket = make_ticket(mail_client, customer)
    reply_with_files(
        mail_client, people["agent"], ticket["id"], "Two files.",
        ("first.pdf", PDF, "application/pdf"), ("second.png", PNG, "image/png"),
    )  # fmt: skip
    mail = staff_reply_to(mail_client, smtp_sink, customer.email)
    assert files_in(mail) == {"first.pdf": PDF}
    text = mail.get_body(("plain",)).get_content()
    number = ticket["ticket_number"]
    assert "second.png" in text and "too large to attach" in text
    assert f"https://help.example.com/portal/tickets/{number}#attachment-" in text
    html = mail.get_body(("html",)).get_content()
    assert f'href="https://help.example.com/portal/tickets/{number}#attachment-' in html


def test_files_are_attached_while_the_total_stays_within_ten_megabytes() -> None:
    files = [{"size": 6 * MB}, {"size": 5 * MB}, {"size": 4 * MB}, {"size": 1 * MB}]
    attached, linked = compose.split_files(files)
    assert attached == [files[0], files[2]]
    assert linked == [files[1], files[3]]
    attached, linked = compose.split_files([{"size": 10 * MB}, {"size": 1}])
    assert (len(attached), len(linked)) == (1, 1)
