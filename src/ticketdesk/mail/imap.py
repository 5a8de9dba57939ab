"""Polling a mailbox over IMAP: each unseen mail is stored (and committed) before it is marked
\\Seen; nothing is ever deleted. imapclient blocks, so its calls run in a thread."""

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime

from imapclient import IMAPClient  # type: ignore[import-untyped]
from sqlalchemy.ext.asyncio import AsyncSession

from ticketdesk.mail import inbound
from ticketdesk.mail.config import Endpoint, MailConfig
from ticketdesk.mail.schedule import schedule_processing

Transaction = Callable[[], AbstractAsyncContextManager[AsyncSession]]
CHUNK = 50
TIMEOUT = 60.0


def _connect(endpoint: Endpoint) -> IMAPClient:
    client = IMAPClient(endpoint.host, port=endpoint.port, ssl=endpoint.tls, timeout=TIMEOUT)
    if endpoint.starttls:
        client.starttls()
    client.login(endpoint.username or "", endpoint.password or "")
    client.select_folder(endpoint.path)
    return client


def _fetch(client: IMAPClient, uids: list[int], max_bytes: int) -> list[tuple[int, bytes, int]]:
    """(uid, bytes, size) per mail; a mail over the limit comes as its header alone."""
    sizes = client.fetch(uids, ["RFC822.SIZE"])
    small = [uid for uid in uids if sizes.get(uid, {}).get(b"RFC822.SIZE", 0) <= max_bytes]
    large = [uid for uid in uids if uid not in small]
    found: list[tuple[int, bytes, int]] = []
    for uid, data in client.fetch(small, ["BODY.PEEK[]"]).items() if small else []:
        found.append((uid, bytes(data[b"BODY[]"]), len(data[b"BODY[]"])))
    for uid, data in client.fetch(large, ["BODY.PEEK[HEADER]"]).items() if large else []:
        found.append((uid, bytes(data[b"BODY[HEADER]"]), sizes[uid][b"RFC822.SIZE"]))
    return sorted(found)


async def poll(transaction: Transaction, config: MailConfig, *, now: datetime) -> int:
    """Stores every unseen mail of the mailbox; returns how many were new."""
    if config.imap is None:
        return 0
    client = await asyncio.to_thread(_connect, config.imap)
    stored = 0
    try:
        uids = sorted(await asyncio.to_thread(client.search, ["UNSEEN"]))
        for start in range(0, len(uids), CHUNK):
            chunk = uids[start : start + CHUNK]
            mails = await asyncio.to_thread(_fetch, client, chunk, config.max_bytes)
            done = []
            for uid, raw, size in mails:
                async with transaction() as session:
                    stored += await _store(session, config, raw, size, now=now)
                done.append(uid)
            if done:
                await asyncio.to_thread(client.add_flags, done, [b"\\Seen"])
    finally:
        await asyncio.to_thread(_logout, client)
    return stored


async def _store(
    session: AsyncSession, config: MailConfig, raw: bytes, size: int, *, now: datetime
) -> int:
    if size > config.max_bytes:
        await inbound.store_too_large(session, raw, size, source="imap", now=now)
        return 0
    row, created = await inbound.store(session, config, raw, source="imap", now=now)
    if created:
        await schedule_processing(session, row.id)
    return int(created)


def _logout(client: IMAPClient) -> None:
    try:
        client.logout()
    except Exception:  # the mail is stored already; a failed goodbye changes nothing
        client.shutdown()
