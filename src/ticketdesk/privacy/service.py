"""Data protection: everything stored about a person as one streamed JSON document, and
irreversible anonymization that keeps tickets, comments and statistics whole."""

import json
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ticketdesk import clock
from ticketdesk.attachments.models import Attachment
from ticketdesk.auth import policy
from ticketdesk.auth import service as accounts
from ticketdesk.auth.models import User
from ticketdesk.comments.models import TicketComment
from ticketdesk.errors import Conflict, NotFound
from ticketdesk.mail import preferences
from ticketdesk.organizations.models import Organization
from ticketdesk.satisfaction.models import SatisfactionRating
from ticketdesk.sla.models import SettingsAudit
from ticketdesk.tickets.models import Ticket, split_tags

BATCH = 500
# Files are exported as their metadata and where to download them (with the person's own
# sign-in): the document stays small, and bytes never leave without authentication.
DOWNLOAD_PATH = "/api/v1/attachments/{id}/content"
PLACEHOLDER_NAME = "Anonymized user {id}"
# `.invalid` can never be a real mail domain (RFC 2606): nothing is ever sent there.
PLACEHOLDER_EMAIL = "anonymized-{id}@anonymized.invalid"
# Not an argon2 hash: no password can ever match it.
NO_PASSWORD = "!anonymized"


async def person_to_export(session: AsyncSession, actor: User, user_id: int) -> User:
    """The super_admin exports anyone; everyone may export themselves (/auth/me/export)."""
    if user_id != actor.id:
        policy.require_super_admin(actor)
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound("user not found")
    return user


async def export_document(
    sessionmaker: async_sessionmaker[AsyncSession], user_id: int, *, now: datetime
) -> AsyncIterator[bytes]:
    """The person's data as JSON, written piece by piece (tickets and comments in batches).

    It holds what the person may see themselves, so that it can be handed to them as it is:
    for a customer, no internal notes and no staff-only tickets.
    """
    async with sessionmaker() as session:
        user = await session.get(User, user_id)
        if user is None:
            return
        staff = policy.is_staff(user)
        yield b'{"exported_at": ' + _json(now)
        yield b', "account": ' + _json(_account(user))
        organization = (
            await session.get(Organization, user.organization_id) if user.organization_id else None
        )
        yield b', "organization": ' + _json(
            {"id": organization.id, "name": organization.name} if organization else None
        )
        yield b', "tickets": ['
        tickets = select(Ticket).where(Ticket.user_id == user.id)
        if not staff:
            tickets = tickets.where(Ticket.is_internal.is_(False))
        first = True
        async for batch in _batches(session, tickets, Ticket.id):
            ids = [t.id for t in batch]
            conversations = await _conversations(session, ids, staff=staff)
            files = await _files(session, Attachment.ticket_id.in_(ids), staff=staff)
            for ticket in batch:
                entry = _ticket(ticket) | {
                    "comments": conversations.get(ticket.id, []),
                    "attachments": [_file(f) for f in files if f.ticket_id == ticket.id],
                }
                yield (b"" if first else b", ") + _json(entry)
                first = False
        yield b'], "comments_written": ['
        written = select(TicketComment).where(TicketComment.user_id == user.id)
        if not staff:
            written = written.where(TicketComment.is_internal.is_(False))
        first = True
        async for batch in _batches(session, written, TicketComment.id):
            for comment in batch:
                yield (b"" if first else b", ") + _json(_comment(comment))
                first = False
        yield b'], "satisfaction_ratings": '
        ratings = await session.scalars(
            select(SatisfactionRating)
            .where(SatisfactionRating.user_id == user.id)
            .order_by(SatisfactionRating.ticket_id)
        )
        yield _json([_rating(r) for r in ratings])
        # Files the person sent, on tickets they may still see (theirs or their organization's).
        uploaded = await _files(
            session, Attachment.uploaded_by_id == user.id, *policy.ticket_visibility(user),
            staff=staff,
        )  # fmt: skip
        yield b', "attachments_uploaded": ' + _json([_file(f) for f in uploaded])
        yield b', "notification_settings": '
        yield _json(await preferences.get_preferences(session, user))
        yield b"}\n"


async def _batches(session: AsyncSession, query: Select[Any], key: Any) -> AsyncIterator[list[Any]]:
    """Rows of `query` in id order, BATCH at a time (keyset pagination: no deep offsets)."""
    after = 0
    while True:
        batch = list(await session.scalars(query.where(key > after).order_by(key).limit(BATCH)))
        if not batch:
            return
        yield batch
        after = batch[-1].id


