from datetime import datetime

from sqlalchemy import Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from ticketdesk.db import Base, UTCDateTime


class IdempotentRequest(Base):
    """A POST sent with an Idempotency-Key: who sent it, what it said (a digest), and the
    answer it got (empty while it runs). Kept 24 hours."""

    __tablename__ = "idempotent_requests"

    owner: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[int | None] = mapped_column(Integer)
    content_type: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
