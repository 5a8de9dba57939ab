"""Polling a real IMAP mailbox (dovecot): stored first, then marked seen, never deleted."""

from contextlib import asynccontextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.factories import API, FakeClock, People, in_db, make_ticket
from tests.mail.conftest import IMAPServer, corpus, post_mail, process_mail
from ticketdesk import clock, db
from ticketdesk.config import Settings
from ticketdesk.mail import imap
from ticketdesk.mail.config import mail_config
from ticketdesk.mail.models import InboundEmail, InboundStatus


def poll(client: TestClient, settings: Settings, transaction: Any = None) -> int:
    sessionmaker = client.app.state.sessionmaker  # type: ignore[attr-defined]

    async def _poll() -> int:
        return await imap.poll(
            transaction or (lambda: db.session_scope(sessionmaker)),
            mail_config(settings),
            now=clock.now(),
        )

    return client.portal.call(_poll)  # type: ignore[union-attr, no-any-return]


def stored(client: TestClient) -> list[InboundEmail]:
    async def _rows(session: Any) -> list[InboundEmail]:
        return list(await session.scalars(select(InboundEmail).order_by(InboundEmail.id)))

    return in_db(client, _rows)  # type: ignore[no-any-return]


def test_unseen_mail_is_stored_then_marked_seen_and_never_deleted(
    client: TestClient, settings: Settings, imap_server: IMAPServer, fake_clock: FakeClock
) -> None:
    settings = settings.model_copy(update={"imap_url": imap_server.url})
    first = corpus("new_request.eml", FROM="dana@example.org", MSGID="imap-1@example.org")
    second = corpus("latin1.eml", FROM="jm@example.de", MSGID="imap-2")
    imap_server.append(first)
    imap_server.append(second)
    assert poll(client, settings) == 2
    rows = stored(client)
    assert [(r.message_id, r.source, r.status) for r in rows] == [
        ("<imap-1@example.org>", "imap", InboundStatus.RECEIVED),
        ("<latin1.imap-2@example.de>", "imap", InboundStatus.RECEIVED),
    ]
    assert rows[0].raw.replace(b"\r\n", b"\n") == first
    assert imap_server.flags() == [True, True]
    # Polling again finds nothing new; the mailbox still holds both mails.
    assert poll(client, settings) == 0
    assert len(stored(client)) == 2
    assert imap_server.flags() == [True, True]


def test_a_mail_that_could_not_be_stored_stays_unseen(
    client: TestClient, settings: Settings, imap_server: IMAPServer, fake_clock: FakeClock
) -> None:
    settings = settings.model_copy(update={"imap_url": imap_server.url})
    imap_server.append(corpus("new_request.eml", FROM="dana@example.org", MSGID="imap-3@x"))
    sessionmaker = client.app.state.sessionmaker  # type: ignore[attr-defined]

    @asynccontextmanager
    async def failing_transaction() -> Any:
        async with db.session_scope(sessionmaker) as session:
            yield session
            raise ConnectionError("the database went away before the commit")

    with pytest.raises(ConnectionError):
        poll(client, settings, failing_transaction)
    assert stored(client) == []
    assert imap_server.flags() == [False]
    assert poll(client, settings) == 1
    assert imap_server.flags() == [True]


def test_a_mail_over_the_size_limit_is_logged_as_rejected_and_left_in_the_mailbox(
    client: TestClient, settings: Settings, imap_server: IMAPServer, fake_clock: FakeClock
) -> None:
    settings = settings.model_copy(update={"imap_url": imap_server.url, "max_mail_mb": 0.01})
    big = corpus("new_request.eml", FROM="dana@example.org", MSGID="big@x") + b"x" * 20_000
    imap_server.append(big)
    assert poll(client, settings) == 0
    [row] = stored(client)
    assert row.status == InboundStatus.REJECTED and row.message_id == "<big@x>"
    assert row.error is not None and "over the limit" in row.error
    assert row.size > len(row.raw)
    assert imap_server.flags() == [True]


def test_the_same_mail_by_imap_and_http_gives_one_comment(
    client: TestClient,
    settings: Settings,
    people: People,
    imap_server: IMAPServer,
    fake_clock: FakeClock,
) -> None:
    customer = people["individual"]
    ticket = make_ticket(client, customer)
    raw = corpus(
        "apple_reply.eml",
        FROM=customer.email,
        TO="support@example.com",
        SUBJECT=f"[{ticket['ticket_number']}] {ticket['subject']}",
        IN_REPLY_TO="<x@example.org>",
        REFERENCES="<x@example.org>",
        MSGID="both-ways",
    )
    imap_server.append(raw)
    accepted = post_mail(client, people["super_admin"], raw)
    settings = settings.model_copy(update={"imap_url": imap_server.url})
    assert poll(client, settings) == 0  # already stored by the HTTP delivery
    assert imap_server.flags() == [True]
    process_mail(client)
    [row] = stored(client)
    assert row.id == accepted["id"] and row.status == InboundStatus.PROCESSED
    comments = client.get(f"{API}/tickets/{ticket['id']}/comments", headers=customer.headers)
    assert [c["comment"] for c in comments.json()] == [
        "It happened again this morning, same error.\n\nSent from my iPad"
    ]
