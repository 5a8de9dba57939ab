"""A fast local webhook receiver for the benchmark: its own process, asyncio, HTTP/1.1
keep-alive. It checks every signature (HMAC-SHA256 as Standard Webhooks defines it) and counts
deliveries per path; `GET /_stats` reports (`?ids=1`: with every webhook-id), `POST /_secrets`
sets each path's secret. With `--delay`, it waits that many seconds before answering a
delivery (a slow endpoint).

    python -m bench.webhook_receiver --port 8765 [--delay 0.2]
"""

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import time
from collections import Counter


class Stats:
    def __init__(self) -> None:
        self.secrets: dict[str, bytes] = {}
        self.received: Counter[str] = Counter()
        self.bad_signatures = 0
        self.duplicates = 0
        self.duplicated: Counter[str] = Counter()  # duplicates by path
        self.seen: set[tuple[str, str]] = set()
        self.first: float | None = None
        self.last: float | None = None

    def report(self, *, ids: bool = False) -> dict[str, object]:
        """`ids`: also every (path, webhook-id) pair received."""
        return {
            **({"ids": sorted(f"{p} {i}" for p, i in self.seen)} if ids else {}),
            "received": dict(self.received),
            "total": sum(self.received.values()),
            "bad_signatures": self.bad_signatures,
            "duplicates": self.duplicates,
            "duplicated": dict(self.duplicated),
            "first": self.first,
            "last": self.last,
        }

    def take(self, path: str, headers: dict[str, str], body: bytes) -> None:
        now = time.time()
        self.first = self.first or now
        self.last = now
        self.received[path] += 1
        message_id = headers.get("webhook-id", "")
        if (path, message_id) in self.seen:
            self.duplicates += 1
            self.duplicated[path] += 1
        self.seen.add((path, message_id))
        secret = self.secrets.get(path)
        signed = f"{message_id}.{headers.get('webhook-timestamp', '')}.".encode() + body
        expected = b"v1," + base64.b64encode(
            hmac.new(secret or b"", signed, hashlib.sha256).digest()
        )
        offered = headers.get("webhook-signature", "").encode().split(b" ")
        if secret is None or not any(hmac.compare_digest(expected, s) for s in offered):
            self.bad_signatures += 1


async def handle(
    stats: Stats, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float = 0.0
) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, path, _ = lines[0].split(" ", 2)
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    name, value = line.split(":", 1)
                    headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            reply = b"ok"
            if path.startswith("/_stats"):
                reply = json.dumps(stats.report(ids=path == "/_stats?ids=1")).encode()
            elif path == "/_secrets":
                stats.secrets = {
                    p: base64.b64decode(s.removeprefix("whsec_"))
                    for p, s in json.loads(body).items()
                }
            elif method == "POST":
                stats.take(path, headers, body)
                if delay:
                    await asyncio.sleep(delay)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(reply), reply))
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def serve(port: int, delay: float = 0.0) -> None:
    stats = Stats()
    server = await asyncio.start_server(lambda r, w: handle(stats, r, w, delay), "127.0.0.1", port)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay", type=float, default=0.0)
    args = parser.parse_args()
    asyncio.run(serve(args.port, args.delay))


if __name__ == "__main__":
    main()
