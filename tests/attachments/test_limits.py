"""Limits enforced while the body streams in, executables refused, nothing left behind."""

import pytest

from tests.attachments.conftest import free_port, upload
from tests.factories import API, count_rows, footprint, make_ticket
from ticketdesk.attachments.models import Attachment
from ticketdesk.attachments.storage import storage_for

LIMIT = 64 * 1024  # bytes, as max_upload_mb below
small_files = pytest.mark.upload_settings(max_upload_mb=LIMIT / 2**20, max_upload_request_mb=0.5)


def leftovers(client) -> list[str]:
    """Temporary and stored files of the app's store (a local folder in these tests)."""
    storage = storage_for(client.app.state.settings)
    root = storage.root  # type: ignore[attr-defined]
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


@small_files
def test_a_file_over_the_limit_is_refused_and_nothing_stays(client, people):
    owner = people["individual"]
    tid = make_ticket(client, owner)["id"]
    before = footprint(client, tid)
    assert upload(client, owner, tid, ("ok.bin", b"x" * LIMIT)).status_code == 201
    stored = leftovers(client)
    response = upload(client, owner, tid, ("big.bin", b"y" * (LIMIT + 1)))
    assert response.status_code == 413
    assert "64 KiB" in response.json()["detail"] or "limit" in response.json()["detail"]
    assert leftovers(client) == stored
    assert count_rows(client, Attachment) == 1
    after = footprint(client, tid)
    assert after["activity"] == before["activity"] + 1  # only the first upload's


@small_files
def test_a_chunked_body_over_the_limit_is_refused(client, people):
    owner = people["individual"]
    tid = make_ticket(client, owner)["id"]
    head = b'--b\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n\r\n'

    def body():
        yield head
        for _ in range(40):
            yield b"z" * 4096
        yield b"\r\n--b--\r\n"

    headers = {**owner.headers, "Content-Type": "multipart/form-data; boundary=b"}
    response = client.post(f"{API}/tickets/{tid}/attachments", content=body(), headers=headers)
    assert response.status_code == 413
    assert leftovers(client) == []
    assert count_rows(client, Attachment) == 0


@small_files
def test_a_request_over_the_sum_limit_is_refused(client, people):
    owner = people["individual"]
    tid = make_ticket(client, owner)["id"]
    files = [(f"part{n}.bin", bytes([n]) * (LIMIT - 10)) for n in range(10)]
    response = upload(client, owner, tid, *files)
    assert response.status_code == 413
    assert "request" in response.json()["detail"]
    assert leftovers(client) == []
    assert count_rows(client, Attachment) == 0


def test_at_most_twenty_files(client, people):
    owner = people["individual"]
    tid = make_ticket(client, owner)["id"]
    assert (
        upload(client, owner, tid, *[(f"{n}.txt", b"%d" % n) for n in range(20)]).status_code == 201
    )
    response = upload(client, owner, tid, *[(f"{n}.txt", b"%d" % n) for n in range(21)])
    assert response.status_code == 413
    assert "20 files" in response.json()["detail"]
    assert count_rows(client, Attachment) == 20


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("setup.exe", b"harmless bytes"),
        ("tool.dll", b"x"), ("run.bat", b"x"), ("run.cmd", b"x"), ("old.com", b"x"),
        ("app.js", b"x"), ("pkg.msi", b"x"), ("saver.scr", b"x"), ("do.PS1", b"x"),
        ("install.sh", b"x"),
        ("report.pdf", b"\x7fELF\x02\x01\x01" + b"\x00" * 64),
        ("photo.jpg", b"MZ\x90\x00\x03" + b"\x00" * 64),
        ("notes.txt", b"\xcf\xfa\xed\xfe\x07\x00\x00\x01"),
        ("readme.txt", b"#!/bin/sh\nrm -rf /\n"),
    ],
)  # fmt: skip
def test_executables_are_refused(client, people, name, data):
    owner = people["individual"]
    tid = make_ticket(client, owner)["id"]
    response = upload(client, owner, tid, ("fine.txt", b"fine"), (name, data))
    assert response.status_code == 415
    assert "executable" in response.json()["detail"]
    assert count_rows(client, Attachment) == 0
    assert leftovers(client) == []


@pytest.mark.upload_settings(allow_executable_uploads=True)
def test_executables_when_allowed(client, people):
    owner = people["individual"]
    tid = make_ticket(client, owner)["id"]
    response = upload(client, owner, tid, ("setup.exe", b"MZ\x90\x00" + b"\x00" * 64))
    assert response.status_code == 201
    got = client.get(f"{API}/attachments/{response.json()[0]['id']}/content?inline=1",
                     headers=owner.headers)  # fmt: skip
    assert got.headers["content-disposition"].startswith("attachment;")


def test_no_credentials_no_upload(client, people):
    tid = make_ticket(client, people["individual"])["id"]
    response = client.post(
        f"{API}/tickets/{tid}/attachments", files=[("file", ("a.txt", b"a", "text/plain"))]
    )
    assert response.status_code == 401
    assert leftovers(client) == []


def test_malformed_multipart_is_a_clear_error(client, people):
    owner = people["individual"]
    tid = make_ticket(client, owner)["id"]
    headers = {**owner.headers, "Content-Type": "multipart/form-data"}
    response = client.post(f"{API}/tickets/{tid}/attachments", content=b"junk", headers=headers)
    assert response.status_code == 400
    headers["Content-Type"] = "multipart/form-data; boundary=b"
    cut = b'--b\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\nabc'
    response = client.post(f"{API}/tickets/{tid}/attachments", content=cut, headers=headers)
    assert response.status_code == 400
    assert leftovers(client) == []


@pytest.mark.upload_settings(clamd_url=f"tcp://127.0.0.1:{free_port()}")
def test_an_unreachable_virus_scanner_fails_closed(client, people):
    owner = people["individual"]
    tid = make_ticket(client, owner)["id"]
    response = upload(client, owner, tid, ("clean.txt", b"fine"))
    assert response.status_code == 503
    assert "scanner" in response.json()["detail"]
    assert count_rows(client, Attachment) == 0
    assert leftovers(client) == []
