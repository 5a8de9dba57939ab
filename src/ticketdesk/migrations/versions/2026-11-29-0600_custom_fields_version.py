"""Custom fields' version: a number every change of a definition raises, in the same
transaction, so a process may keep the definitions it read while the number stays the same.

Triggers raise it, so no writer (the API, a script, an operator's SQL) can forget to.

Revision ID: features_0008_cf_version
Revises: features_0007_assignment_holds
Create Date: 2026-11-29 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "features_0008_cf_version"
down_revision: str | None = "features_0007_assignment_holds"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BUMP = "UPDATE custom_fields_version SET version = version + 1"
# SQLite has row triggers only: one per kind of change.
SQLITE_TRIGGERS = {
    "INSERT": "custom_fields_inserted",
    "UPDATE": "custom_fields_updated",
    "DELETE": "custom_fields_deleted",
}


def upgrade() -> None:
    op.create_table(
        "custom_fields_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custom_fields_version")),
    )
    op.execute("INSERT INTO custom_fields_version (id, version) VALUES (1, 1)")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION custom_fields_changed() RETURNS trigger LANGUAGE plpgsql AS"
            f" $$ BEGIN {BUMP}; RETURN NULL; END $$"
        )
        op.execute(
            "CREATE TRIGGER custom_fields_changed"
            " AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON custom_fields"
            " FOR EACH STATEMENT EXECUTE FUNCTION custom_fields_changed()"
        )
    else:
        for change, name in SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} AFTER {change} ON custom_fields BEGIN {BUMP}; END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER custom_fields_changed ON custom_fields")
        op.execute("DROP FUNCTION custom_fields_changed()")
    else:
        for name in SQLITE_TRIGGERS.values():
            op.execute(f"DROP TRIGGER {name}")
    op.drop_table("custom_fields_version")
