"""POST /tickets/bulk: super_admin only, all or nothing, each ticket with its own trail."""

import re

import pytest
from sqlalchemy import func, select, update

from tests.factories import (
    API,
    footprint,
    in_db,
    insert_tickets,
    make_ticket,
    make_user,
    rows_of,
    ticket_in_status,
)
from ticketdesk.auth.models import User
from ticketdesk.tickets.models import Ticket, TicketActivity, TicketStatusHistory


def post_bulk(client, actor, body):
    headers = actor.headers if actor is not None else {}
    return client.post(f"{API}/tickets/bulk", json=body, headers=headers)


def bulk(client, actor, body):
    response = post_bulk(client, actor, body)
    assert response.status_code == 200, response.text
    return response.json()


def show(client, actor, ticket_id):
    return client.get(f"{API}/tickets/{ticket_id}", headers=actor.headers).json()


def three_tickets(client, people, **fields):
    return [make_ticket(client, people["individual"], **fields)["id"] for _ in range(3)]


def test_bulk_assign(client, people, fake_clock):
    admin, agent = people["super_admin"], people["agent"]
    ids = three_tickets(client, people)
    assign_ticket = ticket_in_status(client, people, "waiting_on_customer")["id"]
    ids.append(assign_ticket)

    result = bulk(
        client,
        admin,
        {"ticket_ids": ids, "action": "ASSIGN", "assigned_to_id": agent.id, "note": "triage"},
    )

    assert result == {"action": "assign", "ticket_ids": sorted(ids), "changed": 4}
    for tid in ids:
        shown = show(client, admin, tid)
        assert shown["assigned_to_id"] == agent.id
        history = rows_of(client, TicketStatusHistory, tid)
        row = history[-1]
        assert (row.from_assigned_to_id, row.to_assigned_to_id) == (None, agent.id)
        assert (row.changed_by_id, row.change_note, row.changed_at) == (
            admin.id,
            "triage",
            fake_clock.current,
        )
        if tid == assign_ticket:
            assert shown["status"] == "waiting_on_customer"
            assert len(history) == 2
        else:  # open -> in_progress, in the same row
            assert shown["status"] == "in_progress"
            assert (row.from_status, row.to_status) == ("open", "in_progress")
            assert len(history) == 1

    # Assigning the same person again changes nothing; null unassigns everyone.
    again = bulk(client, admin, {"ticket_ids": ids, "action": "assign", "assigned_to_id": agent.id})
    assert again["changed"] == 0
    none = bulk(client, admin, {"ticket_ids": ids, "action": "assign", "assigned_to_id": None})
    assert none["changed"] == 4
    assert all(show(client, admin, tid)["assigned_to_id"] is None for tid in ids)


def test_bulk_status(client, people, fake_clock):
    admin = people["super_admin"]
    ids = three_tickets(client, people)
    ids.append(ticket_in_status(client, people, "reopened")["id"])
    fake_clock.advance(hours=1)

    result = bulk(
        client, admin, {"ticket_ids": ids, "action": "status", "status": "Resolved", "note": "fix"}
    )

    assert result == {"action": "status", "ticket_ids": sorted(ids), "changed": 4}
    for tid in ids:
        shown = show(client, admin, tid)
        assert (shown["status"], shown["resolved_at"]) == ("resolved", "2025-01-06T11:00:00Z")
        row = rows_of(client, TicketStatusHistory, tid)[-1]
        assert row.to_status == "resolved"
        assert (row.changed_by_id, row.change_note) == (admin.id, "fix")
    assert rows_of(client, TicketStatusHistory, ids[-1])[-1].from_status == "reopened"
    assert rows_of(client, TicketStatusHistory, ids[0])[-1].from_status == "open"