async def _conversations(
    session: AsyncSession, ticket_ids: list[int], *, staff: bool
) -> dict[int, list[dict[str, Any]]]:
    query = (
        select(TicketComment, User.full_name)
        .join(User, User.id == TicketComment.user_id)
        .where(TicketComment.ticket_id.in_(ticket_ids))
        .order_by(TicketComment.id)
    )
    if not staff:
        query = query.where(TicketComment.is_internal.is_(False))
    found: dict[int, list[dict[str, Any]]] = {}
    for comment, author in await session.execute(query):
        found.setdefault(comment.ticket_id, []).append(_comment(comment) | {"author": author})
    return found


async def _files(session: AsyncSession, *where: Any, staff: bool) -> list[Attachment]:
    """Live files (no tombstones); for a customer, never an internal one."""
    query = (
        select(Attachment)
        .join(Ticket, Ticket.id == Attachment.ticket_id)
        .where(Attachment.deleted_at.is_(None), *where)
        .order_by(Attachment.id)
    )
    if not staff:
        query = query.where(Attachment.is_internal.is_(False))
    return list(await session.scalars(query))


def _file(row: Attachment) -> dict[str, Any]:
    return {
        "id": str(row.public_id),
        "ticket_id": row.ticket_id,
        "comment_id": row.comment_id,
        "filename": row.filename,
        "content_type": row.content_type,
        "size": row.size,
        "sha256": row.sha256,
        "is_internal": row.is_internal,
        "uploaded_by_id": row.uploaded_by_id,
        "created_at": row.created_at,
        "download": DOWNLOAD_PATH.format(id=row.public_id),
    }


def _json(value: Any) -> bytes:
    return json.dumps(value, default=_default, ensure_ascii=False).encode()


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return str(value)


def _account(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "full_name": user.full_name,
        "role": user.role,
        "is_active": user.is_active,
        "organization_id": user.organization_id,
        "created_at": user.created_at,
        "updated_at": user.updated_at,
        "anonymized_at": user.anonymized_at,
    }


def _ticket(ticket: Ticket) -> dict[str, Any]:
    return {
        "id": ticket.id,
        "ticket_number": ticket.ticket_number,
        "subject": ticket.subject,
        "description": ticket.description,
        "status": ticket.status,
        "priority": ticket.priority,
        "category": ticket.category,
        "tags": split_tags(ticket.tags),
        "organization_id": ticket.organization_id,
        "merged_into_number": ticket.merged_into_number,
        "created_at": ticket.created_at,
        "updated_at": ticket.updated_at,
        "resolved_at": ticket.resolved_at,
        "closed_at": ticket.closed_at,
    }


def _comment(comment: TicketComment) -> dict[str, Any]:
    return {
        "id": comment.id,
        "ticket_id": comment.ticket_id,
        "comment": comment.comment,
        "is_internal": comment.is_internal,
        "created_at": comment.created_at,
        "updated_at": comment.updated_at,
    }


def _rating(rating: SatisfactionRating) -> dict[str, Any]:
    return {
        "ticket_id": rating.ticket_id,
        "rating": rating.rating,
        "comment": rating.comment,
        "created_at": rating.created_at,
        "updated_at": rating.updated_at,
    }


async def anonymize(session: AsyncSession, actor: User, user_id: int) -> User:
    """Name and address become placeholders, the password and every token stop working, the
    account is deactivated for good. Tickets, comments and history stay (statistics and
    other people's threads stay whole) and show the placeholder. Audited in settings_audit,
    without the old values."""
    policy.require_super_admin(actor)
    user = await session.get(User, user_id, with_for_update=True)
    if user is None:
        raise NotFound("user not found")
    if user.id == actor.id:
        raise Conflict("you cannot anonymize your own account")
    if user.anonymized_at is not None:
        raise Conflict("this account was already anonymized")
    now = clock.now()
    user.full_name = PLACEHOLDER_NAME.format(id=user.id)
    user.email = PLACEHOLDER_EMAIL.format(id=user.id)
    user.password_hash = NO_PASSWORD
    # Deactivated, and every token and session issued so far ended.
    user.is_active = False
    await accounts.end_sessions(session, user)
    user.anonymized_at = user.updated_at = now
    session.add(
        SettingsAudit(
            changed_by_id=actor.id,
            entity="user",
            before=None,
            after={"user_id": user.id, "action": "anonymized"},
            changed_at=now,
        )
    )
    await session.flush()
    return user
