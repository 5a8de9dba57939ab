"""Idempotency-Key on POST: the same key with the same body gets the first answer again
(`Idempotent-Replayed: true`), the same key with another body a 422, and a key whose first
request is still running a 409. Keys belong to the caller (their Authorization header, else
their address), live 24 hours, and are shared by every process through the database.

Only finished answers below 500 (and not 429) are kept: after a server error or a throttle
the client may retry with the same key.
"""

import hashlib
import random
from datetime import timedelta
from typing import Any

from fastapi.responses import JSONResponse
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ticketdesk import clock
from ticketdesk.idempotency.models import IdempotentRequest

KEEP = timedelta(hours=24)
# Their answers carry access tokens, which are never stored.
TOKEN_PATHS = ("/api/v1/auth/",)
MAX_KEY_LENGTH = 255


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")  # type: ignore[no-any-return]
    return None


def _digest(*parts: bytes) -> str:
    hasher = hashlib.sha256()
    for part in parts:
        hasher.update(len(part).to_bytes(8, "big"))
        hasher.update(part)
    return hasher.hexdigest()


class _Replay:
    def __init__(self, status: int, content_type: str | None, body: bytes) -> None:
        self.status, self.content_type, self.body = status, content_type, body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = [
            (b"idempotent-replayed", b"true"),
            (b"content-length", str(len(self.body)).encode()),
        ]
        if self.content_type:
            headers.append((b"content-type", self.content_type.encode("latin-1")))
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": self.body})


class Idempotency:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = _header(scope, b"idempotency-key") if scope["type"] == "http" else None
        if key is None or scope["method"] != "POST" or scope["path"].startswith(TOKEN_PATHS):
            await self.app(scope, receive, send)
            return
        if not 1 <= len(key) <= MAX_KEY_LENGTH:
            await JSONResponse(
                {"detail": f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters"}, 400
            )(scope, receive, send)
            return
        body = await _read_body(receive)
        caller = _header(scope, b"authorization") or (scope.get("client") or ("?",))[0]
        owner = _digest(caller.encode())
        fingerprint = _digest(scope["path"].encode(), body)
        database = scope["app"].state.database
        answer = await self._reserve(database, owner, key, fingerprint)
        if answer is not None:
            await answer(scope, receive, send)
            return
        captured: dict[str, Any] = {"body": b""}

        async def replay_body() -> Message:
            nonlocal body
            chunk, body = body, b""
            return {"type": "http.request", "body": chunk, "more_body": False}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                captured["status"] = message["status"]
                for name, value in message.get("headers", ()):
                    if name.lower() == b"content-type":
                        captured["content_type"] = value.decode("latin-1")
            elif message["type"] == "http.response.body":
                captured["body"] += message.get("body", b"")
            await send(message)

        try:
            await self.app(scope, replay_body, capture)
        finally:
            await self._finish(database, owner, key, captured)

    async def _reserve(
        self, database: Any, owner: str, key: str, fingerprint: str
    ) -> JSONResponse | _Replay | None:
        now = clock.now()
        try:
            async with database.write() as session:
                await session.execute(
                    delete(IdempotentRequest).where(
                        IdempotentRequest.owner == owner,
                        IdempotentRequest.key == key,
                        IdempotentRequest.created_at <= now - KEEP,
                    )
                )
                if random.randrange(100) == 0:
                    await session.execute(
                        delete(IdempotentRequest).where(IdempotentRequest.created_at <= now - KEEP)
                    )
                session.add(
                    IdempotentRequest(owner=owner, key=key, fingerprint=fingerprint, created_at=now)
                )
                await session.flush()
            return None
        except IntegrityError:
            pass
        async with database.read() as session:
            first = await session.scalar(
                select(IdempotentRequest).where(
                    IdempotentRequest.owner == owner, IdempotentRequest.key == key
                )
            )
        if first is None:  # it expired meanwhile: a rare race, the client may simply retry
            return JSONResponse({"detail": "retry this request"}, 409)
        if first.fingerprint != fingerprint:
            return JSONResponse(
                {"detail": "this Idempotency-Key was used with another request body"}, 422
            )
        if first.status is None:
            return JSONResponse(
                {"detail": "a request with this Idempotency-Key is still running"},
                409,
                headers={"Retry-After": "1"},
            )
        return _Replay(first.status, first.content_type, first.body or b"")

    async def _finish(self, database: Any, owner: str, key: str, captured: dict[str, Any]) -> None:
        status = captured.get("status")
        async with database.write() as session:
            row = await session.get(IdempotentRequest, (owner, key))
            if row is None:
                return
            if status is None or status >= 500 or status == 429:
                await session.delete(row)
            else:
                row.status = status
                row.content_type = captured.get("content_type")
                row.body = captured["body"]
            await session.flush()


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)
