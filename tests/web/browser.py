"""Real-browser test support: a `ticketdesk serve` process and Debian's Chromium.

Browser tests skip with a loud message when /usr/bin/chromium is missing, except under CI
(env CI set), where they fail: `.ci/run` installs it.
"""

import os
import queue
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import TEST_SECRET

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
# The README's screenshots: `make screenshots` writes them into docs/screenshots; otherwise the
# browser tests take them into a temporary folder, so that a test run leaves the tree as it was.
SCREENSHOTS = Path(
    os.environ.get("TICKETDESK_SCREENSHOTS")
    or Path(tempfile.gettempdir()) / "ticketdesk-screenshots"
)
TICKETDESK = str(Path(sys.executable).with_name("ticketdesk"))
ADMIN = ("admin@example.com", "admin-password-1", "Ana Admin")
PASSWORD = "browser-password-1"
STARTUP_TIMEOUT = 60.0


def require_chromium() -> None:
    if Path(CHROMIUM).exists() and AXE.exists():
        return
    missing = CHROMIUM if not Path(CHROMIUM).exists() else f"{AXE} (run `make install`)"
    message = f"*** {missing} is missing: the BROWSER TESTS were SKIPPED. ***"
    if os.environ.get("CI"):
        pytest.fail(f"{missing} is missing; CI must run the browser tests")
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    base: str
    log: list[str]

    @property
    def api(self) -> str:
        return f"{self.base}/api/v1"

    def token(self, email: str, password: str) -> dict[str, str]:
        body = {"email": email, "password": password}
        response = httpx.post(f"{self.api}/auth/login", json=body, timeout=30)
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    def make_user(self, email: str, name: str, role: str) -> None:
        admin = self.token(ADMIN[0], ADMIN[1])
        body = {"email": email, "password": PASSWORD, "full_name": name, "role": role}
        response = httpx.post(f"{self.api}/users", json=body, headers=admin, timeout=30)
        assert response.status_code == 201, response.text


def start_server(database_url: str, data_dir: Path) -> Iterator[Server]:
    """A real server process on a free port; yields once it answers /readyz."""
    port = _free_port()
    env = {
        **os.environ,
        "TICKETDESK_DATABASE_URL": database_url,
        "TICKETDESK_SECRET_KEY": TEST_SECRET,
        "TICKETDESK_DATA_DIR": str(data_dir),
        # Mailed links (password reset) point at this server.
        "TICKETDESK_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "TICKETDESK_ADMIN_EMAIL": ADMIN[0],
        "TICKETDESK_ADMIN_PASSWORD": ADMIN[1],
        "TICKETDESK_ADMIN_NAME": ADMIN[2],
        "TICKETDESK_LIVE_POLL_SECONDS": "0.2",
        "TICKETDESK_JOBS_INTERVAL_SECONDS": "0",
    }
    process = subprocess.Popen(
        [TICKETDESK, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str | None] = queue.Queue()
    log: list[str] = []

    def _read() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            log.append(line)
            lines.put(line)
        lines.put(None)

    threading.Thread(target=_read, daemon=True).start()
    try:
        while True:
            try:
                line = lines.get(timeout=STARTUP_TIMEOUT)
            except queue.Empty:
                pytest.fail(f"server did not start in {STARTUP_TIMEOUT}s:\n{''.join(log)}")
            if line is None:
                pytest.fail(f"server exited with {process.wait()}:\n{''.join(log)}")
            if f"Uvicorn running on http://127.0.0.1:{port}" in line:
                break
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{base}/readyz", timeout=10).status_code == 200
        yield Server(base, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def launch(playwright: Any) -> Any:
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def sign_in(page: Any, server: Server, email: str, password: str = PASSWORD) -> None:
    page.goto(f"{server.base}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: not url.endswith("/login"))


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's serious and critical findings on the page as it stands."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => (await axe.run(document)).violations")
    return [v for v in result if v.get("impact") in ("serious", "critical")]
