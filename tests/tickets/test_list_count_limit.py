"""X-Total-Count stops counting at TICKETDESK_LIST_COUNT_LIMIT, and paging still works past it."""

import pytest
from fastapi.testclient import TestClient

from tests.factories import API, make_people, make_ticket
from ticketdesk.config import get_settings
from ticketdesk.main import create_app


@pytest.fixture
def limited(settings):
    with TestClient(create_app(settings.model_copy(update={"list_count_limit": 3}))) as client:
        yield client


def test_a_count_past_the_limit_says_the_limit_and_that_it_is_not_exact(limited):
    people = make_people(limited)
    ids = [make_ticket(limited, people["individual"])["id"] for _ in range(5)]
    for path in ("/tickets/", "/tickets/my"):
        response = limited.get(
            f"{API}{path}", params={"page_size": 2}, headers=people["individual"].headers
        )
        assert response.headers["X-Total-Count"] == "3"
        assert response.headers["X-Total-Count-Exact"] == "false"
        assert 'rel="next"' in response.headers["Link"]
    # Pages beyond the counted ones are still served.
    last = limited.get(
        f"{API}/tickets/",
        params={"page": 3, "page_size": 2, "sort": "created_at"},
        headers=people["agent"].headers,
    )
    assert [t["id"] for t in last.json()] == ids[4:]
    # A short page is the end, counted or not; a full one past the limit links onward.
    assert 'rel="next"' not in last.headers["Link"]
    full = limited.get(
        f"{API}/tickets/",
        params={"page": 2, "page_size": 2, "sort": "created_at"},
        headers=people["agent"].headers,
    )
    assert 'rel="next"' in full.headers["Link"]


def test_a_count_within_the_limit_is_exact(limited):
    people = make_people(limited)
    for _ in range(3):
        make_ticket(limited, people["individual"])
    response = limited.get(f"{API}/tickets/", headers=people["agent"].headers)
    assert response.headers["X-Total-Count"] == "3"
    assert "X-Total-Count-Exact" not in response.headers
    assert "Link" not in response.headers


def test_a_page_far_past_a_limited_count_is_empty(limited):
    people = make_people(limited)
    for _ in range(5):
        make_ticket(limited, people["individual"])
    response = limited.get(
        f"{API}/tickets/", params={"page": 10**20}, headers=people["agent"].headers
    )
    assert response.status_code == 200
    assert response.json() == []
    assert response.headers["X-Total-Count-Exact"] == "false"


def test_a_custom_field_filter_counts_like_a_search(settings, monkeypatch, request):
    """Its matches are read row by row, so it stops at the search's limit, not the list's."""
    monkeypatch.setenv("TICKETDESK_SEARCH_COUNT_LIMIT", "2")
    get_settings.cache_clear()  # the services read the process's settings
    request.addfinalizer(get_settings.cache_clear)
    update = {"list_count_limit": 100, "search_count_limit": 2}
    with TestClient(create_app(settings.model_copy(update=update))) as client:
        people = make_people(client)
        define = {"key": "plan", "label": "Plan", "type": "select", "options": ["pro"]}
        created = client.post(
            f"{API}/custom-fields", json=define, headers=people["super_admin"].headers
        )
        assert created.status_code == 201, created.text
        for _ in range(3):
            make_ticket(client, people["agent"], custom_fields={"plan": "pro"})
        headers = people["agent"].headers
        filtered = client.get(f"{API}/tickets/", params={"cf.plan": "pro"}, headers=headers)
        assert len(filtered.json()) == 3
        assert filtered.headers["X-Total-Count"] == "2"
        assert filtered.headers["X-Total-Count-Exact"] == "false"
        plain = client.get(f"{API}/tickets/", headers=headers)
        assert plain.headers["X-Total-Count"] == "3"
        assert "X-Total-Count-Exact" not in plain.headers
