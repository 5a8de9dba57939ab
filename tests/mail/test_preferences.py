"""Which staff want a kind of mail, chosen by the database (preferences.staff_wanting)."""

from fastapi.testclient import TestClient

from tests.factories import API, People, in_db, make_user
from ticketdesk.mail import preferences


def _choose(client: TestClient, actor, **kinds: bool) -> None:
    response = client.patch(f"{API}/users/me/notifications", json=kinds, headers=actor.headers)
    assert response.status_code == 200, response.text


def _wanting(client: TestClient, kind: str) -> list[int]:
    async def _read(session):
        return [user.id for user in await preferences.staff_wanting(session, kind)]

    return in_db(client, _read)


def test_opt_in_kinds_go_to_staff_who_chose_them(client: TestClient, people: People) -> None:
    second_agent = make_user(client, "agent")
    _choose(client, people["agent"], new_ticket=True)
    _choose(client, second_agent, new_ticket=True)
    _choose(client, people["individual"], staff_reply=True)
    assert _wanting(client, "new_ticket") == [people["agent"].id, second_agent.id]
    _choose(client, second_agent, new_ticket=False)
    assert _wanting(client, "new_ticket") == [people["agent"].id]


def test_default_kinds_go_to_staff_who_did_not_refuse_them(
    client: TestClient, people: People
) -> None:
    admin, agent = people["super_admin"], people["agent"]
    assert _wanting(client, "sla_breach") == sorted([admin.id, agent.id])
    _choose(client, agent, sla_breach=False)
    assert _wanting(client, "sla_breach") == [admin.id]


def test_deactivated_staff_want_nothing(client: TestClient, people: People) -> None:
    admin, agent = people["super_admin"], people["agent"]
    _choose(client, agent, new_ticket=True)
    response = client.patch(
        f"{API}/users/{agent.id}", json={"is_active": False}, headers=admin.headers
    )
    assert response.status_code == 200, response.text
    assert _wanting(client, "new_ticket") == []


def test_an_opted_in_agent_made_a_customer_wants_no_staff_mail(
    client: TestClient, people: People
) -> None:
    """A choice left from a staff role never reaches a customer: staff mail goes to staff."""
    admin, agent = people["super_admin"], people["agent"]
    _choose(client, agent, new_ticket=True)
    response = client.patch(
        f"{API}/users/{agent.id}", json={"role": "individual"}, headers=admin.headers
    )
    assert response.status_code == 200, response.text
    assert _wanting(client, "new_ticket") == []
