"""The webhook endpoints are the super_admin's: 403 for every other role, 401 anonymous."""

import pytest

from tests.factories import API, CUSTOMER_ROLES

HOOKS = f"{API}/webhooks"

ENDPOINTS = [
    ("POST", "", {"url": "https://hooks.example.org/", "event_types": ["*"]}),
    ("GET", "", None),
    ("GET", "/{id}", None),
    ("PATCH", "/{id}", {"description": "changed"}),
    ("POST", "/{id}/rotate-secret", None),
    ("POST", "/{id}/ping", None),
    ("GET", "/{id}/deliveries", None),
    ("POST", "/{id}/deliveries/{delivery}/retry", None),
    ("DELETE", "/{id}", None),
]


@pytest.fixture
def hook(client, people):
    admin = people["super_admin"].headers
    body = {"url": "https://hooks.example.org/", "event_types": ["*"]}
    created = client.post(HOOKS, json=body, headers=admin).json()
    delivery = client.post(f"{HOOKS}/{created['id']}/ping", headers=admin).json()
    return {"id": created["id"], "delivery": delivery["id"]}


@pytest.mark.parametrize(
    ("method", "path", "body"), ENDPOINTS, ids=[f"{m} {p}" for m, p, _ in ENDPOINTS]
)
def test_only_the_super_admin(client, people, hook, method, path, body):
    url = HOOKS + path.format(**hook)
    for role in (*CUSTOMER_ROLES, "agent"):
        response = client.request(method, url, json=body, headers=people[role].headers)
        assert response.status_code == 403, (role, response.text)
    response = client.request(method, url, json=body)
    assert response.status_code == 401
    response = client.request(method, url, json=body, headers=people["super_admin"].headers)
    assert response.status_code in (200, 201, 202, 204), response.text
