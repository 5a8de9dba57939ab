from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column

from ticketdesk.auth.models import enum_column
from ticketdesk.db import Base, UTCDateTime


class Rating(StrEnum):
    GOOD = "good"
    BAD = "bad"


class SatisfactionRating(Base):
    """The customer's answer to "How did we do?": one per ticket, changeable for a while."""

    __tablename__ = "satisfaction_ratings"

    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    rating: Mapped[Rating] = mapped_column(enum_column(Rating))
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
