"""Sending the outbox to a real SMTP server: delivered, retried, failed and suppressed, resent
after a crash with the same Message-ID, left queued without a server."""

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.factories import FakeClock, in_db
from tests.mail.conftest import SMTPSink
from ticketdesk import clock, db
from ticketdesk.config import Settings
from ticketdesk.mail import outbox, sender, signing
from ticketdesk.mail.config import mail_config
from ticketdesk.mail.models import MailSuppression, OutboundEmail, OutboxStatus

CONTEXT = {
    "number": "TKT-20250106-0001",
    "ticket_subject": "Printer",
    "status": "open",
    "status_label": "Open",
    "priority": "medium",
    "recipient_name": "Dana",
    "author_name": "Agent",
    "link": "https://help.example.com/portal/tickets/TKT-20250106-0001",
    "reply_marker": "##- Please type your reply above this line -##",
    "comment": "Please switch it off and on again.",
}


def queue(client: TestClient, settings: Settings, *addresses: str) -> list[int]:
    config = mail_config(settings)

    async def _queue(session: Any) -> list[int]:
        rows = [
            await outbox.queue_mail(
                session,
                config,
                kind="staff_reply",
                to_addr=address,
                to_name="Dana",
                context=CONTEXT,
                now=clock.now(),
                auto_submitted=None,
            )
            for address in addresses
        ]
        await session.flush()
        return [row.id for row in rows]

    return in_db(client, _queue)  # type: ignore[no-any-return]


def send(client: TestClient, settings: Settings) -> int:
    sessionmaker = client.app.state.sessionmaker  # type: ignore[attr-defined]

    async def _send() -> int:
        return await sender.send_due(
            lambda: db.session_scope(sessionmaker), mail_config(settings), now=clock.now()
        )

    return client.portal.call(_send)  # type: ignore[union-attr, no-any-return]


def rows(client: TestClient) -> dict[str, OutboundEmail]:
    async def _rows(session: Any) -> dict[str, OutboundEmail]:
        return {r.to_addr: r for r in await session.scalars(select(OutboundEmail))}

    return in_db(client, _rows)  # type: ignore[no-any-return]


def test_mail_is_delivered_with_its_headers(
    mail_client: TestClient, mail_settings: Settings, smtp_sink: SMTPSink, fake_clock: FakeClock
) -> None:
    [row_id] = queue(mail_client, mail_settings, "dana@example.org")
    assert send(mail_client, mail_settings) == 1
    [delivery] = smtp_sink.deliveries
    assert delivery.sender == "support@example.com"
    assert delivery.recipients == ["dana@example.org"]
    mail = delivery.message
    assert mail["From"] == "Example Support <support@example.com>"
    assert mail["To"] == "Dana <dana@example.org>"
    assert mail["Subject"] == "[TKT-20250106-0001] Re: Printer"
    expected_id = signing.message_id(mail_config(mail_settings), 0, row_id)
    assert mail["Message-ID"] == expected_id
    assert mail["Auto-Submitted"] is None
    text = mail.get_body(("plain",))
    html = mail.get_body(("html",))
    assert text is not None and "Please switch it off and on again." in text.get_content()
    assert html is not None and "help.example.com/portal/tickets" in html.get_content()
    row = rows(mail_client)["dana@example.org"]
    assert (row.status, row.attempts, row.message_id) == (OutboxStatus.SENT, 1, expected_id)
    assert row.sent_at == fake_clock.current


def test_temporary_failure_is_retried_on_the_schedule_then_fails(
    mail_client: TestClient, mail_settings: Settings, smtp_sink: SMTPSink, fake_clock: FakeClock
) -> None:
    queue(mail_client, mail_settings, "temp@example.org", "ok@example.org")
    assert send(mail_client, mail_settings) == 1
    row = rows(mail_client)["temp@example.org"]
    assert (row.status, row.attempts) == (OutboxStatus.QUEUED, 1)
    assert row.last_error is not None and row.last_error.startswith("451")
    assert row.next_attempt_at == fake_clock.current + timedelta(seconds=60)
    assert send(mail_client, mail_settings) == 0  # not due yet: nothing tried
    assert rows(mail_client)["temp@example.org"].attempts == 1
    fake_clock.advance(seconds=60)
    send(mail_client, mail_settings)
    row = rows(mail_client)["temp@example.org"]
    assert (row.status, row.attempts) == (OutboxStatus.QUEUED, 2)
    assert row.next_attempt_at == fake_clock.current + timedelta(seconds=300)
    fake_clock.advance(seconds=300)
    send(mail_client, mail_settings)
    row = rows(mail_client)["temp@example.org"]
    assert (row.status, row.attempts) == (OutboxStatus.FAILED, 3)
    assert in_db(mail_client, lambda s: s.get(MailSuppression, "temp@example.org")) is None
    assert [d.recipients for d in smtp_sink.deliveries] == [["ok@example.org"]]


