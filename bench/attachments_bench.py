"""Attachments on PostgreSQL: memory under 50 concurrent 5 MB uploads, and the download rate
of a 100 MB file from the local disk store, beside the rate of reading that file directly.

    python -m bench.attachments_bench [--url postgresql://postgres@127.0.0.1:5432/db]
"""

import argparse
import asyncio
import json
import os
import socket
import statistics
import tempfile
import time
from pathlib import Path

import asyncpg
import httpx
from sqlalchemy.engine import make_url

from bench.common import API, login, peak_rss_mib, process_tree, reset_peak_rss, rss_mib
from bench.common import server_process as serve

MB = 1024 * 1024
UPLOADS, UPLOAD_MB, DOWNLOAD_MB, DOWNLOADS = 50, 5, 100, 5


async def recreate(url: str) -> None:
    parsed = make_url(url)
    admin = await asyncpg.connect(
        host=parsed.host, port=parsed.port or 5432, user=parsed.username, database="postgres"
    )
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{parsed.database}"')
    finally:
        await admin.close()


async def raw_request(port: int, head: str, body: bytes = b"") -> tuple[int, bytes, int]:
    """One HTTP/1.1 request on a fresh connection: (status, body, body length).

    A plain socket client, so that the figures are the server's and not a client library's
    (httpx's multipart encoder and its reads are slower than the server measured here).
    """
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=4 * MB)
    try:
        writer.write(head.encode() + body)
        await writer.drain()
        status_line = await reader.readline()
        length = 0
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        received, kept = 0, []
        while received < length:
            chunk = await reader.read(min(4 * MB, length - received))
            if not chunk:
                break
            received += len(chunk)
            kept.append(chunk)
        return int(status_line.split()[1]), b"".join(kept), received
    finally:
        writer.close()


def upload_request(path: str, auth: str, name: str, data: bytes) -> tuple[str, bytes]:
    boundary = os.urandom(8).hex()
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            f"Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {auth}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head, body


async def concurrent_uploads(port: int, auth: str, ticket_id: int) -> float:
    """50 uploads of distinct 5 MB files at once; the wall time in seconds."""
    path = f"{API}/tickets/{ticket_id}/attachments"
    requests = [
        upload_request(path, auth, f"upload-{n}.bin", os.urandom(UPLOAD_MB * MB))
        for n in range(UPLOADS)
    ]
    started = time.perf_counter()
    results = await asyncio.gather(*(raw_request(port, head, body) for head, body in requests))
    seconds = time.perf_counter() - started
    assert all(status == 201 for status, _, _ in results), results[0][1][:300]
    return seconds


def download_rate(port: int, auth: str, attachment_id: str) -> float:
    """MB/s of one streamed download, received into one reused buffer and discarded."""
    head = (
        f"GET {API}/attachments/{attachment_id}/content HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: {auth}\r\nConnection: close\r\n\r\n"
    )
    buffer = memoryview(bytearray(4 * MB))
    started = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(head.encode())
        received = 0
        while count := sock.recv_into(buffer):
            received += count
    seconds = time.perf_counter() - started
    # What arrived is the headers and then exactly the file.
    assert DOWNLOAD_MB * MB < received < DOWNLOAD_MB * MB + 4096, received
    return DOWNLOAD_MB * MB / MB / seconds


def disk_rate(path: Path) -> float:
    """MB/s of reading the stored file straight from disk (page cache), 1 MiB at a time."""
    started = time.perf_counter()
    with open(path, "rb") as file:
        while file.read(MB):
            pass
    return path.stat().st_size / MB / (time.perf_counter() - started)


def fsync_rate(folder: Path) -> float:
    """MB/s of writing 5 MB files and fsyncing each, as every stored upload is."""
    data = os.urandom(UPLOAD_MB * MB)
    started = time.perf_counter()
    for n in range(10):
        path = folder / f"fsync-probe-{n}"
        with open(path, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        path.unlink()
    return 10 * UPLOAD_MB / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--url", default="postgresql://postgres@127.0.0.1:5432/ticketdesk_bench_attachments"
    )
    args = parser.parse_args()
    asyncio.run(recreate(args.url))
    with tempfile.TemporaryDirectory() as data_dir:
        env = {"TICKETDESK_DATA_DIR": data_dir, "TICKETDESK_MAX_UPLOAD_MB": str(DOWNLOAD_MB + 1),
               "TICKETDESK_MAX_UPLOAD_REQUEST_MB": str(DOWNLOAD_MB + 2),
               "TICKETDESK_WORKER": "false"}  # fmt: skip
        with serve(args.url, extra_env=env) as server:
            account = {"email": "bench@example.com", "password": "bench-password-1",
                       "full_name": "Bench"}  # fmt: skip
            httpx.post(f"{server.base}{API}/auth/register", json=account).raise_for_status()
            headers = login(server.base, account["email"], account["password"])
            ticket = httpx.post(
                f"{server.base}{API}/tickets/", headers=headers,
                json={"subject": "bench", "description": "files"},
            ).json()  # fmt: skip
            pids = process_tree(server.pid)
            idle = sum(rss_mib(pids).values())
            reset_peak_rss(pids)
            auth = headers["Authorization"]
            seconds = asyncio.run(concurrent_uploads(server.port, auth, ticket["id"]))
            peak = sum(peak_rss_mib(pids).values())
            print(f"{UPLOADS} concurrent {UPLOAD_MB} MB uploads: {seconds:.2f} s "
                  f"({UPLOADS * UPLOAD_MB / seconds:.0f} MB/s in all); server RSS idle "
                  f"{idle:.0f} MiB, peak {peak:.0f} MiB (target < 300 MiB); the disk writes "
                  f"5 MB files with fsync at {fsync_rate(Path(data_dir)):.0f} MB/s")  # fmt: skip

            path = f"{API}/tickets/{ticket['id']}/attachments"
            big = upload_request(path, auth, "big.bin", os.urandom(DOWNLOAD_MB * MB))
            status, body, _ = asyncio.run(raw_request(server.port, *big))
            assert status == 201, body
            row = json.loads(body)[0]
            del big
            rates = [download_rate(server.port, auth, row["id"]) for _ in range(DOWNLOADS)]
            sha = row["sha256"]
            stored = Path(data_dir) / "attachments" / sha[:2] / sha[2:4] / sha
            disk = statistics.median(disk_rate(stored) for _ in range(DOWNLOADS))
            print(f"download of a {DOWNLOAD_MB} MB file, median of {DOWNLOADS}: "
                  f"{statistics.median(rates):.0f} MB/s (target >= 200 MB/s); "
                  f"reading the same file from disk directly: {disk:.0f} MB/s")  # fmt: skip


if __name__ == "__main__":
    main()
