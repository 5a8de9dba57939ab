"""Ending sessions (users.session_epoch) and login throttling shared by every process.

Revision ID: 0002_sessions_throttle
Revises: 0001
Create Date: 2026-11-29 00:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_sessions_throttle"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("session_epoch", sa.Integer(), server_default="0", nullable=False)
        )
    op.create_table(
        "throttle_hits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=400), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_throttle_hits")),
    )
    op.create_index("ix_throttle_hits_key_at", "throttle_hits", ["key", "at"], unique=False)
    op.create_index(op.f("ix_throttle_hits_at"), "throttle_hits", ["at"], unique=False)


def downgrade() -> None:
    op.drop_table("throttle_hits")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("session_epoch")
