"""Which staff want a kind of mail, chosen by the database (preferences.staff_wanting), and
who may get a mail of a kind at all (preferences.gates)."""

from fastapi.testclient import TestClient

from tests.factories import API, People, in_db, make_user
from ticketdesk import clock
from ticketdesk.auth.models import User
from ticketdesk.mail import outbox, preferences


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


def test_gates_answer_choices_defaults_and_suppressions_in_one_read(
    client: TestClient, people: People
) -> None:
    """preferences.gates: what every mail a change writes asks (mail/notify.py)."""
    agent, customer = people["agent"], people["individual"]
    other = make_user(client, "agent")
    _choose(client, agent, customer_reply=False, new_ticket=True)
    _choose(client, customer, status_changed=False)

    async def _suppress(session):
        await outbox.suppress(
            session, other.email.upper(), reason="550 no such user", now=clock.now(), outbox_id=None
        )

    in_db(client, _suppress)

    async def _gates(session):
        users = {u.id: await session.get(User, u.id) for u in (agent, customer, other)}
        asked = [
            (users[agent.id], "customer_reply"),  # chosen off
            (users[agent.id], "new_ticket"),  # chosen on (off by default)
            (users[agent.id], "ticket_assigned"),  # default on
            (users[other.id], "new_ticket"),  # default off
            (users[customer.id], "status_changed"),  # chosen off
            (users[customer.id], "ticket_received"),  # default on
        ]
        return await preferences.gates(session, asked)

    allowed, suppressed = in_db(client, _gates)
    assert allowed == {
        (agent.id, "new_ticket"),
        (agent.id, "ticket_assigned"),
        (customer.id, "ticket_received"),
    }
    assert suppressed == {other.email.lower()}
    assert in_db(client, lambda session: preferences.gates(session, [])) == (set(), set())
