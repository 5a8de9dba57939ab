"""Breach flags on the ticket, the `sla=breached` list filter, and breaches in the activity.

Urgent tickets created Monday 2025-01-06 10:00 UTC: first response due 10:15, resolution 14:00.
"""

import pytest

from tests.factories import (
    API,
    fetch_ticket,
    make_ticket,
    post_comment,
    set_status,
    utc,
)

TICKETS = f"{API}/tickets/"


def flags(client, actor, ticket_id):
    ticket = fetch_ticket(client, actor, ticket_id)
    return ticket["sla_first_response_breached"], ticket["sla_resolution_breached"]


def breached_ids(client, actor, **params):
    response = client.get(TICKETS, params={"sla": "breached", **params}, headers=actor.headers)
    assert response.status_code == 200, response.text
    assert int(response.headers["X-Total-Count"]) == len(response.json())
    return sorted(t["id"] for t in response.json())


def urgent(client, people):
    return make_ticket(client, people["individual"], priority="urgent")["id"]


# --- first response ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        ("2025-01-06T10:14:59Z", False),
        ("2025-01-06T10:15:00Z", False),  # at the due time is still in time
        ("2025-01-06T10:15:01Z", True),
        ("2025-01-09T00:00:00Z", True),
    ],
)
def test_first_response_due_and_none_yet(client, people, fake_clock, now, expected):
    agent = people["agent"]
    tid = urgent(client, people)
    fake_clock.set(utc(now))
    assert flags(client, agent, tid)[0] is expected
    assert flags(client, people["individual"], tid)[0] is expected
    assert breached_ids(client, agent) == ([tid] if expected else [])


@pytest.mark.parametrize("responded", ["2025-01-06T10:10:00Z", "2025-01-06T10:15:00Z"])
def test_first_response_in_time_never_breaches(client, people, fake_clock, responded):
    agent = people["agent"]
    tid = urgent(client, people)
    fake_clock.set(utc(responded))
    post_comment(client, agent, tid, "On it.")
    assert fetch_ticket(client, agent, tid)["first_response_at"] == responded
    fake_clock.set(utc("2025-01-06T13:00:00Z"))  # long after 10:15, resolution not yet due
    assert flags(client, agent, tid) == (False, False)
    assert breached_ids(client, agent) == []


def test_late_first_response_stays_breached(client, people, fake_clock):
    agent = people["agent"]
    tid = urgent(client, people)
    fake_clock.set(utc("2025-01-06T10:20:00Z"))
    post_comment(client, agent, tid, "Sorry for the wait.")
    assert flags(client, agent, tid) == (True, False)
    fake_clock.set(utc("2025-01-06T11:00:00Z"))
    set_status(client, agent, tid, "resolved")
    assert flags(client, agent, tid) == (True, False)
    assert breached_ids(client, agent) == [tid]


@pytest.mark.parametrize("who", ["internal_note", "customer"])
def test_only_a_public_staff_reply_is_a_first_response(client, people, fake_clock, who):
    agent = people["agent"]
    tid = urgent(client, people)
    fake_clock.set(utc("2025-01-06T10:05:00Z"))
    if who == "internal_note":
        post_comment(client, agent, tid, "Checking the logs.", is_internal=True)
    else:
        post_comment(client, people["individual"], tid, "Any news?")
    fake_clock.set(utc("2025-01-06T10:16:00Z"))
    assert fetch_ticket(client, agent, tid)["first_response_at"] is None
    assert flags(client, agent, tid) == (True, False)


# --- resolution -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        ("2025-01-06T13:59:59Z", False),
        ("2025-01-06T14:00:00Z", False),
        ("2025-01-06T14:00:01Z", True),
    ],
)
def test_resolution_due_and_not_resolved(client, people, fake_clock, now, expected):
    agent = people["agent"]
    tid = urgent(client, people)
    fake_clock.set(utc("2025-01-06T10:05:00Z"))
    post_comment(client, agent, tid)
    fake_clock.set(utc(now))
    assert flags(client, agent, tid) == (False, expected)
    assert breached_ids(client, agent) == ([tid] if expected else [])


