"""Who gets which mail about a change, delivered to a real SMTP server: the contract's table,
threading, preferences, internal notes and staff-only tickets, rollbacks, loops."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event as sa_event
from sqlalchemy import select

from tests.factories import (
    API,
    FakeClock,
    People,
    count_rows,
    fetch_ticket,
    in_db,
    make_people,
    make_ticket,
    post_comment,
    run_jobs,
    set_status,
)
from tests.mail.conftest import Delivery, SMTPSink, post_mail
from ticketdesk import db
from ticketdesk.auth.models import User
from ticketdesk.comments import service as comments
from ticketdesk.comments.schemas import CommentCreate
from ticketdesk.mail import signing
from ticketdesk.mail.config import mail_config
from ticketdesk.mail.models import OutboundEmail, OutboxStatus
from ticketdesk.tickets.models import Ticket

CUSTOMER_ROLES = ("individual", "enterprise", "sub_user")


@pytest.fixture
def people(mail_client: TestClient, fake_clock: FakeClock) -> People:
    return make_people(mail_client)


def outbox(client: TestClient) -> list[OutboundEmail]:
    async def _rows(session: Any) -> list[OutboundEmail]:
        return list(await session.scalars(select(OutboundEmail).order_by(OutboundEmail.id)))

    return in_db(client, _rows)  # type: ignore[no-any-return]


def kinds_to(client: TestClient, address: str) -> list[str]:
    return [row.kind for row in outbox(client) if row.to_addr == address]


def delivered(client: TestClient, sink: SMTPSink, address: str) -> list[Delivery]:
    run_jobs(client)
    return sink.handler.to(address)


def test_a_new_ticket_is_acknowledged_to_its_customer(
    mail_client: TestClient, people: People, smtp_sink: SMTPSink
) -> None:
    customer = people["individual"]
    ticket = make_ticket(mail_client, customer, subject="Printer jammed")
    [ack] = delivered(mail_client, smtp_sink, customer.email)
    mail = ack.message
    number = ticket["ticket_number"]
    assert mail["Subject"] == f"[{number}] We received your request: Printer jammed"
    assert mail["Auto-Submitted"] == "auto-replied"
    assert mail["X-Auto-Response-Suppress"] == "All"
    config = mail_config(mail_client.app.state.settings)  # type: ignore[attr-defined]
    assert signing.verify_message_id(config, mail["Message-ID"])[0] == ticket["id"]  # type: ignore[index]
    assert mail["References"] == signing.thread_root(config, ticket["id"])
    assert signing.verify_route(config, mail["Reply-To"]) == ticket["id"]
    text = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert number in text
    assert f"https://help.example.com/portal/tickets/{number}" in text
    # Staff hear of new tickets only when they opted in.
    assert kinds_to(mail_client, people["agent"].email) == []
    assert kinds_to(mail_client, people["super_admin"].email) == []


def test_staff_who_opted_in_hear_of_new_tickets(
    mail_client: TestClient, people: People, smtp_sink: SMTPSink
) -> None:
    agent = people["agent"]
    response = mail_client.patch(
        f"{API}/users/me/notifications", json={"new_ticket": True}, headers=agent.headers
    )
    assert response.status_code == 200
    ticket = make_ticket(mail_client, people["individual"])
    [mail] = delivered(mail_client, smtp_sink, agent.email)
    assert mail.message["Subject"].startswith(f"[{ticket['ticket_number']}] New ticket:")
    text = mail.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert f"https://help.example.com/desk/tickets/{ticket['ticket_number']}" in text
    assert kinds_to(mail_client, people["super_admin"].email) == []


def test_an_agent_assigned_by_a_rule_on_creation_gets_it_in_the_new_ticket_thread(
    mail_client: TestClient, people: People, smtp_sink: SMTPSink
) -> None:
    """Both mails go in the creating transaction: the second answers the first."""
    agent = people["agent"]
    assert mail_client.patch(
        f"{API}/users/me/notifications", json={"new_ticket": True}, headers=agent.headers
    ).is_success
    rule = {"name": "All to the agent", "strategy": "round_robin", "agent_ids": [agent.id]}
    assert mail_client.post(
        f"{API}/assignment-rules", json=rule, headers=people["super_admin"].headers
    ).is_success
    ticket = make_ticket(mail_client, people["individual"])
    assert ticket["assigned_to_id"] == agent.id
    new, assigned = delivered(mail_client, smtp_sink, agent.email)
    assert new.message["Subject"].startswith(f"[{ticket['ticket_number']}] New ticket:")
    assert assigned.message["In-Reply-To"] == new.message["Message-ID"]
    config = mail_config(mail_client.app.state.settings)  # type: ignore[attr-defined]
    assert new.message["References"] == signing.thread_root(config, ticket["id"])


def test_a_new_ticket_and_its_assignment_read_the_recipients_choices_once(
    mail_client: TestClient, people: People, smtp_sink: SMTPSink
) -> None:
    """The customer's acknowledgement and the assignee's mail are one change: one read of
    preferences and suppressions for both, and each mail still goes out."""
    agent, customer = people["agent"], people["individual"]
    rule = {"name": "All to the agent", "strategy": "round_robin", "agent_ids": [agent.id]}
    assert mail_client.post(
        f"{API}/assignment-rules", json=rule, headers=people["super_admin"].headers
    ).is_success
    statements: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        statements.append(" ".join(statement.split()))

    engine = mail_client.app.state.engine.sync_engine  # type: ignore[attr-defined]
    sa_event.listen(engine, "before_cursor_execute", seen)
    try:
        ticket = make_ticket(mail_client, customer)
    finally:
        sa_event.remove(engine, "before_cursor_execute", seen)
    assert ticket["assigned_to_id"] == agent.id
    # (Staff who want new-ticket mail are found by another statement, which reads them too.)
    gates = [s for s in statements if "FROM mail_suppressions" in s]
    assert len(gates) == 1, gates
    assert kinds_to(mail_client, customer.email) == ["ticket_received"]
    assert kinds_to(mail_client, agent.email) == ["ticket_assigned"]
    [assigned] = delivered(mail_client, smtp_sink, agent.email)
    assert assigned.message["Subject"].startswith(f"[{ticket['ticket_number']}]")


def test_a_staff_reply_reaches_the_customer_in_the_same_thread(
    mail_client: TestClient, people: People, smtp_sink: SMTPSink
) -> None:
    customer = people["individual"]
    ticket = make_ticket(mail_client, customer)
    post_comment(mail_client, people["agent"], ticket["id"], "Please restart it.")
    ack, reply = delivered(mail_client, smtp_sink, customer.email)
    mail = reply.message
    assert mail["Subject"] == f"[{ticket['ticket_number']}] Re: {ticket['subject']}"
    assert mail["Auto-Submitted"] is None
    assert mail["In-Reply-To"] == ack.message["Message-ID"]
    assert ack.message["References"] in mail["References"]
    assert "Please restart it." in mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    # The author hears nothing of their own reply.
    assert kinds_to(mail_client, people["agent"].email) == []


@pytest.mark.parametrize("owner", CUSTOMER_ROLES)
def test_an_internal_note_never_mails_a_customer(
    mail_client: TestClient, people: People, smtp_sink: SMTPSink, owner: str
) -> None:
    customer = people[owner]
    ticket = make_ticket(mail_client, customer)
    run_jobs(mail_client)
    before = len(outbox(mail_client))
    post_comment(
        mail_client, people["agent"], ticket["id"], "SECRET: refund them", is_internal=True
    )
    run_jobs(mail_client)
    assert len(outbox(mail_client)) == before
    assert all(b"SECRET" not in d.data for d in smtp_sink.deliveries)


def test_a_staff_only_ticket_never_mails_its_customer(
    mail_client: TestClient, people: People, smtp_sink: SMTPSink
) -> None:
    customer = people["individual"]
    ticket = make_ticket(mail_client, people["agent"], user_id=customer.id, is_internal=True)
    post_comment(mail_client, people["super_admin"], ticket["id"], "Public on a staff ticket")
    set_status(mail_client, people["agent"], ticket["id"], "resolved")
    assert delivered(mail_client, smtp_sink, customer.email) == []
    assert kinds_to(mail_client, customer.email) == []


def test_a_customer_reply_goes_to_the_assignee_or_every_super_admin(
    mail_client: TestClient, people: People, smtp_sink: SMTPSink
) -> None:
    customer, agent, admin = people["individual"], people["agent"], people["super_admin"]
    ticket = make_ticket(mail_client, customer)
    post_comment(mail_client, customer, ticket["id"], "Any news?")
    assert kinds_to(mail_client, admin.email) == ["customer_reply"]
    assert kinds_to(mail_client, agent.email) == []
    response = mail_client.post(
        f"{API}/tickets/{ticket['id']}/assign",
        json={"assigned_to_id": agent.id},
        headers=admin.headers,
    )
    assert response.status_code == 200, response.text
    assert kinds_to(mail_client, agent.email) == ["ticket_assigned"]
    post_comment(mail_client, customer, ticket["id"], "Still waiting.")
    assert kinds_to(mail_client, agent.email) == ["ticket_assigned", "customer_reply"]
    assert kinds_to(mail_client, admin.email) == ["customer_reply"]
    [mail] = [d for d in delivered(mail_client, smtp_sink, agent.email) if b"Still" in d.data]
    assert "Still waiting." in mail.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert mail.message["Auto-Submitted"] == "auto-generated"


def test_taking_a_ticket_yourself_mails_nobody(
    mail_client: TestClient, people: People, smtp_sink: SMTPSink
) -> None:
    agent = people["agent"]
    ticket = make_ticket(mail_client, people["individual"])
    response = mail_client.post(
        f"{API}/tickets/{ticket['id']}/assign",
        json={"assigned_to_id": agent.id},
        headers=agent.headers,
    )
    assert response.status_code == 200
    assert kinds_to(mail_client, agent.email) == []


@pytest.mark.parametrize(
    ("status", "mailed"),
    [
        ("waiting_on_customer", True),
        ("resolved", True),
        ("closed", True),
        ("in_progress", False),
    ],
)
def test_status_changes_the_customer_hears_of(
    mail_client: TestClient, people: People, smtp_sink: SMTPSink, status: str, mailed: bool
) -> None:
    customer = people["individual"]
    ticket = make_ticket(mail_client, customer)
    set_status(mail_client, people["agent"], ticket["id"], status)
    expected = ["ticket_received", "status_changed"] if mailed else ["ticket_received"]
    assert kinds_to(mail_client, customer.email) == expected


def test_the_customer_closing_their_own_ticket_gets_no_mail_about_it(
    mail_client: TestClient, people: People, smtp_sink: SMTPSink
) -> None:
    customer = people["individual"]
    ticket = make_ticket(mail_client, customer)
    set_status(mail_client, people["agent"], ticket["id"], "resolved")
    set_status(mail_client, customer, ticket["id"], "closed")
    assert kinds_to(mail_client, customer.email) == ["ticket_received", "status_changed"]


def test_a_preference_turned_off_stops_that_kind(
    mail_client: TestClient, people: People, smtp_sink: SMTPSink
) -> None:
    customer = people["individual"]
    mail_client.patch(
        f"{API}/users/me/notifications",
        json={"ticket_received": False, "status_changed": False},
        headers=customer.headers,
    )
    ticket = make_ticket(mail_client, customer)
    set_status(mail_client, people["agent"], ticket["id"], "waiting_on_customer")
    post_comment(mail_client, people["agent"], ticket["id"], "Which model?")
    assert kinds_to(mail_client, customer.email) == ["staff_reply"]


def test_a_rolled_back_change_writes_no_mail(
    mail_client: TestClient, people: People, smtp_sink: SMTPSink
) -> None:
    customer = people["individual"]
    ticket = make_ticket(mail_client, customer)
    before = len(outbox(mail_client))
    sessionmaker = mail_client.app.state.sessionmaker  # type: ignore[attr-defined]

    async def _comment_then_fail() -> None:
        async with db.session_scope(sessionmaker) as session:
            agent = await session.get(User, people["agent"].id)
            data = CommentCreate(comment="This reply is rolled back.")
            await comments.add_comment(session, agent, str(ticket["id"]), data)
            await session.flush()
            written = await session.scalars(
                select(OutboundEmail.kind).where(OutboundEmail.id > before)
            )
            assert list(written) == ["staff_reply"]  # written inside the transaction
            raise RuntimeError("the change fails after its mail was written")

    with pytest.raises(RuntimeError):
        mail_client.portal.call(_comment_then_fail)  # type: ignore[union-attr]
    assert len(outbox(mail_client)) == before
    run_jobs(mail_client)
    assert all(b"rolled back" not in d.data for d in smtp_sink.deliveries)


def test_mail_to_a_suppressed_address_is_written_as_suppressed(
    mail_client: TestClient, people: People, smtp_sink: SMTPSink
) -> None:
    from tests.factories import make_user

    gone = make_user(mail_client, "individual", email="gone-away@example.org")
    make_ticket(mail_client, gone)
    run_jobs(mail_client)
    assert [r.status for r in outbox(mail_client) if r.to_addr == gone.email] == [
        OutboxStatus.FAILED
    ]
    make_ticket(mail_client, gone)
    statuses = [r.status for r in outbox(mail_client) if r.to_addr == gone.email]
    assert statuses == [OutboxStatus.FAILED, OutboxStatus.SUPPRESSED]
    admin = people["super_admin"].headers
    listed = mail_client.get(f"{API}/mail/outbox?status=suppressed", headers=admin).json()
    assert [row["to"] for row in listed] == [gone.email]
    assert (
        mail_client.delete(f"{API}/mail/suppressions/{gone.email}", headers=admin).status_code
        == 204
    )
    retried = mail_client.post(f"{API}/mail/outbox/{listed[0]['id']}/retry", headers=admin)
    assert retried.status_code == 200 and retried.json()["status"] == "queued"


def test_an_autoresponder_answering_our_acknowledgement_causes_nothing(
    mail_client: TestClient, people: People, smtp_sink: SMTPSink
) -> None:
    """The loop: a customer's autoresponder answers every mail. Exactly one acknowledgement
    goes out, the ticket is not reopened, and no further ticket or mail appears."""
    admin = people["super_admin"]
    new = (
        b"From: Dana <dana@example.org>\nTo: support@example.com\nSubject: Printer\n"
        b"Message-ID: <loop-1@example.org>\n\nIt is jammed.\n"
    )
    post_mail(mail_client, admin, new)
    for round_ in range(3):
        run_jobs(mail_client)
        for delivery in list(smtp_sink.handler.to("dana@example.org")):
            ours = delivery.message
            answer = (
                f"From: Dana <dana@example.org>\nTo: {ours['Reply-To']}\n"
                f"Subject: Out of office: {ours['Subject']}\nAuto-Submitted: auto-replied\n"
                f"Message-ID: <ooo-{round_}-{ours['Message-ID'].strip('<>')}>\n"
                f"In-Reply-To: {ours['Message-ID']}\n\nI am away until Monday.\n"
            ).encode()
            post_mail(mail_client, admin, answer)
    acknowledgements = smtp_sink.handler.to("dana@example.org")
    assert len(acknowledgements) == 1
    [ticket] = in_db(mail_client, lambda s: s.scalars(select(OutboundEmail.ticket_id)))
    assert count_rows(mail_client, OutboundEmail) == 1
    assert fetch_ticket(mail_client, admin, ticket)["status"] == "open"
    thread = mail_client.get(f"{API}/tickets/{ticket}/comments", headers=admin.headers)
    assert thread.json() == []
    assert count_rows(mail_client, Ticket) == 1


def test_a_customer_opens_a_ticket_by_mail_and_answers_the_agent_from_their_client(
    mail_client: TestClient, people: People, smtp_sink: SMTPSink
) -> None:
    """The whole round trip, with the headers a mail client really sends back."""
    admin, agent = people["super_admin"], people["agent"]
    first = (
        b"From: Dana <dana@example.org>\nTo: support@example.com\nSubject: VPN drops\n"
        b"Message-ID: <first@example.org>\n\nThe VPN drops every hour.\n"
    )
    post_mail(mail_client, admin, first)
    [ack] = delivered(mail_client, smtp_sink, "dana@example.org")
    assert "<first@example.org>" in ack.message["References"]
    assert ack.message["In-Reply-To"] == "<first@example.org>"
    config = mail_config(mail_client.app.state.settings)  # type: ignore[attr-defined]
    ticket_id = signing.verify_message_id(config, ack.message["Message-ID"])[0]  # type: ignore[index]
    post_comment(mail_client, agent, ticket_id, "Which client version?")
    set_status(mail_client, agent, ticket_id, "waiting_on_customer")
    mails = delivered(mail_client, smtp_sink, "dana@example.org")
    reply_to_this = next(d.message for d in mails if b"Which client version?" in d.data)
    answer = (
        f"From: Dana <dana@example.org>\nTo: {reply_to_this['Reply-To']}\n"
        f"Subject: Re: {reply_to_this['Subject']}\nMessage-ID: <answer@example.org>\n"
        f"In-Reply-To: {reply_to_this['Message-ID']}\nReferences: {reply_to_this['References']}"
        f" {reply_to_this['Message-ID']}\n\nVersion 4.2.\n\n"
        f"On Mon, 6 Jan 2025 at 10:00, Support <support@example.com> wrote:\n"
        f"> Which client version?\n"
    ).encode()
    post_mail(mail_client, admin, answer)
    run_jobs(mail_client)
    state = fetch_ticket(mail_client, agent, ticket_id)
    assert state["status"] == "in_progress"
    thread = mail_client.get(f"{API}/tickets/{ticket_id}/comments", headers=agent.headers).json()
    assert [c["comment"] for c in thread] == ["Which client version?", "Version 4.2."]
    assert kinds_to(mail_client, agent.email) == []  # unassigned: the super_admin hears of it
    assert kinds_to(mail_client, admin.email) == ["customer_reply"]
