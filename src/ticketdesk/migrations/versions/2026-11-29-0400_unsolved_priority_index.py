"""The desk's views of unsolved tickets filtered by priority: a partial index on
(priority, resolution_due_at, id), so that both the page (sorted by due time) and its count
read the index alone instead of scanning the table.

On PostgreSQL the index is built CONCURRENTLY: writes to tickets go on while it builds.

Revision ID: 0006_unsolved_priority
Revises: 0005_webhooks
Create Date: 2026-11-29 04:00:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0006_unsolved_priority"
down_revision: str | None = "0005_webhooks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ix_tickets_unsolved_priority_due"
UNSOLVED = ("open", "in_progress", "waiting_on_customer", "reopened")
# Spelled as PostgreSQL writes a literal `status IN (...)`, so that queries match it.
PG_WHERE = "status::text = ANY ('{" + ",".join(UNSOLVED) + "}'::text[])"
SQLITE_WHERE: dict[str, Any] = {
    "sqlite_where": sa.text("status IN (" + ", ".join(f"'{s}'" for s in UNSOLVED) + ")")
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        op.create_index(NAME, "tickets", ["priority", "resolution_due_at", "id"], **SQLITE_WHERE)
        return
    with op.get_context().autocommit_block():
        # An earlier interrupted build leaves an invalid index behind: start it again.
        op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {NAME}")
        op.execute(
            f"CREATE INDEX CONCURRENTLY {NAME} ON tickets "
            f"(priority, resolution_due_at, id) WHERE {PG_WHERE}"
        )


def downgrade() -> None:
    op.drop_index(NAME, table_name="tickets")
