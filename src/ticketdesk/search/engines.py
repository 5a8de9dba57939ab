"""The two search engines behind one interface: PostgreSQL full-text search and SQLite FTS5.

Each ticket has a public document (subject, description, public comments) and an internal one
(internal notes). Customers' queries read the public document alone, so an internal note's
words cannot change which of their tickets match, nor in which order; staff search both.
"""

import html
from typing import Any, Protocol

from sqlalchemy import Boolean, ColumnElement, Select, bindparam, func, literal_column, select
from sqlalchemy import column as sql_column
from sqlalchemy import table as sql_table
from sqlalchemy import text as sql_text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from ticketdesk.config import get_settings
from ticketdesk.search.language import PG_LANGUAGES, fts5_tokenizer
from ticketdesk.search.query import SearchQuery, Term, fts5_query, tsquery

# Hits in a snippet are wrapped in these two private-use characters by the database, then the
# text is HTML-escaped and they become <mark> and </mark>. They are removed from the text
# first, so the only tags a snippet can hold are balanced <mark> pairs.
START, STOP = "\ue000", "\ue001"
SNIPPET_WORDS = 24
# The longest text a document takes from one ticket (PostgreSQL limits a tsvector to 1 MB).
MAX_DOCUMENT_CHARS = 200_000


def present_snippet(raw: str) -> str:
    """HTML-escaped text with the hits in <mark>…</mark>."""
    return html.escape(raw, quote=True).replace(START, "<mark>").replace(STOP, "</mark>")


class SearchEngine(Protocol):
    def hits(self, terms: tuple[Term, ...], *, staff: bool) -> Select[Any]:
        """`(ticket_id, rank)` of the tickets whose text matches every term."""
        ...

    async def snippets(
        self, session: AsyncSession, query: SearchQuery, ids: list[int], *, staff: bool
    ) -> dict[int, str]: ...

    async def index_tickets(self, session: AsyncSession, ids: list[int]) -> None:
        """Rebuilds these tickets' documents from their text and comments."""
        ...

    async def add_comment(
        self, session: AsyncSession, ticket_id: int, text: str, *, internal: bool
    ) -> None:
        """Appends one new comment to its ticket's document."""
        ...

    async def reindex(self, connection: AsyncConnection, *, batch: int) -> int:
        """Rebuilds every document; returns how many tickets were indexed."""
        ...


def engine_for(db: AsyncSession | AsyncConnection) -> SearchEngine:
    """The engine of the database behind `db`, in TICKETDESK_SEARCH_LANGUAGE."""
    language = get_settings().search_language
    dialect = db.dialect if isinstance(db, AsyncConnection) else db.get_bind().dialect
    if dialect.name == "postgresql":
        return PostgresSearch(language)
    return SqliteSearch(language)


# The PostgreSQL indexes, as the migration creates them (CONCURRENTLY there).
PG_SEARCH_INDEXES = {
    "ix_ticket_search_public_doc": "ticket_search USING gin (public_doc)",
    "ix_ticket_search_staff_doc": "ticket_search USING gin (staff_doc)",
    "ix_tickets_ticket_number_trgm": "tickets USING gin (ticket_number gin_trgm_ops)",
}

SEARCH = sql_table(
    "ticket_search",
    sql_column("ticket_id"),
    sql_column("public_doc"),
    sql_column("staff_doc"),
)


