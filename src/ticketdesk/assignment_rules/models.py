from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ticketdesk.auth.models import enum_column
from ticketdesk.db import Base, UTCDateTime


class Strategy(StrEnum):
    ROUND_ROBIN = "round_robin"
    LEAST_LOADED = "least_loaded"


class AssignmentRule(Base):
    """Who gets a new unassigned ticket. The row is locked while it picks, so that picks of one
    rule happen one at a time (exact capacity counts, fair turns); `last_agent_id` is the turn."""

    __tablename__ = "assignment_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    conditions: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    strategy: Mapped[Strategy] = mapped_column(enum_column(Strategy))
    agent_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    only_available: Mapped[bool] = mapped_column(Boolean, default=False)
    max_open_per_agent: Mapped[int | None] = mapped_column(Integer)
    last_agent_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AssignmentHold(Base):
    """A pick made for a ticket whose transaction has not committed yet (PostgreSQL).

    The pick runs in a short transaction of its own under the rule's row lock and commits at
    once, so creates of one rule do not queue behind each other's whole transactions. Until the
    ticket's own transaction commits (and deletes the hold in the same commit), the hold counts
    as an open ticket of its agent; a hold left by a transaction that rolled back counts until
    `expires_at`. No foreign keys: the ticket it is for is not committed when it is written."""

    __tablename__ = "assignment_holds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule_id: Mapped[int] = mapped_column(Integer)
    agent_id: Mapped[int] = mapped_column(Integer, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class AgentLoad(Base):
    """How many tickets an agent still works on (assigned, not resolved or closed): what
    auto-assignment weighs against capacity and least-loaded choice, read in one row instead of
    counted. Kept by database triggers on `tickets` (migration `features_0011`), in the same
    transaction as every change of a ticket's assignee or status, however it is written; an
    agent never assigned has no row (a load of 0)."""

    __tablename__ = "agent_loads"

    agent_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    open_tickets: Mapped[int] = mapped_column(Integer)
