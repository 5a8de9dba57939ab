"""Mail throughput: 1,000 queued notifications sent to a local SMTP server, and 1,000 stored
received mails processed into tickets and comments.

    python -m bench.mail_bench                      # embedded SQLite in a temporary folder
    python -m bench.mail_bench --database-url postgresql://postgres@127.0.0.1:5432/mail_bench

Beside each figure it prints a reference measured in the same run: the same 1,000 messages sent
bare with aiosmtplib on one connection (no database), and 1,000 plain ticket inserts (the
database's own rate for the heaviest write of processing).
"""

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

import aiosmtplib
from aiosmtpd.controller import Controller
from sqlalchemy import insert, select, text

from ticketdesk import clock, db
from ticketdesk.auth.models import User
from ticketdesk.config import Settings
from ticketdesk.mail import compose, inbound, outbox, sender
from ticketdesk.mail.config import mail_config
from ticketdesk.mail.models import InboundEmail, OutboundEmail, OutboxStatus
from ticketdesk.tickets.models import Category, Priority, Status, Ticket

COUNT = 1000
SENDERS = 200
CONTEXT = {
    "number": "TKT-20250106-0001",
    "ticket_subject": "Printer on floor 3 is jammed",
    "status": "open",
    "status_label": "Open",
    "priority": "medium",
    "recipient_name": "Dana",
    "author_name": "Agent",
    "link": "https://help.example.com/portal/tickets/TKT-20250106-0001",
    "reply_marker": compose.REPLY_MARKER,
    "comment": "Please switch it off and on again.\n" * 5,
}


class Sink:
    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.count += 1
        return "250 OK"


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _reset(engine: Any) -> None:
    async with engine.begin() as connection:
        for table in ("mail_suppressions", "mail_outbox", "mail_inbound", "ticket_activity"):
            await connection.execute(text(f"DELETE FROM {table}"))
        for table in ("ticket_status_history", "ticket_comments", "ticket_tags", "tickets"):
            await connection.execute(text(f"DELETE FROM {table}"))
        await connection.execute(text("DELETE FROM ticket_number_counters"))
        await connection.execute(text("DELETE FROM users"))


async def outbound(settings: Settings, sessionmaker: Any) -> None:
    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        config = mail_config(settings.model_copy(update={"smtp_url": f"smtp://127.0.0.1:{port}"}))
        start = time.perf_counter()
        async with db.session_scope(sessionmaker) as session:
            for n in range(COUNT):
                await outbox.queue_mail(
                    session,
                    config,
                    kind="staff_reply",
                    to_addr=f"customer{n}@example.org",
                    to_name=f"Customer {n}",
                    context=CONTEXT,
                    now=clock.now(),
                )
        queued = time.perf_counter() - start
        start = time.perf_counter()
        sent = await sender.send_due(
            lambda: db.session_scope(sessionmaker), config, now=clock.now()
        )
        sending = time.perf_counter() - start
        assert sent == COUNT == sink.count, (sent, sink.count)
        async with db.session_scope(sessionmaker) as session:
            rows = list(await session.scalars(select(OutboundEmail)))
        assert all(r.status == OutboxStatus.SENT for r in rows)
        messages = [compose.build_message(config, r) for r in rows]
        sink.count = 0
        start = time.perf_counter()
        smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False)
        await smtp.connect()
        for row, message in zip(rows, messages, strict=True):
            await smtp.sendmail(config.from_addr, [row.to_addr], message)
        await smtp.quit()
        bare = time.perf_counter() - start
    finally:
        controller.stop()
    print(f"outbound: {COUNT} notifications written to the outbox in {queued:.2f} s")
    print(
        f"outbound: {COUNT} queued notifications delivered in {sending:.2f} s "
        f"({COUNT / sending:.0f}/s); the same mails sent bare on one connection: "
        f"{bare:.2f} s ({COUNT / bare:.0f}/s)"
    )


