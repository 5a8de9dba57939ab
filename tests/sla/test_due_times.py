"""Due times: fixed at creation and at a priority change, in wall-clock or business minutes.

Every expected instant below is worked out by hand in the comment beside it.
"""

import pytest

from tests.factories import (
    API,
    fetch_ticket,
    make_ticket,
    set_sla_policy,
    utc,
)

HOURS = f"{API}/tickets/sla/business-hours"
NINE_TO_FIVE = [["09:00", "17:00"]]
WEEKDAYS_NINE_TO_FIVE = {
    "mon": NINE_TO_FIVE,
    "tue": NINE_TO_FIVE,
    "wed": NINE_TO_FIVE,
    "thu": NINE_TO_FIVE,
    "fri": NINE_TO_FIVE,
    "sat": [],
    "sun": [],
}


def due(ticket):
    return ticket["first_response_due_at"], ticket["resolution_due_at"]


def put_hours(client, admin, timezone, holidays=(), weekly=WEEKDAYS_NINE_TO_FIVE):
    body = {"timezone": timezone, "weekly": weekly, "holidays": list(holidays)}
    response = client.put(HOURS, json=body, headers=admin.headers)
    assert response.status_code == 200, response.text


def patch(client, actor, ticket_id, **fields):
    return client.patch(f"{API}/tickets/{ticket_id}", json=fields, headers=actor.headers)


def history(client, actor, ticket_id):
    response = client.get(f"{API}/tickets/{ticket_id}/history", headers=actor.headers)
    assert response.status_code == 200, response.text
    return response.json()


# --- wall-clock minutes (the default) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("priority", "first", "resolution"),
    [
        # Created Monday 2025-01-06 10:00 UTC.
        ("urgent", "2025-01-06T10:15:00Z", "2025-01-06T14:00:00Z"),  # +15 min, +4 h
        ("high", "2025-01-06T11:00:00Z", "2025-01-06T18:00:00Z"),  # +1 h, +8 h
        ("medium", "2025-01-06T14:00:00Z", "2025-01-07T10:00:00Z"),  # +4 h, +24 h
        ("low", "2025-01-06T18:00:00Z", "2025-01-08T10:00:00Z"),  # +8 h, +48 h
    ],
)
def test_wall_clock_due_times_at_creation(client, people, fake_clock, priority, first, resolution):
    ticket = make_ticket(client, people["individual"], priority=priority.upper())
    assert ticket["created_at"] == "2025-01-06T10:00:00Z"
    assert due(ticket) == (first, resolution)
    assert due(fetch_ticket(client, people["agent"], ticket["id"])) == (first, resolution)


def test_wall_clock_ignores_nights_and_weekends(client, people, fake_clock):
    # Saturday 2025-01-11 22:50 UTC, low: +8 h, +48 h straight through the weekend.
    fake_clock.set(utc("2025-01-11T22:50:00Z"))
    ticket = make_ticket(client, people["individual"], priority="low")
    assert due(ticket) == ("2025-01-12T06:50:00Z", "2025-01-13T22:50:00Z")


def test_staff_and_internal_tickets_get_due_times_too(client, people, fake_clock):
    ticket = make_ticket(client, people["agent"], priority="urgent", is_internal=True)
    assert due(ticket) == ("2025-01-06T10:15:00Z", "2025-01-06T14:00:00Z")


# --- business minutes ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("created", "first", "resolution"),
    [
        # Friday 16:30: 30 min on Friday, then 210 min from Monday 09:00 -> Monday 12:30.
        # Resolution 1440 min = 24 business hours: 0.5 h Friday, 8 h Monday, 8 h Tuesday,
        # and the last 7.5 h on Wednesday -> Wednesday 16:30.
        ("2025-01-10T16:30:00Z", "2025-01-13T12:30:00Z", "2025-01-15T16:30:00Z"),
        # Saturday: nothing counts until Monday 09:00; 4 h -> 13:00; 3 full days -> Wed 17:00.
        ("2025-01-11T12:00:00Z", "2025-01-13T13:00:00Z", "2025-01-15T17:00:00Z"),
        # Friday 17:00 sharp is already closed: the same as the weekend.
        ("2025-01-10T17:00:00Z", "2025-01-13T13:00:00Z", "2025-01-15T17:00:00Z"),
        # Monday 07:00, before opening: counts from 09:00.
        ("2025-01-13T07:00:00Z", "2025-01-13T13:00:00Z", "2025-01-15T17:00:00Z"),
        # Tuesday 18:00, after closing: Wednesday 09:00 + 4 h; Wed, Thu, Fri -> Fri 17:00.
        ("2025-01-07T18:00:00Z", "2025-01-08T13:00:00Z", "2025-01-10T17:00:00Z"),
        # Monday 10:00 inside the window: 14:00 the same day; 7 h Mon, 8 h Tue, 8 h Wed,
        # 1 h Thu -> Thursday 10:00.
        ("2025-01-06T10:00:00Z", "2025-01-06T14:00:00Z", "2025-01-09T10:00:00Z"),
    ],
)
def test_business_minutes_on_the_default_calendar(
    client, people, fake_clock, created, first, resolution
):
    set_sla_policy(client, people["super_admin"], "medium", 240, 1440, True)
    fake_clock.set(utc(created))
    ticket = make_ticket(client, people["individual"], priority="medium")
    assert ticket["created_at"] == created
    assert due(ticket) == (first, resolution)


