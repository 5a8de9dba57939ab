"""Comments: the side effects of API.md ("Comments"), validation, listing, editing, atomicity."""

import pytest
from sqlalchemy import func, select

from tests.factories import (
    API,
    STATUSES,
    footprint,
    iso,
    make_ticket,
    rows_of,
    ticket_in_status,
)
from ticketdesk.comments import service as comment_service
from ticketdesk.comments.models import TicketComment
from ticketdesk.tickets.models import TicketActivity, TicketStatusHistory


def post_comment(client, actor, ticket_id, body):
    headers = actor.headers if actor is not None else {}
    return client.post(f"{API}/tickets/{ticket_id}/comments", json=body, headers=headers)


def comment(client, actor, ticket_id, text="A reply.", **flags):
    response = post_comment(client, actor, ticket_id, {"comment": text, **flags})
    assert response.status_code == 201, response.text
    return response.json()


def ticket_as(client, actor, ticket_id):
    response = client.get(f"{API}/tickets/{ticket_id}", headers=actor.headers)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("role", ["agent", "super_admin"])
def test_first_public_staff_comment_is_the_first_response(client, people, fake_clock, role):
    customer, staff = people["individual"], people[role]
    tid = make_ticket(client, customer)["id"]

    fake_clock.advance(minutes=10)
    comment(client, customer, tid, "Any news?")
    assert ticket_as(client, staff, tid)["first_response_at"] is None

    fake_clock.advance(minutes=10)
    comment(client, staff, tid, "Looking (internal).", is_internal=True)
    assert ticket_as(client, staff, tid)["first_response_at"] is None

    fake_clock.advance(minutes=10)
    responded = fake_clock.current
    comment(client, staff, tid, "We are on it.")
    assert ticket_as(client, staff, tid)["first_response_at"] == iso(responded)
    assert ticket_as(client, customer, tid)["first_response_at"] == iso(responded)

    fake_clock.advance(minutes=10)
    comment(client, staff, tid, "Second reply.")
    comment(client, people["agent"], tid, "Another staff member.")
    comment(client, customer, tid, "Thanks.")
    assert ticket_as(client, staff, tid)["first_response_at"] == iso(responded)


def test_customer_comments_never_count_as_first_response(client, people):
    customer = people["individual"]
    tid = make_ticket(client, customer)["id"]
    for n in range(3):
        comment(client, customer, tid, f"Hello? ({n})")
    shown = ticket_as(client, people["agent"], tid)
    assert shown["first_response_at"] is None
    assert shown["status"] == "open"


# The status a comment moves a ticket to (API.md, "Comments"); a missing entry: no change.
EFFECTS = {
    "staff_public": {"open": "in_progress", "reopened": "in_progress"},
    "customer": {
        "waiting_on_customer": "in_progress",
        "resolved": "reopened",
        "closed": "reopened",
    },
    "internal_note": {},
    "resolution": {
        "open": "resolved",
        "in_progress": "resolved",
        "waiting_on_customer": "resolved",
        "reopened": "resolved",
    },
}
KIND_ACTOR = {
    "staff_public": ("agent", {}),
    "customer": ("individual", {}),
    "internal_note": ("agent", {"is_internal": True}),
    "resolution": ("agent", {"is_resolution": True}),
}


@pytest.mark.parametrize("kind", sorted(EFFECTS))
def test_status_side_effects_of_comments(client, people, fake_clock, kind):
    role, flags = KIND_ACTOR[kind]
    actor = people[role]
    for current in STATUSES:
        ticket = ticket_in_status(client, people, current)
        tid = ticket["id"]
        fake_clock.advance(hours=1)
        now = fake_clock.current
        before = footprint(client, tid)

        if kind == "resolution" and current == "closed":
            # closed -> resolved is not a transition: the comment is refused with it.
            response = post_comment(client, actor, tid, {"comment": "Fixed.", **flags})
            assert response.status_code == 409, response.text
            assert "reopened" in response.json()["detail"]
            assert footprint(client, tid) == before
            continue

        created = comment(client, actor, tid, f"{kind} on {current}", **flags)
        assert created["created_at"] == iso(now)
        after = ticket_as(client, people["agent"], tid)
        expected = EFFECTS[kind].get(current, current)
        assert after["status"] == expected, (kind, current)
        history = rows_of(client, TicketStatusHistory, tid)
        activity = [a.kind for a in rows_of(client, TicketActivity, tid)]
        if expected == current:
            assert len(history) == before["history"], (kind, current)
            assert activity[before["activity"] :] == ["comment_added"]
            continue
        assert len(history) == before["history"] + 1, (kind, current)
        row = history[-1]
        assert (row.from_status, row.to_status) == (current, expected)
        assert (row.changed_by_id, row.changed_at, row.change_note) == (actor.id, now, None)
        assert activity[before["activity"] :] == ["comment_added", "status_changed"]
        if expected == "reopened":
            assert (after["resolved_at"], after["closed_at"]) == (None, None)
        if expected == "resolved":
            assert after["resolved_at"] == iso(now)


