"""Webhooks end to end: a real receiver verifies every request with `standardwebhooks`."""

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest

from tests.factories import (
    API,
    fetch_ticket,
    in_db,
    make_api_token,
    make_ticket,
    post_comment,
    run_jobs,
    set_status,
)
from tests.webhooks.receiver import Receiver
from ticketdesk.webhooks import sender

HOOKS = f"{API}/webhooks"


def subscribe(client, people, receiver: Receiver, types=("*",), **fields):
    response = client.post(
        HOOKS,
        json={"url": receiver.url, "event_types": list(types), **fields},
        headers=people["super_admin"].headers,
    )
    assert response.status_code == 201, response.text
    hook = response.json()
    receiver.secret = hook["secret"]
    return hook


def deliveries(client, people, hook_id):
    response = client.get(f"{HOOKS}/{hook_id}/deliveries", headers=people["super_admin"].headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_crud_and_the_secret_shown_once(client, people):
    admin = people["super_admin"].headers
    response = client.post(
        HOOKS,
        json={
            "url": "https://hooks.example.org/td",
            "event_types": ["Ticket.Created", "ticket.created", "comment.created"],
            "description": "CRM sync",
        },
        headers=admin,
    )
    assert response.status_code == 201, response.text
    hook = response.json()
    assert hook["secret"].startswith("whsec_")
    assert len(base64.b64decode(hook["secret"][6:])) == 32
    assert hook["event_types"] == ["ticket.created", "comment.created"]
    assert hook["is_active"] is True and hook["disabled_reason"] is None
    shown = client.get(f"{HOOKS}/{hook['id']}", headers=admin).json()
    assert "secret" not in shown and hook["secret"] not in json.dumps(shown)
    assert [h["id"] for h in client.get(HOOKS, headers=admin).json()] == [hook["id"]]
    response = client.patch(
        f"{HOOKS}/{hook['id']}",
        json={"event_types": ["*"], "description": "all", "is_active": False},
        headers=admin,
    )
    assert response.status_code == 200, response.text
    assert response.json()["event_types"] == ["*"] and response.json()["is_active"] is False
    assert client.delete(f"{HOOKS}/{hook['id']}", headers=admin).status_code == 204
    assert client.get(f"{HOOKS}/{hook['id']}", headers=admin).status_code == 404
    assert client.delete(f"{HOOKS}/{hook['id']}", headers=admin).status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"url": "https://hooks.example.org/", "event_types": ["ticket.exploded"]},
        {"url": "https://hooks.example.org/", "event_types": ["*", "ticket.created"]},
        {"url": "https://hooks.example.org/", "event_types": []},
        {"url": "https://hooks.example.org/"},
        {"url": "ftp://hooks.example.org/", "event_types": ["*"]},
        {"url": "file:///etc/passwd", "event_types": ["*"]},
        {"url": "https:///nohost", "event_types": ["*"]},
        {"url": "https://user:pw@hooks.example.org/", "event_types": ["*"]},
        {"url": "not a url", "event_types": ["*"]},
        {"url": "https://hooks.example.org/", "event_types": ["*"], "secret": "mine"},
    ],
)
def test_bad_input_is_422(client, people, body):
    response = client.post(HOOKS, json=body, headers=people["super_admin"].headers)
    assert response.status_code == 422, response.text
    assert client.get(HOOKS, headers=people["super_admin"].headers).json() == []


def test_a_delivery_is_signed_and_carries_the_ticket_as_staff_see_it(client, people, receiver):
    hook = subscribe(client, people, receiver, ["ticket.created"])
    ticket = make_ticket(client, people["individual"], priority="high")
    assert receiver.received == []  # nothing is sent from the request
    run_jobs(client)
    [got] = receiver.received
    assert got.verified
    payload = got.payload
    assert payload["type"] == "ticket.created"
    assert got.webhook_id == f"evt_{payload['id']}"
    assert payload["data"]["ticket"] == fetch_ticket(client, people["agent"], ticket["id"])
    assert payload["data"]["actor_id"] == people["individual"].id
    assert payload["timestamp"].endswith("Z")
    assert abs(got.timestamp - datetime.now(UTC).timestamp()) < 60
    [row] = deliveries(client, people, hook["id"])
    assert row["status"] == "succeeded" and row["attempts"] == 1
    assert row["last_status_code"] == 200 and row["delivered_at"] is not None
    assert row["event_type"] == "ticket.created" and str(row["event_id"]) == payload["id"]


def test_only_the_subscribed_types_and_only_events_after_the_webhook(client, people, receiver):
    before = make_ticket(client, people["individual"])
    subscribe(client, people, receiver, ["comment.created"])
    post_comment(client, people["agent"], before["id"], "Public answer")
    post_comment(client, people["agent"], before["id"], "Internal", is_internal=True)
    make_ticket(client, people["individual"])
    run_jobs(client)
    assert receiver.types() == ["comment.created"]
    assert all(r.verified for r in receiver.received)


