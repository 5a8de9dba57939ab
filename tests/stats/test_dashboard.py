"""GET /dashboard on a known data set, checked on both sides of midnight UTC.

SLA (wall-clock): urgent 15 min / 4 h, low 8 h / 48 h. "Active" means not resolved or closed.
"""

from tests.factories import (
    API,
    make_ticket,
    post_comment,
    set_status,
    utc,
)

DASHBOARD = f"{API}/dashboard"
ZEROS = {
    "open_tickets": 0,
    "in_progress_tickets": 0,
    "waiting_on_customer_tickets": 0,
    "resolved_tickets": 0,
    "closed_tickets": 0,
    "reopened_tickets": 0,
    "unassigned_tickets": 0,
    "sla_breached_tickets": 0,
    "created_today": 0,
    "resolved_today": 0,
}

EVENTS = [
    # D1 low: untouched; first response was due 01-06 18:00.
    ("2025-01-06T10:00:00Z", "create", "D1", "low"),
    # D2 low: assigned (-> in progress), replied in time; resolution due 01-08 10:00.
    ("2025-01-06T10:00:00Z", "create", "D2", "low"),
    ("2025-01-06T10:05:00Z", "assign", "D2", None),
    ("2025-01-06T10:10:00Z", "reply", "D2", None),
    # D3 low: unassigned, replied late (due 18:00) -> in progress, breached for good.
    ("2025-01-06T10:00:00Z", "create", "D3", "low"),
    ("2025-01-06T19:00:00Z", "reply", "D3", None),
    # D4 urgent: assigned, replied in time, waiting since 11:00, before its 14:00 resolution.
    ("2025-01-06T10:00:00Z", "create", "D4", "urgent"),
    ("2025-01-06T10:05:00Z", "assign", "D4", None),
    ("2025-01-06T10:10:00Z", "reply", "D4", None),
    ("2025-01-06T11:00:00Z", "status", "D4", "waiting_on_customer"),
    # D5 urgent: replied late, resolved in the last second of 01-06 (breached, but not active).
    ("2025-01-06T10:00:00Z", "create", "D5", "urgent"),
    ("2025-01-06T10:30:00Z", "reply", "D5", None),
    ("2025-01-06T23:59:59Z", "status", "D5", "resolved"),
    # D6 low: closed by staff at 12:00 (closing stamps resolved_at too).
    ("2025-01-06T10:00:00Z", "create", "D6", "low"),
    ("2025-01-06T12:00:00Z", "status", "D6", "closed"),
    # D7 low: replied in time, resolved, reopened by the customer (resolved_at cleared);
    # resolution due 01-08 10:00.
    ("2025-01-06T10:00:00Z", "create", "D7", "low"),
    ("2025-01-06T10:10:00Z", "reply", "D7", None),
    ("2025-01-06T11:00:00Z", "status", "D7", "resolved"),
    ("2025-01-06T12:00:00Z", "reopen", "D7", None),
    # D8 urgent: assigned, replied in time, unresolved past its 14:00 resolution.
    ("2025-01-06T10:00:00Z", "create", "D8", "urgent"),
    ("2025-01-06T10:01:00Z", "assign", "D8", None),
    ("2025-01-06T10:05:00Z", "reply", "D8", None),
    # D9 low: created late on 01-06, replied, resolved at midnight sharp.
    ("2025-01-06T23:30:00Z", "create", "D9", "low"),
    ("2025-01-06T23:40:00Z", "reply", "D9", None),
    ("2025-01-07T00:00:00Z", "status", "D9", "resolved"),
    # D10 low: created at midnight sharp, untouched; first response due 01-07 08:00.
    ("2025-01-07T00:00:00Z", "create", "D10", "low"),
    # D11 low: created and resolved in the morning of 01-07.
    ("2025-01-07T06:00:00Z", "create", "D11", "low"),
    ("2025-01-07T06:30:00Z", "status", "D11", "resolved"),
]


def dashboard(client, admin):
    response = client.get(DASHBOARD, headers=admin.headers)
    assert response.status_code == 200, response.text
    return response.json()


