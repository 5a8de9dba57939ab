"""Web pages: sign-in sessions, who is looking at which ticket, and partial indexes of the
unsolved tickets for the desk's views.

Revision ID: 0004_web
Revises: 0004_search
Create Date: 2026-11-29 01:00:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0004_web"
down_revision: str | None = "0004_search"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


UNSOLVED = ("open", "in_progress", "waiting_on_customer", "reopened")
# Spelled as PostgreSQL writes a literal `status IN (...)`, so that queries match it.
UNSOLVED_WHERE: dict[str, Any] = {
    "postgresql_where": sa.text("status::text = ANY ('{" + ",".join(UNSOLVED) + "}'::text[])"),
    "sqlite_where": sa.text("status IN (" + ", ".join(f"'{s}'" for s in UNSOLVED) + ")"),
}
UNSOLVED_INDEXES = {
    "ix_tickets_unsolved_created": ["created_at", "id"],
    "ix_tickets_unsolved_due": ["resolution_due_at", "id"],
    "ix_tickets_unsolved_assignee_created": ["assigned_to_id", "created_at", "id"],
    "ix_tickets_unsolved_assignee_due": ["assigned_to_id", "resolution_due_at", "id"],
}


def upgrade() -> None:
    for name, columns in UNSOLVED_INDEXES.items():
        op.create_index(name, "tickets", columns, unique=False, **UNSOLVED_WHERE)
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_web_sessions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_sessions")),
    )
    op.create_index("ix_web_sessions_user_id", "web_sessions", ["user_id"], unique=False)
    op.create_table(
        "web_presence",
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_web_presence_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_web_presence_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("ticket_id", "user_id", name=op.f("pk_web_presence")),
    )
    op.create_index("ix_web_presence_expires_at", "web_presence", ["expires_at"], unique=False)


def downgrade() -> None:
    for name in UNSOLVED_INDEXES:
        op.drop_index(name, table_name="tickets")
    op.drop_index("ix_web_presence_expires_at", table_name="web_presence")
    op.drop_table("web_presence")
    op.drop_index("ix_web_sessions_user_id", table_name="web_sessions")
    op.drop_table("web_sessions")