def test_business_minutes_apply_only_to_that_priority(client, people, fake_clock):
    set_sla_policy(client, people["super_admin"], "medium", 240, 1440, True)
    fake_clock.set(utc("2025-01-10T16:30:00Z"))
    ticket = make_ticket(client, people["individual"], priority="high")
    # High still counts wall-clock minutes: +1 h, +8 h.
    assert due(ticket) == ("2025-01-10T17:30:00Z", "2025-01-11T00:30:00Z")


def test_berlin_calendar_with_holidays(client, people, fake_clock):
    admin = people["super_admin"]
    put_hours(client, admin, "Europe/Berlin", holidays=["2025-12-25", "2025-12-26"])
    set_sla_policy(client, admin, "high", 60, 480, True)
    # Wednesday 2025-12-24 15:30 UTC is 16:30 in Berlin (CET, UTC+1).
    fake_clock.set(utc("2025-12-24T15:30:00Z"))
    ticket = make_ticket(client, people["individual"], priority="high")
    # First response, 60 min: 30 min on Wednesday; Thursday and Friday are holidays, then the
    # weekend; the other 30 min on Monday 2025-12-29 from 09:00 -> 09:30 CET = 08:30 UTC.
    # Resolution, 480 min: 30 min on Wednesday, 450 min (7.5 h) on Monday from 09:00
    # -> 16:30 CET = 15:30 UTC.
    assert due(ticket) == ("2025-12-29T08:30:00Z", "2025-12-29T15:30:00Z")


def test_berlin_calendar_with_two_windows_a_day(client, people, fake_clock):
    admin = people["super_admin"]
    weekly = {**WEEKDAYS_NINE_TO_FIVE, "mon": [["08:00", "12:00"], ["13:00", "17:00"]]}
    put_hours(client, admin, "Europe/Berlin", weekly=weekly)
    set_sla_policy(client, admin, "urgent", 90, 240, True)
    # Monday 2025-01-06 10:30 UTC = 11:30 CET. First response, 90 min: 30 min until the
    # lunch break at 12:00, then 60 min from 13:00 -> 14:00 CET = 13:00 UTC.
    # Resolution, 240 min: 30 min before lunch, 210 min from 13:00 -> 16:30 CET = 15:30 UTC.
    fake_clock.set(utc("2025-01-06T10:30:00Z"))
    ticket = make_ticket(client, people["individual"], priority="urgent")
    assert due(ticket) == ("2025-01-06T13:00:00Z", "2025-01-06T15:30:00Z")


def test_business_minutes_across_the_dst_change(client, people, fake_clock):
    admin = people["super_admin"]
    put_hours(client, admin, "America/New_York")
    set_sla_policy(client, admin, "high", 120, 600, True)
    # Friday 2025-03-07 16:00 EST (UTC-5) = 21:00 UTC. Clocks spring forward on Sunday 03-09.
    fake_clock.set(utc("2025-03-07T21:00:00Z"))
    ticket = make_ticket(client, people["individual"], priority="high")
    # First response, 2 h: 1 h on Friday, 1 h from Monday 09:00 -> 10:00 EDT (UTC-4) = 14:00 UTC.
    # Resolution, 10 h: 1 h Friday, 8 h Monday, 1 h Tuesday -> Tuesday 10:00 EDT = 14:00 UTC.
    assert due(ticket) == ("2025-03-10T14:00:00Z", "2025-03-11T14:00:00Z")


# --- priority changes -------------------------------------------------------------------------


@pytest.mark.parametrize("staff", ["agent", "super_admin"])
def test_priority_change_recomputes_from_creation(client, people, fake_clock, staff):
    actor = people[staff]
    ticket = make_ticket(client, people["individual"], priority="medium")
    assert due(ticket) == ("2025-01-06T14:00:00Z", "2025-01-07T10:00:00Z")
    fake_clock.set(utc("2025-01-06T11:30:00Z"))
    response = patch(client, actor, ticket["id"], priority="URGENT")
    assert response.status_code == 200, response.text
    changed = response.json()
    assert changed["priority"] == "urgent"
    # From created_at (10:00), not from the change: +15 min, +4 h.
    assert due(changed) == ("2025-01-06T10:15:00Z", "2025-01-06T14:00:00Z")
    # Already past the new first-response target, with no response yet.
    assert changed["sla_first_response_breached"] is True
    assert changed["sla_resolution_breached"] is False
    assert due(fetch_ticket(client, actor, ticket["id"])) == due(changed)

    rows = history(client, actor, ticket["id"])
    assert len(rows) == 1
    assert rows[0]["from_priority"] == "medium"
    assert rows[0]["to_priority"] == "urgent"
    assert rows[0]["from_status"] is None and rows[0]["to_status"] is None
    assert rows[0]["changed_by_id"] == actor.id
    assert rows[0]["changed_at"] == "2025-01-06T11:30:00Z"


