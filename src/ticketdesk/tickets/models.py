from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ticketdesk.auth.models import User, enum_column
from ticketdesk.custom_fields.models import JSONValues
from ticketdesk.db import Base, UTCDateTime


class Status(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    WAITING_ON_CUSTOMER = "waiting_on_customer"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REOPENED = "reopened"


class Priority(StrEnum):
    URGENT = "urgent"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class Category(StrEnum):
    TECHNICAL_SUPPORT = "technical_support"
    BILLING = "billing"
    ACCOUNT = "account"
    FEATURE_REQUEST = "feature_request"
    BUG_REPORT = "bug_report"
    GENERAL_INQUIRY = "general_inquiry"
    OTHER = "other"


# Tickets an assignee still works on: what auto-assignment weighs against capacity, kept per
# agent in `agent_loads` by the triggers of migration features_0011 (which spell it the same).
OPEN_WORK_SQL = "status NOT IN ('resolved', 'closed')"
# Tickets still being worked on. The predicate is spelled the way PostgreSQL writes a literal
# `status IN (...)` of a query, so that the planner can prove a query's filter implies it.
UNSOLVED = ("open", "in_progress", "waiting_on_customer", "reopened")
UNSOLVED_WHERE: dict[str, Any] = {
    "postgresql_where": text("status::text = ANY ('{" + ",".join(UNSOLVED) + "}'::text[])"),
    "sqlite_where": text("status IN (" + ", ".join(f"'{s}'" for s in UNSOLVED) + ")"),
}


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_created_at_id", "created_at", "id"),
        Index("ix_tickets_updated_at_id", "updated_at", "id"),
        # The dashboard: resolved per day, and the backlog before a range.
        Index("ix_tickets_resolved_at", "resolved_at"),
        Index("ix_tickets_status_created_at", "status", "created_at", "id"),
        Index("ix_tickets_status_updated_at", "status", "updated_at", "id"),
        Index("ix_tickets_user_id_created_at", "user_id", "created_at", "id"),
        Index("ix_tickets_user_id_updated_at", "user_id", "updated_at", "id"),
        Index("ix_tickets_assigned_to_id_created_at", "assigned_to_id", "created_at", "id"),
        Index("ix_tickets_priority_created_at", "priority", "created_at", "id"),
        Index("ix_tickets_category_created_at", "category", "created_at", "id"),
        Index("ix_tickets_resolution_due_at_id", "resolution_due_at", "id"),
        Index("ix_tickets_first_response_due_at_id", "first_response_due_at", "id"),
        # Containment (`custom_fields @> '{"plan": "pro"}'`) for every field at once: adding a
        # field needs no new index. PostgreSQL only; SQLite filters by json_extract.
        Index(
            "ix_tickets_custom_fields",
            "custom_fields",
            postgresql_using="gin",
            postgresql_ops={"custom_fields": "jsonb_path_ops"},
            # No pending list: reads never scan entries waiting to be merged.
            postgresql_with={"fastupdate": "off"},
        ).ddl_if(dialect="postgresql"),
        # The desk's views of unsolved tickets, each in its order.
        Index("ix_tickets_unsolved_created", "created_at", "id", **UNSOLVED_WHERE),
        Index("ix_tickets_unsolved_due", "resolution_due_at", "id", **UNSOLVED_WHERE),
        Index(
            "ix_tickets_unsolved_priority_due",
            "priority",
            "resolution_due_at",
            "id",
            **UNSOLVED_WHERE,
        ),
        Index(
            "ix_tickets_unsolved_assignee_created",
            "assigned_to_id",
            "created_at",
            "id",
            **UNSOLVED_WHERE,
        ),
        Index(
            "ix_tickets_unsolved_assignee_due",
            "assigned_to_id",
            "resolution_due_at",
            "id",
            **UNSOLVED_WHERE,
        ),
        Index("ix_tickets_organization_id_created_at", "organization_id", "created_at", "id"),
        Index("ix_tickets_merged_into_id", "merged_into_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_number: Mapped[str] = mapped_column(String(32), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    subject: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    status: Mapped[Status] = mapped_column(enum_column(Status))
    priority: Mapped[Priority] = mapped_column(enum_column(Priority))
    category: Mapped[Category] = mapped_column(enum_column(Category))
    # Normalized, comma-separated; ticket_tags holds the same tags one row each for filtering.
    tags: Mapped[str] = mapped_column(Text, default="")
    is_internal: Mapped[bool] = mapped_column(Boolean, default=False)
    # {key: value} of the custom fields (custom_fields.models.CustomField), validated on write.
    custom_fields: Mapped[dict[str, Any]] = mapped_column(
        JSONValues, default=dict, server_default="{}"
    )
    comments_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    public_comments_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Live attachments, all and those customers may see (not internal).
    attachments_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    public_attachments_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_response_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set while the ticket waits on the customer: the resolution clock is paused since then.
    sla_paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Paused time so far, in wall-clock and in business seconds, kept so that a priority change
    # can recompute the resolution due time without losing the pauses, whichever way it counts.
    sla_paused_seconds: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    sla_paused_business_seconds: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Which breaches already have their `ticket.sla_breached` event (sla/jobs.py): bit 1 the
    # first response, bit 2 the resolution. Cleared when the due times are computed again.
    sla_breaches_recorded: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The requester's organization when the ticket was filed: who shares it is decided by
    # this column, never by a join over users (see auth/policy.py).
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="SET NULL")
    )
    # Set when the ticket was merged into another; the number is kept beside the id because
    # numbers never change and every view shows it.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    merged_into_number: Mapped[str | None] = mapped_column(String(32))

    creator: Mapped[User] = relationship(foreign_keys=[user_id], lazy="raise")
    assignee: Mapped[User | None] = relationship(foreign_keys=[assigned_to_id], lazy="raise")

    @property
    def tag_list(self) -> list[str]:
        return split_tags(self.tags)

    # The same names as the columns of service.TICKET_VIEW, so that one presenter reads both.
    @property
    def creator_name(self) -> str:
        return self.creator.full_name

    @property
    def creator_email(self) -> str:
        return self.creator.email

    @property
    def assigned_to_name(self) -> str | None:
        return self.assignee.full_name if self.assignee else None

    @property
    def assigned_to_email(self) -> str | None:
        return self.assignee.email if self.assignee else None


