"""The resolution clock stands still while a ticket waits on the customer.

Every expected instant below is worked out by hand in the comment beside it.
"""

from tests.factories import (
    API,
    fetch_ticket,
    make_ticket,
    post_comment,
    set_sla_policy,
    set_status,
    utc,
)


def due(ticket):
    return ticket["first_response_due_at"], ticket["resolution_due_at"]


def breached(ticket):
    return ticket["sla_first_response_breached"], ticket["sla_resolution_breached"]


def breached_ids(client, actor):
    response = client.get(f"{API}/tickets/", params={"sla": "breached"}, headers=actor.headers)
    assert response.status_code == 200, response.text
    return sorted(t["id"] for t in response.json())


def pause_and_resume(client, agent, fake_clock, ticket_id, start, end, resume_to="in_progress"):
    fake_clock.set(utc(start))
    set_status(client, agent, ticket_id, "waiting_on_customer")
    fake_clock.set(utc(end))
    return set_status(client, agent, ticket_id, resume_to)


# --- wall-clock minutes -----------------------------------------------------------------------


def test_a_pause_pushes_the_resolution_due_time(client, people, fake_clock):
    agent = people["agent"]
    # Medium, created Monday 10:00: first response 14:00, resolution Tuesday 10:00.
    ticket = make_ticket(client, people["individual"], priority="medium")
    fake_clock.set(utc("2025-01-06T11:00:00Z"))
    waiting = set_status(client, agent, ticket["id"], "waiting_on_customer")
    # The stored due time moves when the pause ends, by the whole pause.
    assert due(waiting) == ("2025-01-06T14:00:00Z", "2025-01-07T10:00:00Z")
    fake_clock.set(utc("2025-01-06T14:00:00Z"))
    resumed = set_status(client, agent, ticket["id"], "in_progress")
    # Paused 11:00-14:00 = 3 h; the first-response target does not pause.
    assert due(resumed) == ("2025-01-06T14:00:00Z", "2025-01-07T13:00:00Z")
    assert due(fetch_ticket(client, agent, ticket["id"])) == due(resumed)


def test_two_pauses_add_up(client, people, fake_clock):
    agent = people["agent"]
    ticket = make_ticket(client, people["individual"], priority="medium")
    pause_and_resume(
        client, agent, fake_clock, ticket["id"], "2025-01-06T11:00:00Z", "2025-01-06T14:00:00Z"
    )
    resumed = pause_and_resume(
        client, agent, fake_clock, ticket["id"], "2025-01-06T15:00:00Z", "2025-01-06T17:30:00Z"
    )
    # 3 h + 2.5 h = 5.5 h after Tuesday 10:00.
    assert due(resumed) == ("2025-01-06T14:00:00Z", "2025-01-07T15:30:00Z")


def test_a_staff_comment_does_not_end_the_pause(client, people, fake_clock):
    agent = people["agent"]
    ticket = make_ticket(client, people["individual"], priority="medium")
    fake_clock.set(utc("2025-01-06T11:00:00Z"))
    set_status(client, agent, ticket["id"], "waiting_on_customer")
    fake_clock.set(utc("2025-01-06T12:00:00Z"))
    post_comment(client, agent, ticket["id"], "Any news?")
    assert fetch_ticket(client, agent, ticket["id"])["status"] == "waiting_on_customer"
    fake_clock.set(utc("2025-01-06T14:00:00Z"))
    resumed = set_status(client, agent, ticket["id"], "in_progress")
    # Still one pause, 11:00-14:00.
    assert due(resumed) == ("2025-01-06T14:00:00Z", "2025-01-07T13:00:00Z")


