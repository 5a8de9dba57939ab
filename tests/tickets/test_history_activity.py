"""GET /tickets/{id}/history and /activity: the trail every change leaves, for staff only."""

from datetime import timedelta

from tests.factories import API, iso, make_ticket, set_status

HISTORY_FIELDS = {
    "id",
    "ticket_id",
    "changed_by_id",
    "from_status",
    "to_status",
    "from_priority",
    "to_priority",
    "from_assigned_to_id",
    "to_assigned_to_id",
    "change_note",
    "changed_at",
}


def get(client, actor, path):
    response = client.get(f"{API}{path}", headers=actor.headers)
    assert response.status_code == 200, response.text
    return response.json()


def send(client, method, actor, path, body, expect=200):
    """A write through the API that must succeed; its JSON answer."""
    response = client.request(method, f"{API}{path}", json=body, headers=actor.headers)
    assert response.status_code == expect, response.text
    return response.json()


def history_row(ticket_id, by, when, **changed):
    row = dict.fromkeys(HISTORY_FIELDS - {"id"})
    return row | {"ticket_id": ticket_id, "changed_by_id": by, "changed_at": iso(when), **changed}


def test_history_is_every_change_oldest_first(client, people, fake_clock):
    customer, agent, admin = people["individual"], people["agent"], people["super_admin"]
    ticket = make_ticket(client, customer)
    tid, t0 = ticket["id"], fake_clock.current

    fake_clock.advance(minutes=5)
    send(client, "PATCH", admin, f"/tickets/{tid}", {"priority": "HIGH"})
    fake_clock.advance(minutes=5)
    send(
        client,
        "POST",
        admin,
        f"/tickets/{tid}/assign",
        {"assigned_to_id": agent.id, "note": "yours"},
    )
    fake_clock.advance(minutes=10)
    set_status(client, agent, tid, "waiting_on_customer", note="asked for logs")
    fake_clock.advance(minutes=10)
    send(
        client,
        "POST",
        customer,
        f"/tickets/{tid}/comments",
        {"comment": "logs attached"},
        expect=201,
    )
    fake_clock.advance(minutes=10)
    set_status(client, agent, tid, "resolved")

    for viewer in (agent, admin):
        history = get(client, viewer, f"/tickets/{tid}/history")
        assert all(set(row) == HISTORY_FIELDS for row in history)
        ids = [row.pop("id") for row in history]
        assert ids == sorted(ids) and len(set(ids)) == len(ids)
        assert history == [
            history_row(
                tid, admin.id, t0 + timedelta(minutes=5), from_priority="medium", to_priority="high"
            ),
            history_row(
                tid,
                admin.id,
                t0 + timedelta(minutes=10),
                from_status="open",
                to_status="in_progress",
                to_assigned_to_id=agent.id,
                change_note="yours",
            ),
            history_row(
                tid,
                agent.id,
                t0 + timedelta(minutes=20),
                from_status="in_progress",
                to_status="waiting_on_customer",
                change_note="asked for logs",
            ),
            history_row(
                tid,
                customer.id,
                t0 + timedelta(minutes=30),
                from_status="waiting_on_customer",
                to_status="in_progress",
            ),
            history_row(
                tid,
                agent.id,
                t0 + timedelta(minutes=40),
                from_status="in_progress",
                to_status="resolved",
            ),
        ]
    by_number = get(client, agent, f"/tickets/{ticket['ticket_number']}/history")
    assert [row["id"] for row in by_number] == ids


def test_a_new_ticket_has_no_history(client, people):
    tid = make_ticket(client, people["individual"])["id"]
    assert get(client, people["agent"], f"/tickets/{tid}/history") == []


