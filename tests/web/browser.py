"""Real-browser test support: a `ticketdesk serve` process and Debian's Chromium.

Browser tests skip with a loud message when /usr/bin/chromium is missing, except under CI
(env CI set), where they fail: `.ci/run` installs it.
"""

import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.servers import free_port, serve

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
ADMIN = ("admin@example.com", "admin-password-1", "Ana Admin")
PASSWORD = "browser-password-1"


def require_chromium() -> None:
    if Path(CHROMIUM).exists() and AXE.exists():
        return
    missing = CHROMIUM if not Path(CHROMIUM).exists() else f"{AXE} (run `make install`)"
    message = f"*** {missing} is missing: the BROWSER TESTS were SKIPPED. ***"
    if os.environ.get("CI"):
        pytest.fail(f"{missing} is missing; CI must run the browser tests")
    pytest.skip(message)


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
    port = free_port()
    env = {
        # Mailed links (password reset) point at this server.
        "TICKETDESK_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "TICKETDESK_ADMIN_EMAIL": ADMIN[0],
        "TICKETDESK_ADMIN_PASSWORD": ADMIN[1],
        "TICKETDESK_ADMIN_NAME": ADMIN[2],
        "TICKETDESK_LIVE_POLL_SECONDS": "0.2",
        # Open live streams would hold a graceful stop for the default 20 s.
        "TICKETDESK_SHUTDOWN_SECONDS": "2",
    }
    with serve(database_url, data_dir, env, port=port, stop_seconds=20) as running:
        yield Server(running.base, running.log)


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
