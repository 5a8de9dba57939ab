"""`ticketdesk backup`: a consistent copy of an SQLite database taken while the service runs
(SQLite's online backup API), and the attachments folder beside it."""

import shutil
import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url


class BackupError(Exception):
    """Why no backup was written; the message is for the operator."""


def sqlite_path(database_url: str) -> Path:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        raise BackupError(
            "ticketdesk backup copies SQLite databases; for PostgreSQL use pg_dump"
            " (see the README's production section)"
        )
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory database cannot be backed up")
    return Path(url.database)


def backup(database_url: str, data_dir: Path, target: Path) -> list[Path]:
    """Write `target`/ticketdesk.db (and `target`/attachments when there are any); returns
    what was written. Refuses to overwrite an earlier backup."""
    source = sqlite_path(database_url)
    if not source.exists():
        raise BackupError(f"no database at {source}")
    target.mkdir(parents=True, exist_ok=True)
    copy = target / "ticketdesk.db"
    if copy.exists():
        raise BackupError(f"{copy} exists already: choose an empty folder")
    written = [copy]
    reader = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    writer = sqlite3.connect(copy)
    try:
        # Pages are copied in steps; writers of the running service are not blocked for long,
        # and the copy is the database as of one moment.
        reader.backup(writer, pages=1024)
    finally:
        writer.close()
        reader.close()
    attachments = data_dir / "attachments"
    if attachments.is_dir():
        shutil.copytree(attachments, target / "attachments")
        written.append(target / "attachments")
    return written
