"""The outbox row names the comment it carries and the files that go with it.

Revision ID: mailattach_0006_outbox_files
Revises: 0006_list_indexes
Create Date: 2026-11-29 04:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "mailattach_0006_outbox_files"
down_revision: str | None = "0006_list_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("mail_outbox") as batch:
        batch.add_column(sa.Column("comment_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("attachments", sa.JSON(), server_default="[]", nullable=False))
        batch.create_foreign_key(
            batch.f("fk_mail_outbox_comment_id_ticket_comments"),
            "ticket_comments",
            ["comment_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_index(batch.f("ix_mail_outbox_comment_id"), ["comment_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("mail_outbox") as batch:
        batch.drop_index(batch.f("ix_mail_outbox_comment_id"))
        batch.drop_constraint(
            batch.f("fk_mail_outbox_comment_id_ticket_comments"), type_="foreignkey"
        )
        batch.drop_column("attachments")
        batch.drop_column("comment_id")