def test_resolution_comment_on_a_resolved_ticket_keeps_it_resolved(client, people, fake_clock):
    tid = ticket_in_status(client, people, "resolved")["id"]
    resolved_at = ticket_as(client, people["agent"], tid)["resolved_at"]
    fake_clock.advance(hours=1)
    created = comment(client, people["agent"], tid, "Final words.", is_resolution=True)
    assert created["is_resolution"] is True
    shown = ticket_as(client, people["agent"], tid)
    assert (shown["status"], shown["resolved_at"]) == ("resolved", resolved_at)


def test_comment_response_shape(client, people, fake_clock):
    agent = people["agent"]
    tid = make_ticket(client, people["individual"])["id"]
    body = comment(client, agent, tid, "  Trimmed text.  ")
    assert body == {
        "id": body["id"],
        "ticket_id": tid,
        "user_id": agent.id,
        "author_name": "Agent 4",
        "comment": "Trimmed text.",
        "is_internal": False,
        "is_resolution": False,
        "created_at": iso(fake_clock.current),
        "updated_at": iso(fake_clock.current),
        "attachments": [],
        "merged_from_number": None,
    }
    assert isinstance(body["id"], int)


def test_longest_comment_is_accepted_and_a_trailing_slash_works(client, people):
    customer = people["individual"]
    tid = make_ticket(client, customer)["id"]
    body = comment(client, customer, tid, "x" * 20_000)
    assert len(body["comment"]) == 20_000
    url = f"{API}/tickets/{tid}/comments/"
    response = client.post(url, json={"comment": "y"}, headers=customer.headers)
    assert response.status_code == 201
    listed = client.get(url, headers=customer.headers, follow_redirects=False)
    assert [c["comment"][0] for c in listed.json()] == ["x", "y"]


BAD_COMMENTS = [
    ({"comment": ""}, "comment"),
    ({"comment": "   \n\t "}, "comment"),
    ({"comment": "x" * 20_001}, "comment"),
    ({"comment": None}, "comment"),
    ({"comment": 42}, "comment"),
    ({"comment": "nul \x00 byte"}, "comment"),
    ({}, "comment"),
    ({"comment": "hi", "is_internal": None}, "is_internal"),
    ({"comment": "hi", "is_resolution": None}, "is_resolution"),
    ({"comment": "hi", "is_internal": "sometimes"}, "is_internal"),
    ({"comment": "hi", "author_id": 1}, "author_id"),
    ({"comment": "hi", "status": "closed"}, "status"),
]


@pytest.mark.parametrize("role", ["individual", "agent"])
def test_invalid_comments_are_422_and_write_nothing(client, people, role):
    tid = make_ticket(client, people["individual"])["id"]
    before = footprint(client, tid)
    for body, field in BAD_COMMENTS:
        response = post_comment(client, people[role], tid, body)
        assert response.status_code == 422, (body, response.text)
        assert any(field in error["loc"] for error in response.json()["detail"]), body
    assert footprint(client, tid) == before


