"""Attachments: attach stored files to tickets and comments, list, read, delete.

Bytes reach storage before the rows that point at them are committed (see upload.py); a
crash in between leaves unreferenced bytes, which the orphan sweep (jobs.py) removes.
Each distinct content has one `attachment_blobs` row counting the live attachments that
share it; when the count reaches zero the row and the bytes go.
"""

import uuid
from collections.abc import AsyncIterable, Sequence
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import and_, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from ticketdesk import clock, events
from ticketdesk.attachments.models import Attachment, Blob
from ticketdesk.attachments.storage import Storage, storage_for
from ticketdesk.attachments.upload import FormStream, Limits, UploadedFile, store_uploads
from ticketdesk.auth import policy
from ticketdesk.auth.models import User
from ticketdesk.comments.models import TicketComment
from ticketdesk.config import Settings
from ticketdesk.errors import Forbidden, Invalid, NotFound
from ticketdesk.tickets import merge
from ticketdesk.tickets import service as tickets
from ticketdesk.tickets.history import add_activity
from ticketdesk.tickets.models import Ticket

UPLOADER_DELETE_WINDOW = timedelta(minutes=15)


async def attach(
    session: AsyncSession,
    actor: User,
    ticket: Ticket,
    uploads: Sequence[UploadedFile],
    *,
    storage: Storage,
    comment: TicketComment | None = None,
    is_internal: bool = False,
    now: datetime | None = None,
) -> list[Attachment]:
    """Rows for files already in storage. Files of an internal note are internal.

    The caller holds the ticket locked (its counters change) and has stored the bytes.
    """
    now = now or clock.now()
    is_internal = is_internal or (comment is not None and comment.is_internal)
    rows = []
    for upload in uploads:
        await _reference(session, storage, upload, now=now)
        row = Attachment(
            public_id=uuid.uuid4(),
            ticket_id=ticket.id,
            comment_id=comment.id if comment is not None else None,
            uploaded_by_id=actor.id,
            filename=upload.filename,
            declared_type=upload.declared_type,
            content_type=upload.content_type,
            size=upload.size,
            sha256=upload.sha256,
            is_internal=is_internal,
            created_at=now,
        )
        # Known now; read from the database only for rows loaded later.
        row.merged_from_number = ticket.ticket_number if ticket.merged_into_id else None
        session.add(row)
        rows.append(row)
        add_activity(
            session,
            ticket,
            actor,
            "attachment_added",
            now=now,
            attachment_id=str(row.public_id),
            filename=row.filename,
            size=row.size,
            is_internal=is_internal,
        )
    _count(ticket, len(rows), is_internal=is_internal, now=now)
    await session.flush()
    for row in rows:
        await events.record(
            session,
            "attachment.added",
            ticket=ticket,
            actor=actor,
            data={
                "attachment_id": str(row.public_id),
                "comment_id": row.comment_id,
                "filename": row.filename,
                "content_type": row.content_type,
                "size": row.size,
                "sha256": row.sha256,
                "is_internal": is_internal,
            },
            now=now,
            is_internal=is_internal,
        )
    return rows


def _count(ticket: Ticket, delta: int, *, is_internal: bool, now: datetime) -> None:
    """Keeps the ticket's counters; customers never learn of internal files, not even by time."""
    if not delta:
        return
    ticket.attachments_count += delta
    if not is_internal:
        ticket.public_attachments_count += delta
        if delta > 0:
            ticket.updated_at = now


async def _reference(
    session: AsyncSession, storage: Storage, upload: UploadedFile, *, now: datetime
) -> None:
    """Counts one more attachment on the blob, creating its row on the first."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(Blob)
        .values(sha256=upload.sha256, size=upload.size, ref_count=1, created_at=now)
        .on_conflict_do_update(index_elements=[Blob.sha256], set_={"ref_count": Blob.ref_count + 1})
        .returning(Blob.ref_count)
    )
    if await session.scalar(statement) == 1 and not await storage.exists(upload.sha256):
        # The last attachment sharing these bytes was deleted (and the bytes with it) after
        # this upload stored them: store them again from the upload's temporary file.
        await storage.put_file(upload.sha256, upload.path)


async def _release(session: AsyncSession, storage: Storage, sha256: str) -> None:
    """One attachment fewer on the blob; the last one takes the bytes with it."""
    blob = await session.scalar(select(Blob).where(Blob.sha256 == sha256).with_for_update())
    if blob is None:
        return
    blob.ref_count -= 1
    if blob.ref_count > 0:
        return
    await session.delete(blob)
    await session.flush()
    # Removed while the blob row is locked, so a concurrent upload of the same bytes waits
    # and then finds them gone (and stores them again) rather than pointing at nothing.
    await storage.delete(sha256)


async def upload_to_ticket(
    session: AsyncSession,
    actor: User,
    ref: str,
    uploads: Sequence[UploadedFile],
    *,
    storage: Storage,
    comment_id: int | None = None,
    is_internal: bool = False,
) -> list[Attachment]:
    """Anyone who sees the ticket may add files; only staff add internal ones, and a file
    goes on a comment only by that comment's author."""
    if not uploads:
        raise Invalid("send at least one `file` part", field="file")
    if is_internal and not policy.is_staff(actor):
        raise Forbidden("only support staff may add internal attachments")
    ticket = await tickets.get_ticket(session, actor, ref, for_update=True, with_people=False)
    comment = None
    if comment_id is not None:
        comment = await _comment(session, actor, ticket, comment_id)
    return await attach(
        session, actor, ticket, uploads, storage=storage, comment=comment, is_internal=is_internal
    )


