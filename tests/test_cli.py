"""The `ticketdesk` command, the bootstrap admin, and the generated signing key."""

import os
import stat
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from tests.conftest import TEST_SECRET
from tests.factories import API, count_rows, in_db
from ticketdesk.auth.models import User
from ticketdesk.cli import app as cli_app
from ticketdesk.config import Settings, get_settings
from ticketdesk.main import create_app

TICKETDESK = str(Path(sys.executable).with_name("ticketdesk"))


def run_cli(database_url, data_dir, *args):
    env = {
        **os.environ,
        "TICKETDESK_DATABASE_URL": database_url,
        "TICKETDESK_DATA_DIR": str(data_dir),
        "TICKETDESK_SECRET_KEY": TEST_SECRET,
    }
    return subprocess.run(
        [TICKETDESK, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def create_user(database_url, data_dir, email, password, *extra):
    args = ["create-user", "--email", email, "--password", password, *extra]
    return run_cli(database_url, data_dir, *args)


def login(client, email, password):
    return client.post(f"{API}/auth/login", json={"email": email, "password": password})


def users_named(client, email):
    async def _read(session):
        rows = await session.scalars(select(User).where(User.email == email.lower()))
        return list(rows)

    return in_db(client, _read)


# --- ticketdesk create-user ---------------------------------------------------------------


def test_create_user_command(client, database_url, tmp_path):
    """The real command, in its own process."""
    result = create_user(
        database_url,
        tmp_path,
        "Helen@Example.com",
        "a-long-password",
        "--role",
        "agent",
        "--name",
        "Helen Help",
    )
    assert result.returncode == 0, result.stderr
    assert "helen@example.com" in result.stdout
    response = login(client, "helen@example.com", "a-long-password")
    assert response.status_code == 200
    headers = {"Authorization": f"Bearer {response.json()['access_token']}"}
    me = client.get(f"{API}/auth/me", headers=headers).json()
    assert me["email"] == "helen@example.com"
    assert (me["role"], me["full_name"]) == ("agent", "Helen Help")
    # Staff rights come with the role.
    assert client.get(f"{API}/users", params={"role": "agent"}, headers=headers).status_code == 200
    (user,) = users_named(client, "helen@example.com")
    assert user.password_hash.startswith("$argon2")


@pytest.fixture
def cli(database_url, tmp_path, monkeypatch):
    """The same command in this process (quicker), on the test database."""
    monkeypatch.setenv("TICKETDESK_DATABASE_URL", database_url)
    monkeypatch.setenv("TICKETDESK_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TICKETDESK_SECRET_KEY", TEST_SECRET)
    get_settings.cache_clear()
    runner = CliRunner()
    yield lambda *args: runner.invoke(cli_app, list(args))
    get_settings.cache_clear()


def test_create_user_refuses_a_taken_address(client, cli):
    first = cli("create-user", "--email", "ivy@example.com", "--password", "first-password")
    assert first.exit_code == 0, first.output
    again = cli("create-user", "--email", "IVY@example.com", "--password", "other-password")
    assert again.exit_code == 1
    assert "already exists" in again.output
    assert len(users_named(client, "ivy@example.com")) == 1
    assert login(client, "ivy@example.com", "first-password").status_code == 200
    assert login(client, "ivy@example.com", "other-password").status_code == 401


def test_create_user_defaults_to_an_individual(client, cli):
    result = cli("create-user", "--email", "ivy@example.com", "--password", "long-enough")
    assert result.exit_code == 0, result.output
    (user,) = users_named(client, "ivy@example.com")
    assert (user.role, user.is_active, user.full_name) == ("individual", True, "ivy@example.com")


@pytest.mark.parametrize(
    "args",
    [
        ["--email", "s@example.com", "--password", "short"],
        ["--email", "r@example.com", "--password", "long-enough", "--role", "overlord"],
        ["--password", "long-enough"],
        ["--email", "p@example.com"],
    ],
)
def test_create_user_rejects_bad_input(client, cli, args):
    result = cli("create-user", *args)
    assert result.exit_code == 2, result.output
    assert count_rows(client, User) == 0


def test_create_user_rejects_a_malformed_address(client, cli):
    result = cli("create-user", "--email", "not an email", "--password", "long-enough")
    assert result.exit_code == 2, result.output
    assert count_rows(client, User) == 0


# --- the bootstrap admin ------------------------------------------------------------------


def test_bootstrap_admin_is_created_once(settings):
    first = settings.model_copy(
        update={"admin_email": "Boss@Example.com", "admin_password": "boss-password-1"}
    )
    with TestClient(create_app(first)) as client:
        (admin,) = users_named(client, "boss@example.com")
        assert admin.role == "super_admin"
        assert admin.full_name == "Administrator"
        response = login(client, "boss@example.com", "boss-password-1")
        assert response.status_code == 200
    # A second start, even with another password: no duplicate, nothing changed.
    second = first.model_copy(update={"admin_password": "boss-password-2"})
    with TestClient(create_app(second)) as client:
        assert count_rows(client, User) == 1
        assert login(client, "boss@example.com", "boss-password-1").status_code == 200
        assert login(client, "boss@example.com", "boss-password-2").status_code == 401
    with TestClient(create_app(first)) as client:
        assert count_rows(client, User) == 1


def test_no_bootstrap_admin_without_both_settings(settings):
    for update in ({"admin_email": "boss@example.com"}, {"admin_password": "boss-password-1"}):
        with TestClient(create_app(settings.model_copy(update=update))) as client:
            assert count_rows(client, User) == 0


def test_bootstrap_admin_leaves_an_existing_user_alone(client, settings):
    response = client.post(
        f"{API}/auth/register",
        json={"email": "boss@example.com", "password": "customer-pass", "full_name": "Cust"},
    )
    assert response.status_code == 201
    bootstrap = settings.model_copy(
        update={"admin_email": "BOSS@example.com", "admin_password": "boss-password-1"}
    )
    with TestClient(create_app(bootstrap)) as other:
        (user,) = users_named(other, "boss@example.com")
        assert user.role == "individual"
        assert login(other, "boss@example.com", "boss-password-1").status_code == 401


# --- the signing key ----------------------------------------------------------------------


def test_generated_signing_key_is_kept_and_reused(settings, tmp_path):
    data_dir = tmp_path / "keyed"
    keyless = settings.model_copy(update={"secret_key": "", "data_dir": data_dir})
    with TestClient(create_app(keyless)) as client:
        key_file = data_dir / "secret_key"
        key = key_file.read_text().strip()
        assert len(key) >= 32
        assert key != TEST_SECRET
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        assert client.app.state.signing_key == key
        response = client.post(
            f"{API}/auth/register",
            json={"email": "kim@example.com", "password": "kim-password", "full_name": "Kim"},
        )
        assert response.status_code == 201
        token = login(client, "kim@example.com", "kim-password").json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    # A restart reads the same key: the token still works, the file is unchanged.
    with TestClient(create_app(keyless.model_copy())) as client:
        assert key_file.read_text().strip() == key
        assert client.get(f"{API}/auth/me", headers=headers).status_code == 200
    # Another data folder means another key: the token is worthless there.
    elsewhere = keyless.model_copy(update={"data_dir": tmp_path / "elsewhere"})
    with TestClient(create_app(elsewhere)) as client:
        assert (tmp_path / "elsewhere" / "secret_key").read_text().strip() != key
        assert client.get(f"{API}/auth/me", headers=headers).status_code == 401


@pytest.mark.parametrize("trial", range(5))
def test_concurrent_starts_agree_on_one_key(settings, tmp_path, trial):
    """Server processes starting together (`--workers`) must not each write their own key."""
    keyless = settings.model_copy(update={"secret_key": "", "data_dir": tmp_path / "race"})
    starters = 16
    barrier = threading.Barrier(starters)

    def start(_):
        barrier.wait(timeout=30)
        return keyless.model_copy().signing_key()

    with ThreadPoolExecutor(max_workers=starters) as pool:
        keys = list(pool.map(start, range(starters)))
    stored = (tmp_path / "race" / "secret_key").read_text().strip()
    assert len(stored) >= 32
    assert keys == [stored] * starters
    # No temporary files are left behind.
    assert [p.name for p in (tmp_path / "race").iterdir()] == ["secret_key"]


def test_a_configured_key_writes_no_file(settings, tmp_path):
    data_dir = tmp_path / "configured"
    configured = settings.model_copy(update={"data_dir": data_dir})
    assert configured.signing_key() == TEST_SECRET
    assert not (data_dir / "secret_key").exists()


def test_settings_come_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("TICKETDESK_ALLOW_REGISTRATION", "false")
    monkeypatch.setenv("TICKETDESK_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TICKETDESK_LOGIN_ATTEMPTS_PER_MINUTE", "3")
    monkeypatch.delenv("TICKETDESK_DATABASE_URL", raising=False)
    loaded = Settings()
    assert loaded.allow_registration is False
    assert loaded.login_attempts_per_minute == 3
    assert loaded.effective_database_url == f"sqlite:///{tmp_path / 'ticketdesk.db'}"
