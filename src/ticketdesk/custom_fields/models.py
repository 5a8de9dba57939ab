from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Integer, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from ticketdesk.auth.models import enum_column
from ticketdesk.db import Base, UTCDateTime

# A ticket's values live in one JSON column: JSONB on PostgreSQL (indexable with GIN).
JSONValues = JSON().with_variant(JSONB(), "postgresql")


class FieldType(StrEnum):
    TEXT = "text"
    NUMBER = "number"
    DATE = "date"
    SELECT = "select"
    MULTISELECT = "multiselect"
    CHECKBOX = "checkbox"


class CustomField(Base):
    """A typed field of every ticket. Deleted definitions stay (deleted_at) so their key is
    never reused for values of another meaning; their values are no longer shown."""

    __tablename__ = "custom_fields"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(200))
    type: Mapped[FieldType] = mapped_column(enum_column(FieldType))
    options: Mapped[list[str] | None] = mapped_column(JSON)
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    visible_to_customer: Mapped[bool] = mapped_column(Boolean, default=False)
    editable_by_customer: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def as_dict(self) -> dict[str, Any]:
        return {c.key: getattr(self, c.key) for c in self.__table__.columns}


class CustomFieldsVersion(Base):
    """One row: a number that every change of a definition raises in its own transaction
    (database triggers do it). Read in the same statement as tickets, it tells a process
    whether the definitions it keeps are still those of that moment."""

    __tablename__ = "custom_fields_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)
