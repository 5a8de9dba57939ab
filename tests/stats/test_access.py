"""The statistics overview and the dashboard are the super_admin's alone."""

import pytest

from tests.factories import API, CUSTOMER_ROLES

ENDPOINTS = [f"{API}/tickets/statistics/overview", f"{API}/dashboard"]


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize("role", [*CUSTOMER_ROLES, "agent"])
def test_only_the_super_admin(client, people, path, role):
    assert client.get(path, headers=people[role].headers).status_code == 403
    assert client.get(path, headers=people["super_admin"].headers).status_code == 200


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nonsense"}])
def test_anonymous_is_401(client, path, headers):
    response = client.get(path, headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("path", ENDPOINTS)
def test_trailing_slash(client, people, path):
    assert client.get(f"{path}/", headers=people["super_admin"].headers).status_code == 200
