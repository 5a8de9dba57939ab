"""A built wheel carries its migrations: installed away from the source tree, `ticketdesk
migrate` builds a database and `serve` answers."""

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import BACKEND

ROOT = Path(__file__).resolve().parents[1]
# Nothing here depends on the database: built and checked once, in the SQLite half.
pytestmark = pytest.mark.skipif(BACKEND != "sqlite", reason="runs in the SQLite half of make test")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "-q",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (built,) = out.glob("ticketdesk-*.whl")
    return built


def test_the_wheel_holds_the_migrations(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert "ticketdesk/migrations/env.py" in names
    assert "ticketdesk/migrations/script.py.mako" in names
    assert any(n.startswith("ticketdesk/migrations/versions/") and n.endswith(".py") for n in names)


def test_installed_wheel_migrates_outside_the_source_tree(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {
        **os.environ,
        # The installed copy comes first; the dependencies come from this environment.
        "PYTHONPATH": str(target),
        "TICKETDESK_DATA_DIR": str(tmp_path / "data"),
        "TICKETDESK_DATABASE_URL": f"sqlite:///{tmp_path / 'data' / 'fresh.db'}",
    }
    probe = subprocess.run(
        [sys.executable, "-c", "import ticketdesk, sys; print(ticketdesk.__file__)"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert probe.stdout.startswith(str(target))
    result = subprocess.run(
        [sys.executable, "-m", "ticketdesk.cli", "migrate"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout
    assert (tmp_path / "data" / "fresh.db").stat().st_size > 0