def test_a_customer_may_not_write_notes_or_resolutions(client, people):
    customer = people["individual"]
    for status in ("open", "resolved"):
        tid = ticket_in_status(client, people, status)["id"]
        before = footprint(client, tid)
        for flags in (
            {"is_internal": True},
            {"is_resolution": True},
            {"is_internal": True, "is_resolution": True},
        ):
            response = post_comment(client, customer, tid, {"comment": "sneaky", **flags})
            assert response.status_code == 403, (status, flags)
        assert footprint(client, tid) == before
    # Saying "false" out loud is fine.
    created = comment(client, customer, tid, "plain", is_internal=False, is_resolution=False)
    assert (created["is_internal"], created["is_resolution"]) == (False, False)


def test_an_internal_resolution_is_refused(client, people):
    """Beyond API.md: a resolution comment is public by nature, so both flags together -> 422."""
    tid = make_ticket(client, people["individual"])["id"]
    before = footprint(client, tid)
    body = {"comment": "x", "is_internal": True, "is_resolution": True}
    response = post_comment(client, people["agent"], tid, body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "is_internal"]
    assert footprint(client, tid) == before


def test_who_may_comment_at_all(client, people):
    tid = make_ticket(client, people["individual"])["id"]
    internal = make_ticket(
        client, people["agent"], is_internal=True, user_id=people["individual"].id
    )
    before = footprint(client, tid)
    assert post_comment(client, people["other"], tid, {"comment": "hi"}).status_code == 404
    assert post_comment(client, None, tid, {"comment": "hi"}).status_code == 401
    assert post_comment(client, people["agent"], 999_999, {"comment": "hi"}).status_code == 404
    assert footprint(client, tid) == before
    # A staff-only ticket filed on the customer's behalf does not exist for the customer.
    response = post_comment(client, people["individual"], internal["id"], {"comment": "hi"})
    assert response.status_code == 404
    assert (
        client.get(f"{API}/tickets/{tid}/comments", headers=people["other"].headers).status_code
        == 404
    )
    assert client.get(f"{API}/tickets/{tid}/comments").status_code == 401


def test_comments_are_listed_oldest_first_with_author_names(client, people, fake_clock):
    customer, agent, admin = people["individual"], people["agent"], people["super_admin"]
    ticket = make_ticket(client, customer)
    written = []
    for actor, text in [(customer, "first"), (agent, "second"), (admin, "third"), (customer, "4")]:
        fake_clock.advance(minutes=7)
        written.append((comment(client, actor, ticket["ticket_number"], text), actor))
    for viewer in (customer, agent, admin):
        response = client.get(f"{API}/tickets/{ticket['id']}/comments", headers=viewer.headers)
        assert response.status_code == 200
        listed = response.json()
        assert [c["comment"] for c in listed] == ["first", "second", "third", "4"]
        assert [c["author_name"] for c in listed] == [
            "Individual 1",
            "Agent 4",
            "Super_Admin 5",
            "Individual 1",
        ]
        assert listed == [body for body, _ in written]
    assert (
        client.get(
            f"{API}/tickets/{ticket['ticket_number']}/comments", headers=agent.headers
        ).json()
        == listed
    )


def edit(client, actor, ticket_id, comment_id, text):
    return client.patch(
        f"{API}/tickets/{ticket_id}/comments/{comment_id}",
        json={"comment": text},
        headers=actor.headers if actor is not None else {},
    )


def test_author_edits_and_the_old_text_stays_in_the_activity(client, people, fake_clock):
    customer = people["individual"]
    tid = make_ticket(client, customer)["id"]
    created = comment(client, customer, tid, "Version one")
    fake_clock.advance(hours=1)

    response = edit(client, customer, tid, created["id"], "  Version two  ")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["comment"] == "Version two"
    assert body["created_at"] == created["created_at"]
    assert body["updated_at"] == iso(fake_clock.current)
    listed = client.get(f"{API}/tickets/{tid}/comments", headers=customer.headers).json()
    assert [c["comment"] for c in listed] == ["Version two"]
    assert ticket_as(client, customer, tid)["updated_at"] == iso(fake_clock.current)
    activity = client.get(f"{API}/tickets/{tid}/activity", headers=people["agent"].headers).json()
    edits = [a for a in activity if a["kind"] == "comment_edited"]
    assert len(edits) == 1
    assert edits[0]["details"]["old"] == "Version one"
    assert edits[0]["details"]["new"] == "Version two"
    assert edits[0]["details"]["comment_id"] == created["id"]
    assert edits[0]["actor_id"] == customer.id
    assert edits[0]["created_at"] == iso(fake_clock.current)
    # Editing changes no status and leaves no history row.
    assert rows_of(client, TicketStatusHistory, tid) == []


