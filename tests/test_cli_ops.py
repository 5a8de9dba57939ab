"""The command's operator-facing answers: --version, roles in any case, clear start errors,
backups."""

import sqlite3

from tests.test_cli import TICKETDESK, create_user, run_cli
from ticketdesk import __version__


def test_version(database_url, tmp_path):
    result = run_cli(database_url, tmp_path, "--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"ticketdesk {__version__}"


def test_role_in_any_case(client, database_url, tmp_path):
    result = create_user(
        database_url, tmp_path, "kim@example.com", "velvet-orbit-canyon", "--role", "Agent"
    )
    assert result.returncode == 0, result.stderr
    assert "as agent" in result.stdout


def test_weak_password_refused_by_the_command(database_url, tmp_path):
    result = create_user(database_url, tmp_path, "kim@example.com", "password1")
    assert result.returncode != 0
    assert "too weak" in result.stderr


def test_a_port_out_of_range_is_one_clear_line(database_url, tmp_path):
    result = run_cli(database_url, tmp_path, "serve", "--port", "99999")
    assert result.returncode == 2
    assert "65535" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_bad_port_variable_is_one_clear_line(database_url, tmp_path, monkeypatch):
    monkeypatch.setenv("TICKETDESK_PORT", "eighty")
    result = run_cli(database_url, tmp_path, "serve")
    assert result.returncode == 2
    assert "TICKETDESK_PORT" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_redis_url_without_its_scheme_is_one_clear_line(database_url, tmp_path, monkeypatch):
    monkeypatch.setenv("TICKETDESK_REDIS_URL", "localhost:6379")
    result = run_cli(database_url, tmp_path, "serve")
    assert result.returncode == 2
    assert "TICKETDESK_REDIS_URL" in result.stderr and "redis://" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_missing_postgresql_database_is_one_clear_line(tmp_path):
    url = "postgresql://postgres@127.0.0.1:5432/ticketdesk_no_such_database"
    result = run_cli(url, tmp_path, "serve", "--port", "1")
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1
    assert "ticketdesk_no_such_database" in lines[0]
    assert "Traceback" not in result.stderr


def test_backup_copies_the_database_and_attachments(client, database_url, tmp_path):
    if not database_url.startswith("sqlite"):
        result = run_cli(database_url, tmp_path, "backup", str(tmp_path / "b"))
        assert result.returncode == 1
        assert "pg_dump" in result.stderr
        return
    data = tmp_path / "data"
    (data / "attachments" / "ab").mkdir(parents=True)
    (data / "attachments" / "ab" / "file").write_bytes(b"content")
    result = run_cli(database_url, data, "backup", str(tmp_path / "backup"))
    assert result.returncode == 0, result.stderr
    copy = sqlite3.connect(tmp_path / "backup" / "ticketdesk.db")
    assert copy.execute("SELECT count(*) FROM users").fetchone()[0] >= 0
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert (tmp_path / "backup" / "attachments" / "ab" / "file").read_bytes() == b"content"
    again = run_cli(database_url, data, "backup", str(tmp_path / "backup"))
    assert again.returncode == 1
    assert TICKETDESK
