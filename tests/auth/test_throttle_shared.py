"""Login and registration throttles counted in the database: per address and client, per
client over many addresses, shared by every process, pruned; the hash always runs."""

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from tests.factories import API, PASSWORD, count_rows, in_db, make_user
from ticketdesk import clock
from ticketdesk.auth import security, throttle
from ticketdesk.auth.models import ThrottleHit
from ticketdesk.main import create_app


def login(client, email, password=PASSWORD):
    return client.post(f"{API}/auth/login", json={"email": email, "password": password})


@pytest.fixture
def other_client(settings):
    """A second app on the same database, as another process would be, seen from another IP."""
    with TestClient(create_app(settings), client=("203.0.113.9", 4000)) as second:
        yield second


def test_an_attacker_elsewhere_cannot_lock_the_owner_out(client, other_client, fake_clock):
    ada = make_user(client, "super_admin")
    limit = client.app.state.settings.login_attempts_per_minute
    for _ in range(limit):
        assert login(other_client, ada.email, "wrong-password").status_code == 401
    assert login(other_client, ada.email).status_code == 429
    # The owner's own client still gets in.
    assert login(client, ada.email).status_code == 200


def test_the_count_is_shared_by_every_process(settings, fake_clock):
    """Two apps (two processes) seen from one client share one count."""
    with TestClient(create_app(settings)) as one, TestClient(create_app(settings)) as two:
        ada = make_user(one, "individual")
        limit = settings.login_attempts_per_minute
        for attempt in range(limit):
            assert login(one if attempt % 2 else two, ada.email, "nope-nope").status_code == 401
        assert login(one, ada.email).status_code == 429
        assert login(two, ada.email).status_code == 429


def test_failed_logins_per_client_over_many_addresses(settings, fake_clock):
    strict = settings.model_copy(update={"login_failures_per_client_per_minute": 5})
    with TestClient(create_app(strict)) as client:
        ada = make_user(client, "individual")
        for n in range(5):
            assert login(client, f"nobody{n}@example.com", "wrong-1").status_code == 401
        throttled = login(client, ada.email)
        assert throttled.status_code == 429
        assert int(throttled.headers["Retry-After"]) == 60
        fake_clock.advance(seconds=60)
        assert login(client, ada.email).status_code == 200


def test_registrations_are_throttled_per_client(settings, fake_clock):
    strict = settings.model_copy(update={"registrations_per_client_per_hour": 3})
    with TestClient(create_app(strict)) as client:
        for n in range(3):
            body = {"email": f"r{n}@example.com", "password": PASSWORD, "full_name": "R"}
            assert client.post(f"{API}/auth/register", json=body).status_code == 201
        body = {"email": "r9@example.com", "password": PASSWORD, "full_name": "R"}
        refused = client.post(f"{API}/auth/register", json=body)
        assert refused.status_code == 429
        assert 0 < int(refused.headers["Retry-After"]) <= 3600
        fake_clock.advance(hours=1)
        assert client.post(f"{API}/auth/register", json=body).status_code == 201


def test_rows_leave_with_their_window(client, fake_clock):
    for _ in range(3):
        assert login(client, "gone@example.com", "wrong-1").status_code == 401
    assert count_rows(client, ThrottleHit) == 6  # per address+client and per client
    fake_clock.advance(minutes=2)
    assert login(client, "gone@example.com", "wrong-1").status_code == 401
    assert count_rows(client, ThrottleHit) == 2

    fake_clock.advance(days=2)

    async def _prune(session):
        return await throttle.prune(session, clock.now())

    assert in_db(client, _prune) == 2
    assert count_rows(client, ThrottleHit) == 0


class CountingHasher(type(security.hasher)):  # type: ignore[misc]
    """The test hasher, counting verifications and the connections checked out meanwhile."""

    calls: list[int]

    def verify(self, hash, password):
        self.calls.append(self.engine.pool.checkedout())
        return super().verify(hash, password)


@pytest.fixture
def counting_hasher(client, monkeypatch):
    current = security.hasher
    hasher = CountingHasher(
        time_cost=current.time_cost,
        memory_cost=current.memory_cost,
        parallelism=current.parallelism,
    )
    hasher.calls = []
    hasher.engine = client.app.state.engine
    monkeypatch.setattr(security, "hasher", hasher)
    return hasher


def test_the_hash_runs_for_unknown_addresses_and_outside_any_transaction(
    client, counting_hasher, fake_clock
):
    ada = make_user(client, "individual")
    assert login(client, "nobody@example.com", "whatever-1").status_code == 401
    assert login(client, ada.email, "wrong-password").status_code == 401
    assert login(client, ada.email).status_code == 200
    assert len(counting_hasher.calls) == 3
    # No pooled connection (so no transaction, no lock) is held while hashing.
    assert counting_hasher.calls == [0, 0, 0]


def test_a_throttled_login_skips_the_hash(client, counting_hasher, fake_clock):
    limit = client.app.state.settings.login_attempts_per_minute
    for _ in range(limit):
        login(client, "nobody@example.com", "whatever-1")
    calls = len(counting_hasher.calls)
    assert login(client, "nobody@example.com", "whatever-1").status_code == 429
    assert len(counting_hasher.calls) == calls


def test_the_window_is_a_sliding_minute(client, fake_clock):
    limit = throttle.Limit("t", 2, timedelta(minutes=1))

    async def _run(session):
        now = clock.now()
        await throttle.hit(session, limit, "t:k", now)
        await throttle.hit(session, limit, "t:k", now + timedelta(seconds=30))
        return (
            await throttle.retry_after(session, limit, "t:k", now + timedelta(seconds=31)),
            await throttle.retry_after(session, limit, "t:k", now + timedelta(seconds=60)),
            await throttle.retry_after(session, limit, "t:other", now),
        )

    assert in_db(client, _run) == (29, 0, 0)