def test_a_customer_comment_ends_the_pause(client, people, fake_clock):
    agent, customer = people["agent"], people["individual"]
    ticket = make_ticket(client, customer, priority="medium")
    fake_clock.set(utc("2025-01-06T11:00:00Z"))
    set_status(client, agent, ticket["id"], "waiting_on_customer")
    fake_clock.set(utc("2025-01-06T13:00:00Z"))
    post_comment(client, customer, ticket["id"], "Here is the log you asked for.")
    shown = fetch_ticket(client, agent, ticket["id"])
    assert shown["status"] == "in_progress"
    # Paused 11:00-13:00 = 2 h after Tuesday 10:00.
    assert due(shown) == ("2025-01-06T14:00:00Z", "2025-01-07T12:00:00Z")
    # The clock runs again: a later wait counts only from its own start.
    resumed = pause_and_resume(
        client, agent, fake_clock, ticket["id"], "2025-01-06T16:00:00Z", "2025-01-06T16:45:00Z"
    )
    assert resumed["resolution_due_at"] == "2025-01-07T12:45:00Z"


def test_resolving_straight_from_waiting_ends_the_pause(client, people, fake_clock):
    agent = people["agent"]
    ticket = make_ticket(client, people["individual"], priority="urgent")
    # Urgent: resolution due 14:00. Paused 11:00-15:00 (4 h) -> due 18:00.
    resolved = pause_and_resume(
        client,
        agent,
        fake_clock,
        ticket["id"],
        "2025-01-06T11:00:00Z",
        "2025-01-06T15:00:00Z",
        resume_to="resolved",
    )
    assert resolved["resolved_at"] == "2025-01-06T15:00:00Z"
    assert resolved["resolution_due_at"] == "2025-01-06T18:00:00Z"
    assert resolved["sla_resolution_breached"] is False


def test_bulk_status_change_out_of_waiting_ends_the_pause(client, people, fake_clock):
    admin, agent = people["super_admin"], people["agent"]
    ticket = make_ticket(client, people["individual"], priority="medium")
    fake_clock.set(utc("2025-01-06T11:00:00Z"))
    set_status(client, agent, ticket["id"], "waiting_on_customer")
    fake_clock.set(utc("2025-01-06T12:30:00Z"))
    response = client.post(
        f"{API}/tickets/bulk",
        json={"ticket_ids": [ticket["id"]], "action": "status", "status": "in_progress"},
        headers=admin.headers,
    )
    assert response.status_code == 200, response.text
    # Paused 1.5 h.
    assert fetch_ticket(client, admin, ticket["id"])["resolution_due_at"] == "2025-01-07T11:30:00Z"


# --- business minutes -------------------------------------------------------------------------


def test_a_business_hours_pause_counts_only_business_time(client, people, fake_clock):
    admin, agent = people["super_admin"], people["agent"]
    set_sla_policy(client, admin, "medium", 240, 1440, True)
    fake_clock.set(utc("2025-01-08T10:00:00Z"))
    ticket = make_ticket(client, people["individual"], priority="medium")
    # Wednesday 10:00 + 4 business hours = 14:00. Resolution, 24 business hours: 7 h Wednesday,
    # 8 h Thursday, 8 h Friday, 1 h Monday -> Monday 2025-01-13 10:00.
    assert due(ticket) == ("2025-01-08T14:00:00Z", "2025-01-13T10:00:00Z")
    resumed = pause_and_resume(
        client, agent, fake_clock, ticket["id"], "2025-01-10T16:00:00Z", "2025-01-13T10:00:00Z"
    )
    # Friday 16:00 to Monday 10:00 holds 1 h on Friday and 1 h on Monday: 2 business hours.
    assert due(resumed) == ("2025-01-08T14:00:00Z", "2025-01-13T12:00:00Z")


def test_a_pause_outside_business_hours_pushes_nothing(client, people, fake_clock):
    admin, agent = people["super_admin"], people["agent"]
    set_sla_policy(client, admin, "medium", 240, 1440, True)
    fake_clock.set(utc("2025-01-08T10:00:00Z"))
    ticket = make_ticket(client, people["individual"], priority="medium")
    # Friday 17:00 to Monday 09:00 is closed time from end to end.
    resumed = pause_and_resume(
        client, agent, fake_clock, ticket["id"], "2025-01-10T17:00:00Z", "2025-01-13T09:00:00Z"
    )
    assert due(resumed) == ("2025-01-08T14:00:00Z", "2025-01-13T10:00:00Z")


