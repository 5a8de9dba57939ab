"""Ticket versions for HTTP: an ETag on every ticket answer, and If-Match on the changing
requests so that two people editing one ticket cannot silently overwrite each other."""

import hashlib
import operator
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from ticketdesk.auth.models import User
from ticketdesk.errors import PreconditionFailed
from ticketdesk.tickets import service as tickets
from ticketdesk.tickets.models import Ticket

_COLUMNS = tuple(column.key for column in Ticket.__table__.columns)
_FROM_ROW = operator.itemgetter(*_COLUMNS)
_FROM_TICKET = operator.attrgetter(*_COLUMNS)


def _tag(values: Any) -> str:
    text = "\x1f".join(["" if value is None else str(value) for value in values])
    return '"' + hashlib.blake2b(text.encode(), digest_size=12).hexdigest() + '"'


def etag(ticket: Any) -> str:
    """The version of a ticket's stored state: an ORM Ticket or a row of the ticket view."""
    if isinstance(ticket, Row):
        return _tag(_FROM_ROW(ticket._mapping))
    return _tag(_FROM_TICKET(ticket))


def matches(header: str, current: str) -> bool:
    """If-Match: `*` or a list of tags, weak ones compared strongly (never equal)."""
    tags = {tag.strip() for tag in header.split(",")}
    return "*" in tags or current in tags


async def require_version(
    session: AsyncSession, actor: User, ref: str, if_match: str | None
) -> None:
    """Without If-Match nothing is checked; with one naming an older version, 412. The ticket
    stays locked (FOR UPDATE) for the rest of the transaction, so the check holds."""
    if if_match is None:
        return
    ticket = await tickets.get_ticket(session, actor, ref, for_update=True)
    if not matches(if_match, etag(ticket)):
        raise PreconditionFailed("the ticket changed since you read it: read it again")
