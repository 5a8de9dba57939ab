"""Internal notes: staff see them, customers learn nothing of them (not even by counts or time)."""

from datetime import timedelta

from tests.factories import API, STATUSES, footprint, iso, make_ticket, rows_of, ticket_in_status
from ticketdesk.tickets.models import TicketStatusHistory


def note(client, actor, ticket_id, text="Internal: check the logs."):
    response = client.post(
        f"{API}/tickets/{ticket_id}/comments",
        json={"comment": text, "is_internal": True},
        headers=actor.headers,
    )
    assert response.status_code == 201, response.text
    assert response.json()["is_internal"] is True
    return response.json()


def reply(client, actor, ticket_id, text):
    response = client.post(
        f"{API}/tickets/{ticket_id}/comments", json={"comment": text}, headers=actor.headers
    )
    assert response.status_code == 201, response.text
    return response.json()


def get(client, actor, path, **params):
    response = client.get(f"{API}{path}", headers=actor.headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_staff_see_notes_customers_do_not(client, people):
    customer, agent, admin = people["individual"], people["agent"], people["super_admin"]
    tid = make_ticket(client, customer)["id"]
    reply(client, customer, tid, "public 1")
    note(client, agent, tid, "note by the agent")
    reply(client, agent, tid, "public 2")
    note(client, admin, tid, "note by the admin")

    for staff in (agent, admin):
        listed = get(client, staff, f"/tickets/{tid}/comments")
        assert [c["comment"] for c in listed] == [
            "public 1",
            "note by the agent",
            "public 2",
            "note by the admin",
        ]
    seen = get(client, customer, f"/tickets/{tid}/comments")
    assert [c["comment"] for c in seen] == ["public 1", "public 2"]
    assert all(c["is_internal"] is False for c in seen)


def test_comments_count_counts_public_comments_for_customers(client, people):
    customer, agent = people["individual"], people["agent"]
    tid = make_ticket(client, customer)["id"]
    reply(client, customer, tid, "public")
    note(client, agent, tid)
    note(client, agent, tid)
    reply(client, agent, tid, "public too")

    assert get(client, customer, f"/tickets/{tid}")["comments_count"] == 2
    assert [t["comments_count"] for t in get(client, customer, "/tickets/")] == [2]
    assert [t["comments_count"] for t in get(client, customer, "/tickets/my")] == [2]
    assert get(client, agent, f"/tickets/{tid}")["comments_count"] == 4
    assert [t["comments_count"] for t in get(client, agent, "/tickets/")] == [4]


def test_an_internal_note_leaves_the_ticket_untouched(client, people, fake_clock):
    """No updated_at (a customer could read it as a sign), no first response, no status."""
    customer, agent = people["individual"], people["agent"]
    for status in STATUSES:
        tid = ticket_in_status(client, people, status)["id"]
        before = footprint(client, tid)
        seen_before = get(client, customer, f"/tickets/{tid}")
        fake_clock.advance(hours=1)

        created = note(client, agent, tid)

        assert created["created_at"] == iso(fake_clock.current)
        after = footprint(client, tid)
        assert after["comments_count"] == before["comments_count"] + 1
        assert after["public_comments_count"] == before["public_comments_count"]
        for unchanged in ("status", "updated_at", "first_response_at", "history"):
            assert after[unchanged] == before[unchanged], (status, unchanged)
        assert get(client, customer, f"/tickets/{tid}") == seen_before, status


def test_internal_notes_do_not_reorder_the_customers_list(client, people, fake_clock):
    customer, agent = people["individual"], people["agent"]
    older = make_ticket(client, customer)["id"]
    fake_clock.advance(minutes=5)
    newer = make_ticket(client, customer)["id"]
    fake_clock.advance(minutes=5)
    note(client, agent, older)
    listed = get(client, customer, "/tickets/", sort="-updated_at")
    assert [t["id"] for t in listed] == [newer, older]


def test_a_note_is_no_first_response_so_the_sla_still_breaches(client, people, fake_clock):
    customer, agent = people["individual"], people["agent"]
    tid = make_ticket(client, customer)["id"]  # medium: first response due in 240 minutes
    note(client, agent, tid)
    fake_clock.advance(minutes=241)
    assert get(client, agent, f"/tickets/{tid}")["sla_first_response_breached"] is True
    listed = get(client, agent, "/tickets/", sla="breached")
    assert [t["id"] for t in listed] == [tid]


def test_customer_cannot_reach_a_note_by_id(client, people):
    customer, agent = people["individual"], people["agent"]
    tid = make_ticket(client, customer)["id"]
    hidden = note(client, agent, tid, "secret")
    before = footprint(client, tid)
    for body in ({"comment": "overwrite"}, {"comment": "x"}):
        response = client.patch(
            f"{API}/tickets/{tid}/comments/{hidden['id']}", json=body, headers=customer.headers
        )
        # 404, not 403: a 403 would tell the customer that a note with this id exists.
        assert response.status_code == 404
    assert footprint(client, tid) == before


def test_author_edits_a_note_without_touching_the_ticket(client, people, fake_clock):
    customer, agent = people["individual"], people["agent"]
    tid = make_ticket(client, customer)["id"]
    created = note(client, agent, tid, "first draft")
    updated_at = get(client, customer, f"/tickets/{tid}")["updated_at"]
    fake_clock.advance(hours=1)
    response = client.patch(
        f"{API}/tickets/{tid}/comments/{created['id']}",
        json={"comment": "second draft"},
        headers=agent.headers,
    )
    assert response.status_code == 200, response.text
    assert (response.json()["comment"], response.json()["is_internal"]) == ("second draft", True)
    assert get(client, customer, f"/tickets/{tid}")["updated_at"] == updated_at
    edits = [
        a for a in get(client, agent, f"/tickets/{tid}/activity") if a["kind"] == "comment_edited"
    ]
    assert [(e["details"]["old"], e["details"]["new"]) for e in edits] == [
        ("first draft", "second draft")
    ]
    assert edits[0]["details"]["is_internal"] is True


def test_trails_with_note_texts_are_closed_to_customers(client, people):
    customer, agent = people["individual"], people["agent"]
    tid = make_ticket(client, customer)["id"]
    note(client, agent, tid, "customer seems confused")
    for path in ("history", "activity"):
        url = f"{API}/tickets/{tid}/{path}"
        assert client.get(url, headers=customer.headers).status_code == 403
        assert client.get(url, headers=people["other"].headers).status_code == 404
        assert client.get(url, headers=agent.headers).status_code == 200
    activity = get(client, agent, f"/tickets/{tid}/activity")
    added = [a for a in activity if a["kind"] == "comment_added"]
    assert added[0]["details"] == {"text": "customer seems confused", "is_internal": True}


def test_a_note_on_a_waiting_ticket_does_not_resume_the_sla_clock(client, people, fake_clock):
    customer, agent = people["individual"], people["agent"]
    created = fake_clock.current
    tid = ticket_in_status(client, people, "waiting_on_customer")["id"]
    due = get(client, agent, f"/tickets/{tid}")["resolution_due_at"]
    fake_clock.advance(hours=2)
    note(client, agent, tid)
    shown = get(client, agent, f"/tickets/{tid}")
    assert (shown["status"], shown["resolution_due_at"]) == ("waiting_on_customer", due)
    assert rows_of(client, TicketStatusHistory, tid)[-1].to_status == "waiting_on_customer"
    fake_clock.advance(hours=1)
    reply(client, customer, tid, "here you go")
    resumed = get(client, agent, f"/tickets/{tid}")["resolution_due_at"]
    # Medium: 24 h to resolve, plus the 3 h the ticket waited (the note notwithstanding).
    assert resumed == iso(created + timedelta(hours=24 + 3))
