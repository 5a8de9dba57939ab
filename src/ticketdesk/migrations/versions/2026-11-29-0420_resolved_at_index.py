"""An index of the tickets' resolution times: the dashboard's resolved-per-day and backlog.

On PostgreSQL it is built CONCURRENTLY: writes to tickets go on while it builds.

Revision ID: admin_0006_resolved_at_index
Revises: mailattach_0006_outbox_files
Create Date: 2026-11-29 04:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "admin_0006_resolved_at_index"
down_revision: str | None = "mailattach_0006_outbox_files"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ix_tickets_resolved_at"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        op.create_index(NAME, "tickets", ["resolved_at"])
        return
    with op.get_context().autocommit_block():
        # An earlier interrupted build leaves an invalid index behind: start it again.
        op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {NAME}")
        op.execute(f"CREATE INDEX CONCURRENTLY {NAME} ON tickets (resolved_at)")


def downgrade() -> None:
    op.drop_index(NAME, table_name="tickets")
