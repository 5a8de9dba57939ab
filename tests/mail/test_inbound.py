"""Received mail becomes a ticket or a comment, only where its sender is allowed; automatic
mail changes nothing; bounces fail and suppress; every mail is processed once."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.factories import (
    API,
    FakeClock,
    People,
    count_rows,
    fetch_ticket,
    footprint,
    in_db,
    make_people,
    make_ticket,
    make_user,
    rows_of,
    ticket_in_status,
    ticket_row,
)
from tests.mail.conftest import corpus, inbound_row, post_mail, process_mail
from tests.mail.test_sender import queue, rows, send
from ticketdesk.auth.models import User
from ticketdesk.comments.models import TicketComment
from ticketdesk.config import Settings
from ticketdesk.mail import signing
from ticketdesk.mail.config import mail_config
from ticketdesk.mail.models import InboundStatus, MailSuppression, OutboxStatus
from ticketdesk.tickets.models import Ticket


def receive(client: TestClient, people: People, raw: bytes) -> Any:
    """Posts the mail, processes it, returns its inbound row."""
    accepted = post_mail(client, people["super_admin"], raw)
    process_mail(client)
    return inbound_row(client, accepted["id"])


def reply(
    client: TestClient,
    sender: str,
    ticket: dict[str, Any],
    *,
    name: str = "gmail_reply.eml",
    msgid: str = "r1",
    subject: str | None = None,
    in_reply_to: str = "<unrelated@example.org>",
    to: str = "support@example.com",
) -> bytes:
    return corpus(
        name,
        FROM=sender,
        TO=to,
        SUBJECT=subject
        if subject is not None
        else f"[{ticket['ticket_number']}] {ticket['subject']}",
        IN_REPLY_TO=in_reply_to,
        REFERENCES=in_reply_to,
        MSGID=msgid,
    )


def our_id(client: TestClient, ticket_id: int, outbox_id: int = 0) -> str:
    config = mail_config(client.app.state.settings)  # type: ignore[attr-defined]
    return signing.message_id(config, ticket_id, outbox_id)


def comments_of(client: TestClient, ticket_id: int) -> list[TicketComment]:
    return rows_of(client, TicketComment, ticket_id)  # type: ignore[no-any-return]


def test_mail_from_an_unknown_sender_opens_a_ticket_and_an_account_without_password(
    client: TestClient, people: People, fake_clock: FakeClock
) -> None:
    raw = corpus("new_request.eml", FROM="dana@example.org", MSGID="new-1@example.org")
    row = receive(client, people, raw)
    assert row.status == InboundStatus.PROCESSED and row.error is None
    ticket = ticket_row(client, row.ticket_id)
    assert ticket.subject == "Printer on floor 3 is jammed"
    assert ticket.description.startswith("Hello,\n\nthe printer on floor 3 shows")
    assert (ticket.category, ticket.priority, ticket.status) == (
        "general_inquiry",
        "medium",
        "open",
    )
    owner = in_db(client, lambda s: s.get(User, ticket.user_id))
    assert (owner.email, owner.full_name, owner.role) == (
        "dana@example.org",
        "Dana Customer",
        "individual",
    )
    login = client.post(f"{API}/auth/login", json={"email": owner.email, "password": "!"})
    assert login.status_code == 401


def test_unknown_senders_are_rejected_when_switched_off(
    settings: Settings, people: People, fake_clock: FakeClock
) -> None:
    from ticketdesk.main import create_app

    closed = settings.model_copy(update={"mail_accept_unknown_senders": False})
    with TestClient(create_app(closed)) as client:
        admin = make_user(client, "super_admin")
        accepted = post_mail(
            client, admin, corpus("new_request.eml", FROM="x@example.org", MSGID="a")
        )
        process_mail(client)
        row = inbound_row(client, accepted["id"])
        assert row.status == InboundStatus.REJECTED
        assert count_rows(client, Ticket) == 0
        assert count_rows(client, User, User.email == "x@example.org") == 0


def test_customer_reply_by_subject_token_becomes_a_comment_and_reopens(
    client: TestClient, people: People, fake_clock: FakeClock
) -> None:
    customer = people["individual"]
    ticket = ticket_in_status(client, people, "resolved")
    row = receive(client, people, reply(client, customer.email, ticket))
    assert (row.status, row.ticket_id) == (InboundStatus.PROCESSED, ticket["id"])
    [comment] = comments_of(client, ticket["id"])
    assert comment.id == row.comment_id
    assert comment.user_id == customer.id and not comment.is_internal
    assert comment.comment == "Thanks, restarting it worked \u2014 the printer runs again."
    assert fetch_ticket(client, customer, ticket["id"])["status"] == "reopened"


def test_customer_reply_to_a_waiting_ticket_puts_it_in_progress(
    client: TestClient, people: People, fake_clock: FakeClock
) -> None:
    customer = people["individual"]
    ticket = ticket_in_status(client, people, "waiting_on_customer")
    receive(client, people, reply(client, customer.email, ticket, name="apple_reply.eml"))
    assert fetch_ticket(client, customer, ticket["id"])["status"] == "in_progress"
    [comment] = comments_of(client, ticket["id"])
    assert comment.comment == "It happened again this morning, same error.\n\nSent from my iPad"


def test_reply_found_by_our_signed_message_id_alone(
    client: TestClient, people: People, fake_clock: FakeClock
) -> None:
    customer = people["individual"]
    ticket = make_ticket(client, customer)
    raw = reply(
        client,
        customer.email,
        ticket,
        name="outlook_reply.eml",
        subject="Printer",
        in_reply_to=our_id(client, ticket["id"], 7),
    )
    row = receive(client, people, raw)
    assert row.ticket_id == ticket["id"] and row.comment_id is not None


def test_reply_found_by_the_reply_to_route_alone(
    client: TestClient, people: People, fake_clock: FakeClock
) -> None:
    customer = people["individual"]
    ticket = make_ticket(client, customer)
    config = mail_config(client.app.state.settings)  # type: ignore[attr-defined]
    route = signing.reply_route(config, ticket["id"])
    row = receive(client, people, reply(client, customer.email, ticket, subject="Hi", to=route))
    assert row.ticket_id == ticket["id"] and row.comment_id is not None


def test_a_forged_message_id_names_no_ticket(
    client: TestClient, people: People, fake_clock: FakeClock
) -> None:
    customer = people["individual"]
    ticket = make_ticket(client, customer)
    forged = our_id(client, ticket["id"], 7).replace(".7.", ".8.")
    row = receive(
        client, people, reply(client, customer.email, ticket, subject="Hi", in_reply_to=forged)
    )
    assert row.ticket_id != ticket["id"]
    assert comments_of(client, ticket["id"]) == []


def test_another_customer_copying_subject_and_headers_gets_a_new_ticket(
    client: TestClient, people: People, fake_clock: FakeClock
) -> None:
    """The zammad#5064 leak: whatever they copy, a stranger never writes on someone's ticket."""
    ticket = make_ticket(client, people["individual"])
    before = footprint(client, ticket["id"])
    for sender in (people["other"].email, "stranger@example.net"):
        raw = reply(
            client,
            sender,
            ticket,
            msgid=f"copy-{sender}",
            in_reply_to=our_id(client, ticket["id"], 1),
            to=signing.reply_route(mail_config(client.app.state.settings), ticket["id"]),  # type: ignore[attr-defined]
        )
        row = receive(client, people, raw)
        assert row.status == InboundStatus.PROCESSED
        assert row.ticket_id != ticket["id"] and row.comment_id is None
        assert (
            row.error
            == f"the sender may not write on {ticket['ticket_number']}: filed as a new ticket"
        )
        created = ticket_row(client, row.ticket_id)
        owner = in_db(client, lambda s, c=created: s.get(User, c.user_id))
        assert owner.email == sender
    assert footprint(client, ticket["id"]) == before