class PostgresSearch:
    """A `ticket_search` row per ticket with two tsvectors, each under a GIN index: the public
    document (subject weight A, description B, public comments C) and the staff document (the
    public one and internal notes, weight D). Ranked by ts_rank, snippets by ts_headline."""

    def __init__(self, language: str) -> None:
        assert language in PG_LANGUAGES
        # Safe to write inline: one of PG_LANGUAGES.
        self.config = f"'{language}'::regconfig"

    def _tsquery(self, terms: tuple[Term, ...]) -> ColumnElement[Any]:
        # Written into the SQL text (escaped by the driver's literal rendering), so that each
        # query is planned with its own words' frequencies rather than a generic plan.
        return func.to_tsquery(
            literal_column(self.config),
            bindparam("tsquery", tsquery(terms), unique=True, literal_execute=True),
        )

    def _document(self, *, staff: bool) -> ColumnElement[Any]:
        if staff:
            return SEARCH.c.staff_doc
        return SEARCH.c.public_doc

    def hits(self, terms: tuple[Term, ...], *, staff: bool) -> Select[Any]:
        document, query = self._document(staff=staff), self._tsquery(terms)
        return select(SEARCH.c.ticket_id, func.ts_rank(document, query).label("rank")).where(
            document.op("@@", return_type=Boolean)(query)
        )

    async def snippets(
        self, session: AsyncSession, query: SearchQuery, ids: list[int], *, staff: bool
    ) -> dict[int, str]:
        only_public = "" if staff else "AND NOT c.is_internal"
        options = (
            f'StartSel="{START}", StopSel="{STOP}", MaxWords={SNIPPET_WORDS}, MinWords=8, '
            'MaxFragments=2, FragmentDelimiter=" … "'
        )
        statement = sql_text(f"""
            SELECT t.id, ts_headline({self.config},
                translate(left(t.subject || E'\\n' || t.description
                    || coalesce(E'\\n' || c.text, ''), {MAX_DOCUMENT_CHARS}), :markers, ''),
                to_tsquery({self.config}, :query), :options)
            FROM tickets t
            LEFT JOIN LATERAL (
                SELECT string_agg(c.comment, E'\\n' ORDER BY c.id) AS text
                FROM ticket_comments c WHERE c.ticket_id = t.id {only_public}
            ) c ON true
            WHERE t.id = ANY(:ids)""")
        rows = await session.execute(
            statement,
            {
                "markers": START + STOP,
                "query": tsquery(query.wanted),
                "options": options,
                "ids": ids,
            },
        )
        return {row[0]: row[1] for row in rows}

    async def index_tickets(self, session: AsyncSession, ids: list[int]) -> None:
        await session.execute(sql_text(self.index_sql("t.id = ANY(:ids)")), {"ids": ids})

    def index_sql(self, where: str) -> str:
        """Builds (or rebuilds) the documents of the tickets `where` selects (alias `t`)."""

        def vector(text: str, weight: str) -> str:
            return (
                f"setweight(to_tsvector({self.config}, "
                f"left(coalesce({text}, ''), {MAX_DOCUMENT_CHARS})), '{weight}')"
            )

        public = " || ".join(
            (vector("t.subject", "A"), vector("t.description", "B"), vector("c.public", "C"))
        )
        return f"""
            INSERT INTO ticket_search (ticket_id, public_doc, staff_doc)
            SELECT d.id, d.public, d.public || d.internal FROM (
                SELECT t.id, {public} AS public, {vector("c.internal", "D")} AS internal
                FROM tickets t
                LEFT JOIN LATERAL (
                    SELECT string_agg(c.comment, E'\\n' ORDER BY c.id)
                               FILTER (WHERE NOT c.is_internal) AS public,
                           string_agg(c.comment, E'\\n' ORDER BY c.id)
                               FILTER (WHERE c.is_internal) AS internal
                    FROM ticket_comments c WHERE c.ticket_id = t.id
                ) c ON true
                WHERE {where}
            ) d
            ON CONFLICT (ticket_id) DO UPDATE
            SET public_doc = excluded.public_doc, staff_doc = excluded.staff_doc"""

    async def add_comment(
        self, session: AsyncSession, ticket_id: int, text: str, *, internal: bool
    ) -> None:
        # A note joins the staff document only; a public comment both.
        weight = "D" if internal else "C"
        public = "public_doc" if internal else "public_doc || n.v"
        result = await session.execute(
            sql_text(
                f"UPDATE ticket_search SET public_doc = {public}, staff_doc = staff_doc || n.v "
                f"FROM (SELECT setweight(to_tsvector({self.config}, "
                f"left(:text, {MAX_DOCUMENT_CHARS})), '{weight}') AS v) n "
                "WHERE ticket_id = :id"
            ),
            {"text": text, "id": ticket_id},
        )
        if result.rowcount == 0:  # type: ignore[attr-defined]
            # Not indexed yet (written by an older version during an upgrade): index it whole.
            await self.index_tickets(session, [ticket_id])

    async def reindex(self, connection: AsyncConnection, *, batch: int) -> int:
        """In batches of ticket ids, each its own transaction; a batch first takes a share
        lock on its tickets, so that no comment written meanwhile is missing from the result
        (writers wait for one batch at most)."""
        done, after = 0, 0
        index_sql = sql_text(self.index_sql("t.id > :after AND t.id <= :until"))
        while True:
            async with connection.begin():
                ids = (
                    (
                        await connection.execute(
                            sql_text(
                                "SELECT id FROM tickets WHERE id > :after ORDER BY id LIMIT :batch "
                                "FOR SHARE"
                            ),
                            {"after": after, "batch": batch},
                        )
                    )
                    .scalars()
                    .all()
                )
                if not ids:
                    return done
                await connection.execute(index_sql, {"after": after, "until": ids[-1]})
            done, after = done + len(ids), ids[-1]


