import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Uuid, select
from sqlalchemy.orm import Mapped, column_property, mapped_column

from ticketdesk.db import Base, UTCDateTime
from ticketdesk.tickets.models import Ticket


class Blob(Base):
    """Stored bytes, one row per distinct content; `ref_count` live attachments share it."""

    __tablename__ = "attachment_blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    ref_count: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Attachment(Base):
    """A file on a ticket (or one of its comments). A deleted one stays as a tombstone."""

    __tablename__ = "attachments"
    __table_args__ = (
        Index("ix_attachments_ticket_id_id", "ticket_id", "id"),
        Index("ix_attachments_comment_id", "comment_id"),
        Index("ix_attachments_sha256", "sha256"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The id the API shows: random, so that one attachment's id says nothing of another's.
    public_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True, default=uuid.uuid4)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    comment_id: Mapped[int | None] = mapped_column(
        ForeignKey("ticket_comments.id", ondelete="CASCADE")
    )
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    filename: Mapped[str] = mapped_column(String(255))
    declared_type: Mapped[str | None] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    is_internal: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The number of the file's ticket when that ticket was merged into another: the file then
    # shows among the other ticket's files, marked as coming from it.
    merged_from_number: Mapped[str | None] = column_property(
        select(Ticket.ticket_number)
        .where(Ticket.id == ticket_id, Ticket.merged_into_id.is_not(None))
        .correlate_except(Ticket)
        .scalar_subquery(),
        expire_on_flush=False,
    )
