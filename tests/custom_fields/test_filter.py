"""The `cf.<key>=<value>` list filter on both databases (the module shares one database)."""

import pytest

from tests.custom_fields.test_custom_fields import TICKETS, assert_422, define
from tests.factories import make_ticket

pytestmark = pytest.mark.shared_database


# --- the cf. filter ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def catalogue(module_client, module_people):
    """Four tickets with values of every filterable type, made once for the module."""
    client, people = module_client, module_people
    admin, agent = people["super_admin"], people["agent"]
    define(client, admin, "order_number", "text")
    define(client, admin, "seats", "number")
    define(client, admin, "renewal", "date")
    define(client, admin, "plan", "select", options=["basic", "pro"])
    define(client, admin, "modules", "multiselect", options=["chat", "mail", "voice"])
    define(client, admin, "vip", "checkbox")
    values = [
        {
            "order_number": "A-1",
            "seats": 5,
            "renewal": "2025-03-01",
            "plan": "pro",
            "modules": ["chat", "mail"],
            "vip": True,
        },
        {"order_number": "A-2", "seats": 5.5, "plan": "basic", "modules": ["mail"], "vip": False},
        {"order_number": "A-3", "seats": 10, "plan": "pro", "modules": ["voice"]},
        {},
    ]  # fmt: skip
    return [make_ticket(client, agent, custom_fields=v)["id"] for v in values]


@pytest.mark.parametrize(
    "query, expected",
    [
        ("cf.order_number=A-2", [1]),
        ("cf.seats=5", [0]),
        ("cf.seats=5.0", [0]),
        ("cf.seats=5.5", [1]),
        ("cf.renewal=2025-03-01", [0]),
        ("cf.plan=pro", [0, 2]),
        ("cf.modules=mail", [0, 1]),
        ("cf.modules=voice", [2]),
        ("cf.vip=true", [0]),
        ("cf.vip=false", [1]),
        ("cf.plan=pro&cf.modules=chat", [0]),
        ("cf.plan=pro&status=open", [0, 2]),
        ("cf.plan=basic&cf.seats=10", []),
    ],
)
def test_filter(client, people, catalogue, query, expected):
    response = client.get(f"{TICKETS}/?{query}&sort=created_at", headers=people["agent"].headers)
    assert response.status_code == 200, response.text
    assert [t["id"] for t in response.json()] == [catalogue[i] for i in expected]
    assert response.headers["X-Total-Count"] == str(len(expected))


@pytest.mark.parametrize(
    "query, field",
    [
        ("cf.nope=1", "cf.nope"),
        ("cf.seats=many", "cf.seats"),
        ("cf.plan=gold", "cf.plan"),
        ("cf.vip=perhaps", "cf.vip"),
        ("cf.renewal=tomorrow", "cf.renewal"),
        ("cf.modules=fax", "cf.modules"),
    ],
)
def test_bad_filter_is_422(client, people, catalogue, query, field):
    assert_422(client.get(f"{TICKETS}/?{query}", headers=people["agent"].headers), field)
