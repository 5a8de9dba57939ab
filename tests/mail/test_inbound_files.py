"""Files of received mail: attachments, inline images and forwarded mails become the ticket's
(or the reply's) attachments under the upload rules; a refused file never loses the mail."""

from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.attachments.test_clamd import MARKER, SIGNATURE, clamd  # noqa: F401
from tests.conftest import _settings
from tests.factories import API, FakeClock, People, count_rows, in_db, make_ticket, rows_of
from tests.mail.conftest import IMAPServer, free_port, inbound_row, post_mail, process_mail
from tests.mail.test_imap import poll
from ticketdesk import clock
from ticketdesk.attachments.models import Attachment
from ticketdesk.config import Settings
from ticketdesk.mail import inbound
from ticketdesk.mail.config import mail_config
from ticketdesk.mail.models import InboundStatus
from ticketdesk.tickets.models import TicketActivity

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
LIMIT_BYTES = 50_000


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Files up to ~50 kB, so that a mail can carry one too large."""
    return _settings(database_url, tmp_path).model_copy(
        update={"max_upload_mb": LIMIT_BYTES / (1024 * 1024)}
    )


def mail(
    sender: str,
    msgid: str,
    *,
    subject: str = "Invoice question",
    text: str = "Please see the attached invoice.",
    html: str | None = None,
    files: list[tuple[str, str, bytes]] = (),  # type: ignore[assignment]
    inline: list[tuple[str, str, bytes]] = (),  # type: ignore[assignment]
    forwarded: EmailMessage | None = None,
    in_reply_to: str | None = None,
) -> bytes:
    message = EmailMessage()
    message["From"] = f"Dana <{sender}>"
    message["To"] = "support@example.com"
    message["Subject"] = subject
    message["Message-ID"] = f"<{msgid}@example.org>"
    if in_reply_to:
        message["In-Reply-To"] = message["References"] = in_reply_to
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
        body = message.get_payload()[1]  # type: ignore[index]
        for cid, name, data in inline:
            body.add_related(data, "image", "png", cid=f"<{cid}>", filename=name or None)
    for name, kind, data in files:
        main, _, sub = kind.partition("/")
        message.add_attachment(data, maintype=main, subtype=sub, filename=name)
    if forwarded is not None:
        message.add_attachment(forwarded)
    return message.as_bytes()


def receive(client: TestClient, people: People, raw: bytes) -> Any:
    accepted = post_mail(client, people["super_admin"], raw)
    process_mail(client)
    return inbound_row(client, accepted["id"])


def files_of(client: TestClient, actor: Any, ticket_id: int) -> list[dict[str, Any]]:
    response = client.get(f"{API}/tickets/{ticket_id}/attachments", headers=actor.headers)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def content(client: TestClient, actor: Any, attachment: dict[str, Any]) -> bytes:
    response = client.get(f"{API}/attachments/{attachment['id']}/content", headers=actor.headers)
    assert response.status_code == 200, response.text
    return response.content


def test_a_new_mail_brings_its_files_inline_images_and_forwarded_mail(
    client: TestClient, people: People
) -> None:
    customer = people["individual"]
    forwarded = EmailMessage()
    forwarded["From"] = "billing@vendor.example"
    forwarded["Subject"] = "Your invoice"
    forwarded.set_content("Amount due: 12 EUR")
    raw = mail(
        customer.email,
        "files-1",
        html='<p>See <img src="cid:logo1"> and <img src="https://tracker.example/p.gif"></p>',
        inline=[("logo1", "", PNG)],
        files=[("invoice.pdf", "application/pdf", PDF)],
        forwarded=forwarded,
    )
    row = receive(client, people, raw)
    assert (row.status, row.error) == (InboundStatus.PROCESSED, None)
    found = files_of(client, customer, row.ticket_id)
    assert [(f["filename"], f["comment_id"]) for f in found] == [
        ("image-1.png", None),
        ("invoice.pdf", None),
        ("message-3.eml", None),
    ]
    assert [f["content_type"] for f in found[:2]] == ["image/png", "application/pdf"]
    assert [f["is_internal"] for f in found] == [False, False, False]
    assert content(client, customer, found[1]) == PDF
    assert b"Amount due: 12 EUR" in content(client, customer, found[2])
    ticket = client.get(f"{API}/tickets/{row.ticket_id}", headers=customer.headers).json()
    assert ticket["attachments_count"] == 3
    # The description is the text part: no markup, nothing fetched from elsewhere.
    assert ticket["description"] == "Please see the attached invoice."


def test_an_html_only_mail_keeps_its_images_and_references_nothing_remote(
    client: TestClient, people: People
) -> None:
    customer = people["individual"]
    message = EmailMessage()
    message["From"], message["To"] = customer.email, "support@example.com"
    message["Subject"], message["Message-ID"] = "Screenshot", "<html-1@example.org>"
    message.set_content(
        '<p>Look:<img src="cid:shot"><img src="http://tracker.example/x.gif"></p>'
        "<script>alert(1)</script>",
        subtype="html",
    )
    message.add_related(PNG, "image", "png", cid="<shot>", filename="shot.png")
    row = receive(client, people, message.as_bytes())
    assert row.status == InboundStatus.PROCESSED
    ticket = client.get(f"{API}/tickets/{row.ticket_id}", headers=customer.headers).json()
    assert "tracker.example" not in ticket["description"]
    assert "<" not in ticket["description"] and "alert" not in ticket["description"]
    assert [f["filename"] for f in files_of(client, customer, row.ticket_id)] == ["shot.png"]


def test_a_reply_by_mail_puts_its_files_on_the_comment(client: TestClient, people: People) -> None:
    customer = people["individual"]
    ticket = make_ticket(client, customer)
    raw = mail(
        customer.email,
        "reply-files",
        subject=f"Re: [{ticket['ticket_number']}] {ticket['subject']}",
        files=[("log.txt", "text/plain", b"line 1\nline 2\n")],
    )
    row = receive(client, people, raw)
    assert row.status == InboundStatus.PROCESSED and row.comment_id is not None
    comments = client.get(f"{API}/tickets/{ticket['id']}/comments", headers=customer.headers).json()
    (comment,) = [c for c in comments if c["id"] == row.comment_id]
    assert [a["filename"] for a in comment["attachments"]] == ["log.txt"]
    assert content(client, customer, comment["attachments"][0]) == b"line 1\nline 2\n"


def test_refused_files_are_left_out_and_named_but_the_mail_is_kept(
    client: TestClient, people: People
) -> None:
    customer = people["individual"]
    raw = mail(
        customer.email,
        "refused-1",
        files=[
            ("setup.exe", "application/octet-stream", b"MZ\x90\x00" + b"\x00" * 60),
            ("huge.pdf", "application/pdf", PDF + b"x" * LIMIT_BYTES),
            ("ok.pdf", "application/pdf", PDF),
        ],
    )
    row = receive(client, people, raw)
    assert row.status == InboundStatus.PROCESSED and row.ticket_id is not None
    assert "'setup.exe' refused" in row.error and "'huge.pdf' refused" in row.error
    assert "ok.pdf" not in row.error
    assert [f["filename"] for f in files_of(client, customer, row.ticket_id)] == ["ok.pdf"]
    refused = [
        a.details["filename"]
        for a in rows_of(client, TicketActivity, row.ticket_id)
        if a.kind == "attachment_refused"
    ]
    assert refused == ["setup.exe", "huge.pdf"]
    # The refused bytes stay in the stored raw mail.
    raw_back = client.get(
        f"{API}/mail/inbound/{row.id}/raw", headers=people["super_admin"].headers
    ).content
    assert b"setup.exe" in raw_back
    # Staff see why in the activity trail; a customer does not.
    activity = client.get(f"{API}/tickets/{row.ticket_id}/activity", headers=customer.headers)
    assert "attachment_refused" not in activity.text


def test_a_mail_from_a_stranger_about_a_ticket_gives_them_no_files_on_it(
    client: TestClient, people: People
) -> None:
    owner, stranger = people["individual"], people["other"]
    ticket = make_ticket(client, owner)
    raw = mail(
        stranger.email,
        "stranger-1",
        subject=f"[{ticket['ticket_number']}] {ticket['subject']}",
        files=[("evil.pdf", "application/pdf", PDF)],
    )
    row = receive(client, people, raw)
    assert row.ticket_id != ticket["id"]
    assert files_of(client, owner, ticket["id"]) == []
    assert [f["filename"] for f in files_of(client, stranger, row.ticket_id)] == ["evil.pdf"]


def test_mail_files_arrive_by_imap_too(
    client: TestClient, settings: Settings, people: People, imap_server: IMAPServer
) -> None:
    customer = people["individual"]
    settings = settings.model_copy(update={"imap_url": imap_server.url})
    raw = mail(customer.email, "imap-files", files=[("invoice.pdf", "application/pdf", PDF)])
    imap_server.append(raw)
    assert poll(client, settings) == 1
    process_mail(client)
    ticket_id = in_db(client, _last_ticket_id)
    (found,) = files_of(client, customer, ticket_id)
    assert found["filename"] == "invoice.pdf" and content(client, customer, found) == PDF


async def _last_ticket_id(session: Any) -> int:
    from sqlalchemy import func, select

    from ticketdesk.tickets.models import Ticket

    return int(await session.scalar(select(func.max(Ticket.id))))


@pytest.mark.parametrize("transport", ["tcp"])
def test_an_infected_file_is_refused_and_the_rest_kept(
    client: TestClient,
    settings: Settings,
    people: People,
    clamd: dict[str, str],  # noqa: F811
    transport: str,
) -> None:
    client.app.state.settings = settings.model_copy(update={"clamd_url": clamd[transport]})  # type: ignore[attr-defined]
    customer = people["individual"]
    raw = mail(
        customer.email,
        "virus-1",
        files=[("eicar.txt", "text/plain", b"hello " + MARKER), ("ok.pdf", "application/pdf", PDF)],
    )
    row = receive(client, people, raw)
    assert row.status == InboundStatus.PROCESSED
    assert SIGNATURE in row.error and "'eicar.txt' refused" in row.error
    assert [f["filename"] for f in files_of(client, customer, row.ticket_id)] == ["ok.pdf"]


def test_without_a_virus_scanner_the_mail_waits_and_nothing_is_stored_unscanned(
    client: TestClient, settings: Settings, people: People, fake_clock: FakeClock
) -> None:
    down = settings.model_copy(update={"clamd_url": f"tcp://127.0.0.1:{free_port()}"})
    client.app.state.settings = down  # type: ignore[attr-defined]
    customer = people["individual"]
    raw = mail(customer.email, "noscan-1", files=[("ok.pdf", "application/pdf", PDF)])
    row = receive(client, people, raw)
    # The job failed and will run again: no ticket yet, the mail still waits.
    assert (row.status, row.ticket_id) == (InboundStatus.RECEIVED, None)

    async def last_try(session: Any) -> Any:
        return await inbound.process(
            session, mail_config(down), row.id, settings=down, now=clock.now(), last_attempt=True
        )

    in_db(client, last_try)
    row = inbound_row(client, row.id)
    assert row.status == InboundStatus.FAILED and "reprocess" in row.error
    assert count_rows(client, Attachment) == 0
    # Once the scanner is back (here: no scanner configured), reprocessing files the ticket.
    client.app.state.settings = settings  # type: ignore[attr-defined]
    response = client.post(
        f"{API}/mail/inbound/{row.id}/reprocess", headers=people["super_admin"].headers
    )
    assert response.status_code == 202, response.text
    fake_clock.advance(hours=2)  # the waiting job's next try
    process_mail(client)
    row = inbound_row(client, row.id)
    assert row.status == InboundStatus.PROCESSED
    assert [f["filename"] for f in files_of(client, customer, row.ticket_id)] == ["ok.pdf"]
