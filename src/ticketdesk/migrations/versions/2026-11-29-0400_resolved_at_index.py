"""An index of the tickets' resolution times: the dashboard's resolved-per-day and backlog.

Revision ID: admin_0006_resolved_at_index
Revises: 0005_webhooks
Create Date: 2026-11-29 04:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "admin_0006_resolved_at_index"
down_revision: str | None = "0005_webhooks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_tickets_resolved_at", "tickets", ["resolved_at"])


def downgrade() -> None:
    op.drop_index("ix_tickets_resolved_at", table_name="tickets")