def test_a_customer_cannot_write_on_a_staff_only_ticket_by_mail(
    client: TestClient, people: People, fake_clock: FakeClock
) -> None:
    customer = people["individual"]
    ticket = make_ticket(client, people["agent"], user_id=customer.id, is_internal=True)
    before = footprint(client, ticket["id"])
    row = receive(client, people, reply(client, customer.email, ticket))
    assert row.ticket_id != ticket["id"]
    assert footprint(client, ticket["id"]) == before


def test_staff_reply_by_mail_is_a_public_reply_and_the_first_response(
    client: TestClient, people: People, fake_clock: FakeClock
) -> None:
    agent = people["agent"]
    ticket = make_ticket(client, people["individual"])
    row = receive(client, people, reply(client, agent.email, ticket))
    [comment] = comments_of(client, ticket["id"])
    assert comment.user_id == agent.id and not comment.is_internal and row.comment_id == comment.id
    stored = ticket_row(client, ticket["id"])
    assert stored.first_response_at == fake_clock.current


def test_out_of_office_changes_nothing(
    client: TestClient, people: People, fake_clock: FakeClock
) -> None:
    customer = people["individual"]
    ticket = ticket_in_status(client, people, "resolved")
    before = footprint(client, ticket["id"])
    raw = reply(
        client,
        customer.email,
        ticket,
        name="out_of_office.eml",
        in_reply_to=our_id(client, ticket["id"], 1),
    )
    row = receive(client, people, raw)
    assert row.status == InboundStatus.IGNORED
    assert row.error is not None and "Auto-Submitted" in row.error
    assert footprint(client, ticket["id"]) == before
    assert count_rows(client, Ticket) == 1


def test_the_same_mail_twice_is_processed_once(
    client: TestClient, people: People, fake_clock: FakeClock
) -> None:
    customer = people["individual"]
    ticket = make_ticket(client, customer)
    raw = reply(client, customer.email, ticket)
    first = post_mail(client, people["super_admin"], raw)
    again = post_mail(
        client, people["super_admin"], raw.replace(b"Return-Path", b"X-Resent: 1\nReturn-Path")
    )
    assert again == {"id": first["id"], "status": "received", "duplicate": True}
    process_mail(client)
    process_mail(client)
    assert len(comments_of(client, ticket["id"])) == 1


