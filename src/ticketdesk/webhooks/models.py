"""Webhooks (URLs subscribed to event types) and their deliveries, one row per event sent."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ticketdesk.auth.models import enum_column
from ticketdesk.db import Base, UTCDateTime

# 64-bit ids on PostgreSQL; SQLite counts up an INTEGER PRIMARY KEY.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class Webhook(Base):
    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str] = mapped_column(String(500), default="")
    # Event types, or ["*"] for every type.
    event_types: Mapped[list[str]] = mapped_column(JSON)
    # "whsec_" + base64 of 32 random bytes: needed in the clear to sign.
    secret: Mapped[str] = mapped_column(String(100))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    # Events up to this id happened before the webhook existed and are not sent to it.
    start_after_event_id: Mapped[int] = mapped_column(BigId, default=0)
    # One sender at a time per webhook keeps its deliveries in order: who holds it, and until.
    sender_claim: Mapped[str | None] = mapped_column(String(32), nullable=True)
    sender_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class WebhookDelivery(Base):
    """One event (or ping) for one webhook: its body, fixed when prepared, and its attempts."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("webhook_id", "event_id"),
        # The sender's queue: a webhook's pending deliveries in order.
        Index("ix_webhook_deliveries_webhook_id_status_id", "webhook_id", "status", "id"),
        # The delivery log, newest first.
        Index("ix_webhook_deliveries_webhook_id_id", "webhook_id", "id"),
        # Pruning by age.
        Index("ix_webhook_deliveries_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    # NULL for pings, which are no event of the log.
    event_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    event_type: Mapped[str] = mapped_column(String(64))
    # The `webhook-id` header: the same on every attempt.
    message_id: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[DeliveryStatus] = mapped_column(enum_column(DeliveryStatus))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
