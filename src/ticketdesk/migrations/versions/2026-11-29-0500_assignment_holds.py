"""Assignment holds: picks of auto-assignment rules whose tickets have not committed yet.

Revision ID: features_0007_assignment_holds
Revises: admin_0006_resolved_at_index
Create Date: 2026-11-29 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "features_0007_assignment_holds"
down_revision: str | None = "admin_0006_resolved_at_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "assignment_holds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignment_holds")),
    )
    op.create_index(op.f("ix_assignment_holds_agent_id"), "assignment_holds", ["agent_id"])
    op.create_index(op.f("ix_assignment_holds_expires_at"), "assignment_holds", ["expires_at"])


def downgrade() -> None:
    op.drop_table("assignment_holds")
