"""The agent desk through its forms: views, the composer, collisions, ticket controls."""

import re

from fastapi.testclient import TestClient

from tests.factories import (
    API,
    FakeClock,
    People,
    fetch_ticket,
    footprint,
    make_ticket,
    post_comment,
    set_status,
)
from tests.web.pages import browser_for

VIEW_NAMES = (
    "My open",
    "Unassigned",
    "All open",
    "Waiting on customer",
    "Breaching soon",
    "Recently updated",
)


def counts(page: str) -> dict[str, str]:
    found = re.findall(r"<span>([^<]+)</span> <span class=\"count\">([^<]+)</span>", page)
    return dict(found)


def assign(client: TestClient, actor: object, ticket_id: int, to: int) -> None:
    headers = actor.headers  # type: ignore[attr-defined]
    body = {"assigned_to_id": to}
    response = client.post(f"{API}/tickets/{ticket_id}/assign", json=body, headers=headers)
    assert response.status_code == 200, response.text


def test_the_six_views_with_their_counts(
    client: TestClient, people: People, fake_clock: FakeClock
) -> None:
    agent = people["agent"]
    mine = make_ticket(client, people["individual"], subject="Mine", priority="low")
    assign(client, agent, mine["id"], agent.id)
    make_ticket(client, people["individual"], subject="Nobody's", priority="low")
    waiting = make_ticket(client, people["other"], subject="Waiting", priority="low")
    set_status(client, agent, waiting["id"], "waiting_on_customer")
    make_ticket(client, people["other"], subject="Urgent one", priority="urgent")
    done = make_ticket(client, people["other"], subject="Done", priority="low")
    set_status(client, agent, done["id"], "closed")
    fake_clock.advance(minutes=10)  # the urgent first response (15 min) is due within the hour
    page = browser_for(client, agent).get("/desk").text
    assert counts(page) == {
        "My open": "1",
        "Unassigned": "3",
        "All open": "4",
        "Waiting on customer": "1",
        "Breaching soon": "1",
        "Recently updated": "5",
    }
    browser = browser_for(client, agent)
    expected = {
        "my_open": {"Mine"},
        "unassigned": {"Nobody's", "Waiting", "Urgent one"},
        "waiting": {"Waiting"},
        "breaching": {"Urgent one"},
        "recent": {"Mine", "Nobody's", "Waiting", "Urgent one", "Done"},
    }
    for view, subjects in expected.items():
        page = browser.get(f"/desk?view={view}").text
        shown = set(re.findall(r"<td>(Mine|Nobody&#39;s|Waiting|Urgent one|Done)</td>", page))
        assert {s.replace("&#39;", "'") for s in shown} == subjects, view


def test_filters_sort_and_pages_are_the_apis(client: TestClient, people: People) -> None:
    for n in range(23):
        make_ticket(client, people["individual"], subject=f"Ticket {n:02d}", priority="high")
    make_ticket(client, people["individual"], subject="Low one", priority="low")
    browser = browser_for(client, people["agent"])
    first = browser.get("/desk?view=all_open&sort=created_at").text
    assert "Ticket 00" in first and "Ticket 19" in first and "Ticket 20" not in first
    assert 'rel="next"' in first and "Page 1 · 24 tickets" in first
    second = browser.get("/desk?view=all_open&sort=created_at&page=2").text
    assert "Ticket 20" in second and "Low one" in second and 'rel="prev"' in second
    low = browser.get("/desk?view=all_open&priority=low").text
    assert "Low one" in low and "Ticket 00" not in low
    found = browser.get("/desk?view=all_open&q=ticket%2005").text
    assert "Ticket 05" in found and "Ticket 06" not in found
    assert browser.get("/desk?view=all_open&sort=sideways").status_code == 422