@pytest.mark.parametrize(
    ("resolved", "expected"),
    [
        ("2025-01-06T13:59:00Z", False),
        ("2025-01-06T14:00:00Z", False),
        ("2025-01-06T14:01:00Z", True),
    ],
)
def test_resolution_judged_by_resolved_at(client, people, fake_clock, resolved, expected):
    agent = people["agent"]
    tid = urgent(client, people)
    fake_clock.set(utc("2025-01-06T10:05:00Z"))
    post_comment(client, agent, tid)
    fake_clock.set(utc(resolved))
    set_status(client, agent, tid, "resolved")
    fake_clock.set(utc("2025-01-08T00:00:00Z"))  # much later
    assert flags(client, agent, tid) == (False, expected)
    # Closing keeps resolved_at, and so the verdict.
    set_status(client, people["individual"], tid, "closed")
    assert fetch_ticket(client, agent, tid)["resolved_at"] == resolved
    assert flags(client, agent, tid) == (False, expected)
    assert breached_ids(client, agent) == ([tid] if expected else [])


def test_reopening_clears_the_resolution(client, people, fake_clock):
    agent, customer = people["agent"], people["individual"]
    tid = urgent(client, people)
    fake_clock.set(utc("2025-01-06T10:05:00Z"))
    post_comment(client, agent, tid)
    fake_clock.set(utc("2025-01-06T13:00:00Z"))
    set_status(client, agent, tid, "resolved")
    fake_clock.set(utc("2025-01-06T15:00:00Z"))
    assert flags(client, agent, tid) == (False, False)
    set_status(client, customer, tid, "reopened")
    # No resolution any more, and 14:00 has passed.
    assert fetch_ticket(client, agent, tid)["resolved_at"] is None
    assert flags(client, agent, tid) == (False, True)
    assert breached_ids(client, agent) == [tid]


# --- the list filter agrees with the flags ----------------------------------------------------


def test_breached_filter_returns_exactly_the_breached_tickets(client, people, fake_clock):
    agent, customer, other = people["agent"], people["individual"], people["other"]
    late_reply = urgent(client, people)  # replied 10:30 (late), resolved 12:00 (in time)
    unresolved = urgent(client, people)  # replied 10:10, never resolved
    ignored = make_ticket(client, other, priority="urgent")["id"]  # no reply at all
    fine = urgent(client, people)  # replied 10:10, resolved 13:00
    not_yet = make_ticket(client, customer, priority="low")["id"]  # due 18:00 / Wednesday
    paused = urgent(client, people)  # replied 10:10, waiting since 11:00
    internal = make_ticket(client, agent, priority="urgent", is_internal=True)["id"]  # no reply

    fake_clock.set(utc("2025-01-06T10:10:00Z"))
    for tid in (unresolved, fine, paused):
        post_comment(client, agent, tid)
    fake_clock.set(utc("2025-01-06T10:30:00Z"))
    post_comment(client, agent, late_reply)
    fake_clock.set(utc("2025-01-06T11:00:00Z"))
    set_status(client, agent, paused, "waiting_on_customer")
    fake_clock.set(utc("2025-01-06T12:00:00Z"))
    set_status(client, agent, late_reply, "resolved")
    fake_clock.set(utc("2025-01-06T13:00:00Z"))
    set_status(client, agent, fine, "resolved")
    fake_clock.set(utc("2025-01-06T15:00:00Z"))

    expected_flags = {
        late_reply: (True, False),
        unresolved: (False, True),
        ignored: (True, True),
        fine: (False, False),
        not_yet: (False, False),
        paused: (False, False),
        internal: (True, True),
    }
    assert {tid: flags(client, agent, tid) for tid in expected_flags} == expected_flags
    assert breached_ids(client, agent) == sorted([late_reply, unresolved, ignored, internal])

    # The flags in the list itself agree with membership, ticket by ticket.
    everything = client.get(TICKETS, params={"page_size": 100}, headers=agent.headers).json()
    assert len(everything) == 7
    for ticket in everything:
        either = ticket["sla_first_response_breached"] or ticket["sla_resolution_breached"]
        assert either == (ticket["id"] in {late_reply, unresolved, ignored, internal})

    # Combined with other filters, and scoped for customers.
    assert breached_ids(client, agent, status="resolved") == [late_reply]
    assert breached_ids(client, agent, priority="low") == []
    assert breached_ids(client, customer) == sorted([late_reply, unresolved])
    assert breached_ids(client, other) == [ignored]
    response = client.get(f"{TICKETS}my", params={"sla": "breached"}, headers=customer.headers)
    assert response.status_code == 200, response.text
    assert sorted(t["id"] for t in response.json()) == sorted([late_reply, unresolved])


