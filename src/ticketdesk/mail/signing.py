"""Signed Message-IDs and reply routes: the service recognises its own mail, nobody can forge it.

Message-ID `<tkt.{ticket_id}.{outbox_id}.{sig}@{domain}>`; outbox id 0 is a ticket's thread root,
which every mail of the ticket references. Reply route `{local}+t{ticket_id}.{sig}@{from domain}`
(plus-addressing). `sig` is the first 80 bits of an HMAC-SHA256 with the mail key, in lower-case
base32 (mail systems may lower-case addresses).
"""

import base64
import hashlib
import hmac
import re

from ticketdesk.mail.config import MailConfig

MESSAGE_ID = re.compile(r"<?tkt\.(\d{1,10})\.(\d{1,10})\.([a-z2-7]{16})@([^>\s]+)>?", re.I)
ROUTE = re.compile(r"\+t(\d{1,10})\.([a-z2-7]{16})@", re.I)


def _sig(key: bytes, message: str) -> str:
    digest = hmac.new(key, message.encode(), hashlib.sha256).digest()
    # 80 bits are 16 base32 digits: only those are encoded (base32 is pure Python).
    return base64.b32encode(digest[:10]).decode().lower()


def message_id(config: MailConfig, ticket_id: int, outbox_id: int) -> str:
    sig = _sig(config.key, f"msg|{ticket_id}|{outbox_id}")
    return f"<tkt.{ticket_id}.{outbox_id}.{sig}@{config.domain}>"


def thread_root(config: MailConfig, ticket_id: int) -> str:
    return message_id(config, ticket_id, 0)


def verify_message_id(config: MailConfig, value: str) -> tuple[int, int] | None:
    """(ticket id, outbox id) of one of our Message-IDs, or None (not ours, or forged)."""
    match = MESSAGE_ID.fullmatch(value.strip())
    if match is None or match.group(4).lower() != config.domain.lower():
        return None
    ticket_id, outbox_id = int(match.group(1)), int(match.group(2))
    expected = _sig(config.key, f"msg|{ticket_id}|{outbox_id}")
    return (ticket_id, outbox_id) if hmac.compare_digest(expected, match.group(3).lower()) else None


def reply_route(config: MailConfig, ticket_id: int) -> str:
    sig = _sig(config.key, f"route|{ticket_id}")
    return f"{config.local_part}+t{ticket_id}.{sig}@{config.from_domain}"


def verify_route(config: MailConfig, address: str) -> int | None:
    """The ticket id of one of our reply routes, or None."""
    local, _, domain = address.strip().lower().rpartition("@")
    if domain != config.from_domain or not local.startswith(config.local_part + "+"):
        return None
    match = ROUTE.search(f"{local}@")
    if match is None:
        return None
    ticket_id = int(match.group(1))
    expected = _sig(config.key, f"route|{ticket_id}")
    return ticket_id if hmac.compare_digest(expected, match.group(2)) else None


def find_ticket_ids(config: MailConfig, header_values: list[str]) -> list[int]:
    """Ticket ids named by verified Message-IDs in In-Reply-To/References, newest first."""
    found: list[int] = []
    for value in header_values:
        for candidate in re.findall(r"<[^<>\s]+>", value or ""):
            verified = verify_message_id(config, candidate)
            if verified is not None:
                found.append(verified[0])
    return list(dict.fromkeys(reversed(found)))