def test_every_change_reaches_a_catch_all_webhook_in_order(client, people, receiver):
    subscribe(client, people, receiver)
    ticket = make_ticket(client, people["individual"])
    post_comment(client, people["agent"], ticket["id"], "On it")
    note = "Customer is on the legacy plan"
    post_comment(client, people["agent"], ticket["id"], note, is_internal=True)
    set_status(client, people["agent"], ticket["id"], "resolved")
    run_jobs(client)
    types = receiver.types()
    assert types[0] == "ticket.created"
    assert {"comment.created", "note.created", "ticket.status_changed"} <= set(types)
    ids = [int(r.payload["id"]) for r in receiver.received]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    # Staff-level receiver, but the note's text still never travels in an event.
    assert all(note not in r.body.decode() for r in receiver.received)


def test_retries_keep_the_webhook_id_and_sign_every_attempt(client, people, receiver):
    hook = subscribe(client, people, receiver)
    receiver.answer(500, 503)
    make_ticket(client, people["individual"])
    run_jobs(client)
    assert [r.answered for r in receiver.received] == [500, 503, 200]
    assert len({r.webhook_id for r in receiver.received}) == 1
    assert all(r.verified for r in receiver.received)
    [row] = deliveries(client, people, hook["id"])
    assert row["status"] == "succeeded" and row["attempts"] == 3


def test_failed_after_the_last_attempt_then_the_next_event_goes_out(client, people, receiver):
    hook = subscribe(client, people, receiver, ["ticket.created"])
    receiver.answer(500, 500, 500)
    make_ticket(client, people["individual"])
    make_ticket(client, people["individual"])
    run_jobs(client)
    # Schedule "0,0": the first attempt and two retries, then given up; the next follows.
    assert [r.answered for r in receiver.received] == [500, 500, 500, 200]
    newest, oldest = deliveries(client, people, hook["id"])
    assert oldest["status"] == "failed" and oldest["attempts"] == 3
    assert oldest["last_status_code"] == 500 and "HTTP 500" in oldest["last_error"]
    assert newest["status"] == "succeeded"


def test_order_is_kept_while_a_delivery_waits_for_its_retry(client, people, receiver, fake_clock):
    fake_clock.set(datetime.now(UTC))  # the receiver checks timestamps against its own clock
    client.app.state.settings.webhook_retry_seconds = "5,300"
    hook = subscribe(client, people, receiver, ["ticket.created"])
    receiver.answer(500)
    numbers = [make_ticket(client, people["individual"])["ticket_number"] for _ in range(3)]
    run_jobs(client)
    assert [r.answered for r in receiver.received] == [500]
    rows = deliveries(client, people, hook["id"])
    assert [r["status"] for r in rows] == ["pending", "pending", "pending"]
    assert rows[-1]["next_attempt_at"] is not None
    fake_clock.advance(seconds=4)
    run_jobs(client)
    assert len(receiver.received) == 1
    fake_clock.advance(seconds=1)
    run_jobs(client)
    sent = [r.payload["data"]["ticket"]["ticket_number"] for r in receiver.received]
    assert sent == [numbers[0], numbers[0], numbers[1], numbers[2]]
    assert all(r.verified for r in receiver.received)


def test_retry_after_is_honoured(client, people, receiver, fake_clock):
    fake_clock.set(datetime.now(UTC))
    client.app.state.settings.webhook_retry_seconds = "5"
    hook = subscribe(client, people, receiver)
    receiver.answer(429, headers={"Retry-After": "60"})
    make_ticket(client, people["individual"])
    run_jobs(client)
    fake_clock.advance(seconds=30)
    run_jobs(client)
    assert len(receiver.received) == 1
    fake_clock.advance(seconds=30)
    run_jobs(client)
    assert [r.answered for r in receiver.received] == [429, 200]
    assert deliveries(client, people, hook["id"])[0]["status"] == "succeeded"


def test_410_disables_the_webhook(client, people, receiver):
    hook = subscribe(client, people, receiver)
    receiver.answer(410)
    make_ticket(client, people["individual"])
    run_jobs(client)
    shown = client.get(f"{HOOKS}/{hook['id']}", headers=people["super_admin"].headers).json()
    assert shown["is_active"] is False and "410" in shown["disabled_reason"]
    [row] = deliveries(client, people, hook["id"])
    assert row["status"] == "failed" and row["last_status_code"] == 410
    make_ticket(client, people["individual"])
    run_jobs(client)
    assert len(receiver.received) == 1
    assert len(deliveries(client, people, hook["id"])) == 1
    # Switched back on, it gets what happens from then on.
    client.patch(
        f"{HOOKS}/{hook['id']}", json={"is_active": True}, headers=people["super_admin"].headers
    )
    make_ticket(client, people["individual"])
    run_jobs(client)
    assert [r.answered for r in receiver.received] == [410, 200]


