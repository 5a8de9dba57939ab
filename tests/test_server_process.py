"""A real `ticketdesk serve` process: JSON log lines with request ids and no secrets, client
addresses from trusted proxies only, and a graceful SIGTERM."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import TEST_SECRET
from tests.servers import free_port

TICKETDESK = str(Path(sys.executable).with_name("ticketdesk"))
PASSWORD = "velvet-orbit-canyon-42"

pytestmark = pytest.mark.server


def test_logs_proxies_and_sigterm(database_url, tmp_path):
    port = free_port()
    log_path = tmp_path / "server.log"
    env = {
        **os.environ,
        "TICKETDESK_DATABASE_URL": database_url,
        "TICKETDESK_SECRET_KEY": TEST_SECRET,
        "TICKETDESK_JOBS_INTERVAL_SECONDS": "0",
        "TICKETDESK_DATA_DIR": str(tmp_path),
        "TICKETDESK_LOG_FORMAT": "json",
        "TICKETDESK_FORWARDED_ALLOW_IPS": "127.0.0.1",
        "TICKETDESK_LOGIN_ATTEMPTS_PER_MINUTE": "2",
        "TICKETDESK_SHUTDOWN_SECONDS": "5",
    }
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [TICKETDESK, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=log,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        api = f"{base}/api/v1"
        email = f"ops-{port}@example.com"
        body = {"email": email, "password": PASSWORD, "full_name": "Ops"}
        assert httpx.post(f"{api}/auth/register", json=body).status_code == 201
        token = httpx.post(f"{api}/auth/login", json={"email": email, "password": PASSWORD})
        access = token.json()["access_token"]
        me = httpx.get(
            f"{api}/auth/me",
            headers={"Authorization": f"Bearer {access}", "X-Request-ID": "probe-42"},
        )
        assert me.headers["X-Request-ID"] == "probe-42"
        # Failed logins from two forwarded clients are counted apart: the proxy is trusted.
        wrong = {"email": email, "password": "wrong-guess-99"}
        for _ in range(2):
            for client in ("198.51.100.1", "198.51.100.2"):
                response = httpx.post(
                    f"{api}/auth/login", json=wrong, headers={"X-Forwarded-For": client}
                )
                assert response.status_code == 401
        again = httpx.post(
            f"{api}/auth/login", json=wrong, headers={"X-Forwarded-For": "198.51.100.1"}
        )
        assert again.status_code == 429
        fresh = httpx.post(
            f"{api}/auth/login", json=wrong, headers={"X-Forwarded-For": "198.51.100.3"}
        )
        assert fresh.status_code == 401
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=30)
    assert code == 0
    lines = [line for line in log_path.read_text().splitlines() if line.strip()]
    entries = [json.loads(line) for line in lines]  # every line is JSON
    (probe,) = [e for e in entries if e.get("request_id") == "probe-42"]
    assert probe["route"] == "/api/v1/auth/me"
    assert probe["status"] == 200
    assert isinstance(probe["user_id"], int)
    clients = {e.get("client") for e in entries if e.get("route") == "/api/v1/auth/login"}
    assert {"198.51.100.1", "198.51.100.2", "198.51.100.3"} <= clients
    assert any("database" in e["message"] and "starting" in e["message"] for e in entries)
    text = log_path.read_text()
    for secret in (PASSWORD, "wrong-guess-99", access):
        assert secret not in text