def split_tags(tags: str) -> list[str]:
    return tags.split(",") if tags else []


class TicketTag(Base):
    __tablename__ = "ticket_tags"
    __table_args__ = (Index("ix_ticket_tags_tag_ticket_id", "tag", "ticket_id"),)

    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(100), primary_key=True)


class TicketNumberCounter(Base):
    """The last ticket number handed out per UTC day."""

    __tablename__ = "ticket_number_counters"

    day: Mapped[str] = mapped_column(String(8), primary_key=True)
    last_value: Mapped[int] = mapped_column(Integer)


class TicketStatusHistory(Base):
    __tablename__ = "ticket_status_history"
    __table_args__ = (Index("ix_ticket_status_history_ticket_id_id", "ticket_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    from_status: Mapped[Status | None] = mapped_column(enum_column(Status))
    to_status: Mapped[Status | None] = mapped_column(enum_column(Status))
    from_priority: Mapped[Priority | None] = mapped_column(enum_column(Priority))
    to_priority: Mapped[Priority | None] = mapped_column(enum_column(Priority))
    from_assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    to_assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    change_note: Mapped[str | None] = mapped_column(Text)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TicketActivity(Base):
    """The ticket's timeline: one row per thing that happened, with what it changed."""

    __tablename__ = "ticket_activity"
    __table_args__ = (Index("ix_ticket_activity_ticket_id_id", "ticket_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(32))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