def _mail(n: int, ticket_number: str | None) -> bytes:
    subject = f"[{ticket_number}] Re: Printer" if ticket_number else f"Printer {n} is jammed"
    return (
        f"From: Customer {n % SENDERS} <customer{n % SENDERS}@example.org>\r\n"
        f"To: support@example.com\r\nSubject: {subject}\r\n"
        f"Date: Mon, 6 Jan 2025 10:00:00 +0000\r\nMessage-ID: <bench-{n}@example.org>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        f"Hello,\r\n\r\nmail number {n}: the printer shows a paper jam.\r\n\r\n"
        "On Mon, 6 Jan 2025 at 09:00, Support <support@example.com> wrote:\r\n> earlier\r\n"
    ).encode()


async def inbound_processing(settings: Settings, sessionmaker: Any) -> None:
    config = mail_config(settings)
    now = clock.now()
    # The first SENDERS mails open a ticket each; the others reply on them.
    async with db.session_scope(sessionmaker) as session:
        for n in range(COUNT):
            await inbound.store(
                session, config, _mail(n, None if n < SENDERS else "?"), source="http", now=now
            )
    async with db.session_scope(sessionmaker) as session:
        ids = list(await session.scalars(select(InboundEmail.id).order_by(InboundEmail.id)))
    start = time.perf_counter()
    for position, inbound_id in enumerate(ids):
        if position == SENDERS:
            await _point_replies(sessionmaker)
        async with db.session_scope(sessionmaker) as session:
            await inbound.process(session, config, inbound_id, now=now)
    elapsed = time.perf_counter() - start
    async with db.session_scope(sessionmaker) as session:
        done = await session.scalar(
            text("SELECT count(*) FROM mail_inbound WHERE status = 'processed'")
        )
        comments = await session.scalar(text("SELECT count(*) FROM ticket_comments"))
    assert done == COUNT and comments == COUNT - SENDERS, (done, comments)
    reference = await _plain_inserts(sessionmaker)
    print(
        f"inbound: {COUNT} stored mails processed ({SENDERS} new tickets, "
        f"{COUNT - SENDERS} replies) in "
        f"{elapsed:.2f} s ({COUNT / elapsed:.0f}/s); {COUNT} bare ticket inserts, one "
        f"transaction each: {reference:.2f} s ({COUNT / reference:.0f}/s)"
    )


async def _point_replies(sessionmaker: Any) -> None:
    """Replies name the ticket their sender opened (known only once it exists)."""
    async with db.session_scope(sessionmaker) as session:
        numbers = {
            email: number
            for email, number in (
                await session.execute(
                    select(User.email, Ticket.ticket_number).join(Ticket, Ticket.user_id == User.id)
                )
            ).all()
        }
        for row in await session.scalars(
            select(InboundEmail).where(InboundEmail.status == "received")
        ):
            n = int(row.message_id.split("-")[1].split("@")[0])
            row.raw = _mail(n, numbers[f"customer{n % SENDERS}@example.org"])


async def _plain_inserts(sessionmaker: Any) -> float:
    now = clock.now()
    async with db.session_scope(sessionmaker) as session:
        owner = await session.scalar(select(User.id).limit(1))
    start = time.perf_counter()
    for n in range(COUNT):
        async with db.session_scope(sessionmaker) as session:
            await session.execute(
                insert(Ticket).values(
                    ticket_number=f"REF-{n}",
                    user_id=owner,
                    subject="Reference",
                    description="Reference insert",
                    status=Status.OPEN,
                    priority=Priority.MEDIUM,
                    category=Category.GENERAL_INQUIRY,
                    tags="",
                    is_internal=False,
                    created_at=now,
                    updated_at=now,
                )
            )
    return time.perf_counter() - start


async def main(database_url: str | None) -> None:
    folder = Path(tempfile.mkdtemp(prefix="ticketdesk-mail-bench-"))
    url = database_url or f"sqlite:///{folder / 'bench.db'}"
    settings = Settings(database_url=url, data_dir=folder, secret_key="bench-" * 8)
    engine = db.create_engine(url)
    await db.migrate(engine)
    await _reset(engine)
    sessionmaker = db.make_sessionmaker(engine)
    print(f"database: {engine.dialect.name}")
    await outbound(settings, sessionmaker)
    await inbound_processing(settings, sessionmaker)
    await engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default=None)
    asyncio.run(main(parser.parse_args().database_url))
