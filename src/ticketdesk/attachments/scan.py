"""Virus scanning through clamd's INSTREAM command (tcp://host:port or unix:///path)."""

import asyncio
import struct
from pathlib import Path
from urllib.parse import urlsplit

import anyio

from ticketdesk.errors import DomainError

CHUNK = 256 * 1024
TIMEOUT_SECONDS = 120.0


class Infected(DomainError):
    status_code = 422


class ScannerUnavailable(DomainError):
    """Fail closed: without a verdict nothing is stored."""

    status_code = 503


async def _connect(url: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return await asyncio.open_unix_connection(parts.path)
    if parts.scheme == "tcp" and parts.hostname:
        return await asyncio.open_connection(parts.hostname, parts.port or 3310)
    raise ScannerUnavailable(f"unsupported clamd URL {url!r}")


async def scan_file(url: str, path: Path) -> str | None:
    """The signature clamd finds in the file, or None when it is clean."""
    try:
        async with asyncio.timeout(TIMEOUT_SECONDS):
            reply = await _instream(url, path)
    except (OSError, TimeoutError) as error:
        raise ScannerUnavailable("the virus scanner is unavailable; try again later") from error
    verdict = reply.removeprefix("stream:").strip()
    if verdict == "OK":
        return None
    if verdict.endswith(" FOUND"):
        return verdict.removesuffix(" FOUND").strip()
    raise ScannerUnavailable(f"the virus scanner could not scan the file ({verdict})")


async def _instream(url: str, path: Path) -> str:
    reader, writer = await _connect(url)
    try:
        writer.write(b"zINSTREAM\0")
        file = await anyio.to_thread.run_sync(open, path, "rb")
        try:
            while chunk := await anyio.to_thread.run_sync(file.read, CHUNK):
                writer.write(struct.pack("!L", len(chunk)) + chunk)
                await writer.drain()
        finally:
            file.close()
        writer.write(struct.pack("!L", 0))
        await writer.drain()
        reply = await reader.readuntil(b"\0")
    except asyncio.IncompleteReadError as error:
        raise ConnectionError("clamd closed the connection") from error
    finally:
        writer.close()
    return reply.rstrip(b"\0").decode("utf-8", "replace")


async def check(url: str, path: Path, filename: str) -> None:
    """Refuses an infected file (422, naming the signature)."""
    signature = await scan_file(url, path)
    if signature is not None:
        raise Infected(f"{filename!r} is infected: {signature}")