def test_reply_and_internal_note_from_the_composer(client: TestClient, people: People) -> None:
    ticket = make_ticket(client, people["individual"])
    number = ticket["ticket_number"]
    browser = browser_for(client, people["agent"])
    page = browser.get(f"/desk/tickets/{number}").text
    for control in ("Status", "Priority", "Category", "Assignee", "Tags"):
        assert f">{control}</label>" in page
    assert ">Take it</button>" in page and ">Send</button>" in page
    assert ">Internal note</a>" in page and ">Reply</a>" in page
    note = browser.post(
        f"/desk/tickets/{number}/comments", {"comment": "Check logs", "mode": "note"}
    )
    assert note.status_code == 303
    reply = browser.post(f"/desk/tickets/{number}/comments", {"comment": "On it", "mode": "reply"})
    assert reply.status_code == 303
    comments = client.get(f"{API}/tickets/{ticket['id']}/comments", headers=people["agent"].headers)
    assert [(c["comment"], c["is_internal"]) for c in comments.json()] == [
        ("Check logs", True),
        ("On it", False),
    ]
    portal = browser_for(client, people["individual"]).get(f"/portal/tickets/{number}").text
    assert "On it" in portal and "Check logs" not in portal


def test_a_reply_after_someone_elses_reply_asks_to_confirm(
    client: TestClient, people: People
) -> None:
    ticket = make_ticket(client, people["individual"])
    number = ticket["ticket_number"]
    ana = browser_for(client, people["agent"])
    page = ana.get(f"/desk/tickets/{number}").text
    seen = re.search(r'name="seen_comment_id" value="(\d+)"', page).group(1)  # type: ignore[union-attr]
    post_comment(client, people["super_admin"], ticket["id"], "I have answered this already")
    before = footprint(client, ticket["id"])
    form = {"comment": "My answer", "mode": "reply", "seen_comment_id": seen}
    held = ana.post(f"/desk/tickets/{number}/comments", form)
    assert held.status_code == 409
    assert "replied while you were writing" in held.text
    assert "I have answered this already" in held.text
    assert "My answer" in held.text  # the draft is kept
    assert 'name="confirm" value="yes"' in held.text
    assert footprint(client, ticket["id"]) == before
    sent = ana.post(f"/desk/tickets/{number}/comments", form | {"confirm": "yes"})
    assert sent.status_code == 303
    assert fetch_ticket(client, people["agent"], ticket["id"])["comments_count"] == 2


def test_an_internal_note_or_an_own_reply_is_no_collision(
    client: TestClient, people: People
) -> None:
    ticket = make_ticket(client, people["individual"])
    post_comment(client, people["super_admin"], ticket["id"], "just a note", is_internal=True)
    ana = browser_for(client, people["agent"])
    form = {"comment": "Answer", "mode": "reply", "seen_comment_id": "0"}
    assert ana.post(f"/desk/tickets/{ticket['ticket_number']}/comments", form).status_code == 303
    form["comment"] = "And one more thing"
    assert ana.post(f"/desk/tickets/{ticket['ticket_number']}/comments", form).status_code == 303


def test_the_api_refuses_a_stale_reply_too(client: TestClient, people: People) -> None:
    ticket = make_ticket(client, people["individual"])
    first = post_comment(client, people["individual"], ticket["id"], "Any news?")
    body = {"comment": "Late", "seen_comment_id": first["id"] - 1}
    response = client.post(
        f"{API}/tickets/{ticket['id']}/comments", json=body, headers=people["agent"].headers
    )
    assert response.status_code == 409
    body["seen_comment_id"] = first["id"]
    response = client.post(
        f"{API}/tickets/{ticket['id']}/comments", json=body, headers=people["agent"].headers
    )
    assert response.status_code == 201


def test_properties_take_it_and_the_timeline(
    client: TestClient, people: People, fake_clock: FakeClock
) -> None:
    ticket = make_ticket(client, people["individual"], priority="medium")
    number = ticket["ticket_number"]
    browser = browser_for(client, people["agent"])
    assert browser.post(f"/desk/tickets/{number}/take").status_code == 303
    got = fetch_ticket(client, people["agent"], ticket["id"])
    assert got["assigned_to_id"] == people["agent"].id and got["status"] == "in_progress"
    form = {
        "status": "resolved",
        "priority": "high",
        "category": "billing",
        "assigned_to_id": str(people["agent"].id),
        "tags": "vip, invoice",
        "note": "Fixed the invoice",
    }
    fake_clock.advance(minutes=5)
    assert browser.post(f"/desk/tickets/{number}/properties", form).status_code == 303
    got = fetch_ticket(client, people["agent"], ticket["id"])
    assert (got["status"], got["priority"], got["category"], got["tags"]) == (
        "resolved",
        "high",
        "billing",
        ["vip", "invoice"],
    )
    page = browser.get(f"/desk/tickets/{number}").text
    assert "changed the status from In progress to Resolved" in page
    assert "Fixed the invoice" in page
    assert "Agent" in page  # names in the timeline and the assignee control


