"""Two list orders that scanned the table at 1,000,000 tickets:

- the desk's views of unsolved tickets filtered by priority: a partial index on
  (priority, resolution_due_at, id), so that the page (sorted by due time) and its count read
  the index alone;
- a customer's own tickets by last update (the portal's list): (user_id, updated_at, id).

On PostgreSQL the indexes are built CONCURRENTLY: writes to tickets go on while they build.

Revision ID: 0006_list_indexes
Revises: 0005_webhooks
Create Date: 2026-11-29 04:00:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0006_list_indexes"
down_revision: str | None = "0005_webhooks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNSOLVED = ("open", "in_progress", "waiting_on_customer", "reopened")
# Spelled as PostgreSQL writes a literal `status IN (...)`, so that queries match it.
PG_UNSOLVED = "status::text = ANY ('{" + ",".join(UNSOLVED) + "}'::text[])"
SQLITE_UNSOLVED = "status IN (" + ", ".join(f"'{s}'" for s in UNSOLVED) + ")"
# name: (columns, partial on unsolved tickets)
INDEXES = {
    "ix_tickets_unsolved_priority_due": (["priority", "resolution_due_at", "id"], True),
    "ix_tickets_user_id_updated_at": (["user_id", "updated_at", "id"], False),
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        for name, (columns, partial) in INDEXES.items():
            where: dict[str, Any] = {"sqlite_where": sa.text(SQLITE_UNSOLVED)} if partial else {}
            op.create_index(name, "tickets", columns, **where)
        return
    with op.get_context().autocommit_block():
        for name, (columns, partial) in INDEXES.items():
            # An earlier interrupted build leaves an invalid index behind: start it again.
            op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
            clause = f" WHERE {PG_UNSOLVED}" if partial else ""
            op.execute(
                f"CREATE INDEX CONCURRENTLY {name} ON tickets ({', '.join(columns)}){clause}"
            )


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name="tickets")