def test_ping(client, people, receiver):
    hook = subscribe(client, people, receiver)
    response = client.post(f"{HOOKS}/{hook['id']}/ping", headers=people["super_admin"].headers)
    assert response.status_code == 202, response.text
    assert response.json()["event_type"] == "webhook.ping"
    assert response.json()["status"] == "pending"
    run_jobs(client)
    [got] = receiver.received
    assert got.verified and got.payload["type"] == "webhook.ping"
    assert got.payload["data"] == {"webhook_id": hook["id"]}
    assert deliveries(client, people, hook["id"])[0]["status"] == "succeeded"


def test_rotating_the_secret_stops_the_old_one_at_once(client, people, receiver):
    hook = subscribe(client, people, receiver)
    old = hook["secret"]
    response = client.post(
        f"{HOOKS}/{hook['id']}/rotate-secret", headers=people["super_admin"].headers
    )
    assert response.status_code == 200
    new = response.json()["secret"]
    assert new.startswith("whsec_") and new != old
    make_ticket(client, people["individual"])
    run_jobs(client)
    [got] = receiver.received
    assert not got.verified  # the receiver still holds the old secret
    receiver.secret = new
    assert receiver.verify(got.body, _headers(got))


def _headers(got):
    return {
        "webhook-id": got.webhook_id,
        "webhook-timestamp": str(got.timestamp),
        "webhook-signature": got.signature,
    }


def test_manual_retry_sends_the_same_message_again(client, people, receiver):
    client.app.state.settings.webhook_retry_seconds = ""
    hook = subscribe(client, people, receiver)
    receiver.answer(500)
    make_ticket(client, people["individual"])
    run_jobs(client)
    [row] = deliveries(client, people, hook["id"])
    assert row["status"] == "failed" and row["attempts"] == 1
    response = client.post(
        f"{HOOKS}/{hook['id']}/deliveries/{row['id']}/retry",
        headers=people["super_admin"].headers,
    )
    assert response.status_code == 202
    assert response.json()["status"] == "pending"
    run_jobs(client)
    first, second = receiver.received
    assert first.webhook_id == second.webhook_id and first.body == second.body
    assert second.verified and second.answered == 200
    assert deliveries(client, people, hook["id"])[0]["status"] == "succeeded"
    missing = client.post(
        f"{HOOKS}/{hook['id']}/deliveries/999999/retry", headers=people["super_admin"].headers
    )
    assert missing.status_code == 404


def test_unreachable_receivers_are_retried_and_logged(client, people):
    gone = Receiver()
    url = gone.url
    gone.close()
    response = client.post(
        HOOKS, json={"url": url, "event_types": ["*"]}, headers=people["super_admin"].headers
    )
    hook = response.json()
    make_ticket(client, people["individual"])
    run_jobs(client)
    [row] = deliveries(client, people, hook["id"])
    assert row["status"] == "failed" and row["attempts"] == 3
    assert row["last_status_code"] is None and row["last_error"]


def test_a_job_run_again_takes_over_the_webhook_its_dead_run_held(client, people, receiver):
    """A worker that dies while sending leaves the webhook's lease behind; the run of the same
    job that the queue starts after the job's lease takes it over instead of waiting out the
    webhook's lease. Runs of other jobs still wait for it (or for its end)."""
    hook_id = subscribe(client, people, receiver)["id"]
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    async def takes(session, *claims, at=now):
        return [await sender.acquire(session, hook_id, claim, now=at) for claim in claims]

    dead = sender.new_claim(41)
    assert in_db(client, lambda s: takes(s, dead)) == [True]
    # Job 4's id is a prefix of job 41's: not the same job.
    others = in_db(client, lambda s: takes(s, sender.new_claim(42), sender.new_claim(4)))
    assert others == [False, False]
    assert in_db(client, lambda s: takes(s, sender.new_claim(41))) == [True]
    # The earlier run, should it still be alive, cannot give away the lease it lost.
    in_db(client, lambda s: sender.release(s, hook_id, dead))
    assert in_db(client, lambda s: takes(s, sender.new_claim(42))) == [False]
    later = now + sender.LEASE + timedelta(seconds=1)
    assert in_db(client, lambda s: takes(s, sender.new_claim(42), at=later)) == [True]


def test_queued_deliveries_survive_a_restart(settings, receiver):
    """Events committed while no job ran are delivered by the next process to start."""
    from fastapi.testclient import TestClient

    from tests.factories import make_people
    from ticketdesk.main import create_app

    with TestClient(create_app(settings)) as first:
        people = make_people(first)
        subscribe(first, people, receiver)
        make_ticket(first, people["individual"])
    assert receiver.received == []
    with TestClient(create_app(settings)) as restarted:
        run_jobs(restarted)
    assert receiver.types() == ["ticket.created"]
    assert receiver.received[0].verified


def test_a_token_with_webhooks_manage(client, people, receiver):
    token = make_api_token(client, people["super_admin"], ["webhooks:manage"])
    response = client.post(
        HOOKS, json={"url": receiver.url, "event_types": ["*"]}, headers=token.headers
    )
    assert response.status_code == 201
    reader = make_api_token(client, people["super_admin"], ["tickets:read"])
    assert client.get(HOOKS, headers=reader.headers).status_code == 403