class SqliteSearch:
    """A `ticket_search` content table (the text of each ticket, comments joined) and two
    FTS5 external-content tables over it, kept in step by triggers: `ticket_search_public`
    (subject, description, comments) and `ticket_search_staff` (those and notes). Ranked by
    bm25 with column weights, snippets by snippet()."""

    PUBLIC_WEIGHTS = (10.0, 4.0, 1.0)
    STAFF_WEIGHTS = (10.0, 4.0, 1.0, 1.0)

    def __init__(self, language: str) -> None:
        self.tokenizer = fts5_tokenizer(language)

    @staticmethod
    def _table(staff: bool) -> str:
        return "ticket_search_staff" if staff else "ticket_search_public"

    def hits(self, terms: tuple[Term, ...], *, staff: bool) -> Select[Any]:
        name = self._table(staff)
        fts = sql_table(name, sql_column("rowid"))
        weights = self.STAFF_WEIGHTS if staff else self.PUBLIC_WEIGHTS
        # bm25() is lower for better matches.
        rank = -func.bm25(literal_column(name), *weights)
        match = literal_column(name).op("MATCH", return_type=Boolean)(
            bindparam("fts", fts5_query(terms), unique=True)
        )
        return select(fts.c.rowid.label("ticket_id"), rank.label("rank")).where(match)

    async def snippets(
        self, session: AsyncSession, query: SearchQuery, ids: list[int], *, staff: bool
    ) -> dict[int, str]:
        name = self._table(staff)
        statement = sql_text(
            f"SELECT rowid, snippet({name}, -1, :start, :stop, ' … ', {SNIPPET_WORDS}) "
            f"FROM {name} WHERE {name} MATCH :query AND rowid IN "
            f"({', '.join(str(int(i)) for i in ids)})"
        )
        rows = await session.execute(
            statement, {"start": START, "stop": STOP, "query": fts5_query(query.wanted)}
        )
        return {row[0]: row[1] for row in rows}

    @staticmethod
    def _index_sql(where: str) -> str:
        def text(expression: str) -> str:
            return f"replace(replace(coalesce({expression}, ''), '{START}', ''), '{STOP}', '')"

        def comments(internal: int) -> str:
            return text(
                "(SELECT group_concat(comment, char(10)) FROM (SELECT comment FROM "
                f"ticket_comments WHERE ticket_id = t.id AND is_internal = {internal} "
                "ORDER BY id))"
            )

        return f"""
            INSERT INTO ticket_search (ticket_id, subject, description, comments, notes)
            SELECT t.id, {text("t.subject")}, {text("t.description")}, {comments(0)},
                   {comments(1)}
            FROM tickets t WHERE {where}
            ON CONFLICT (ticket_id) DO UPDATE SET subject = excluded.subject,
                description = excluded.description, comments = excluded.comments,
                notes = excluded.notes"""

    async def index_tickets(self, session: AsyncSession, ids: list[int]) -> None:
        where = f"t.id IN ({', '.join(str(int(i)) for i in ids)})"
        await session.execute(sql_text(self._index_sql(where)))

    async def add_comment(
        self, session: AsyncSession, ticket_id: int, text: str, *, internal: bool
    ) -> None:
        target = "notes" if internal else "comments"
        clean = text.replace(START, "").replace(STOP, "")
        result = await session.execute(
            sql_text(
                f"UPDATE ticket_search SET {target} = CASE WHEN {target} = '' THEN :text "
                f"ELSE {target} || char(10) || :text END WHERE ticket_id = :id"
            ),
            {"text": clean, "id": ticket_id},
        )
        if result.rowcount == 0:  # type: ignore[attr-defined]
            await self.index_tickets(session, [ticket_id])

    async def reindex(self, connection: AsyncConnection, *, batch: int) -> int:
        """One transaction (SQLite has one writer): the FTS tables are made anew with the
        configured language's tokenizer and filled from the refilled content table."""
        async with connection.begin():
            for statement in FTS5_DROP:
                await connection.execute(sql_text(statement))
            await connection.execute(sql_text("DELETE FROM ticket_search"))
            await connection.execute(sql_text(self._index_sql("1")))
            for statement in fts5_schema(self.tokenizer):
                await connection.execute(sql_text(statement))
            for name in ("ticket_search_public", "ticket_search_staff"):
                await connection.execute(sql_text(f"INSERT INTO {name}({name}) VALUES ('rebuild')"))
            count = await connection.scalar(sql_text("SELECT count(*) FROM ticket_search"))
        return int(count or 0)


