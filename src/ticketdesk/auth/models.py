from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, Enum, ForeignKey, Index, Integer, String, false, func, select, true
from sqlalchemy.orm import Mapped, column_property, mapped_column

from ticketdesk.db import Base, UTCDateTime
from ticketdesk.organizations.models import Organization


class Role(StrEnum):
    INDIVIDUAL = "individual"
    ENTERPRISE = "enterprise"
    SUB_USER = "sub_user"
    AGENT = "agent"
    SUPER_ADMIN = "super_admin"


STAFF_ROLES = frozenset({Role.AGENT, Role.SUPER_ADMIN})


def enum_column(enum: type[StrEnum]) -> Enum:
    """Enum stored as its lower-case value in a VARCHAR, the same on every backend."""
    return Enum(
        enum,
        native_enum=False,
        create_constraint=False,
        length=32,
        values_callable=lambda members: [m.value for m in members],
    )


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Stored lower-cased, so the unique constraint is case-insensitive on every backend.
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    full_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(enum_column(Role), index=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped by `service.end_sessions`: every token or session carrying an older value is dead.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Staff "away" switch: auto-assignment rules with only_available skip those who are away.
    available: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="SET NULL"), index=True
    )
    # Set once the account was anonymized (irreversible).
    anonymized_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Read with every user (a primary-key lookup), so that the visibility rule, which needs
    # it, never has to load the organization itself.
    organization_shares_tickets: Mapped[bool] = column_property(
        func.coalesce(
            select(Organization.shared_tickets)
            .where(Organization.id == organization_id)
            .correlate_except(Organization)
            .scalar_subquery(),
            false(),
        ),
        expire_on_flush=False,
    )


class ThrottleHit(Base):
    """One counted attempt (a failed login, a registration …) under a throttle key; rows older
    than their window are pruned."""

    __tablename__ = "throttle_hits"
    __table_args__ = (Index("ix_throttle_hits_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(400))
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class ApiToken(Base):
    """A token for scripts: only a keyed hash of it is stored, never the token itself."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    # HMAC-SHA256 (hex) keyed with a key derived from the signing key: see auth/tokens.py.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Space-separated, as OAuth writes scopes.
    scopes: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The owner's session epoch when issued: ending the owner's sessions ends the token too.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)


class PasswordResetToken(Base):
    """A single-use password reset link; only a hash of its secret is kept."""

    __tablename__ = "password_reset_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RateCount(Base):
    """Requests counted under a key (a user, a token) in one minute, by every process."""

    __tablename__ = "rate_counts"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    minute: Mapped[int] = mapped_column(Integer, primary_key=True)  # minutes since the epoch
    count: Mapped[int] = mapped_column(Integer)
