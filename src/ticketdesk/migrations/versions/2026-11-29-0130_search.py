"""Full-text search: a document per ticket, indexed by the database's own engine.

PostgreSQL: `ticket_search` holds two tsvectors per ticket (public text; that and internal notes),
filled
in batches, then GIN indexes built CONCURRENTLY (writes go on meanwhile), plus a pg_trgm index
on ticket numbers. `CREATE EXTENSION pg_trgm` needs a superuser or the database owner (pg_trgm is
a trusted extension). SQLite: a content table and two FTS5 tables kept in step by triggers.

The documents are built with TICKETDESK_SEARCH_LANGUAGE (default English); `ticketdesk reindex`
rebuilds them after a change of language.

Revision ID: 0004_search
Revises: 0004_features
Create Date: 2026-11-29 01:30:00
"""

import os
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_search"
down_revision: str | None = "0004_features"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LANGUAGES = frozenset(
    [
        "simple",
        "arabic",
        "armenian",
        "basque",
        "catalan",
        "danish",
        "dutch",
        "english",
        "finnish",
        "french",
        "german",
        "greek",
        "hindi",
        "hungarian",
        "indonesian",
        "irish",
        "italian",
        "lithuanian",
        "nepali",
        "norwegian",
        "portuguese",
        "romanian",
        "russian",
        "serbian",
        "spanish",
        "swedish",
        "tamil",
        "turkish",
        "yiddish",
    ]
)
LANGUAGE = os.environ.get("TICKETDESK_SEARCH_LANGUAGE", "english").lower()
if LANGUAGE not in LANGUAGES:
    LANGUAGE = "english"
BATCH = 20_000
MAX_CHARS = 200_000
START, STOP = "\ue000", "\ue001"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _upgrade_postgresql()
    else:
        _upgrade_sqlite()


def _vector(text: str, weight: str) -> str:
    return (
        f"setweight(to_tsvector('{LANGUAGE}'::regconfig, "
        f"left(coalesce({text}, ''), {MAX_CHARS})), '{weight}')"
    )


POSTGRESQL_FILL = f"""
    INSERT INTO ticket_search (ticket_id, public_doc, staff_doc)
    SELECT d.id, d.public, d.public || d.internal FROM (
        SELECT t.id,
               {_vector("t.subject", "A")} || {_vector("t.description", "B")}
                   || {_vector("c.public", "C")} AS public,
               {_vector("c.internal", "D")} AS internal
        FROM tickets t
        LEFT JOIN LATERAL (
            SELECT string_agg(c.comment, E'\\n' ORDER BY c.id) FILTER (WHERE NOT c.is_internal)
                       AS public,
                   string_agg(c.comment, E'\\n' ORDER BY c.id) FILTER (WHERE c.is_internal)
                       AS internal
            FROM ticket_comments c WHERE c.ticket_id = t.id
        ) c ON true
        WHERE t.id > :after AND t.id <= :until
    ) d
    ON CONFLICT (ticket_id) DO NOTHING"""


def _upgrade_postgresql() -> None:
    op.execute(
        "CREATE TABLE IF NOT EXISTS ticket_search ("
        " ticket_id integer NOT NULL,"
        " public_doc tsvector NOT NULL,"
        " staff_doc tsvector NOT NULL,"
        " CONSTRAINT pk_ticket_search PRIMARY KEY (ticket_id),"
        " CONSTRAINT fk_ticket_search_ticket_id_tickets FOREIGN KEY (ticket_id)"
        "  REFERENCES tickets (id) ON DELETE CASCADE)"
    )
    # Outside any transaction: each batch commits on its own, and the indexes are built
    # without blocking writes to the tables.
    with op.get_context().autocommit_block():
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        connection = op.get_bind()
        last = connection.scalar(sa.text("SELECT coalesce(max(id), 0) FROM tickets"))
        for after in range(0, int(last or 0), BATCH):
            connection.execute(sa.text(POSTGRESQL_FILL), {"after": after, "until": after + BATCH})
        for name, definition in (
            ("ix_ticket_search_public_doc", "ticket_search USING gin (public_doc)"),
            (
                "ix_ticket_search_staff_doc",
                "ticket_search USING gin (staff_doc)",
            ),
            ("ix_tickets_ticket_number_trgm", "tickets USING gin (ticket_number gin_trgm_ops)"),
        ):
            # An earlier interrupted build leaves an invalid index behind: start it again.
            op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
            op.execute(f"CREATE INDEX CONCURRENTLY {name} ON {definition}")


