"""Per-user request limits with RateLimit-* headers, counted once across processes."""

from fastapi.testclient import TestClient

from tests.factories import API, make_user
from ticketdesk.main import create_app


def sync(client):
    async def _sync():
        await client.app.state.rate_limiter.sync(client.app.state.rate_counts)

    client.portal.call(_sync)


def test_headers_and_429(settings, fake_clock):
    limited = settings.model_copy(update={"rate_limit_per_minute": 3})
    with TestClient(create_app(limited)) as client:
        ada = make_user(client, "individual")
        remaining = []
        for _ in range(3):
            response = client.get(f"{API}/auth/me", headers=ada.headers)
            assert response.status_code == 200
            assert response.headers["RateLimit-Limit"] == "3"
            remaining.append(response.headers["RateLimit-Remaining"])
        assert remaining == ["2", "1", "0"]
        refused = client.get(f"{API}/auth/me", headers=ada.headers)
        assert refused.status_code == 429
        assert refused.headers["Retry-After"] == refused.headers["RateLimit-Reset"]
        assert "detail" in refused.json()
        # Another user has a budget of their own.
        assert (
            client.get(f"{API}/auth/me", headers=make_user(client, "agent").headers).status_code
            == 200
        )
        fake_clock.advance(minutes=1)
        assert client.get(f"{API}/auth/me", headers=ada.headers).status_code == 200


def share_one_count(one, two, user):
    """With a limit of 4: three requests over two apps, shared; one more anywhere, then 429
    everywhere."""
    for client in (one, one, two):
        assert client.get(f"{API}/auth/me", headers=user.headers).status_code == 200
    sync(one)
    sync(two)
    assert two.get(f"{API}/auth/me", headers=user.headers).status_code == 200
    sync(two)
    sync(one)
    assert one.get(f"{API}/auth/me", headers=user.headers).status_code == 429
    assert two.get(f"{API}/auth/me", headers=user.headers).status_code == 429


def test_processes_share_one_count(settings, fake_clock):
    limited = settings.model_copy(update={"rate_limit_per_minute": 4})
    with TestClient(create_app(limited)) as one, TestClient(create_app(limited)) as two:
        share_one_count(one, two, make_user(one, "individual"))
