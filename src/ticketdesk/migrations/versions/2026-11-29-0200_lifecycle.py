"""Organizations, merged tickets, satisfaction ratings, anonymized accounts.

Revision ID: 0004_lifecycle
Revises: 0004_rate_counts_idempotency
Create Date: 2026-11-29 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_lifecycle"
down_revision: str | None = "0004_rate_counts_idempotency"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "organizations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("shared_tickets", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organizations")),
        sa.UniqueConstraint("name", name=op.f("uq_organizations_name")),
    )
    op.create_table(
        "organization_domains",
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_organization_domains_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("domain", name=op.f("pk_organization_domains")),
    )
    op.create_index(
        op.f("ix_organization_domains_organization_id"),
        "organization_domains",
        ["organization_id"],
        unique=False,
    )
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("organization_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("anonymized_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_foreign_key(
            op.f("fk_users_organization_id_organizations"),
            "organizations",
            ["organization_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_index(op.f("ix_users_organization_id"), ["organization_id"], unique=False)
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("organization_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("merged_into_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("merged_into_number", sa.String(length=32), nullable=True))
        batch.create_foreign_key(
            op.f("fk_tickets_organization_id_organizations"),
            "organizations",
            ["organization_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_foreign_key(
            op.f("fk_tickets_merged_into_id_tickets"), "tickets", ["merged_into_id"], ["id"]
        )
        batch.create_index(
            "ix_tickets_organization_id_created_at",
            ["organization_id", "created_at", "id"],
            unique=False,
        )
        batch.create_index("ix_tickets_merged_into_id", ["merged_into_id"], unique=False)
    op.create_table(
        "satisfaction_ratings",
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("rating", sa.String(length=32), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_satisfaction_ratings_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_satisfaction_ratings_user_id_users")
        ),
        sa.PrimaryKeyConstraint("ticket_id", name=op.f("pk_satisfaction_ratings")),
    )
    op.create_index(
        op.f("ix_satisfaction_ratings_user_id"), "satisfaction_ratings", ["user_id"], unique=False
    )


def downgrade() -> None:
    op.drop_table("satisfaction_ratings")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_index("ix_tickets_merged_into_id")
        batch.drop_index("ix_tickets_organization_id_created_at")
        batch.drop_constraint(op.f("fk_tickets_merged_into_id_tickets"), type_="foreignkey")
        batch.drop_constraint(op.f("fk_tickets_organization_id_organizations"), type_="foreignkey")
        batch.drop_column("merged_into_number")
        batch.drop_column("merged_into_id")
        batch.drop_column("organization_id")
    with op.batch_alter_table("users") as batch:
        batch.drop_index(op.f("ix_users_organization_id"))
        batch.drop_constraint(op.f("fk_users_organization_id_organizations"), type_="foreignkey")
        batch.drop_column("anonymized_at")
        batch.drop_column("organization_id")
    op.drop_table("organization_domains")
    op.drop_table("organizations")