async def _comment(
    session: AsyncSession, actor: User, ticket: Ticket, comment_id: int
) -> TicketComment:
    query = select(TicketComment).where(
        TicketComment.id == comment_id, TicketComment.ticket_id == ticket.id
    )
    if not policy.is_staff(actor):
        query = query.where(TicketComment.is_internal.is_(False))
    comment = await session.scalar(query)
    if comment is None:
        raise Invalid("no such comment on this ticket", field="comment_id")
    if comment.user_id != actor.id:
        raise Forbidden("files go on a comment only by its author")
    return comment


async def store_file(
    session: AsyncSession,
    actor: User,
    ticket: Ticket,
    *,
    filename: str,
    data: bytes | AsyncIterable[bytes],
    settings: Settings,
    comment: TicketComment | None = None,
    is_internal: bool = False,
    declared_type: str | None = None,
) -> Attachment:
    """One file from outside a request (inbound mail): checked, scanned and stored as an
    upload is, then attached. Raises the upload's errors (413, 415, 422, 503).

    The bytes are stored while `session` is open: call it from a job's transaction.
    """
    storage = storage_for(settings)
    upload = await spool(filename, data, settings=settings, storage=storage)
    try:
        upload.declared_type = declared_type
        await store_uploads(storage, [upload], clamd_url=settings.clamd_url)
        (row,) = await attach(
            session, actor, ticket, [upload], storage=storage, comment=comment,
            is_internal=is_internal,
        )  # fmt: skip
    finally:
        upload.path.unlink(missing_ok=True)
    return row


async def spool(
    filename: str, data: bytes | AsyncIterable[bytes], *, settings: Settings, storage: Storage
) -> UploadedFile:
    """Bytes from outside a request to a temporary file, under the upload limits."""
    boundary = uuid.uuid4().hex.encode()
    form = FormStream(boundary, Limits.of(settings), storage.temp_dir)
    quoted = filename.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "").replace("\n", "")
    try:
        form.write(
            b'--%s\r\nContent-Disposition: form-data; name="file"; filename="%s"\r\n\r\n'
            % (boundary, quoted.encode())
        )
        if isinstance(data, bytes):
            form.write(data)
        else:
            async for chunk in data:
                form.write(chunk)
        form.write(b"\r\n--%s--\r\n" % boundary)
        form.finish()
    except BaseException:
        form.discard()
        raise
    (upload,) = form.files
    return upload


def _visible(actor: User) -> list[object]:
    """Over attachments joined to their ticket: the files of a ticket the actor sees, or of a
    ticket merged into one they see (it shows in that ticket's conversation)."""
    conditions: list[object] = [Attachment.deleted_at.is_(None)]
    if not policy.is_staff(actor):
        seen = select(Ticket.id).where(*policy.ticket_visibility(actor)).correlate(None)
        own = and_(*policy.ticket_visibility(actor))
        conditions += [Attachment.is_internal.is_(False), or_(own, Ticket.merged_into_id.in_(seen))]
    return conditions


async def list_for_ticket(session: AsyncSession, actor: User, ref: str) -> list[Attachment]:
    """Oldest first, with the files of tickets merged into this one; customers never see
    internal files."""
    ticket = await tickets.get_ticket(session, actor, ref, with_people=False)
    conversation = await merge.conversation_ids(session, ticket.id)
    query = (
        select(Attachment)
        .join(Ticket, Ticket.id == Attachment.ticket_id)
        .where(Attachment.ticket_id.in_(conversation), *_visible(actor))  # type: ignore[arg-type]
        .order_by(Attachment.id)
    )
    return list(await session.scalars(query))