def test_permanent_failure_fails_and_suppresses_the_address(
    mail_client: TestClient, mail_settings: Settings, smtp_sink: SMTPSink, fake_clock: FakeClock
) -> None:
    queue(mail_client, mail_settings, "gone@example.org", "ok@example.org")
    send(mail_client, mail_settings)
    row = rows(mail_client)["gone@example.org"]
    assert row.status == OutboxStatus.FAILED and row.last_error is not None
    assert row.last_error.startswith("550")
    suppression = in_db(mail_client, lambda s: s.get(MailSuppression, "gone@example.org"))
    assert suppression is not None and suppression.outbox_id == row.id
    # The next mail to that address is not even tried.
    queue(mail_client, mail_settings, "gone@example.org")
    send(mail_client, mail_settings)
    statuses = sorted(
        r.status
        for r in in_db(
            mail_client,
            lambda s: s.scalars(
                select(OutboundEmail).where(OutboundEmail.to_addr == "gone@example.org")
            ),
        )
    )
    assert statuses == [OutboxStatus.FAILED, OutboxStatus.SUPPRESSED]
    assert len(smtp_sink.deliveries) == 1


def test_without_an_smtp_server_mail_stays_queued(
    client: TestClient, settings: Settings, fake_clock: FakeClock
) -> None:
    queue(client, settings, "dana@example.org")
    assert send(client, settings) == 0
    row = rows(client)["dana@example.org"]
    assert (row.status, row.attempts) == (OutboxStatus.QUEUED, 0)


def test_an_unreachable_server_is_a_temporary_failure(
    client: TestClient, settings: Settings, fake_clock: FakeClock
) -> None:
    from tests.mail.conftest import free_port

    closed = settings.model_copy(update={"smtp_url": f"smtp://127.0.0.1:{free_port()}"})
    queue(client, closed, "dana@example.org")
    assert send(client, closed) == 0
    row = rows(client)["dana@example.org"]
    assert (row.status, row.attempts) == (OutboxStatus.QUEUED, 1)
    assert row.last_error is not None and "connect" in row.last_error


def test_crash_after_the_server_accepted_resends_the_same_message(
    mail_client: TestClient, mail_settings: Settings, smtp_sink: SMTPSink, fake_clock: FakeClock
) -> None:
    """The process dies between the server's 250 and recording it: the lease runs out and the
    very same message (same Message-ID, same bytes) goes again, never a different one."""
    queue(mail_client, mail_settings, "dana@example.org")
    config = mail_config(mail_settings)
    sessionmaker = mail_client.app.state.sessionmaker  # type: ignore[attr-defined]

    async def _send_without_recording() -> None:
        async with db.session_scope(sessionmaker) as session:
            claimed = await sender.claim(session, config, now=clock.now())
        assert config.smtp is not None
        outcomes = await sender.deliver(config, config.smtp, claimed)
        assert [o.code for o in outcomes] == [None]
        # ... and the process dies here.

    mail_client.portal.call(_send_without_recording)  # type: ignore[union-attr]
    assert rows(mail_client)["dana@example.org"].status == OutboxStatus.SENDING
    assert send(mail_client, mail_settings) == 0  # the lease still holds
    fake_clock.advance(minutes=6)
    assert send(mail_client, mail_settings) == 1
    first, second = smtp_sink.deliveries
    assert first.data == second.data
    assert first.message["Message-ID"] == second.message["Message-ID"]
    row = rows(mail_client)["dana@example.org"]
    assert (row.status, row.attempts) == (OutboxStatus.SENT, 2)
