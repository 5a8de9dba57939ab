"""Idempotency-Key on POST: replayed, refused with another body, kept a day, per caller."""

from tests.factories import API, count_rows, make_user
from ticketdesk.tickets.models import Ticket


def create(client, actor, key, **fields):
    body = {"subject": "Printer", "description": "Jammed.", **fields}
    return client.post(
        f"{API}/tickets", json=body, headers={**actor.headers, "Idempotency-Key": key}
    )


def test_a_retried_post_gets_the_first_answer(client, people, fake_clock):
    ada = people["individual"]
    first = create(client, ada, "k-1")
    assert first.status_code == 201
    again = create(client, ada, "k-1")
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert count_rows(client, Ticket) == 1
    other_body = create(client, ada, "k-1", subject="Scanner")
    assert other_body.status_code == 422
    assert count_rows(client, Ticket) == 1


def test_keys_belong_to_their_caller_and_expire(client, people, fake_clock):
    ada, bob = people["individual"], people["other"]
    assert create(client, ada, "shared").status_code == 201
    bob_first = create(client, bob, "shared")
    assert bob_first.status_code == 201
    assert "Idempotent-Replayed" not in bob_first.headers
    fake_clock.advance(hours=25)
    later = create(client, ada, "shared")
    assert later.status_code == 201
    assert "Idempotent-Replayed" not in later.headers
    assert count_rows(client, Ticket) == 3


def test_errors_are_replayed_but_not_server_errors(client, people):
    ada = people["individual"]
    refused = create(client, ada, "bad", priority="nope")
    assert refused.status_code == 422
    assert create(client, ada, "bad", priority="nope").headers.get("Idempotent-Replayed") == "true"


def test_token_answers_are_never_stored(client):
    ada = make_user(client, "individual")
    body = {"email": ada.email, "password": "correct-horse-battery"}
    headers = {"Idempotency-Key": "login"}
    first = client.post(f"{API}/auth/login", json=body, headers=headers)
    second = client.post(f"{API}/auth/login", json=body, headers=headers)
    assert first.status_code == second.status_code == 200
    assert "Idempotent-Replayed" not in second.headers
