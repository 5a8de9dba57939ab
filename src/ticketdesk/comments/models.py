from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, Text, select
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from ticketdesk.auth.models import User
from ticketdesk.db import Base, UTCDateTime
from ticketdesk.tickets.models import Ticket


class TicketComment(Base):
    __tablename__ = "ticket_comments"
    __table_args__ = (Index("ix_ticket_comments_ticket_id_id", "ticket_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    comment: Mapped[str] = mapped_column(Text)
    is_internal: Mapped[bool] = mapped_column(Boolean, default=False)
    is_resolution: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    author: Mapped[User] = relationship(lazy="raise")
    # The number of the comment's ticket when that ticket was merged into another: the
    # comment then shows in the other ticket's conversation, marked as coming from it.
    merged_from_number: Mapped[str | None] = column_property(
        select(Ticket.ticket_number)
        .where(Ticket.id == ticket_id, Ticket.merged_into_id.is_not(None))
        .correlate_except(Ticket)
        .scalar_subquery(),
        expire_on_flush=False,
    )
