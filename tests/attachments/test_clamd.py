"""Virus scanning with a real clamd (Debian's clamav-daemon) started by the tests on a
signature database of their own: no download of the public signatures."""

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.attachments.conftest import free_port, upload, upload_ok
from tests.factories import count_rows, make_ticket
from ticketdesk.attachments.models import Attachment
from ticketdesk.attachments.storage import storage_for

CLAMD = shutil.which("clamd") or "/usr/sbin/clamd"
MARKER = b"TICKETDESK-TEST-SIGNATURE-7c1f0e"
SIGNATURE = "Ticketdesk.Test.Marker"
STARTUP_SECONDS = 180.0


@pytest.fixture(scope="module")
def clamd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """clamd on a free TCP port of 127.0.0.1 and on a Unix socket."""
    if not Path(CLAMD).exists():
        message = "clamd (Debian's clamav-daemon) is not installed"
        if os.environ.get("CI"):
            pytest.fail(f"{message}: CI must run the virus-scanning tests")
        print(f"\n*** SKIPPED: {message}; the virus-scanning tests did not run. ***")
        pytest.skip(message)
    root = tmp_path_factory.mktemp("clamd")
    (root / "db").mkdir()
    # A body signature: any file containing MARKER matches.
    (root / "db" / "test.ndb").write_text(f"{SIGNATURE}:0:*:{MARKER.hex()}\n")
    port, socket_path = free_port(), root / "clamd.sock"
    (root / "clamd.conf").write_text(
        "\n".join(
            [
                "Foreground yes",
                f"DatabaseDirectory {root / 'db'}",
                f"LocalSocket {socket_path}",
                "TCPAddr 127.0.0.1",
                f"TCPSocket {port}",
                "StreamMaxLength 30M",
                "Bytecode no",
                f"LogFile {root / 'clamd.log'}",
                f"TemporaryDirectory {root}",
                "",
            ]
        )
    )
    process = subprocess.Popen(
        [CLAMD, f"--config-file={root / 'clamd.conf'}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not socket_path.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                log = (root / "clamd.log").read_text() if (root / "clamd.log").exists() else ""
                stderr = process.stderr.read().decode() if process.poll() is not None else ""
                pytest.fail(f"clamd did not start:\n{stderr}\n{log}")
            time.sleep(0.1)
        yield {"tcp": f"tcp://127.0.0.1:{port}", "unix": f"unix://{socket_path}"}
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def stored(client) -> list[str]:
    root = storage_for(client.app.state.settings).root  # type: ignore[attr-defined]
    return sorted(p.name for p in root.rglob("*") if p.is_file())


@pytest.fixture(params=["tcp", "unix"])
def settings(request, clamd, settings):
    return settings.model_copy(update={"clamd_url": clamd[request.param]})


def test_a_clean_file_is_stored(client, people):
    owner = people["individual"]
    tid = make_ticket(client, owner)["id"]
    (row,) = upload_ok(client, owner, tid, ("clean.txt", b"nothing to see here"))
    assert row["filename"] == "clean.txt"


def test_an_infected_file_is_refused_naming_the_signature(client, people):
    owner = people["individual"]
    tid = make_ticket(client, owner)["id"]
    before = stored(client)
    infected = b"harmless looking text " + MARKER + b" more text"
    response = upload(client, owner, tid, ("clean.txt", b"fine"), ("bad.txt", infected))
    assert response.status_code == 422
    assert SIGNATURE in response.json()["detail"]
    assert "bad.txt" in response.json()["detail"]
    assert stored(client) == before
    assert count_rows(client, Attachment) == 0
    # The same in a new ticket with its files: no ticket either.
    reply = client.post(
        "/api/v1/tickets/",
        data={"subject": "s", "description": "d"},
        files=[("file", ("bad.txt", infected, "text/plain"))],
        headers=owner.headers,
    )
    assert reply.status_code == 422
    listed = client.get("/api/v1/tickets/", headers=owner.headers).json()
    assert [t["id"] for t in listed] == [tid]