def test_only_the_author_may_edit(client, people):
    customer, agent, admin = people["individual"], people["agent"], people["super_admin"]
    tid = make_ticket(client, customer)["id"]
    by_agent = comment(client, agent, tid, "agent wrote")
    by_customer = comment(client, customer, tid, "customer wrote")
    before = footprint(client, tid)
    refused = [
        (admin, by_agent, 403),
        (customer, by_agent, 403),
        (agent, by_customer, 403),
        (admin, by_customer, 403),
        (people["other"], by_customer, 404),
        (None, by_customer, 401),
    ]
    for actor, target, status_code in refused:
        response = edit(client, actor, tid, target["id"], "rewritten")
        assert response.status_code == status_code, (actor, target["comment"])
    assert footprint(client, tid) == before


def test_editing_a_comment_of_another_ticket_or_none_is_404(client, people):
    agent = people["agent"]
    first = make_ticket(client, people["individual"])["id"]
    second = make_ticket(client, people["individual"])["id"]
    on_second = comment(client, agent, second, "belongs to the second ticket")
    before = footprint(client, second)
    assert edit(client, agent, first, on_second["id"], "moved?").status_code == 404
    assert edit(client, agent, first, 999_999, "missing").status_code == 404
    assert edit(client, agent, first, 0, "zero").status_code == 422
    assert footprint(client, second) == before


def test_invalid_edits_are_422_and_write_nothing(client, people):
    customer = people["individual"]
    tid = make_ticket(client, customer)["id"]
    created = comment(client, customer, tid, "original")
    before = footprint(client, tid)
    url = f"{API}/tickets/{tid}/comments/{created['id']}"
    bodies = [
        {"comment": ""},
        {"comment": "  "},
        {"comment": "x" * 20_001},
        {"comment": None},
        {},
        {"comment": "ok", "is_internal": True},
    ]
    for body in bodies:
        response = client.patch(url, json=body, headers=customer.headers)
        assert response.status_code == 422, body
    assert footprint(client, tid) == before


def test_comment_and_status_change_are_written_together(client, people, fake_clock):
    customer = people["individual"]
    tid = ticket_in_status(client, people, "closed")["id"]
    fake_clock.advance(hours=2)
    created = comment(client, customer, tid, "It is broken again.")
    rows = rows_of(client, TicketComment, tid)
    history = rows_of(client, TicketStatusHistory, tid)
    assert [r.id for r in rows] == [created["id"]]
    assert (history[-1].to_status, history[-1].changed_at) == ("reopened", rows[0].created_at)
    assert ticket_as(client, customer, tid)["updated_at"] == created["created_at"]


def test_a_failing_status_change_takes_the_comment_with_it(client, people, monkeypatch):
    """The comment is already flushed when its status change fails: both roll back."""
    customer = people["individual"]
    tid = ticket_in_status(client, people, "resolved")["id"]
    before = footprint(client, tid)

    flushed = []

    async def failing_status_change(session, *args, **kwargs):
        await session.flush()
        query = select(func.count()).select_from(TicketComment)
        flushed.append(await session.scalar(query.where(TicketComment.ticket_id == tid)))
        raise RuntimeError("status change failed")

    monkeypatch.setattr(comment_service, "apply_status", failing_status_change)
    response = post_comment(client, customer, tid, {"comment": "Still broken."})
    assert response.status_code == 500
    assert "request id" in response.json()["detail"]
    assert flushed == [1]  # the comment row was written inside the transaction...
    assert footprint(client, tid) == before  # ...and rolled back with the failed change


def test_a_lone_surrogate_is_422_not_500(client, people):
    customer = people["individual"]
    tid = make_ticket(client, customer)["id"]
    before = footprint(client, tid)
    response = client.post(
        f"{API}/tickets/{tid}/comments",
        content=b'{"comment": "broken \\ud800 text"}',
        headers={**customer.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "comment"]
    assert footprint(client, tid) == before
