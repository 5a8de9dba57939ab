"""GET /events: every event exactly once and in order, whatever the commit order."""

import asyncio

import pytest

from tests.conftest import BACKEND
from tests.factories import API, make_ticket, post_comment, run_jobs
from ticketdesk import clock, db, events
from ticketdesk.auth.models import User
from ticketdesk.comments import service as comments
from ticketdesk.comments.schemas import CommentCreate
from ticketdesk.events import service as event_log
from ticketdesk.tickets import service as tickets
from ticketdesk.tickets.schemas import TicketCreate


def feed(client, people, **params):
    response = client.get(f"{API}/events", params=params, headers=people["super_admin"].headers)
    assert response.status_code == 200, response.text
    return response.json()


def follow(client, people, cursor=None, **params):
    """Reads the feed to its end as a client would; returns (events, last cursor)."""
    seen = []
    while True:
        page = feed(client, people, **({"after": cursor} if cursor else {}), **params)
        seen.extend(page["events"])
        if page["next_cursor"] == cursor or not page["events"]:
            return seen, page["next_cursor"]
        cursor = page["next_cursor"]


@pytest.mark.parametrize("role", ["anonymous", "individual", "enterprise", "sub_user", "agent"])
def test_only_the_super_admin_reads_the_feed(client, people, role):
    headers = {} if role == "anonymous" else people[role].headers
    response = client.get(f"{API}/events", headers=headers)
    assert response.status_code == (401 if role == "anonymous" else 403)


def test_the_feed_pages_in_order_and_the_cursor_stays_when_nothing_is_new(client, people):
    ticket = make_ticket(client, people["individual"])
    for n in range(4):
        post_comment(client, people["agent"], ticket["id"], f"reply {n}")
    first = feed(client, people, limit=2)
    # A first staff reply puts the open ticket in progress: the comment, then the status.
    assert [e["type"] for e in first["events"]] == ["ticket.created", "comment.created"]
    seen, cursor = follow(client, people, first["next_cursor"], limit=2)
    assert [e["type"] for e in seen] == ["ticket.status_changed"] + ["comment.created"] * 3
    ids = [e["id"] for e in first["events"] + seen]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    again = feed(client, people, after=cursor)
    assert again == {"events": [], "next_cursor": cursor}
    event = seen[0]
    assert set(event) == {"id", "type", "occurred_at", "ticket_id", "actor_id", "data"}
    assert event["ticket_id"] == ticket["id"] and event["occurred_at"].endswith("Z")


def test_type_filter(client, people):
    ticket = make_ticket(client, people["individual"])
    post_comment(client, people["agent"], ticket["id"], "public")
    post_comment(client, people["agent"], ticket["id"], "private", is_internal=True)
    page = feed(client, people, type=["note.created", "ticket.created"])
    assert [e["type"] for e in page["events"]] == ["ticket.created", "note.created"]


@pytest.mark.parametrize("cursor", ["abc", "-1", "1.5", "9" * 40])
def test_a_cursor_that_is_not_ours_is_422(client, people, cursor):
    response = client.get(
        f"{API}/events", params={"after": cursor}, headers=people["super_admin"].headers
    )
    assert response.status_code == 422


def test_events_past_retention_are_pruned_and_an_old_cursor_is_gone(client, people, fake_clock):
    make_ticket(client, people["individual"])
    old_cursor = feed(client, people)["next_cursor"]
    start_cursor = "0"
    fake_clock.advance(days=31)
    newer = make_ticket(client, people["individual"])
    fake_clock.advance(hours=2)  # a new hour: the prune job's slot comes round
    run_jobs(client)
    page = feed(client, people)
    assert [e["ticket_id"] for e in page["events"]] == [newer["id"]]
    assert (
        client.get(
            f"{API}/events", params={"after": start_cursor}, headers=people["super_admin"].headers
        ).status_code
        == 410
    )
    # A client that had read everything before the prune goes on without a gap.
    assert [e["ticket_id"] for e in feed(client, people, after=old_cursor)["events"]] == [
        newer["id"]
    ]


async def _comment(sessionmaker, actor_id, ticket_id, text):
    async with db.session_scope(sessionmaker) as session:
        actor = await session.get(User, actor_id)
        await comments.add_comment(session, actor, str(ticket_id), CommentCreate(comment=text))


