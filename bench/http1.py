"""A minimal HTTP/1.1 keep-alive client on asyncio streams, cheap enough to generate load.

One `Connection` per virtual user, one request at a time on it. It writes the request bytes,
parses the status line and headers, and reads a `Content-Length` or `Transfer-Encoding:
chunked` body (or, failing both, the body up to the end of the connection). A `Connection:
close` from the server, or any error, drops the socket; the next request opens a new one.
"""

import asyncio
from dataclasses import dataclass

NO_BODY_STATUSES = frozenset({204, 304})


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    headers: dict[bytes, bytes]  # names lower-cased
    body: bytes


class Connection:
    """A keep-alive connection to one host; reconnects lazily after a close or an error."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._host_line = f"Host: {host}:{port}\r\n".encode()
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def request(
        self, method: str, path: str, *, headers: bytes = b"", body: bytes | None = None
    ) -> Response:
        """`headers`: ready-made header lines, each ending in CRLF (e.g. the Authorization)."""
        reader, writer = await self._open()
        head = f"{method} {path} HTTP/1.1\r\n".encode() + self._host_line + headers
        if body is not None:
            head += b"Content-Type: application/json\r\nContent-Length: %d\r\n" % len(body)
        try:
            writer.write(head + b"\r\n" + (body or b""))
            await writer.drain()
            response = await _read_response(reader, method)
        except BaseException:
            self.close()
            raise
        if response.headers.get(b"connection", b"").lower() == b"close":
            self.close()
        return response

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._reader is None or self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        return self._reader, self._writer

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None


async def _read_response(reader: asyncio.StreamReader, method: str) -> Response:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head[:-4].split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    headers: dict[bytes, bytes] = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip()
    if method == "HEAD" or status in NO_BODY_STATUSES or 100 <= status < 200:
        return Response(status, headers, b"")
    if b"chunked" in headers.get(b"transfer-encoding", b"").lower():
        return Response(status, headers, await _read_chunked(reader))
    length = headers.get(b"content-length")
    if length is not None:
        return Response(status, headers, await reader.readexactly(int(length)))
    headers[b"connection"] = b"close"  # the body runs to the end of the connection
    return Response(status, headers, await reader.read())


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts = []
    while True:
        size_line = await reader.readuntil(b"\r\n")
        size = int(size_line.split(b";", 1)[0].strip(), 16)
        if size == 0:
            break
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)  # the CRLF after each chunk
    while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers, then the blank line
        pass
    return b"".join(parts)
