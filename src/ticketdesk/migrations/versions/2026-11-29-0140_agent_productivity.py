"""Agent productivity: custom fields, ticket templates, macros, auto-assignment rules.

Revision ID: 0004_features
Revises: 0010_attachments
Create Date: 2026-11-29 01:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004_features"
down_revision: str | None = "0010_attachments"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_VALUES = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
OPEN_WORK_SQL = "status NOT IN ('resolved', 'closed')"


def upgrade() -> None:
    # A constant default: PostgreSQL adds these columns without rewriting the table.
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("available", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(
            sa.Column("custom_fields", JSON_VALUES, server_default="{}", nullable=False)
        )
    op.create_index(
        "ix_tickets_assigned_to_id_open",
        "tickets",
        ["assigned_to_id"],
        postgresql_where=sa.text(OPEN_WORK_SQL),
        sqlite_where=sa.text(OPEN_WORK_SQL),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.create_index(
            "ix_tickets_custom_fields",
            "tickets",
            ["custom_fields"],
            postgresql_using="gin",
            postgresql_ops={"custom_fields": "jsonb_path_ops"},
        )
    op.create_table(
        "custom_fields",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("options", sa.JSON(), nullable=True),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("visible_to_customer", sa.Boolean(), nullable=False),
        sa.Column("editable_by_customer", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custom_fields")),
        sa.UniqueConstraint("key", name=op.f("uq_custom_fields_key")),
    )
    op.create_table(
        "ticket_templates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=True),
        sa.Column("priority", sa.String(length=32), nullable=True),
        sa.Column("subject", sa.String(length=200), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("custom_fields", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_templates")),
    )
    op.create_table(
        "macros",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("actions", sa.JSON(), nullable=False),
        sa.Column("is_shared", sa.Boolean(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_macros_owner_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_macros")),
    )
    op.create_index("ix_macros_owner_id", "macros", ["owner_id"], unique=False)
    op.create_table(
        "assignment_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("conditions", sa.JSON(), nullable=False),
        sa.Column("strategy", sa.String(length=32), nullable=False),
        sa.Column("agent_ids", sa.JSON(), nullable=False),
        sa.Column("only_available", sa.Boolean(), nullable=False),
        sa.Column("max_open_per_agent", sa.Integer(), nullable=True),
        sa.Column("last_agent_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignment_rules")),
    )


def downgrade() -> None:
    op.drop_table("assignment_rules")
    op.drop_table("macros")
    op.drop_table("ticket_templates")
    op.drop_table("custom_fields")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_tickets_custom_fields", table_name="tickets")
    op.drop_index("ix_tickets_assigned_to_id_open", table_name="tickets")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("custom_fields")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("available")