# --- pauses and priority changes --------------------------------------------------------------


def test_priority_change_after_a_pause_keeps_the_paused_time(client, people, fake_clock):
    agent = people["agent"]
    ticket = make_ticket(client, people["individual"], priority="medium")
    pause_and_resume(
        client, agent, fake_clock, ticket["id"], "2025-01-06T11:00:00Z", "2025-01-06T14:00:00Z"
    )
    fake_clock.set(utc("2025-01-06T15:00:00Z"))
    response = client.patch(
        f"{API}/tickets/{ticket['id']}", json={"priority": "high"}, headers=agent.headers
    )
    assert response.status_code == 200, response.text
    # High from creation: first 10:00 + 1 h; resolution 10:00 + 8 h + the 3 h paused = 21:00.
    assert due(response.json()) == ("2025-01-06T11:00:00Z", "2025-01-06T21:00:00Z")


def test_priority_change_during_a_pause(client, people, fake_clock):
    agent = people["agent"]
    ticket = make_ticket(client, people["individual"], priority="medium")
    fake_clock.set(utc("2025-01-06T11:00:00Z"))
    set_status(client, agent, ticket["id"], "waiting_on_customer")
    fake_clock.set(utc("2025-01-06T12:00:00Z"))
    response = client.patch(
        f"{API}/tickets/{ticket['id']}", json={"priority": "high"}, headers=agent.headers
    )
    assert response.status_code == 200, response.text
    # Nothing paused has been counted yet: 10:00 + 8 h.
    assert due(response.json()) == ("2025-01-06T11:00:00Z", "2025-01-06T18:00:00Z")
    fake_clock.set(utc("2025-01-06T14:00:00Z"))
    resumed = set_status(client, agent, ticket["id"], "in_progress")
    # The whole pause, 11:00-14:00, counts once it ends.
    assert due(resumed) == ("2025-01-06T11:00:00Z", "2025-01-06T21:00:00Z")


def test_business_hours_pause_kept_across_a_priority_change(client, people, fake_clock):
    admin, agent = people["super_admin"], people["agent"]
    set_sla_policy(client, admin, "medium", 240, 1440, True)
    set_sla_policy(client, admin, "high", 60, 480, True)
    fake_clock.set(utc("2025-01-08T10:00:00Z"))
    ticket = make_ticket(client, people["individual"], priority="medium")
    pause_and_resume(
        client, agent, fake_clock, ticket["id"], "2025-01-08T16:00:00Z", "2025-01-09T11:00:00Z"
    )
    # Paused Wednesday 16:00 to Thursday 11:00: 1 h + 2 h = 3 business hours.
    fake_clock.set(utc("2025-01-09T12:00:00Z"))
    response = client.patch(
        f"{API}/tickets/{ticket['id']}", json={"priority": "high"}, headers=agent.headers
    )
    assert response.status_code == 200, response.text
    # High from Wednesday 10:00: first response 11:00; resolution 8 h + 3 h = 11 business
    # hours: 7 h Wednesday, 4 h Thursday -> Thursday 13:00.
    assert due(response.json()) == ("2025-01-08T11:00:00Z", "2025-01-09T13:00:00Z")


# --- pauses and breaches ----------------------------------------------------------------------


