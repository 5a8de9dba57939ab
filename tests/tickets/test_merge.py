"""POST /tickets/{id}/merge: non-destructive, traced on both tickets, no chains or cycles even
under concurrency, and replies to the merged ticket routed to the one it went into."""

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.factories import (
    API,
    count_rows,
    fetch_ticket,
    in_db,
    make_ticket,
    make_user,
    post_comment,
    set_status,
    ticket_row,
)
from ticketdesk import db
from ticketdesk.auth.models import User
from ticketdesk.comments.models import TicketComment
from ticketdesk.errors import Conflict
from ticketdesk.events.models import Event
from ticketdesk.tickets import merge
from ticketdesk.tickets.models import Ticket
from ticketdesk.tickets.schemas import MergeIn


def merge_(client, actor, source, into, **extra):
    return client.post(
        f"{API}/tickets/{source}/merge", json={"into": into, **extra}, headers=actor.headers
    )


def rows_where(client, model, *where):
    from sqlalchemy import select

    async def _rows(session):
        return list(await session.scalars(select(model).where(*where).order_by(model.id)))

    return in_db(client, _rows)


def comments(client, actor, ticket_id):
    response = client.get(f"{API}/tickets/{ticket_id}/comments", headers=actor.headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_merge_closes_the_source_and_shows_its_comments_in_the_target(client, people, fake_clock):
    agent, customer = people["agent"], people["individual"]
    target = make_ticket(client, customer, subject="Report fails")
    source = make_ticket(client, customer, subject="Report fails again")
    post_comment(client, customer, source["id"], "Also on Tuesday.")
    post_comment(client, agent, source["id"], "Noted internally.", is_internal=True)
    post_comment(client, agent, target["id"], "Looking into it.")
    fake_clock.advance(minutes=5)

    response = merge_(client, agent, source["id"], target["ticket_number"], note="Duplicate")
    assert response.status_code == 200, response.text
    merged = response.json()
    assert merged["status"] == "closed"
    assert merged["is_merged"] is True
    assert (merged["merged_into_id"], merged["merged_into_number"]) == (
        target["id"],
        target["ticket_number"],
    )
    after = fetch_ticket(client, agent, target["id"])
    assert after["status"] == "in_progress"
    assert after["first_response_due_at"] == target["first_response_due_at"]
    assert after["resolution_due_at"] == target["resolution_due_at"]
    assert after["comments_count"] == 3

    staff_view = comments(client, agent, target["id"])
    assert [(c["comment"], c["merged_from_number"]) for c in staff_view] == [
        ("Also on Tuesday.", source["ticket_number"]),
        ("Noted internally.", source["ticket_number"]),
        ("Looking into it.", None),
    ]
    customer_view = comments(client, customer, target["id"])
    assert [c["comment"] for c in customer_view] == ["Also on Tuesday.", "Looking into it."]
    # Nothing moved: the source keeps its rows.
    assert count_rows(client, TicketComment, TicketComment.ticket_id == source["id"]) == 2

    source_history = client.get(f"{API}/tickets/{source['id']}/history", headers=agent.headers)
    assert [(h["from_status"], h["to_status"], h["change_note"]) for h in source_history.json()][
        -1
    ] == ("open", "closed", "Duplicate")
    target_history = client.get(f"{API}/tickets/{target['id']}/history", headers=agent.headers)
    assert target_history.json()[-1]["change_note"] == (
        f"{source['ticket_number']} merged into this ticket"
    )
    source_activity = client.get(f"{API}/tickets/{source['id']}/activity", headers=agent.headers)
    assert source_activity.json()[-1]["kind"] == "merged_into"
    assert source_activity.json()[-1]["details"]["ticket_number"] == target["ticket_number"]
    target_activity = client.get(f"{API}/tickets/{target['id']}/activity", headers=agent.headers)
    assert target_activity.json()[-1]["kind"] == "merged_from"
    assert target_activity.json()[-1]["details"]["ticket_id"] == source["id"]
    merged_events = rows_where(client, Event, Event.type == "ticket.merged")
    assert [(e.ticket_id, e.actor_id, e.data) for e in merged_events] == [
        (
            source["id"],
            agent.id,
            {
                "merged_into_id": target["id"],
                "merged_into_number": target["ticket_number"],
                "note": "Duplicate",
            },
        )
    ]


def test_a_closed_ticket_can_be_merged(client, people):
    agent, customer = people["agent"], people["individual"]
    target, source = make_ticket(client, customer), make_ticket(client, customer)
    set_status(client, agent, source["id"], "closed")
    assert merge_(client, agent, source["id"], target["id"]).status_code == 200
    history = client.get(f"{API}/tickets/{source['id']}/history", headers=agent.headers).json()
    assert history[-1]["to_status"] is None
    assert history[-1]["change_note"] == f"Merged into {target['ticket_number']}"


def test_refusals(client, people):
    agent, customer = people["agent"], people["individual"]
    a, b, c, d = (make_ticket(client, customer)["id"] for _ in range(4))
    assert merge_(client, agent, a, a).status_code == 409
    number_of_a = fetch_ticket(client, agent, a)["ticket_number"]
    assert merge_(client, agent, a, number_of_a).status_code == 409
    assert merge_(client, agent, a, b).status_code == 200
    for source, into in ((a, c), (c, a), (b, c)):
        response = merge_(client, agent, source, into)
        assert response.status_code == 409, (source, into, response.text)
        assert isinstance(response.json()["detail"], str)
    assert merge_(client, agent, c, 999999).status_code == 404
    assert merge_(client, agent, c, "TKT-19990101-0001").status_code == 404
    assert merge_(client, agent, 999999, c).status_code == 404
    for body in ({}, {"into": None}, {"into": True}, {"into": d, "extra": 1}, {"into": ""}):
        response = client.post(f"{API}/tickets/{c}/merge", json=body, headers=agent.headers)
        assert response.status_code == 422, body
    assert ticket_row(client, c).merged_into_id is None
    assert ticket_row(client, d).status == "open"


def test_only_staff_merge(client, people):
    customer, other = people["individual"], people["other"]
    own, target = make_ticket(client, customer), make_ticket(client, customer)
    theirs = make_ticket(client, other)
    assert merge_(client, customer, own["id"], target["id"]).status_code == 403
    assert merge_(client, customer, theirs["id"], own["id"]).status_code == 404
    assert client.post(f"{API}/tickets/{own['id']}/merge", json={"into": 1}).status_code == 401
    assert ticket_row(client, own["id"]).merged_into_id is None
    assert merge_(client, people["super_admin"], own["id"], target["id"]).status_code == 200


def test_customer_sees_merged_but_not_a_target_they_may_not_see(client, people):
    agent, customer, other = people["agent"], people["individual"], people["other"]
    source, target = make_ticket(client, customer), make_ticket(client, other)
    assert merge_(client, agent, source["id"], target["id"]).status_code == 200
    for shown in (
        fetch_ticket(client, customer, source["id"]),
        client.get(f"{API}/tickets/", headers=customer.headers).json()[0],
    ):
        assert shown["status"] == "closed" and shown["is_merged"] is True
        assert shown["merged_into_id"] is None and shown["merged_into_number"] is None
    assert (
        target["ticket_number"]
        not in client.get(f"{API}/tickets/{source['id']}", headers=customer.headers).text
    )
    # Their reply cannot go to a ticket they may not see: 409, and nothing is written.
    reply = client.post(
        f"{API}/tickets/{source['id']}/comments",
        json={"comment": "Any news?"},
        headers=customer.headers,
    )
    assert reply.status_code == 409
    assert "new ticket" in reply.json()["detail"]
    assert count_rows(client, TicketComment) == 0
    # Nothing reopens a merged ticket.
    reopen = client.post(
        f"{API}/tickets/{source['id']}/status",
        json={"status": "reopened"},
        headers=customer.headers,
    )
    assert reopen.status_code == 409
    assert ticket_row(client, source["id"]).status == "closed"


def test_replies_to_a_merged_ticket_go_to_the_target(client, people):
    agent, customer = people["agent"], people["individual"]
    source, target = make_ticket(client, customer), make_ticket(client, customer)
    assert merge_(client, agent, source["id"], target["id"]).status_code == 200
    shown = fetch_ticket(client, customer, source["id"])
    assert shown["merged_into_number"] == target["ticket_number"]
    reply = post_comment(client, customer, source["id"], "Still broken.")
    assert reply["ticket_id"] == target["id"]
    note = post_comment(client, agent, source["id"], "n", is_internal=True)
    assert note["ticket_id"] == target["id"]
    assert ticket_row(client, source["id"]).status == "closed"
    assert [c["comment"] for c in comments(client, customer, target["id"])] == ["Still broken."]


def test_resolve_target_for_the_mail_channel(client, people):
    """Mail replies use merge.resolve_target: the target when the sender may see it."""
    agent, customer, other = people["agent"], people["individual"], people["other"]
    source, target = make_ticket(client, customer), make_ticket(client, customer)
    lone = make_ticket(client, customer)
    elsewhere = make_ticket(client, other)
    assert merge_(client, agent, source["id"], target["id"]).status_code == 200
    assert merge_(client, agent, lone["id"], elsewhere["id"]).status_code == 200

    async def _resolve(session):
        actor = await session.get(User, customer.id)
        found = []
        for ticket in (source, lone, target):
            row = await session.get(Ticket, ticket["id"])
            resolved = await merge.resolve_target(session, actor, row)
            found.append(resolved.id if resolved else None)
        return found

    sessionmaker = client.app.state.sessionmaker

    async def _run():
        async with db.session_scope(sessionmaker) as session:
            return await _resolve(session)

    assert client.portal.call(_run) == [target["id"], None, target["id"]]


def test_concurrent_opposite_merges_cannot_both_pass(client, people):
    """A→B holds both row locks; B→A started meanwhile waits for them, then sees the merge
    and is refused. On SQLite the second transaction waits for the writer lock instead."""
    agent, customer = people["agent"], people["individual"]
    a, b = make_ticket(client, customer)["id"], make_ticket(client, customer)["id"]
    sessionmaker = client.app.state.sessionmaker

    async def _scenario():
        async with sessionmaker() as first:
            actor = await first.get(User, agent.id)
            await merge.merge_ticket(first, actor, str(a), MergeIn(into=b))

            async def _second():
                async with db.session_scope(sessionmaker) as second:
                    other = await second.get(User, agent.id)
                    await merge.merge_ticket(second, other, str(b), MergeIn(into=a))

            task = asyncio.create_task(_second())
            await asyncio.sleep(0.5)
            waited = not task.done()
            await first.commit()
        outcome = await asyncio.gather(task, return_exceptions=True)
        return waited, outcome[0]

    waited, outcome = client.portal.call(_scenario)
    assert waited, "the second merge did not wait for the first one's locks"
    assert isinstance(outcome, Conflict), outcome
    assert ticket_row(client, a).merged_into_id == b
    assert ticket_row(client, b).merged_into_id is None


def test_many_opposite_merges_over_http(client, people):
    """Pairs of A→B and B→A sent at the same time: exactly one of each pair wins, no cycle."""
    agent, customer = people["agent"], people["individual"]
    pairs = [
        (make_ticket(client, customer)["id"], make_ticket(client, customer)["id"]) for _ in range(8)
    ]
    jobs = [(a, b) for a, b in pairs] + [(b, a) for a, b in pairs]
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        codes = list(pool.map(lambda job: merge_(client, agent, *job).status_code, jobs))
    assert sorted(set(codes)) == [200, 409] or set(codes) == {200, 409}
    for index, (a, b) in enumerate(pairs):
        forward, backward = codes[index], codes[index + len(pairs)]
        assert sorted((forward, backward)) == [200, 409], (a, b)
        merged = [ticket_row(client, t).merged_into_id for t in (a, b)]
        assert merged in ([b, None], [None, a])


@pytest.mark.parametrize("role", ["agent", "super_admin"])
def test_staff_may_merge_tickets_of_different_customers(client, people, role):
    first = make_ticket(client, make_user(client, "individual"))
    second = make_ticket(client, make_user(client, "enterprise"))
    assert merge_(client, people[role], first["id"], second["id"]).status_code == 200
