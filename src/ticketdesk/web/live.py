"""Live pages over Server-Sent Events, fed by the event log.

One poller per server process reads new events (`events.service.read_after`) and who is on
which ticket (`presence`), and hands them to the streams connected to that process. Each
stream filters for its viewer: a customer's stream carries only events of tickets the
customer may see, never internal ones. A message only says *that* something changed (its
`id:` is the event id); the page then fetches the part to refresh through the same page
handlers, so what it shows is decided where every page decides it.
"""

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from markupsafe import escape
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ticketdesk import clock
from ticketdesk.auth.models import User
from ticketdesk.events import service as events
from ticketdesk.events.models import Event
from ticketdesk.tickets import service as tickets
from ticketdesk.web import presence

log = logging.getLogger(__name__)

BATCH = 500
KEEPALIVE_SECONDS = 15.0
# A stream ends after this long; the browser reconnects at once with Last-Event-ID, missing
# nothing. Bounds how long a stopping server waits, and re-checks the sign-in.
STREAM_SECONDS = 300.0
CONVERSATION_TYPES = ("comment.", "note.", "attachment.")


@dataclass(eq=False)
class Listener:
    """One connected stream: what it watches, and its inbox."""

    user_id: int
    staff: bool
    ticket_id: int | None
    inbox: asyncio.Queue[tuple[str, Any]] = field(default_factory=asyncio.Queue)


class Hub:
    """The one poller of a server process and the streams it feeds."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], poll_seconds: float) -> None:
        self.sessionmaker = sessionmaker
        self.poll_seconds = poll_seconds
        self.listeners: set[Listener] = set()
        self.cursor: int | None = None
        self.seen_presence: dict[int, list[presence.Someone]] = {}
        self.task: asyncio.Task[None] | None = None

    async def listen(self, listener: Listener) -> int:
        """Registers the stream; returns the event id it starts after."""
        if self.cursor is None:
            async with self.sessionmaker() as session:
                self.cursor = await events.last_id(session)
        if self.task is None or self.task.done():
            self.task = asyncio.create_task(self._run())
        self.listeners.add(listener)
        if listener.staff and listener.ticket_id in self.seen_presence:
            listener.inbox.put_nowait(("presence", self.seen_presence[listener.ticket_id]))
        return self.cursor

    def leave(self, listener: Listener) -> None:
        self.listeners.discard(listener)

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task

    async def _run(self) -> None:
        tick = 0
        while True:
            try:
                await self._poll_events()
                if tick % 2 == 0:
                    await self._poll_presence()
            except asyncio.CancelledError:
                raise
            except Exception:  # the database may be away for a moment; keep following
                log.exception("live updates: polling failed")
            tick += 1
            await asyncio.sleep(self.poll_seconds)

    async def _poll_events(self) -> None:
        assert self.cursor is not None
        while self.listeners:
            async with self.sessionmaker() as session:
                batch = await events.read_after(session, self.cursor, limit=BATCH)
            if not batch:
                return
            self.cursor = batch[-1].id
            for listener in self.listeners:
                listener.inbox.put_nowait(("events", batch))
            if len(batch) < BATCH:
                return

    async def _poll_presence(self) -> None:
        watched = sorted(
            {lis.ticket_id for lis in self.listeners if lis.staff and lis.ticket_id is not None}
        )
        if not watched:
            self.seen_presence.clear()
            return
        async with self.sessionmaker() as session:
            now_there = await presence.present(session, watched, now=clock.now())
        for ticket_id, people in now_there.items():
            if self.seen_presence.get(ticket_id) == people:
                continue
            self.seen_presence[ticket_id] = people
            for listener in self.listeners:
                if listener.staff and listener.ticket_id == ticket_id:
                    listener.inbox.put_nowait(("presence", people))
        for gone in set(self.seen_presence) - set(watched):
            del self.seen_presence[gone]


async def cursor(session: AsyncSession) -> int:
    """The newest event now: a page rendered now asks its stream for what comes after."""
    return await events.last_id(session)


def sse(event: str, data: object, *, id: int | None = None) -> str:
    """One message in the text/event-stream format (data is one line of JSON or HTML)."""
    text = data if isinstance(data, str) else json.dumps(data)
    lines = [f"event: {event}"] + [f"data: {line}" for line in text.splitlines() or [""]]
    if id is not None:
        lines.append(f"id: {id}")
    return "\n".join(lines) + "\n\n"


async def messages_for(
    session: AsyncSession, viewer: User, listener: Listener, batch: Sequence[Event]
) -> list[str]:
    """What this viewer may learn from a batch of events, as stream messages."""
    found = [e for e in batch if listener.ticket_id is None or e.ticket_id == listener.ticket_id]
    if not listener.staff:
        found = [e for e in found if not e.is_internal and e.ticket_id is not None]
        ids = {e.ticket_id for e in found if e.ticket_id is not None}
        visible = await tickets.visible_ids(session, viewer, ids)
        found = [e for e in found if e.ticket_id in visible]
    if not found:
        return []
    kinds: dict[str, list[str]] = {}
    for event in found:
        if listener.ticket_id is None:
            kind = "tickets"
        elif event.type.startswith(CONVERSATION_TYPES):
            kind = "conversation"
        else:
            kind = "ticket"
        kinds.setdefault(kind, []).append(event.type)
    last = found[-1].id
    return [sse(kind, {"types": types}, id=last) for kind, types in sorted(kinds.items())]


def presence_html(people: list[presence.Someone], viewer_id: int) -> str:
    """ "Ana is viewing · Bob is replying…", without the viewer."""
    others = [
        f"{escape(name)} is {'replying…' if mode == 'replying' else 'viewing'}"
        for user_id, name, mode in people
        if user_id != viewer_id
    ]
    return " · ".join(others)


async def stream(
    hub: Hub,
    read_sessionmaker: async_sessionmaker[AsyncSession],
    viewer: User,
    listener: Listener,
    *,
    last_event_id: int | None,
) -> AsyncIterator[str]:
    """The messages of one connection, resuming after `last_event_id` when given."""
    start = await hub.listen(listener)
    try:
        yield "retry: 1000\n\n"
        # Anything committed after what the page last saw is replayed first, as messages.
        cursor = max(start, last_event_id or 0)
        if last_event_id is not None:
            async with read_sessionmaker() as session:
                missed = await events.read_after(
                    session,
                    last_event_id,
                    limit=BATCH,
                    ticket_ids=[listener.ticket_id] if listener.ticket_id else None,
                    include_internal=listener.staff,
                )
                for message in await messages_for(session, viewer, listener, missed):
                    yield message
            cursor = max([cursor, *(event.id for event in missed)])
        yield sse("ready", {}, id=cursor)
        deadline = asyncio.get_running_loop().time() + STREAM_SECONDS
        while asyncio.get_running_loop().time() < deadline:
            try:
                kind, payload = await asyncio.wait_for(listener.inbox.get(), KEEPALIVE_SECONDS)
            except TimeoutError:
                yield ": keep-alive\n\n"
                continue
            if kind == "presence":
                yield sse("presence", presence_html(payload, listener.user_id))
                continue
            batch = [e for e in payload if e.id > cursor]
            if not batch:
                continue
            cursor = batch[-1].id
            async with read_sessionmaker() as session:
                for message in await messages_for(session, viewer, listener, batch):
                    yield message
    finally:
        hub.leave(listener)