FTS5_DROP = (
    "DROP TRIGGER IF EXISTS ticket_search_insert",
    "DROP TRIGGER IF EXISTS ticket_search_delete",
    "DROP TRIGGER IF EXISTS ticket_search_update_public",
    "DROP TRIGGER IF EXISTS ticket_search_update_staff",
    "DROP TABLE IF EXISTS ticket_search_public",
    "DROP TABLE IF EXISTS ticket_search_staff",
)


def fts5_schema(tokenizer: str) -> list[str]:
    """The FTS5 tables and the triggers that keep them in step with `ticket_search`.

    The same statements are written out in the migration that first creates them.
    """
    public, staff = "subject, description, comments", "subject, description, comments, notes"

    def values(prefix: str, columns: str) -> str:
        return ", ".join(f"{prefix}.{c.strip()}" for c in columns.split(","))

    return [
        f"CREATE VIRTUAL TABLE ticket_search_public USING fts5({public}, "
        f"content='ticket_search', content_rowid='ticket_id', tokenize='{tokenizer}')",
        f"CREATE VIRTUAL TABLE ticket_search_staff USING fts5({staff}, "
        f"content='ticket_search', content_rowid='ticket_id', tokenize='{tokenizer}')",
        f"""CREATE TRIGGER ticket_search_insert AFTER INSERT ON ticket_search BEGIN
            INSERT INTO ticket_search_public (rowid, {public})
                VALUES (new.ticket_id, {values("new", public)});
            INSERT INTO ticket_search_staff (rowid, {staff})
                VALUES (new.ticket_id, {values("new", staff)});
        END""",
        f"""CREATE TRIGGER ticket_search_delete AFTER DELETE ON ticket_search BEGIN
            INSERT INTO ticket_search_public (ticket_search_public, rowid, {public})
                VALUES ('delete', old.ticket_id, {values("old", public)});
            INSERT INTO ticket_search_staff (ticket_search_staff, rowid, {staff})
                VALUES ('delete', old.ticket_id, {values("old", staff)});
        END""",
        f"""CREATE TRIGGER ticket_search_update_public
            AFTER UPDATE OF subject, description, comments ON ticket_search BEGIN
            INSERT INTO ticket_search_public (ticket_search_public, rowid, {public})
                VALUES ('delete', old.ticket_id, {values("old", public)});
            INSERT INTO ticket_search_public (rowid, {public})
                VALUES (new.ticket_id, {values("new", public)});
        END""",
        f"""CREATE TRIGGER ticket_search_update_staff AFTER UPDATE ON ticket_search BEGIN
            INSERT INTO ticket_search_staff (ticket_search_staff, rowid, {staff})
                VALUES ('delete', old.ticket_id, {values("old", staff)});
            INSERT INTO ticket_search_staff (rowid, {staff})
                VALUES (new.ticket_id, {values("new", staff)});
        END""",
    ]


def is_search_object(name: str | None) -> bool:
    """Tables and indexes the search migration makes per database, outside the models (FTS5
    virtual tables and their shadow tables, tsvector columns, GIN and trigram indexes)."""
    return bool(name) and (
        str(name).startswith("ticket_search") or name == "ix_tickets_ticket_number_trgm"
    )
