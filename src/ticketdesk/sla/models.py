from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ticketdesk.auth.models import enum_column
from ticketdesk.db import Base, UTCDateTime
from ticketdesk.tickets.models import Priority


class SLAPolicy(Base):
    """Targets for one priority, in minutes."""

    __tablename__ = "sla_policies"

    priority: Mapped[Priority] = mapped_column(enum_column(Priority), primary_key=True)
    first_response_time: Mapped[int] = mapped_column(Integer)
    resolution_time: Mapped[int] = mapped_column(Integer)
    applies_business_hours_only: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class BusinessHours(Base):
    """The support team's calendar (a single row, id 1)."""

    __tablename__ = "business_hours"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    timezone: Mapped[str] = mapped_column(String(64))
    weekly: Mapped[dict[str, Any]] = mapped_column(JSON)
    holidays: Mapped[list[str]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SettingsAudit(Base):
    """Every change of an SLA policy or the business hours: who, when, before and after."""

    __tablename__ = "settings_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    entity: Mapped[str] = mapped_column(String(64))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any]] = mapped_column(JSON)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