async def by_comment(
    session: AsyncSession, actor: User, comment_ids: Sequence[int]
) -> dict[int, list[Attachment]]:
    """The files of each comment that the actor may see."""
    if not comment_ids:
        return {}
    query = (
        select(Attachment)
        .join(Ticket, Ticket.id == Attachment.ticket_id)
        .where(Attachment.comment_id.in_(comment_ids), *_visible(actor))  # type: ignore[arg-type]
        .order_by(Attachment.id)
    )
    found: dict[int, list[Attachment]] = {}
    for row in await session.scalars(query):
        assert row.comment_id is not None
        found.setdefault(row.comment_id, []).append(row)
    return found


def _public_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound("attachment not found") from None


async def get_attachment(
    session: AsyncSession, actor: User, attachment_id: str, *, for_update: bool = False
) -> Attachment:
    """An attachment the actor may see; any other is not found."""
    query = (
        select(Attachment)
        .join(Ticket, Ticket.id == Attachment.ticket_id)
        .where(Attachment.public_id == _public_id(attachment_id), *_visible(actor))  # type: ignore[arg-type]
    )
    if for_update:
        query = query.with_for_update(of=Attachment)
    row = await session.scalar(query)
    if row is None:
        raise NotFound("attachment not found")
    return row


async def delete_attachment(
    session: AsyncSession, actor: User, attachment_id: str, *, storage: Storage
) -> None:
    """Staff, or the uploader within 15 minutes. The row stays as a tombstone."""
    row = await get_attachment(session, actor, attachment_id, for_update=True)
    now = clock.now()
    if not policy.is_staff(actor):
        if row.uploaded_by_id != actor.id:
            raise Forbidden("only support staff or the uploader may delete a file")
        if now - row.created_at > UPLOADER_DELETE_WINDOW:
            raise Forbidden("an uploader may delete a file only within 15 minutes")
    ticket = await tickets.get_ticket(
        session, actor, str(row.ticket_id), for_update=True, with_people=False
    )
    row.deleted_at, row.deleted_by_id = now, actor.id
    _count(ticket, -1, is_internal=row.is_internal, now=now)
    if ticket.merged_into_id is not None:
        # The file also counted in the conversation of the ticket it was merged into.
        target = await session.get(Ticket, ticket.merged_into_id, with_for_update=True)
        if target is not None:
            _count(target, -1, is_internal=row.is_internal, now=now)
    add_activity(
        session,
        ticket,
        actor,
        "attachment_deleted",
        now=now,
        attachment_id=str(row.public_id),
        filename=row.filename,
        is_internal=row.is_internal,
    )
    await session.flush()
    await _release(session, storage, row.sha256)


async def unclaimed(session: AsyncSession, sha256s: Sequence[str]) -> set[str]:
    """Of these stored hashes, those no live attachment points at."""
    live = select(Attachment.sha256).where(
        Attachment.sha256.in_(sha256s), Attachment.deleted_at.is_(None)
    )
    return set(sha256s) - set(await session.scalars(live))


async def remove_if_unclaimed(
    session: AsyncSession, storage: Storage, sha256: str, *, written_before: datetime
) -> bool:
    """Removes bytes (and their blob row) that no live attachment claims and that were
    written before the cutoff. Attachments removed with their ticket are found here too.

    The blob row stays locked meanwhile, so an upload of the same bytes waits and then
    stores them again (see `_reference`).
    """
    blob = await session.scalar(select(Blob).where(Blob.sha256 == sha256).with_for_update())
    if await unclaimed(session, [sha256]) != {sha256}:
        return False
    modified = await storage.modified_at(sha256)
    if modified is not None and modified >= written_before:
        return False
    if blob is not None:
        await session.delete(blob)
        await session.flush()
    await storage.delete(sha256)
    return modified is not None


def temp_files_older_than(directory: Path, cutoff: datetime) -> list[Path]:
    """Temporary upload files a crashed process left behind."""
    if not directory.exists():
        return []
    stamp = cutoff.timestamp()
    return [p for p in directory.glob("upload-*") if p.stat().st_mtime < stamp]


async def attach_to_comment(
    session: AsyncSession,
    actor: User,
    comment: TicketComment,
    uploads: Sequence[UploadedFile],
    *,
    storage: Storage,
) -> list[Attachment]:
    """The files sent with a new comment, in its transaction."""
    if not uploads:
        return []
    ticket = await session.scalar(
        select(Ticket).where(Ticket.id == comment.ticket_id).with_for_update()
    )
    assert ticket is not None
    return await attach(session, actor, ticket, uploads, storage=storage, comment=comment)
