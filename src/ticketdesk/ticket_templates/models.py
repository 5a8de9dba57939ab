from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ticketdesk.auth.models import enum_column
from ticketdesk.db import Base, UTCDateTime
from ticketdesk.tickets.models import Category, Priority


class TicketTemplate(Base):
    """A pre-filled new-ticket form; a null value leaves that field to the request's default."""

    __tablename__ = "ticket_templates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[Category | None] = mapped_column(enum_column(Category))
    priority: Mapped[Priority | None] = mapped_column(enum_column(Priority))
    subject: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    custom_fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