def test_bulk_update(client, people, fake_clock):
    admin = people["super_admin"]
    ids = three_tickets(client, people, tags="keep, old", priority="low")
    fake_clock.advance(minutes=3)

    result = bulk(
        client,
        admin,
        {
            "ticket_ids": ids,
            "action": "update",
            "priority": "URGENT",
            "category": "billing",
            "add_tags": "New, vip",
            "remove_tags": ["OLD"],
        },
    )

    assert result == {"action": "update", "ticket_ids": sorted(ids), "changed": 3}
    for tid in ids:
        shown = show(client, admin, tid)
        assert (shown["priority"], shown["category"]) == ("urgent", "billing")
        assert shown["tags"] == ["keep", "new", "vip"]
        assert shown["updated_at"] == "2025-01-06T10:03:00Z"
        # Urgent: first response due 15 minutes after creation.
        assert shown["first_response_due_at"] == "2025-01-06T10:15:00Z"
        history = rows_of(client, TicketStatusHistory, tid)
        assert len(history) == 1
        assert (history[0].from_priority, history[0].to_priority) == ("low", "urgent")
        assert history[0].changed_by_id == admin.id
        changes = {
            a.details["field"]: (a.details["old"], a.details["new"])
            for a in rows_of(client, TicketActivity, tid)
            if a.kind == "field_changed"
        }
        assert changes == {
            "priority": ("low", "urgent"),
            "category": ("general_inquiry", "billing"),
            "tags": (["keep", "old"], ["keep", "new", "vip"]),
        }
        assert footprint(client, tid)["tag_rows"] == ["keep", "new", "vip"]
    listed = client.get(f"{API}/tickets/", params={"tag": "vip"}, headers=admin.headers).json()
    assert sorted(t["id"] for t in listed) == sorted(ids)


def test_bulk_update_of_tags_alone(client, people):
    admin = people["super_admin"]
    first = make_ticket(client, people["individual"], tags="a,b")["id"]
    second = make_ticket(client, people["individual"], tags="c")["id"]
    result = bulk(
        client, admin, {"ticket_ids": [first, second], "action": "update", "remove_tags": "b,c"}
    )
    assert result["changed"] == 2
    assert show(client, admin, first)["tags"] == ["a"]
    assert show(client, admin, second)["tags"] == []
    assert rows_of(client, TicketStatusHistory, first) == []  # tags are activity, not history


@pytest.mark.parametrize("role", ["agent", "individual", "enterprise", "sub_user"])
def test_only_the_super_admin_may_bulk(client, people, role):
    ids = three_tickets(client, people)
    before = [footprint(client, tid) for tid in ids]
    for body in (
        {"ticket_ids": ids, "action": "status", "status": "closed"},
        {"ticket_ids": ids, "action": "assign", "assigned_to_id": people["agent"].id},
        {"ticket_ids": ids, "action": "update", "priority": "high"},
    ):
        assert post_bulk(client, people[role], body).status_code == 403, body
    assert (
        post_bulk(
            client, None, {"ticket_ids": ids, "action": "update", "priority": "high"}
        ).status_code
        == 401
    )
    assert [footprint(client, tid) for tid in ids] == before


def bodies_for(ids, people):
    return {
        "assign": {"ticket_ids": ids, "action": "assign", "assigned_to_id": people["agent"].id},
        "status": {"ticket_ids": ids, "action": "status", "status": "closed", "note": "n"},
        "update": {
            "ticket_ids": ids,
            "action": "update",
            "priority": "high",
            "add_tags": ["x"],
            "remove_tags": ["keep"],
        },
    }


@pytest.mark.parametrize("action", ["assign", "status", "update"])
def test_one_missing_ticket_changes_nothing(client, people, action):
    ids = three_tickets(client, people, tags="keep")
    before = [footprint(client, tid) for tid in ids]
    missing = [999_998, 999_999]
    body = bodies_for([ids[0], missing[1], ids[1], missing[0], ids[2]], people)[action]

    response = post_bulk(client, people["super_admin"], body)

    assert response.status_code == 404
    detail = response.json()["detail"]
    assert sorted(int(n) for n in re.findall(r"\d+", detail)) == missing
    assert [footprint(client, tid) for tid in ids] == before


def test_one_refused_transition_changes_nothing(client, people):
    admin = people["super_admin"]
    ids = three_tickets(client, people, tags="keep")
    closed = ticket_in_status(client, people, "closed")["id"]
    waiting = ticket_in_status(client, people, "waiting_on_customer")["id"]
    everyone = [ids[0], closed, ids[1], waiting, ids[2]]
    before = [footprint(client, tid) for tid in everyone]

    response = post_bulk(
        client, admin, {"ticket_ids": everyone, "action": "status", "status": "waiting_on_customer"}
    )

    assert response.status_code == 409
    detail = response.json()["detail"]
    # Names each refused ticket, and only those (closed: only reopened; waiting: not itself).
    assert sorted(int(n) for n in re.findall(r"\b(\d+) \(", detail)) == sorted([closed, waiting])
    assert "reopened" in detail
    assert [footprint(client, tid) for tid in everyone] == before


