"""The durable job queue, and named checkpoints that periodic work and event followers keep."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ticketdesk.auth.models import enum_column
from ticketdesk.db import Base, UTCDateTime

JobId = BigInteger().with_variant(Integer(), "sqlite")


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (
        # What the workers poll: queued jobs by due time, and running ones by lease end.
        Index("ix_jobs_status_run_at", "status", "run_at"),
        # A pending job's key is unique: enqueueing the same key again does nothing, and a
        # periodic slot runs once whatever the number of processes.
        Index("ix_jobs_pending_key", "key", unique=True),
        Index("ix_jobs_kind_status", "kind", "status"),
    )

    id: Mapped[int] = mapped_column(JobId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(64))
    # Unique while set; cleared when the job finishes, so the same key can be queued again.
    key: Mapped[str | None] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[JobStatus] = mapped_column(enum_column(JobStatus))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=5)
    run_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # A running job belongs to its worker until then; afterwards any worker may take it again.
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Who holds the lease (a random token per claim): only the holder may finish the job.
    claim: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Checkpoint(Base):
    """A named position kept between runs: an event follower's last id, a scan's last time."""

    __tablename__ = "checkpoints"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