def test_activity_is_one_timeline(client, people, fake_clock):
    customer, agent, admin = people["individual"], people["agent"], people["super_admin"]
    t0 = fake_clock.current
    tid = make_ticket(client, customer, subject="Report fails", priority="urgent")["id"]
    # Urgent: first response due at t0 + 15 minutes.

    fake_clock.advance(minutes=1)
    send(client, "PATCH", customer, f"/tickets/{tid}", {"subject": "Monthly report fails"})
    fake_clock.advance(minutes=1)
    written = send(
        client,
        "POST",
        customer,
        f"/tickets/{tid}/comments",
        {"comment": "Since Monday"},
        expect=201,
    )
    fake_clock.advance(minutes=1)
    send(
        client,
        "PATCH",
        customer,
        f"/tickets/{tid}/comments/{written['id']}",
        {"comment": "Since Tuesday"},
    )
    before_due = get(client, agent, f"/tickets/{tid}/activity")
    assert "sla_breached" not in [entry["kind"] for entry in before_due]

    fake_clock.advance(minutes=17)  # t0 + 20 min: the first response is late
    send(client, "POST", admin, f"/tickets/{tid}/assign", {"assigned_to_id": agent.id})
    fake_clock.advance(minutes=5)
    set_status(client, agent, tid, "waiting_on_customer", note="need logs")

    activity = get(client, agent, f"/tickets/{tid}/activity")
    assert activity == get(client, admin, f"/tickets/{tid}/activity")
    summary = [(e["kind"], e["actor_id"], e["created_at"], e["details"]) for e in activity]
    at = lambda minutes: iso(t0 + timedelta(minutes=minutes))  # noqa: E731
    assert summary == [
        ("created", customer.id, at(0), {}),
        (
            "field_changed",
            customer.id,
            at(1),
            {"field": "subject", "old": "Report fails", "new": "Monthly report fails"},
        ),
        ("comment_added", customer.id, at(2), {"text": "Since Monday", "is_internal": False}),
        (
            "comment_edited",
            customer.id,
            at(3),
            {
                "comment_id": written["id"],
                "old": "Since Monday",
                "new": "Since Tuesday",
                "is_internal": False,
            },
        ),
        ("sla_breached", None, at(15), {"target": "first_response"}),
        ("status_changed", admin.id, at(20), {"old": "open", "new": "in_progress", "note": None}),
        ("assigned", admin.id, at(20), {"old": None, "new": agent.id, "note": None}),
        (
            "status_changed",
            agent.id,
            at(25),
            {"old": "in_progress", "new": "waiting_on_customer", "note": "need logs"},
        ),
    ]
    recorded = [e["id"] for e in activity if e["kind"] != "sla_breached"]
    assert all(isinstance(i, int) for i in recorded) and recorded == sorted(recorded)
    assert [e["id"] for e in activity if e["kind"] == "sla_breached"] == [None]

    # A late first response does not undo the breach.
    fake_clock.advance(minutes=5)
    send(client, "POST", agent, f"/tickets/{tid}/comments", {"comment": "Got them"}, expect=201)
    kinds = [e["kind"] for e in get(client, agent, f"/tickets/{tid}/activity")]
    assert kinds.count("sla_breached") == 1


def test_priority_edit_in_the_activity(client, people):
    admin = people["super_admin"]
    tid = make_ticket(client, people["individual"])["id"]
    send(client, "PATCH", admin, f"/tickets/{tid}", {"priority": "low", "category": "billing"})
    changes = [
        e["details"]
        for e in get(client, admin, f"/tickets/{tid}/activity")
        if e["kind"] == "field_changed"
    ]
    assert sorted(changes, key=lambda d: d["field"]) == [
        {"field": "category", "old": "general_inquiry", "new": "billing"},
        {"field": "priority", "old": "medium", "new": "low"},
    ]


def test_sla_breaches_appear_once_their_due_time_has_passed(client, people, fake_clock):
    customer, agent = people["individual"], people["agent"]
    t0 = fake_clock.current
    silent = make_ticket(client, customer)["id"]  # medium: 240 / 1440 minutes
    answered = make_ticket(client, customer)["id"]
    fake_clock.advance(minutes=10)
    send(client, "POST", agent, f"/tickets/{answered}/comments", {"comment": "On it"}, expect=201)

    def breaches(tid):
        activity = get(client, agent, f"/tickets/{tid}/activity")
        return [
            (e["details"]["target"], e["created_at"])
            for e in activity
            if e["kind"] == "sla_breached"
        ]

    fake_clock.set(t0 + timedelta(minutes=240))
    assert breaches(silent) == []
    fake_clock.set(t0 + timedelta(minutes=241))
    assert breaches(silent) == [("first_response", iso(t0 + timedelta(minutes=240)))]
    assert breaches(answered) == []
    fake_clock.set(t0 + timedelta(hours=24, minutes=1))
    assert breaches(silent) == [
        ("first_response", iso(t0 + timedelta(minutes=240))),
        ("resolution", iso(t0 + timedelta(hours=24))),
    ]
    assert breaches(answered) == [("resolution", iso(t0 + timedelta(hours=24)))]


def test_history_and_activity_are_for_staff_only(client, people):
    owner = people["individual"]
    tid = make_ticket(client, owner)["id"]
    for path in ("history", "activity"):
        url = f"{API}/tickets/{tid}/{path}"
        assert client.get(url, headers=owner.headers).status_code == 403, path
        for stranger in ("other", "enterprise", "sub_user"):
            assert client.get(url, headers=people[stranger].headers).status_code == 404, path
        response = client.get(url)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"
        for staff in ("agent", "super_admin"):
            assert client.get(url, headers=people[staff].headers).status_code == 200
        missing = f"{API}/tickets/999999/{path}"
        assert client.get(missing, headers=people["agent"].headers).status_code == 404