def test_priority_change_uses_the_new_policy_in_business_minutes(client, people, fake_clock):
    admin = people["super_admin"]
    fake_clock.set(utc("2025-01-10T16:30:00Z"))
    ticket = make_ticket(client, people["individual"], priority="low")
    # Low, wall-clock: +8 h, +48 h.
    assert due(ticket) == ("2025-01-11T00:30:00Z", "2025-01-12T16:30:00Z")
    set_sla_policy(client, admin, "medium", 240, 1440, True)
    fake_clock.set(utc("2025-01-10T16:45:00Z"))
    response = patch(client, people["agent"], ticket["id"], priority="medium")
    assert response.status_code == 200, response.text
    # Medium in business minutes from the creation on Friday 16:30 (see above).
    assert due(response.json()) == ("2025-01-13T12:30:00Z", "2025-01-15T16:30:00Z")


def test_same_priority_is_no_change(client, people, fake_clock):
    admin = people["super_admin"]
    ticket = make_ticket(client, people["individual"], priority="medium")
    set_sla_policy(client, admin, "medium", 30, 60, False)
    response = patch(client, people["agent"], ticket["id"], priority="Medium")
    assert response.status_code == 200, response.text
    assert due(response.json()) == ("2025-01-06T14:00:00Z", "2025-01-07T10:00:00Z")
    assert history(client, admin, ticket["id"]) == []


def test_customer_may_not_change_the_priority(client, people, fake_clock):
    customer = people["individual"]
    ticket = make_ticket(client, customer, priority="low")
    response = patch(client, customer, ticket["id"], priority="urgent")
    assert response.status_code == 403, response.text
    shown = fetch_ticket(client, customer, ticket["id"])
    assert shown["priority"] == "low"
    assert due(shown) == ("2025-01-06T18:00:00Z", "2025-01-08T10:00:00Z")
    assert history(client, people["agent"], ticket["id"]) == []


def test_bulk_priority_change_recomputes_each_ticket(client, people, fake_clock):
    admin = people["super_admin"]
    first = make_ticket(client, people["individual"], priority="low")
    fake_clock.set(utc("2025-01-06T12:00:00Z"))
    second = make_ticket(client, people["other"], priority="medium")
    fake_clock.set(utc("2025-01-06T13:00:00Z"))
    response = client.post(
        f"{API}/tickets/bulk",
        json={"ticket_ids": [first["id"], second["id"]], "action": "update", "priority": "high"},
        headers=admin.headers,
    )
    assert response.status_code == 200, response.text
    # High, +1 h and +8 h, each from its own creation (10:00 and 12:00).
    assert due(fetch_ticket(client, admin, first["id"])) == (
        "2025-01-06T11:00:00Z",
        "2025-01-06T18:00:00Z",
    )
    assert due(fetch_ticket(client, admin, second["id"])) == (
        "2025-01-06T13:00:00Z",
        "2025-01-06T20:00:00Z",
    )
    for ticket, before in ((first, "low"), (second, "medium")):
        rows = history(client, admin, ticket["id"])
        assert [(r["from_priority"], r["to_priority"]) for r in rows] == [(before, "high")]


# --- policy changes ---------------------------------------------------------------------------


def test_policy_change_leaves_existing_tickets_alone(client, people, fake_clock):
    admin = people["super_admin"]
    old = make_ticket(client, people["individual"], priority="medium")
    set_sla_policy(client, admin, "medium", 30, 60, False)
    put_hours(client, admin, "Asia/Tokyo")
    set_sla_policy(client, admin, "high", 30, 60, True)
    shown = fetch_ticket(client, admin, old["id"])
    assert due(shown) == ("2025-01-06T14:00:00Z", "2025-01-07T10:00:00Z")
    listed = client.get(f"{API}/tickets/", headers=admin.headers).json()
    assert [due(t) for t in listed] == [("2025-01-06T14:00:00Z", "2025-01-07T10:00:00Z")]
    # A ticket created now follows the new policy: +30 min, +60 min.
    new = make_ticket(client, people["individual"], priority="medium")
    assert due(new) == ("2025-01-06T10:30:00Z", "2025-01-06T11:00:00Z")