def play(client, people, fake_clock, ids, until, after=None):
    """Run the events after `after` up to and including `until`, in time order."""
    customer, agent, admin = people["individual"], people["agent"], people["super_admin"]
    for when, action, key, argument in sorted(EVENTS, key=lambda event: utc(event[0])):
        moment = utc(when)
        if moment > utc(until) or (after is not None and moment <= utc(after)):
            continue
        fake_clock.set(moment)
        if action == "create":
            ids[key] = make_ticket(client, customer, priority=argument)["id"]
        elif action == "assign":
            response = client.post(
                f"{API}/tickets/{ids[key]}/assign",
                json={"assigned_to_id": agent.id},
                headers=admin.headers,
            )
            assert response.status_code == 200, response.text
        elif action == "reply":
            post_comment(client, agent, ids[key], "Looking into it.")
        elif action == "status":
            set_status(client, agent, ids[key], argument)
        elif action == "reopen":
            set_status(client, customer, ids[key], "reopened")
        else:
            raise AssertionError(action)
    fake_clock.set(utc(until))


def test_dashboard_across_midnight(client, people, fake_clock):
    admin = people["super_admin"]

    ids = {}
    play(client, people, fake_clock, ids, "2025-01-06T23:59:59Z")
    assert dashboard(client, admin) == {
        "open_tickets": 1,  # D1
        "in_progress_tickets": 4,  # D2, D3, D8, D9
        "waiting_on_customer_tickets": 1,  # D4
        "resolved_tickets": 1,  # D5
        "closed_tickets": 1,  # D6
        "reopened_tickets": 1,  # D7
        "unassigned_tickets": 4,  # D1, D3, D7, D9 (D5 and D6 are no longer active)
        "sla_breached_tickets": 3,  # D1 (no reply), D3 (late reply), D8 (resolution)
        "created_today": 9,  # D1-D9
        "resolved_today": 2,  # D5 at 23:59:59, D6 closed at 12:00 (D7's was undone)
    }

    play(client, people, fake_clock, ids, "2025-01-07T07:00:00Z", after="2025-01-06T23:59:59Z")
    assert dashboard(client, admin) == {
        "open_tickets": 2,  # D1, D10
        "in_progress_tickets": 3,  # D2, D3, D8
        "waiting_on_customer_tickets": 1,  # D4
        "resolved_tickets": 3,  # D5, D9, D11
        "closed_tickets": 1,  # D6
        "reopened_tickets": 1,  # D7
        "unassigned_tickets": 4,  # D1, D3, D7, D10
        "sla_breached_tickets": 3,  # D1, D3, D8; D10's first response is due at 08:00
        "created_today": 2,  # D10 at 00:00:00, D11
        "resolved_today": 2,  # D9 at 00:00:00, D11
    }

    # Nothing more happens; the next day begins.
    play(client, people, fake_clock, ids, "2025-01-08T00:00:01Z", after="2025-01-07T07:00:00Z")
    assert dashboard(client, admin) == {
        "open_tickets": 2,
        "in_progress_tickets": 3,
        "waiting_on_customer_tickets": 1,
        "resolved_tickets": 3,
        "closed_tickets": 1,
        "reopened_tickets": 1,
        "unassigned_tickets": 4,
        # D10's first response is now overdue too; D2 and D7 are due at 10:00; D4 is paused.
        "sla_breached_tickets": 4,
        "created_today": 0,
        "resolved_today": 0,
    }


def test_breached_count_agrees_with_the_list(client, people, fake_clock):
    admin = people["super_admin"]
    play(client, people, fake_clock, {}, "2025-01-07T07:00:00Z")
    response = client.get(
        f"{API}/tickets/", params={"sla": "breached", "page_size": 100}, headers=admin.headers
    )
    active = [t for t in response.json() if t["status"] not in ("resolved", "closed")]
    assert len(active) == dashboard(client, admin)["sla_breached_tickets"] == 3


def test_empty_dashboard(client, people):
    assert dashboard(client, people["super_admin"]) == ZEROS


def test_internal_and_on_behalf_tickets_count_too(client, people, fake_clock):
    make_ticket(client, people["agent"], is_internal=True)
    make_ticket(client, people["agent"], user_id=people["enterprise"].id)
    assert dashboard(client, people["super_admin"]) == {
        **ZEROS,
        "open_tickets": 2,
        "unassigned_tickets": 2,
        "created_today": 2,
    }