@pytest.mark.parametrize("value", ["yes", "BREACHED_NOW", "1"])
def test_unknown_sla_filter_is_422(client, people, value):
    response = client.get(TICKETS, params={"sla": value}, headers=people["agent"].headers)
    assert response.status_code == 422, response.text


# --- activity ---------------------------------------------------------------------------------


def test_activity_shows_the_breaches_at_their_due_times(client, people, fake_clock):
    agent = people["agent"]
    tid = urgent(client, people)
    fake_clock.set(utc("2025-01-06T10:14:00Z"))
    kinds = [
        e["kind"] for e in client.get(f"{TICKETS}{tid}/activity", headers=agent.headers).json()
    ]
    assert kinds == ["created"]

    fake_clock.set(utc("2025-01-06T15:00:00Z"))
    response = client.get(f"{TICKETS}{tid}/activity", headers=agent.headers)
    assert response.status_code == 200, response.text
    entries = [(e["kind"], e["details"], e["created_at"]) for e in response.json()]
    assert entries[0][0] == "created"
    assert entries[1:] == [
        ("sla_breached", {"target": "first_response"}, "2025-01-06T10:15:00Z"),
        ("sla_breached", {"target": "resolution"}, "2025-01-06T14:00:00Z"),
    ]


def test_activity_shows_a_late_reply_breach_before_the_reply(client, people, fake_clock):
    agent = people["agent"]
    tid = urgent(client, people)
    fake_clock.set(utc("2025-01-06T10:40:00Z"))
    post_comment(client, agent, tid, "Late, sorry.")
    fake_clock.set(utc("2025-01-06T11:00:00Z"))
    set_status(client, agent, tid, "resolved")
    fake_clock.set(utc("2025-01-07T00:00:00Z"))
    response = client.get(f"{TICKETS}{tid}/activity", headers=agent.headers)
    assert response.status_code == 200, response.text
    timeline = [(e["kind"], e["created_at"]) for e in response.json()]
    assert timeline == [
        ("created", "2025-01-06T10:00:00Z"),
        ("sla_breached", "2025-01-06T10:15:00Z"),
        ("comment_added", "2025-01-06T10:40:00Z"),
        ("status_changed", "2025-01-06T10:40:00Z"),
        ("status_changed", "2025-01-06T11:00:00Z"),
    ]
    assert response.json()[1]["details"] == {"target": "first_response"}


def test_no_breach_no_activity_entry(client, people, fake_clock):
    agent = people["agent"]
    tid = urgent(client, people)
    fake_clock.set(utc("2025-01-06T10:10:00Z"))
    post_comment(client, agent, tid)
    fake_clock.set(utc("2025-01-06T11:00:00Z"))
    set_status(client, agent, tid, "resolved")
    fake_clock.set(utc("2025-01-10T00:00:00Z"))
    response = client.get(f"{TICKETS}{tid}/activity", headers=agent.headers)
    assert "sla_breached" not in [e["kind"] for e in response.json()]


def test_customers_do_not_get_the_activity(client, people, fake_clock):
    customer = people["individual"]
    tid = urgent(client, people)
    fake_clock.set(utc("2025-01-06T15:00:00Z"))
    assert client.get(f"{TICKETS}{tid}/activity", headers=customer.headers).status_code == 403


def test_breached_filter_with_the_last_date_there_is(client, people, fake_clock):
    agent = people["agent"]
    tid = urgent(client, people)
    fake_clock.set(utc("2025-01-06T10:16:00Z"))
    assert breached_ids(client, agent, created_to="9999-12-31") == [tid]
