"""The migrations build exactly the schema the models describe."""

import asyncio

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from ticketdesk import db
from ticketdesk.db import UTCDateTime
from ticketdesk.models import Base
from ticketdesk.search.engines import is_search_object


def _only_a_tolerated_type_difference(diff) -> bool:
    """Enum columns are stored as VARCHAR(32) (non-native), UTCDateTime as a timezone-aware
    DateTime: the migrations spell those types plainly, which is the same column."""
    if not (isinstance(diff, tuple) and diff[0] == "modify_type"):
        return False
    _, _schema, _table, _column, _existing, database_type, model_type = diff
    if isinstance(model_type, sa.Enum) and not model_type.native_enum:
        return isinstance(database_type, sa.String) and database_type.length == model_type.length
    if isinstance(model_type, UTCDateTime):
        return isinstance(database_type, sa.DateTime)
    return False


def _index_of_another_dialect(diff, dialect) -> bool:
    """An index the models create only on one database (`Index.ddl_if(dialect=...)`)."""
    if not (isinstance(diff, tuple) and diff[0] == "add_index"):
        return False
    # Alembic compares copies, which lose ddl_if: look the index up in the models.
    model = {i.name: i for i in Base.metadata.tables[diff[1].table.name].indexes}
    ddl_if = model[diff[1].name]._ddl_if
    return ddl_if is not None and ddl_if.dialect not in (None, dialect)


def _flatten(diffs):
    for diff in diffs:
        # Column changes come grouped in lists, one list per column.
        if isinstance(diff, list):
            yield from diff
        else:
            yield diff


def _not_search_object(name, _type, _parents) -> bool:
    """The search engine's tables and indexes differ per database and are not models."""
    return not is_search_object(name)


def _compare(database_url, metadata):
    async def _run():
        engine = db.create_engine(database_url)
        try:
            async with engine.connect() as connection:

                def _diff(sync_connection):
                    context = MigrationContext.configure(
                        sync_connection,
                        opts={"compare_type": True, "include_name": _not_search_object},
                    )
                    return compare_metadata(context, metadata), context.get_current_revision()

                return await connection.run_sync(_diff)
        finally:
            await engine.dispose()

    return asyncio.run(_run())


def test_models_match_the_migrations(database_url):
    diffs, revision = _compare(database_url, Base.metadata)
    assert revision == ScriptDirectory.from_config(db._alembic_config()).get_current_head()
    dialect = sa.engine.make_url(database_url).get_backend_name()
    unexpected = [
        d
        for d in _flatten(diffs)
        if not _only_a_tolerated_type_difference(d) and not _index_of_another_dialect(d, dialect)
    ]
    assert unexpected == []


def test_the_comparison_does_see_differences(database_url):
    """Guard against a comparison that finds nothing because it looks at nothing."""
    metadata = sa.MetaData()
    for table in Base.metadata.sorted_tables:
        table.to_metadata(metadata)
    metadata.tables["users"].append_column(sa.Column("nickname", sa.String(20)))
    sa.Table("not_migrated", metadata, sa.Column("id", sa.Integer, primary_key=True))
    metadata.tables["tickets"].c.subject.type = sa.Text()
    diffs, _ = _compare(database_url, metadata)
    names = set()
    for d in _flatten(diffs):
        if d[0] == "add_table":
            names.add(("add_table", d[1].name))
        elif d[0] == "add_column":
            names.add(("add_column", d[2], d[3].name))
        elif d[0] == "modify_type":
            names.add(("modify_type", d[2], d[3]))
    assert names == {
        ("add_table", "not_migrated"),
        ("add_column", "users", "nickname"),
        ("modify_type", "tickets", "subject"),
    }


def test_every_revision_id_fits_the_version_table():
    """alembic_version.version_num is VARCHAR(32): PostgreSQL refuses a longer id at upgrade,
    where SQLite would store it."""
    scripts = ScriptDirectory.from_config(db._alembic_config())
    too_long = [s.revision for s in scripts.walk_revisions() if len(s.revision) > 32]
    assert too_long == []
