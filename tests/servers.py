"""Real server processes for the tests that need one: a free port, and `ticketdesk serve`
started on the test database and stopped afterwards."""

import os
import queue
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import TEST_SECRET

TICKETDESK = str(Path(sys.executable).with_name("ticketdesk"))
# A loaded machine (other test runs) can take a while to import and migrate.
STARTUP_SECONDS = 180.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Running:
    """A started server: its base URL, its process and what it logged so far."""

    base: str
    process: subprocess.Popen[str]
    log: list[str]


@contextmanager
def serve(
    database_url: str,
    data_dir: Path,
    env: Mapping[str, str] | None = None,
    *,
    port: int | None = None,
    stop_seconds: float = 15.0,
) -> Iterator[Running]:
    """`ticketdesk serve` on a free port (or `port`), yielded once it answers /readyz; `env`
    adds or overrides TICKETDESK_* variables. Stopped with SIGTERM (SIGKILL past
    `stop_seconds`)."""
    port = port or free_port()
    process = subprocess.Popen(
        [TICKETDESK, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env={
            **os.environ,
            "TICKETDESK_DATABASE_URL": database_url,
            "TICKETDESK_SECRET_KEY": TEST_SECRET,
            "TICKETDESK_JOBS_INTERVAL_SECONDS": "0",
            "TICKETDESK_DATA_DIR": str(data_dir),
            **(env or {}),
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    # uvicorn logs to stderr; a reader thread keeps the pipe drained and reports startup,
    # so waiting needs no polling loop. "Uvicorn running on" comes after the socket is bound
    # ("Application startup complete" comes before): the port is really this process's.
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
                line = lines.get(timeout=STARTUP_SECONDS)
            except queue.Empty:
                pytest.fail(f"server did not start in {STARTUP_SECONDS}s:\n{''.join(log)}")
            if line is None:
                pytest.fail(f"server exited with {process.wait()}:\n{''.join(log)}")
            if f"Uvicorn running on http://127.0.0.1:{port}" in line:
                break
        base = f"http://127.0.0.1:{port}"
        ready = httpx.get(f"{base}/readyz", timeout=10)
        assert ready.status_code == 200, ready.text
        yield Running(base, process, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=stop_seconds)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