def test_an_agent_cannot_assign_someone_else(client: TestClient, people: People) -> None:
    ticket = make_ticket(client, people["individual"])
    browser = browser_for(client, people["agent"])
    before = footprint(client, ticket["id"])
    form = {"assigned_to_id": str(people["super_admin"].id)}
    response = browser.post(f"/desk/tickets/{ticket['ticket_number']}/properties", form)
    assert response.status_code == 403
    assert footprint(client, ticket["id"]) == before


def test_sla_time_left_and_the_requesters_other_tickets(
    client: TestClient, people: People, fake_clock: FakeClock
) -> None:
    older = make_ticket(client, people["individual"], subject="Earlier problem")
    ticket = make_ticket(client, people["individual"], priority="high")
    fake_clock.advance(minutes=20)
    page = browser_for(client, people["agent"]).get(f"/desk/tickets/{ticket['ticket_number']}")
    assert "40 min left" in page.text  # first response within 60 minutes
    assert "7 h 40 min left" in page.text  # resolution within 8 hours
    assert older["ticket_number"] in page.text and "Earlier problem" in page.text
    fake_clock.advance(minutes=50)
    page = browser_for(client, people["agent"]).get(f"/desk/tickets/{ticket['ticket_number']}")
    assert "overdue by 10 min" in page.text


def test_every_desk_form_needs_the_csrf_token(client: TestClient, people: People) -> None:
    ticket = make_ticket(client, people["individual"])
    number = ticket["ticket_number"]
    browser = browser_for(client, people["super_admin"])
    before = footprint(client, ticket["id"])
    for url, data in (
        (f"/desk/tickets/{number}/comments", {"comment": "c"}),
        (f"/desk/tickets/{number}/take", {}),
        (f"/desk/tickets/{number}/properties", {"status": "closed"}),
        ("/desk/bulk", {"action": "status:closed", "ticket_ids": str(ticket["id"])}),
    ):
        assert browser.post(url, data, csrf=False).status_code == 403, url
    assert footprint(client, ticket["id"]) == before


def test_presence_heartbeats_name_who_is_on_a_ticket(
    client: TestClient, people: People, fake_clock: FakeClock
) -> None:
    from tests.factories import in_db
    from ticketdesk import clock
    from ticketdesk.web import presence

    ticket = make_ticket(client, people["individual"])
    url = f"/desk/tickets/{ticket['ticket_number']}/presence"
    agent, admin = browser_for(client, people["agent"]), browser_for(client, people["super_admin"])
    assert agent.post(url, {"mode": "viewing"}).status_code == 204
    assert admin.post(url, {"mode": "replying"}).status_code == 204
    assert (
        browser_for(client, people["individual"]).post(url, {"mode": "viewing"}).status_code == 404
    )

    async def there(session: object) -> list[tuple[int, str, str]]:
        found = await presence.present(session, [ticket["id"]], now=clock.now())  # type: ignore[arg-type]
        return found[ticket["id"]]

    assert [(name, mode) for _, name, mode in in_db(client, there)] == [
        ("Agent 4", "viewing"),
        ("Super_Admin 5", "replying"),
    ]
    assert admin.post(url, {"mode": "gone"}).status_code == 204
    assert [name for _, name, _ in in_db(client, there)] == ["Agent 4"]
    fake_clock.advance(seconds=46)  # no heartbeat for longer than the TTL
    assert in_db(client, there) == []
    assert agent.post(url, {"mode": "viewing"}, csrf=False).status_code == 403