@pytest.mark.skipif(BACKEND != "postgresql", reason="SQLite writers are serial: none can overtake")
def test_a_transaction_that_commits_late_is_not_skipped(client, people):
    """One transaction holds its event uncommitted while later ones commit and are read."""
    agent = people["agent"]
    slow_tid, tid = (make_ticket(client, people["individual"])["id"] for _ in range(2))
    post_comment(client, agent, tid, "first reply")  # from here on comments change no status
    _, cursor = follow(client, people)
    maker = client.app.state.sessionmaker

    async def scenario():
        slow = maker()
        actor = await slow.get(User, agent.id)
        await comments.add_comment(slow, actor, str(slow_tid), CommentCreate(comment="slow"))
        # Later transactions (on another ticket) commit while the slow one is still open.
        for n in range(3):
            await _comment(maker, agent.id, tid, f"fast {n}")
        return slow

    slow = client.portal.call(scenario)
    early, cursor = follow(client, people, cursor)
    client.portal.call(slow.commit)
    client.portal.call(slow.close)
    late, cursor = follow(client, people, cursor)
    ids = [e["id"] for e in early + late]
    assert [e["ticket_id"] for e in early] == [tid] * 3
    # The slow transaction's comment and the status change it brought, after the fast ones.
    assert [e["ticket_id"] for e in late] == [slow_tid] * 2
    assert ids == sorted(ids) and len(set(ids)) == 5


def test_concurrent_writers_and_a_follower_see_every_event_once(client, people, database_url):
    """Writers on engines of their own (as separate processes have) while a reader follows."""
    agent = people["agent"]
    tids = [make_ticket(client, people["individual"])["id"] for _ in range(4)]
    _, start = follow(client, people)
    per_writer = 12

    async def scenario():
        engines = [db.create_engine(database_url) for _ in range(4)]
        reader_engine = db.create_engine(database_url)
        makers = [db.make_sessionmaker(engine) for engine in engines]
        reader = db.make_read_sessionmaker(reader_engine)
        seen: list[int] = []
        done = asyncio.Event()

        async def write(maker, tid):
            for n in range(per_writer):
                await _comment(maker, agent.id, tid, f"comment {n}")

        async def read():
            cursor = int(start)
            while True:
                finished = done.is_set()
                async with reader() as session:
                    batch = await event_log.read_after(session, cursor, limit=7)
                seen.extend(event.id for event in batch)
                if batch:
                    cursor = batch[-1].id
                elif finished:
                    return
                await asyncio.sleep(0)

        follower = asyncio.create_task(read())
        await asyncio.gather(*(write(m, t) for m, t in zip(makers, tids, strict=True)))
        done.set()
        await follower
        for engine in [*engines, reader_engine]:
            await engine.dispose()
        return seen

    seen = client.portal.call(scenario)
    # Each ticket: the comments, and the status change of the first staff reply.
    assert len(seen) == len(set(seen)) == 4 * (per_writer + 1)
    assert seen == sorted(seen)
    everything, _ = follow(client, people, start)
    assert [e["id"] for e in everything] == seen


def test_record_outside_a_request_runs_subscribers_in_the_transaction(client, people):
    """A subscriber's writes share the event's fate: a rollback leaves neither."""
    calls = []

    async def subscriber(session, event):
        calls.append((event.type, event.ticket.subject))

    events.subscribe(subscriber)
    try:
        maker = client.app.state.sessionmaker

        async def create_then_fail():
            async with maker() as session:
                actor = await session.get(User, people["agent"].id)
                data = TicketCreate(subject="Rolled back", description="never committed")
                await tickets.create_ticket(session, actor, data)
                await session.rollback()

        client.portal.call(create_then_fail)
    finally:
        event_log._subscribers.remove(subscriber)
    assert calls == [("ticket.created", "Rolled back")]
    assert feed(client, people)["events"] == []


def test_now_is_the_injected_clock(client, people, fake_clock):
    make_ticket(client, people["individual"])
    [event] = feed(client, people)["events"]
    assert event["occurred_at"] == fake_clock.current.isoformat().replace("+00:00", "Z")
    assert clock.now() == fake_clock.current
