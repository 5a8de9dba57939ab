"""Customer satisfaction: when a ticket may be rated and by whom, the signed mail link (GET
shows, POST records), and the statistics against counts made by hand."""

from datetime import timedelta

import pytest

from tests.factories import (
    API,
    count_rows,
    make_ticket,
    make_user,
    set_status,
    ticket_in_status,
    ticket_row,
)
from ticketdesk import clock
from ticketdesk.events.models import Event
from ticketdesk.satisfaction import service as satisfaction
from ticketdesk.satisfaction.models import Rating, SatisfactionRating


def rate(client, actor, ticket_id, rating="good", **extra):
    return client.post(
        f"{API}/tickets/{ticket_id}/satisfaction",
        json={"rating": rating, **extra},
        headers=actor.headers,
    )


def shown(client, actor, ticket_id):
    response = client.get(f"{API}/tickets/{ticket_id}/satisfaction", headers=actor.headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_offered_on_resolve_changeable_until_closed_seven_days(client, people, fake_clock):
    customer, agent = people["individual"], people["agent"]
    ticket = make_ticket(client, customer)
    tid = ticket["id"]
    assert shown(client, customer, tid)["can_rate"] is False
    refused = rate(client, customer, tid)
    assert refused.status_code == 409 and "resolved" in refused.json()["detail"]

    set_status(client, agent, tid, "resolved")
    assert shown(client, customer, tid)["can_rate"] is True
    first = rate(client, customer, tid, "GOOD", comment="Quick and kind.")
    assert first.status_code == 201, first.text
    assert first.json()["rating"] == "good" and first.json()["comment"] == "Quick and kind."
    fake_clock.advance(hours=1)
    changed = rate(client, customer, tid, "bad")
    assert changed.status_code == 200
    assert (changed.json()["rating"], changed.json()["comment"]) == ("bad", None)
    assert changed.json()["created_at"] != changed.json()["updated_at"]
    assert count_rows(client, SatisfactionRating) == 1
    received = count_rows(client, Event, Event.type == "csat.received", Event.ticket_id == tid)
    assert received == 2

    set_status(client, customer, tid, "closed")
    closed_at = clock.now()
    assert shown(client, agent, tid)["changeable_until"] == (
        (closed_at + timedelta(days=7)).isoformat().replace("+00:00", "Z")
    )
    fake_clock.advance(days=7, seconds=-1)
    assert rate(client, customer, tid, "good").status_code == 200
    fake_clock.advance(seconds=1)
    late = rate(client, customer, tid, "bad")
    assert late.status_code == 409 and "7 days" in late.json()["detail"]
    final = shown(client, customer, tid)
    assert (final["rating"], final["can_rate"]) == ("good", False)


def test_reopened_and_merged_tickets_are_not_rated(client, people):
    customer, agent = people["individual"], people["agent"]
    reopened = ticket_in_status(client, people, "reopened")
    assert rate(client, customer, reopened["id"]).status_code == 409
    merged = ticket_in_status(client, people, "resolved")
    into = make_ticket(client, customer)
    response = client.post(
        f"{API}/tickets/{merged['id']}/merge", json={"into": into["id"]}, headers=agent.headers
    )
    assert response.status_code == 200
    assert rate(client, customer, merged["id"]).status_code == 409


def test_only_the_tickets_customer_rates(client, people):
    tid = ticket_in_status(client, people, "resolved")["id"]
    for role in ("agent", "super_admin"):
        assert rate(client, people[role], tid).status_code == 403
    assert rate(client, people["other"], tid).status_code == 404
    assert (
        client.get(f"{API}/tickets/{tid}/satisfaction", headers=people["other"].headers).status_code
        == 404
    )
    assert (
        client.post(f"{API}/tickets/{tid}/satisfaction", json={"rating": "good"}).status_code == 401
    )
    assert count_rows(client, SatisfactionRating) == 0


@pytest.mark.parametrize(
    "body",
    [
        {"rating": "meh"},
        {"rating": None},
        {},
        {"rating": "good", "comment": "x" * 2001},
        {"rating": "good", "comment": ""},
        {"rating": "good", "score": 5},
    ],
)
def test_bad_ratings(client, people, body):
    tid = ticket_in_status(client, people, "resolved")["id"]
    response = client.post(
        f"{API}/tickets/{tid}/satisfaction", json=body, headers=people["individual"].headers
    )
    assert response.status_code == 422
    assert count_rows(client, SatisfactionRating) == 0


def link(client, ticket_id, rating=None):
    async def _url(session):
        from ticketdesk.tickets.models import Ticket

        ticket = await session.get(Ticket, ticket_id)
        key = client.app.state.signing_key
        return satisfaction.rating_url(
            ticket, base_url="http://testserver/", key=key, now=clock.now(), rating=rating
        )

    from tests.factories import in_db

    return in_db(client, _url)


def test_the_mail_link_shows_on_get_and_records_on_post(client, people, fake_clock):
    ticket = ticket_in_status(client, people, "resolved")
    url = link(client, ticket["id"], Rating.BAD)
    assert url.startswith("http://testserver/satisfaction/") and url.endswith("?rating=bad")
    # A mail scanner opening the link (no cookies, no token) records nothing.
    for _ in range(3):
        page = client.get(url)
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert 'value="bad" checked' in page.text and ticket["ticket_number"] in page.text
    assert count_rows(client, SatisfactionRating) == 0

    path = url.split("?")[0]
    saved = client.post(path, data={"rating": "bad", "comment": "Too slow."})
    assert saved.status_code == 200 and "Thank you" in saved.text
    fake_clock.advance(minutes=5)
    client.post(path, data={"rating": "good"})
    api = shown(client, people["individual"], ticket["id"])
    assert (api["rating"], api["comment"]) == ("good", None)
    assert count_rows(client, SatisfactionRating) == 1
    assert client.post(path, data={"rating": "great"}).status_code == 422
    assert client.post(path, data={}).status_code == 422


def test_bad_links(client, people, fake_clock):
    ticket = ticket_in_status(client, people, "resolved")
    path = link(client, ticket["id"]).removeprefix("http://testserver")
    token = path.rsplit("/", 1)[1]
    forged = path[:-4] + ("AAAA" if not path.endswith("AAAA") else "BBBB")
    access_token = people["individual"].token
    for bad in (forged, f"/satisfaction/{access_token}", "/satisfaction/nonsense"):
        assert client.get(bad).status_code == 404
        assert client.post(bad, data={"rating": "good"}).status_code == 404
    # A link is not an access token.
    me = client.get(f"{API}/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 401
    fake_clock.advance(days=31)
    assert client.get(path).status_code == 404
    assert count_rows(client, SatisfactionRating) == 0


def test_the_link_respects_the_seven_days(client, people, fake_clock):
    ticket = ticket_in_status(client, people, "resolved")
    path = link(client, ticket["id"]).removeprefix("http://testserver")
    set_status(client, people["agent"], ticket["id"], "closed")
    fake_clock.advance(days=8)
    assert client.get(path).status_code == 200  # the page still says what it is about
    refused = client.post(path, data={"rating": "good"})
    assert refused.status_code == 409 and "7 days" in refused.text
    assert count_rows(client, SatisfactionRating) == 0


# --- Statistics -------------------------------------------------------------------------------


def test_statistics_against_hand_counts(client, people, fake_clock):
    """Two agents and a few customers; every figure below was worked out by hand."""
    admin = people["super_admin"]
    sarah, tom = make_user(client, "agent", name="Sarah"), make_user(client, "agent", name="Tom")
    customers = [make_user(client, "individual") for _ in range(4)]

    def handled(agent, customer, *, answer_after, resolve_after, rating=None):
        ticket = make_ticket(client, customer)
        tid = ticket["id"]
        start = clock.now()
        assign = client.post(
            f"{API}/tickets/{tid}/assign", json={"assigned_to_id": agent.id}, headers=admin.headers
        )
        assert assign.status_code == 200
        fake_clock.set(start + timedelta(hours=answer_after))
        client.post(
            f"{API}/tickets/{tid}/comments", json={"comment": "On it."}, headers=agent.headers
        )
        if resolve_after is not None:
            fake_clock.set(start + timedelta(hours=resolve_after))
            set_status(client, agent, tid, "resolved")
            if rating:
                assert rate(client, customer, tid, rating).status_code == 201
        fake_clock.set(start)
        return tid

    # Sarah: 3 tickets, answered after 1, 2 and 3 hours, two resolved after 4 and 8 hours,
    # rated good and bad; a third of hers is merged away (assigned, not resolved).
    handled(sarah, customers[0], answer_after=1, resolve_after=4, rating="good")
    handled(sarah, customers[1], answer_after=2, resolve_after=8, rating="bad")
    merged = handled(sarah, customers[2], answer_after=3, resolve_after=None)
    # Tom: 2 tickets, both resolved (after 2 and 6 hours), both rated good, answered after 1.
    handled(tom, customers[0], answer_after=1, resolve_after=2, rating="good")
    into = handled(tom, customers[3], answer_after=1, resolve_after=6, rating="good")
    response = client.post(
        f"{API}/tickets/{merged}/merge", json={"into": into}, headers=admin.headers
    )
    assert response.status_code == 200
    assert ticket_row(client, merged).resolved_at is not None  # closing stamps it

    overview = client.get(f"{API}/tickets/statistics/overview", headers=admin.headers).json()
    assert overview["satisfaction"] == {"good": 3, "bad": 1, "score": 75.0}
    response = client.get(f"{API}/tickets/statistics/agents", headers=admin.headers)
    assert response.status_code == 200
    rows = {row["agent_id"]: row for row in response.json()}
    assert rows[sarah.id] == {
        "agent_id": sarah.id,
        "name": "Sarah",
        "assigned": 3,
        "resolved": 2,
        "average_first_response_time": 2.0,
        "average_resolution_time": 6.0,
        "satisfaction_score": 50.0,
    }
    assert rows[tom.id] == {
        "agent_id": tom.id,
        "name": "Tom",
        "assigned": 2,
        "resolved": 2,
        "average_first_response_time": 1.0,
        "average_resolution_time": 4.0,
        "satisfaction_score": 100.0,
    }
    idle = rows[people["agent"].id]
    assert (idle["assigned"], idle["resolved"], idle["satisfaction_score"]) == (0, 0, None)
    assert idle["average_first_response_time"] is None
    assert set(rows) == {sarah.id, tom.id, people["agent"].id, admin.id}
    assert [row["agent_id"] for row in response.json()] == sorted(rows)


def test_statistics_date_range(client, people, fake_clock):
    admin, customer = people["super_admin"], people["individual"]
    tid = ticket_in_status(client, people, "resolved")["id"]
    assert rate(client, customer, tid, "bad").status_code == 201
    day = clock.now().date().isoformat()
    before = (clock.now().date() - timedelta(days=1)).isoformat()

    def sat(**params):
        response = client.get(
            f"{API}/tickets/statistics/overview", params=params, headers=admin.headers
        )
        return response.json()["satisfaction"]

    assert sat(start_date=day, end_date=day) == {"good": 0, "bad": 1, "score": 0.0}
    assert sat(end_date=before) == {"good": 0, "bad": 0, "score": None}
    agents = client.get(
        f"{API}/tickets/statistics/agents", params={"end_date": before}, headers=admin.headers
    ).json()
    assert all(row["assigned"] == 0 for row in agents)
    wrong = client.get(
        f"{API}/tickets/statistics/agents",
        params={"start_date": day, "end_date": before},
        headers=admin.headers,
    )
    assert wrong.status_code == 422


@pytest.mark.parametrize("role", ["individual", "enterprise", "sub_user", "agent"])
def test_agent_statistics_are_the_super_admins(client, people, role):
    response = client.get(f"{API}/tickets/statistics/agents", headers=people[role].headers)
    assert response.status_code == 403