def test_no_resolution_breach_while_paused(client, people, fake_clock):
    agent = people["agent"]
    ticket = make_ticket(client, people["individual"], priority="urgent")
    tid = ticket["id"]
    fake_clock.set(utc("2025-01-06T10:05:00Z"))
    post_comment(client, agent, tid)  # first response in time (due 10:15)
    fake_clock.set(utc("2025-01-06T11:00:00Z"))
    set_status(client, agent, tid, "waiting_on_customer")

    # Far past the stored resolution due time (14:00), but the clock stands still.
    fake_clock.set(utc("2025-01-06T20:00:00Z"))
    shown = fetch_ticket(client, agent, tid)
    assert shown["resolution_due_at"] == "2025-01-06T14:00:00Z"
    assert breached(shown) == (False, False)
    assert breached_ids(client, agent) == []

    # Paused 11:00-20:00 = 9 h: due 23:00.
    resumed = set_status(client, agent, tid, "in_progress")
    assert resumed["resolution_due_at"] == "2025-01-06T23:00:00Z"
    assert breached(resumed) == (False, False)
    fake_clock.set(utc("2025-01-06T23:00:00Z"))
    assert breached(fetch_ticket(client, agent, tid)) == (False, False)
    fake_clock.set(utc("2025-01-06T23:00:01Z"))
    assert breached(fetch_ticket(client, agent, tid)) == (False, True)
    assert breached_ids(client, agent) == [tid]


def test_a_pause_after_the_due_time_stays_breached(client, people, fake_clock):
    agent = people["agent"]
    tid = make_ticket(client, people["individual"], priority="urgent")["id"]
    fake_clock.set(utc("2025-01-06T10:05:00Z"))
    post_comment(client, agent, tid)
    fake_clock.set(utc("2025-01-06T15:00:00Z"))  # resolution was due at 14:00
    waiting = set_status(client, agent, tid, "waiting_on_customer")
    assert breached(waiting) == (False, True)
    fake_clock.set(utc("2025-01-06T16:00:00Z"))
    assert breached_ids(client, agent) == [tid]
    resumed = set_status(client, agent, tid, "in_progress")
    # Pushed by the 1 h pause to 15:00, still before now (16:00).
    assert resumed["resolution_due_at"] == "2025-01-06T15:00:00Z"
    assert breached(resumed) == (False, True)


def test_first_response_clock_does_not_pause(client, people, fake_clock):
    agent = people["agent"]
    tid = make_ticket(client, people["individual"], priority="urgent")["id"]
    fake_clock.set(utc("2025-01-06T10:05:00Z"))
    set_status(client, agent, tid, "waiting_on_customer")
    fake_clock.set(utc("2025-01-06T10:20:00Z"))  # first response was due at 10:15
    shown = fetch_ticket(client, agent, tid)
    assert shown["first_response_due_at"] == "2025-01-06T10:15:00Z"
    assert breached(shown) == (True, False)
    assert breached_ids(client, agent) == [tid]


def test_priority_change_to_business_hours_counts_the_pause_in_business_time(
    client, people, fake_clock
):
    admin, agent = people["super_admin"], people["agent"]
    set_sla_policy(client, admin, "high", 60, 480, True)
    fake_clock.set(utc("2025-01-10T10:00:00Z"))
    ticket = make_ticket(client, people["individual"], priority="medium")  # wall-clock policy
    # Paused over the weekend, Friday 17:00 to Monday 09:00: 64 wall-clock hours, but not one
    # business minute.
    pause_and_resume(
        client, agent, fake_clock, ticket["id"], "2025-01-10T17:00:00Z", "2025-01-13T09:00:00Z"
    )
    fake_clock.set(utc("2025-01-13T09:30:00Z"))
    response = client.patch(
        f"{API}/tickets/{ticket['id']}", json={"priority": "high"}, headers=agent.headers
    )
    assert response.status_code == 200, response.text
    # High in business minutes from Friday 10:00: first response 11:00; resolution 8 business
    # hours + no paused business time: 7 h on Friday, 1 h on Monday -> Monday 10:00.
    assert due(response.json()) == ("2025-01-10T11:00:00Z", "2025-01-13T10:00:00Z")
