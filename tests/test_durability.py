"""No acknowledged write is lost when the server process is killed (SIGKILL) mid-stream: every
ticket answered 201 is there after a restart."""

import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import TEST_SECRET
from tests.servers import TICKETDESK, free_port

PASSWORD = "velvet-orbit-canyon-42"

pytestmark = pytest.mark.server


def _start(database_url: str, data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "TICKETDESK_DATABASE_URL": database_url,
        "TICKETDESK_SECRET_KEY": TEST_SECRET,
        "TICKETDESK_JOBS_INTERVAL_SECONDS": "0",
        "TICKETDESK_DATA_DIR": str(data_dir),
        "TICKETDESK_RATE_LIMIT_PER_MINUTE": "0",
    }
    process = subprocess.Popen(
        [TICKETDESK, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(600):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return process
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    process.kill()
    pytest.fail("the server did not start")


def test_acknowledged_creates_survive_sigkill(database_url, tmp_path):
    port = free_port()
    api = f"http://127.0.0.1:{port}/api/v1"
    process = _start(database_url, tmp_path, port)
    try:
        account = {"email": f"d{port}@example.com", "password": PASSWORD, "full_name": "Dura"}
        assert httpx.post(f"{api}/auth/register", json=account).status_code == 201
        login = httpx.post(
            f"{api}/auth/login", json={"email": account["email"], "password": PASSWORD}
        )
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        acknowledged: list[int] = []
        stop = threading.Event()

        def writer() -> None:
            with httpx.Client(timeout=10) as http:
                n = 0
                while not stop.is_set():
                    n += 1
                    try:
                        response = http.post(
                            f"{api}/tickets",
                            headers=headers,
                            json={"subject": f"Durable {n}", "description": "kept"},
                        )
                    except httpx.TransportError:
                        return  # the server is gone: this write was never acknowledged
                    if response.status_code == 201:
                        acknowledged.append(response.json()["id"])

        threads = [threading.Thread(target=writer) for _ in range(4)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 60
        while len(acknowledged) < 20 and time.monotonic() < deadline:
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        stop.set()
        for thread in threads:
            thread.join(timeout=15)
        assert len(acknowledged) >= 20
    finally:
        if process.poll() is None:
            process.kill()
    restarted = _start(database_url, tmp_path, port)
    try:
        with httpx.Client(timeout=10) as http:
            for ticket_id in acknowledged:
                assert http.get(f"{api}/tickets/{ticket_id}", headers=headers).status_code == 200
    finally:
        restarted.terminate()
        restarted.wait(timeout=30)
