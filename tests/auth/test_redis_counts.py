"""Throttles and rate limits counted in a real Redis server (TICKETDESK_REDIS_URL): shared by
every process, nothing counted in the database meanwhile, and the database standing in while
Redis is away.

Redis is the machine's (TICKETDESK_TEST_REDIS_URL, default redis://127.0.0.1:6379/0); each test
keeps its keys under a prefix of its own. Without a Redis server the tests skip with a loud
message, except under CI, where they fail.
"""

import asyncio
import os
import uuid
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from redis import Redis, RedisError

from tests.factories import API, PASSWORD, count_rows, make_user
from tests.servers import free_port
from tests.test_rate_limits import share_one_count, sync
from ticketdesk import clock
from ticketdesk.auth import throttle
from ticketdesk.auth.models import RateCount, ThrottleHit
from ticketdesk.main import create_app

REDIS_URL = os.environ.get("TICKETDESK_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def redis_prefix():
    """A prefix of the test's own, its keys deleted afterwards."""
    client = Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except (RedisError, OSError):
        message = f"*** no Redis server at {REDIS_URL}: the REDIS TESTS were SKIPPED. ***"
        if os.environ.get("CI"):
            pytest.fail(f"no Redis server at {REDIS_URL}; CI must run the Redis tests")
        pytest.skip(message)
    prefix = f"ticketdesk-test-{uuid.uuid4().hex}:"
    yield prefix
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)
    client.close()


def keys(prefix):
    with Redis.from_url(REDIS_URL) as client:
        return sorted(key.decode() for key in client.scan_iter(f"{prefix}*"))


def login(client, email, password=PASSWORD):
    return client.post(f"{API}/auth/login", json={"email": email, "password": password})


def test_failed_logins_are_counted_in_redis_for_every_process(settings, redis_prefix, fake_clock):
    counted = settings.model_copy(update={"redis_url": REDIS_URL, "redis_prefix": redis_prefix})
    with TestClient(create_app(counted)) as one, TestClient(create_app(counted)) as two:
        ada = make_user(one, "individual")
        limit = counted.login_attempts_per_minute
        for attempt in range(limit):
            assert login(one if attempt % 2 else two, ada.email, "nope-nope").status_code == 401
        throttled = login(one, ada.email)
        assert throttled.status_code == 429
        assert int(throttled.headers["Retry-After"]) == 60
        assert login(two, ada.email).status_code == 429
        assert count_rows(one, ThrottleHit) == 0
        assert keys(redis_prefix) == [
            f"{redis_prefix}throttle:login-client:testclient",
            f"{redis_prefix}throttle:login:{ada.email}:testclient",
        ]
        fake_clock.advance(seconds=60)
        assert login(one, ada.email).status_code == 200
        # A login that follows failures clears the address's count.
        assert keys(redis_prefix) == [f"{redis_prefix}throttle:login-client:testclient"]


def test_registrations_and_reset_requests_are_counted_in_redis(settings, redis_prefix, fake_clock):
    strict = settings.model_copy(
        update={
            "redis_url": REDIS_URL,
            "redis_prefix": redis_prefix,
            "registrations_per_client_per_hour": 2,
            "login_attempts_per_minute": 2,
        }
    )
    with TestClient(create_app(strict)) as client:
        for n in range(2):
            body = {"email": f"r{n}@example.com", "password": PASSWORD, "full_name": "R"}
            assert client.post(f"{API}/auth/register", json=body).status_code == 201
        body = {"email": "r9@example.com", "password": PASSWORD, "full_name": "R"}
        assert client.post(f"{API}/auth/register", json=body).status_code == 429
        reset = {"email": "r0@example.com"}
        for _ in range(2):
            assert client.post(f"{API}/auth/password-reset", json=reset).status_code == 202
        assert client.post(f"{API}/auth/password-reset", json=reset).status_code == 429
        assert count_rows(client, ThrottleHit) == 0
        assert keys(redis_prefix) == [
            f"{redis_prefix}throttle:password-reset:r0@example.com",
            f"{redis_prefix}throttle:register:testclient",
        ]


def test_the_window_is_a_sliding_minute(settings, redis_prefix):
    limit = throttle.Limit("t", 2, timedelta(minutes=1))
    database = object()  # never reached while Redis answers

    async def _run():
        from redis.asyncio import Redis as AsyncRedis

        async with AsyncRedis.from_url(REDIS_URL) as client:
            counts = throttle.InRedis(client, database, prefix=redis_prefix)  # type: ignore[arg-type]
            now = clock.now()
            await counts.hit(now, (limit, "t:k"))
            await counts.hit(now + timedelta(seconds=30), (limit, "t:k"))
            return (
                await counts.wait(now + timedelta(seconds=31), (limit, "t:k")),
                await counts.wait(now + timedelta(seconds=60), (limit, "t:k")),
                await counts.wait(now, (limit, "t:other")),
                await counts.wait(now + timedelta(seconds=31), (limit, "t:other"), (limit, "t:k")),
            )

    assert asyncio.run(_run()) == (29, 0, 0, 29)


def test_request_limits_are_counted_in_redis_for_every_process(settings, redis_prefix, fake_clock):
    limited = settings.model_copy(
        update={"redis_url": REDIS_URL, "redis_prefix": redis_prefix, "rate_limit_per_minute": 4}
    )
    with TestClient(create_app(limited)) as one, TestClient(create_app(limited)) as two:
        ada = make_user(one, "individual")
        share_one_count(one, two, ada)
        assert count_rows(one, RateCount) == 0
        window = int(clock.now().timestamp() // 60)
        assert keys(redis_prefix) == [f"{redis_prefix}rate:{window}:user:{ada.id}"]


def test_the_database_counts_while_redis_is_away(settings, fake_clock):
    """A Redis that does not answer: throttles and request limits still hold, in the
    database."""
    away = settings.model_copy(
        update={
            "redis_url": f"redis://127.0.0.1:{free_port()}/0",
            "rate_limit_per_minute": 3,
        }
    )
    with TestClient(create_app(away)) as client:
        ada = make_user(client, "individual")
        for _ in range(away.login_attempts_per_minute):
            assert login(client, ada.email, "nope-nope").status_code == 401
        assert login(client, ada.email).status_code == 429
        assert count_rows(client, ThrottleHit) == 2 * away.login_attempts_per_minute

        bob = make_user(client, "individual")
        assert client.get(f"{API}/auth/me", headers=bob.headers).status_code == 200
        sync(client)
        assert count_rows(client, RateCount) == 1
