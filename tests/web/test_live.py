"""Live updates: what each viewer's stream carries (never an internal note or a ticket they
may not see), resuming from Last-Event-ID, and the stream against a real server."""

import json
from typing import Any

from fastapi.testclient import TestClient

from tests.factories import People, in_db, make_ticket, post_comment
from ticketdesk.auth.models import User
from ticketdesk.events import service as events
from ticketdesk.web import live


def read_events(client: TestClient, after: int = 0) -> list[Any]:
    async def _read(session: Any) -> list[Any]:
        return await events.read_after(session, after, limit=1000)

    return in_db(client, _read)  # type: ignore[no-any-return]


def messages(client: TestClient, user_id: int, *, staff: bool, ticket_id: int | None) -> list[str]:
    batch = read_events(client)

    async def _translate(session: Any) -> list[str]:
        viewer = await session.get(User, user_id)
        listener = live.Listener(user_id=user_id, staff=staff, ticket_id=ticket_id)
        return await live.messages_for(session, viewer, listener, batch)

    return in_db(client, _translate)  # type: ignore[no-any-return]


def kinds(found: list[str]) -> list[str]:
    return [m.split("\n", 1)[0].removeprefix("event: ") for m in found]


def test_a_customers_stream_skips_internal_notes_and_tickets_not_theirs(
    client: TestClient, people: People
) -> None:
    mine = make_ticket(client, people["individual"])
    make_ticket(client, people["other"], subject="Someone else's")
    make_ticket(
        client, people["agent"], subject="Staff only", user_id=people["individual"].id,
        is_internal=True,
    )  # fmt: skip
    post_comment(client, people["agent"], mine["id"], "SECRET", is_internal=True)
    customer = people["individual"].id
    on_ticket = messages(client, customer, staff=False, ticket_id=mine["id"])
    assert kinds(on_ticket) == ["ticket"]  # its creation; the internal note is not there
    assert "note." not in "".join(on_ticket)
    post_comment(client, people["agent"], mine["id"], "Public answer")
    on_ticket = messages(client, customer, staff=False, ticket_id=mine["id"])
    assert kinds(on_ticket) == ["conversation", "ticket"]
    assert "SECRET" not in "".join(on_ticket) and "note." not in "".join(on_ticket)
    on_list = messages(client, customer, staff=False, ticket_id=None)
    types = json.loads(on_list[0].split("data: ", 1)[1].split("\n", 1)[0])["types"]
    assert "note.created" not in types
    assert types.count("ticket.created") == 1  # only their own, visible ticket
    agent = messages(client, people["agent"].id, staff=True, ticket_id=mine["id"])
    assert kinds(agent) == ["conversation", "ticket"]
    assert "note.created" in "".join(agent)


def test_presence_text_names_the_others_escaped() -> None:
    people = [(1, "Ana <b>", "viewing"), (2, "Lee", "replying"), (3, "Me", "viewing")]
    assert live.presence_html(people, 3) == "Ana &lt;b&gt; is viewing · Lee is replying…"