def test_bulk_assign_to_a_non_staff_member_changes_nothing(client, people):
    ids = three_tickets(client, people)
    before = [footprint(client, tid) for tid in ids]
    retired = make_user(client, "agent")

    async def _retire(session):
        await session.execute(update(User).where(User.id == retired.id).values(is_active=False))

    in_db(client, _retire)
    for assignee in (people["individual"].id, retired.id, 999_999):
        response = post_bulk(
            client,
            people["super_admin"],
            {"ticket_ids": ids, "action": "assign", "assigned_to_id": assignee},
        )
        assert response.status_code == 422, assignee
        assert response.json()["detail"][0]["loc"] == ["body", "assigned_to_id"]
    assert [footprint(client, tid) for tid in ids] == before


def test_bulk_validation(client, people):
    admin = people["super_admin"]
    ids = three_tickets(client, people)
    before = [footprint(client, tid) for tid in ids]
    agent_id = people["agent"].id
    bad = [
        {"ticket_ids": [], "action": "update", "priority": "high"},
        {"ticket_ids": list(range(1, 502)), "action": "update", "priority": "high"},
        {"ticket_ids": [ids[0], ids[1], ids[0]], "action": "update", "priority": "high"},
        {"ticket_ids": [0], "action": "update", "priority": "high"},
        {"ticket_ids": "1,2", "action": "update", "priority": "high"},
        {"action": "update", "priority": "high"},
        {"ticket_ids": ids, "priority": "high"},
        {"ticket_ids": ids, "action": "delete"},
        {"ticket_ids": ids, "action": "status"},
        {"ticket_ids": ids, "action": "status", "status": None},
        {"ticket_ids": ids, "action": "status", "status": "done"},
        {"ticket_ids": ids, "action": "assign"},
        {"ticket_ids": ids, "action": "update"},
        {"ticket_ids": ids, "action": "update", "priority": None},
        {"ticket_ids": ids, "action": "update", "priority": "whenever"},
        {"ticket_ids": ids, "action": "status", "status": "closed", "priority": "high"},
        {"ticket_ids": ids, "action": "status", "status": "closed", "assigned_to_id": agent_id},
        {"ticket_ids": ids, "action": "assign", "assigned_to_id": agent_id, "status": "closed"},
        {"ticket_ids": ids, "action": "update", "priority": "high", "note": "why"},
        {"ticket_ids": ids, "action": "update", "subject": "renamed"},
        {"ticket_ids": ids, "action": "update", "add_tags": 5},
    ]
    for body in bad:
        response = post_bulk(client, admin, body)
        assert response.status_code == 422, (body, response.text)
    assert [footprint(client, tid) for tid in ids] == before


def test_500_tickets_in_one_request(client, people):
    admin = people["super_admin"]
    ids = insert_tickets(client, people["individual"].id, 500)
    assert len(ids) == 500

    result = bulk(client, admin, {"ticket_ids": ids, "action": "status", "status": "in_progress"})
    assert (result["changed"], len(result["ticket_ids"])) == (500, 500)

    result = bulk(client, admin, {"ticket_ids": ids, "action": "update", "priority": "high"})
    assert result["changed"] == 500

    async def _check(session):
        statuses = await session.execute(
            select(Ticket.status, Ticket.priority, func.count()).group_by(
                Ticket.status, Ticket.priority
            )
        )
        rows = await session.execute(
            select(TicketStatusHistory.ticket_id, func.count()).group_by(
                TicketStatusHistory.ticket_id
            )
        )
        return list(statuses), dict(rows.all())

    statuses, per_ticket = in_db(client, _check)
    assert [tuple(s) for s in statuses] == [("in_progress", "high", 500)]
    assert per_ticket == dict.fromkeys(ids, 2)  # one status row and one priority row each


def test_add_tags_may_not_push_a_ticket_past_the_tag_limit(client, people):
    """A ticket holds at most 20 tags (PATCH refuses a 21st); bulk add_tags obeys the same."""
    admin = people["super_admin"]
    full = make_ticket(client, people["individual"], tags=[f"t{n}" for n in range(20)])["id"]
    roomy = make_ticket(client, people["individual"], tags="a")["id"]
    before = [footprint(client, tid) for tid in (full, roomy)]
    body = {"ticket_ids": [roomy, full], "action": "update", "add_tags": ["extra"]}

    response = post_bulk(client, admin, body)

    assert response.status_code == 422, response.text
    error = response.json()["detail"][0]
    assert error["loc"] == ["body", "add_tags"]
    assert re.findall(r"\d+", error["msg"].split(":")[-1]) == [str(full)]
    assert [footprint(client, tid) for tid in (full, roomy)] == before
    # Making room in the same request is fine: removals count first.
    body["remove_tags"] = ["t0"]
    assert bulk(client, admin, body)["changed"] == 2
    assert show(client, admin, full)["tags"] == [f"t{n}" for n in range(1, 20)] + ["extra"]