def test_a_mail_without_message_id_is_kept_once_by_its_bytes(
    client: TestClient, people: People, fake_clock: FakeClock
) -> None:
    raw = corpus("no_message_id.eml", FROM="dana@example.org")
    first = post_mail(client, people["super_admin"], raw)
    assert post_mail(client, people["super_admin"], raw)["id"] == first["id"]
    process_mail(client)
    row = inbound_row(client, first["id"])
    assert row.message_id == f"<{row.sha256}@missing>"
    assert row.status == InboundStatus.PROCESSED
    assert count_rows(client, Ticket) == 1


def test_html_mail_is_sanitised_text(
    client: TestClient, people: People, fake_clock: FakeClock
) -> None:
    row = receive(client, people, corpus("html_script.eml", FROM="m@example.org", MSGID="h1"))
    description = ticket_row(client, row.ticket_id).description
    assert "Hello, my invoice INV-42 is wrong." in description
    assert "alert" not in description and "cookie" not in description and "<" not in description


def test_non_utf8_mail_is_decoded(
    client: TestClient, people: People, fake_clock: FakeClock
) -> None:
    row = receive(client, people, corpus("latin1.eml", FROM="jm@example.de", MSGID="l1"))
    ticket = ticket_row(client, row.ticket_id)
    assert ticket.subject == "Rechnung f\u00fcr M\u00e4rz fehlt"
    assert "Gr\u00fc\u00dfen" in ticket.description


def test_our_own_mail_coming_back_is_ignored(
    client: TestClient, people: People, fake_clock: FakeClock
) -> None:
    raw = corpus("new_request.eml", FROM="support@example.com", MSGID="echo")
    row = receive(client, people, raw)
    assert row.status == InboundStatus.IGNORED and count_rows(client, Ticket) == 0


def test_deactivated_sender_is_rejected(
    client: TestClient, people: People, fake_clock: FakeClock
) -> None:
    gone = make_user(client, "individual")
    client.patch(
        f"{API}/users/{gone.id}", json={"is_active": False}, headers=people["super_admin"].headers
    )
    row = receive(client, people, corpus("new_request.eml", FROM=gone.email, MSGID="d1"))
    assert row.status == InboundStatus.REJECTED and count_rows(client, Ticket) == 0


def test_rejected_mail_can_be_reprocessed(settings: Settings, fake_clock: FakeClock) -> None:
    from ticketdesk.main import create_app

    closed = settings.model_copy(update={"mail_accept_unknown_senders": False})
    with TestClient(create_app(closed)) as client:
        admin = make_user(client, "super_admin")
        accepted = post_mail(
            client, admin, corpus("new_request.eml", FROM="later@example.org", MSGID="rp")
        )
        process_mail(client)
        assert inbound_row(client, accepted["id"]).status == InboundStatus.REJECTED
        make_user(client, "individual", email="later@example.org")
        url = f"{API}/mail/inbound/{accepted['id']}/reprocess"
        response = client.post(url, headers=admin.headers)
        assert response.status_code == 202 and response.json()["status"] == "received"
        process_mail(client)
        row = inbound_row(client, accepted["id"])
        assert row.status == InboundStatus.PROCESSED and row.ticket_id is not None
        again = client.post(url, headers=admin.headers)
        assert again.status_code == 409


def bounce_of(client: TestClient, name: str, recipient: str, original: str) -> bytes:
    return corpus(name, RECIPIENT=recipient, ORIGINAL=original, SUBJECT="[TKT-1] x", MSGID="b")


@pytest.mark.parametrize("report", ["postfix_bounce.eml", "exchange_bounce.eml"])
def test_a_bounce_fails_our_mail_and_suppresses_the_address(
    mail_client: TestClient, mail_settings: Settings, fake_clock: FakeClock, report: str
) -> None:
    people = make_people(mail_client)
    [row_id] = queue(mail_client, mail_settings, "dana@example.net")
    send(mail_client, mail_settings)
    sent = rows(mail_client)["dana@example.net"]
    assert sent.status == OutboxStatus.SENT and sent.message_id is not None
    raw = bounce_of(mail_client, report, "dana@example.net", sent.message_id)
    row = receive(mail_client, people, raw)
    assert row.status == InboundStatus.IGNORED
    assert row.error is not None and "dana@example.net: bounced" in row.error
    bounced = rows(mail_client)["dana@example.net"]
    assert bounced.status == OutboxStatus.FAILED and "bounced" in (bounced.last_error or "")
    suppression = in_db(mail_client, lambda s: s.get(MailSuppression, "dana@example.net"))
    assert suppression is not None and suppression.outbox_id == row_id
    assert count_rows(mail_client, Ticket) == 0


def test_a_bounce_for_a_mail_not_ours_suppresses_nothing(
    client: TestClient, people: People, fake_clock: FakeClock
) -> None:
    raw = bounce_of(client, "postfix_bounce.eml", "who@example.net", "<foreign@example.org>")
    row = receive(client, people, raw)
    assert row.status == InboundStatus.IGNORED and "no mail of ours" in (row.error or "")
    assert count_rows(client, MailSuppression) == 0