def _text(expression: str) -> str:
    return f"replace(replace(coalesce({expression}, ''), '{START}', ''), '{STOP}', '')"


def _comments(internal: int) -> str:
    return _text(
        "(SELECT group_concat(comment, char(10)) FROM (SELECT comment FROM ticket_comments"
        f" WHERE ticket_id = t.id AND is_internal = {internal} ORDER BY id))"
    )


PUBLIC = "subject, description, comments"
STAFF = "subject, description, comments, notes"


def _values(prefix: str, columns: str) -> str:
    return ", ".join(f"{prefix}.{c.strip()}" for c in columns.split(","))


def _upgrade_sqlite() -> None:
    tokenizer = ("porter " if LANGUAGE == "english" else "") + "unicode61 remove_diacritics 2"
    op.execute(
        "CREATE TABLE ticket_search ("
        " ticket_id INTEGER NOT NULL,"
        " subject TEXT NOT NULL DEFAULT '',"
        " description TEXT NOT NULL DEFAULT '',"
        " comments TEXT NOT NULL DEFAULT '',"
        " notes TEXT NOT NULL DEFAULT '',"
        " CONSTRAINT pk_ticket_search PRIMARY KEY (ticket_id),"
        " CONSTRAINT fk_ticket_search_ticket_id_tickets FOREIGN KEY (ticket_id)"
        "  REFERENCES tickets (id) ON DELETE CASCADE)"
    )
    op.execute(
        "INSERT INTO ticket_search (ticket_id, subject, description, comments, notes)"
        f" SELECT t.id, {_text('t.subject')}, {_text('t.description')}, {_comments(0)},"
        f" {_comments(1)} FROM tickets t"
    )
    for name, columns in (("ticket_search_public", PUBLIC), ("ticket_search_staff", STAFF)):
        op.execute(
            f"CREATE VIRTUAL TABLE {name} USING fts5({columns}, content='ticket_search',"
            f" content_rowid='ticket_id', tokenize='{tokenizer}')"
        )
        op.execute(f"INSERT INTO {name}({name}) VALUES ('rebuild')")
    op.execute(f"""CREATE TRIGGER ticket_search_insert AFTER INSERT ON ticket_search BEGIN
        INSERT INTO ticket_search_public (rowid, {PUBLIC})
            VALUES (new.ticket_id, {_values("new", PUBLIC)});
        INSERT INTO ticket_search_staff (rowid, {STAFF})
            VALUES (new.ticket_id, {_values("new", STAFF)});
    END""")
    op.execute(f"""CREATE TRIGGER ticket_search_delete AFTER DELETE ON ticket_search BEGIN
        INSERT INTO ticket_search_public (ticket_search_public, rowid, {PUBLIC})
            VALUES ('delete', old.ticket_id, {_values("old", PUBLIC)});
        INSERT INTO ticket_search_staff (ticket_search_staff, rowid, {STAFF})
            VALUES ('delete', old.ticket_id, {_values("old", STAFF)});
    END""")
    op.execute(f"""CREATE TRIGGER ticket_search_update_public
        AFTER UPDATE OF subject, description, comments ON ticket_search BEGIN
        INSERT INTO ticket_search_public (ticket_search_public, rowid, {PUBLIC})
            VALUES ('delete', old.ticket_id, {_values("old", PUBLIC)});
        INSERT INTO ticket_search_public (rowid, {PUBLIC})
            VALUES (new.ticket_id, {_values("new", PUBLIC)});
    END""")
    op.execute(f"""CREATE TRIGGER ticket_search_update_staff AFTER UPDATE ON ticket_search BEGIN
        INSERT INTO ticket_search_staff (ticket_search_staff, rowid, {STAFF})
            VALUES ('delete', old.ticket_id, {_values("old", STAFF)});
        INSERT INTO ticket_search_staff (rowid, {STAFF})
            VALUES (new.ticket_id, {_values("new", STAFF)});
    END""")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_tickets_ticket_number_trgm")
        op.execute("DROP TABLE IF EXISTS ticket_search")
        return
    for trigger in ("insert", "delete", "update_public", "update_staff"):
        op.execute(f"DROP TRIGGER IF EXISTS ticket_search_{trigger}")
    op.execute("DROP TABLE IF EXISTS ticket_search_public")
    op.execute("DROP TABLE IF EXISTS ticket_search_staff")
    op.execute("DROP TABLE IF EXISTS ticket_search")
