"""Initial schema: users, tickets, comments, history, activity, numbering, SLA settings.

Revision ID: 0001
Revises:
Create Date: 2026-11-27 00:30:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Defaults of API.md (minutes): first response / resolution per priority.
DEFAULT_SLA = {
    "urgent": (15, 240),
    "high": (60, 480),
    "medium": (240, 1440),
    "low": (480, 2880),
}
OFFICE_HOURS = [["09:00", "17:00"]]


def upgrade() -> None:
    op.create_table(
        "business_hours",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("weekly", sa.JSON(), nullable=False),
        sa.Column("holidays", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_business_hours")),
    )
    op.create_table(
        "sla_policies",
        sa.Column("priority", sa.String(length=32), nullable=False),
        sa.Column("first_response_time", sa.Integer(), nullable=False),
        sa.Column("resolution_time", sa.Integer(), nullable=False),
        sa.Column("applies_business_hours_only", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("priority", name=op.f("pk_sla_policies")),
    )
    op.create_table(
        "ticket_number_counters",
        sa.Column("day", sa.String(length=8), nullable=False),
        sa.Column("last_value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_ticket_number_counters")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    op.create_index(op.f("ix_users_role"), "users", ["role"], unique=False)
    op.create_table(
        "settings_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("changed_by_id", sa.Integer(), nullable=True),
        sa.Column("entity", sa.String(length=64), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["changed_by_id"], ["users.id"], name=op.f("fk_settings_audit_changed_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_settings_audit")),
    )
    op.create_table(
        "tickets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_number", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("assigned_to_id", sa.Integer(), nullable=True),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("priority", sa.String(length=32), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.Column("is_internal", sa.Boolean(), nullable=False),
        sa.Column("comments_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("public_comments_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("first_response_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_response_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolution_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sla_paused_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sla_paused_seconds", sa.Integer(), server_default="0", nullable=False),
        sa.Column("sla_paused_business_seconds", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assigned_to_id"], ["users.id"], name=op.f("fk_tickets_assigned_to_id_users")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_tickets_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tickets")),
        sa.UniqueConstraint("ticket_number", name=op.f("uq_tickets_ticket_number")),
    )
    op.create_index(
        "ix_tickets_assigned_to_id_created_at",
        "tickets",
        ["assigned_to_id", "created_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_tickets_category_created_at", "tickets", ["category", "created_at", "id"], unique=False
    )
    op.create_index("ix_tickets_created_at_id", "tickets", ["created_at", "id"], unique=False)
    op.create_index(
        "ix_tickets_priority_created_at", "tickets", ["priority", "created_at", "id"], unique=False
    )
    op.create_index(
        "ix_tickets_resolution_due_at_id", "tickets", ["resolution_due_at", "id"], unique=False
    )
    op.create_index(
        "ix_tickets_status_created_at", "tickets", ["status", "created_at", "id"], unique=False
    )
    op.create_index(
        "ix_tickets_status_updated_at", "tickets", ["status", "updated_at", "id"], unique=False
    )
    op.create_index("ix_tickets_updated_at_id", "tickets", ["updated_at", "id"], unique=False)
    op.create_index(
        "ix_tickets_user_id_created_at", "tickets", ["user_id", "created_at", "id"], unique=False
    )
    op.create_table(
        "ticket_activity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_ticket_activity_actor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_ticket_activity_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_activity")),
    )
    op.create_index(
        "ix_ticket_activity_ticket_id_id", "ticket_activity", ["ticket_id", "id"], unique=False
    )
    op.create_table(
        "ticket_comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("is_internal", sa.Boolean(), nullable=False),
        sa.Column("is_resolution", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_ticket_comments_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_ticket_comments_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_comments")),
    )
    op.create_index(
        "ix_ticket_comments_ticket_id_id", "ticket_comments", ["ticket_id", "id"], unique=False
    )
    op.create_table(
        "ticket_status_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("changed_by_id", sa.Integer(), nullable=True),
        sa.Column("from_status", sa.String(length=32), nullable=True),
        sa.Column("to_status", sa.String(length=32), nullable=True),
        sa.Column("from_priority", sa.String(length=32), nullable=True),
        sa.Column("to_priority", sa.String(length=32), nullable=True),
        sa.Column("from_assigned_to_id", sa.Integer(), nullable=True),
        sa.Column("to_assigned_to_id", sa.Integer(), nullable=True),
        sa.Column("change_note", sa.Text(), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["changed_by_id"],
            ["users.id"],
            name=op.f("fk_ticket_status_history_changed_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["from_assigned_to_id"],
            ["users.id"],
            name=op.f("fk_ticket_status_history_from_assigned_to_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_ticket_status_history_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["to_assigned_to_id"],
            ["users.id"],
            name=op.f("fk_ticket_status_history_to_assigned_to_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_status_history")),
    )
    op.create_index(
        "ix_ticket_status_history_ticket_id_id",
        "ticket_status_history",
        ["ticket_id", "id"],
        unique=False,
    )
    op.create_table(
        "ticket_tags",
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_ticket_tags_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("ticket_id", "tag", name=op.f("pk_ticket_tags")),
    )
    op.create_index(
        "ix_ticket_tags_tag_ticket_id", "ticket_tags", ["tag", "ticket_id"], unique=False
    )
    _seed_settings()


def _seed_settings() -> None:
    now = datetime.now(UTC)
    policies = sa.table(
        "sla_policies",
        sa.column("priority", sa.String),
        sa.column("first_response_time", sa.Integer),
        sa.column("resolution_time", sa.Integer),
        sa.column("applies_business_hours_only", sa.Boolean),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )
    op.bulk_insert(
        policies,
        [
            {
                "priority": priority,
                "first_response_time": first,
                "resolution_time": resolution,
                "applies_business_hours_only": False,
                "updated_at": now,
            }
            for priority, (first, resolution) in DEFAULT_SLA.items()
        ],
    )
    hours = sa.table(
        "business_hours",
        sa.column("id", sa.Integer),
        sa.column("timezone", sa.String),
        sa.column("weekly", sa.JSON),
        sa.column("holidays", sa.JSON),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )
    weekly = {day: OFFICE_HOURS for day in ("mon", "tue", "wed", "thu", "fri")}
    weekly |= {"sat": [], "sun": []}
    op.bulk_insert(
        hours,
        [{"id": 1, "timezone": "UTC", "weekly": weekly, "holidays": [], "updated_at": now}],
    )


def downgrade() -> None:
    op.drop_table("ticket_tags")
    op.drop_table("ticket_status_history")
    op.drop_table("ticket_comments")
    op.drop_table("ticket_activity")
    op.drop_table("tickets")
    op.drop_table("settings_audit")
    op.drop_table("users")
    op.drop_table("ticket_number_counters")
    op.drop_table("sla_policies")
    op.drop_table("business_hours")
