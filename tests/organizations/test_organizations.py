"""Organizations: the super_admin's CRUD, domains and auto-join, membership, and what members
see of each other's tickets (the full endpoint by viewer matrix is in
tests/tickets/test_permissions.py)."""

import pytest

from tests.factories import (
    API,
    make_organization,
    make_ticket,
    make_user,
    post_comment,
    set_organization,
    ticket_row,
)

ORGS = f"{API}/organizations"


def ticket_ids(client, actor, query=""):
    response = client.get(f"{API}/tickets/{query}", headers=actor.headers)
    assert response.status_code == 200, response.text
    return {t["id"] for t in response.json()}


def register(client, email, role="individual"):
    body = {"email": email, "password": "long-enough-password", "full_name": "Joiner", "role": role}
    response = client.post(f"{API}/auth/register", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_crud(client, people):
    admin = people["super_admin"]
    created = make_organization(
        client, admin, name="Acme", domains=("ACME.example", "@acme.test", "acme.test")
    )
    assert created["name"] == "Acme"
    assert created["domains"] == ["acme.example", "acme.test"]
    assert created["shared_tickets"] is False
    oid = created["id"]
    assert client.get(f"{ORGS}/{oid}", headers=admin.headers).json() == created
    assert client.get(ORGS, headers=admin.headers).json() == [created]
    changed = client.patch(
        f"{ORGS}/{oid}",
        json={"shared_tickets": True, "domains": ["acme.example"]},
        headers=admin.headers,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["shared_tickets"] is True
    assert changed.json()["domains"] == ["acme.example"]
    assert changed.json()["name"] == "Acme"
    assert client.delete(f"{ORGS}/{oid}", headers=admin.headers).status_code == 204
    assert client.get(f"{ORGS}/{oid}", headers=admin.headers).status_code == 404
    assert client.get(ORGS, headers=admin.headers).json() == []


def test_bad_input(client, people):
    admin = people["super_admin"]
    make_organization(client, admin, name="Acme", domains=("acme.example",))
    cases = [
        ({"name": "Acme"}, 409),
        ({"name": "Other", "domains": ["acme.example"]}, 409),
        ({"name": "Other", "domains": ["not a domain"]}, 422),
        ({"name": "Other", "domains": "acme.example"}, 422),
        ({"name": ""}, 422),
        ({"name": "Other", "unknown": 1}, 422),
        ({"name": "Other", "shared_tickets": None}, 422),
    ]
    for body, status in cases:
        response = client.post(ORGS, json=body, headers=admin.headers)
        assert response.status_code == status, (body, response.text)
        assert "detail" in response.json()
    assert len(client.get(ORGS, headers=admin.headers).json()) == 1
    assert client.patch(f"{ORGS}/999", json={}, headers=admin.headers).status_code == 404
    assert client.delete(f"{ORGS}/999", headers=admin.headers).status_code == 404


@pytest.mark.parametrize("role", ["individual", "enterprise", "sub_user", "agent"])
def test_only_the_super_admin_manages_organizations(client, people, role):
    org = make_organization(client, people["super_admin"])
    headers = people[role].headers
    assert client.post(ORGS, json={"name": "X"}, headers=headers).status_code == 403
    assert client.get(ORGS, headers=headers).status_code == 403
    assert client.get(f"{ORGS}/{org['id']}", headers=headers).status_code == 403
    assert client.patch(f"{ORGS}/{org['id']}", json={}, headers=headers).status_code == 403
    assert client.delete(f"{ORGS}/{org['id']}", headers=headers).status_code == 403
    assert client.get(ORGS).status_code == 401


def test_new_customers_join_by_mail_domain_staff_do_not(client, people):
    org = make_organization(client, people["super_admin"], domains=("acme.example",))
    assert register(client, "Ann@ACME.example")["organization_id"] == org["id"]
    assert register(client, "bob@acme.example", role="enterprise")["organization_id"] == org["id"]
    assert register(client, "eve@sub.acme.example")["organization_id"] is None
    assert register(client, "eve@elsewhere.example")["organization_id"] is None
    agent = client.post(
        f"{API}/users",
        json={
            "email": "agent@acme.example",
            "password": "long-enough-password",
            "full_name": "Agent",
            "role": "agent",
        },
        headers=people["super_admin"].headers,
    )
    assert agent.status_code == 201 and agent.json()["organization_id"] is None


def test_membership_by_patch(client, people):
    admin, customer = people["super_admin"], people["individual"]
    org = make_organization(client, admin)
    set_organization(client, admin, customer, org["id"])
    set_organization(client, admin, customer, None)
    missing = client.patch(
        f"{API}/users/{customer.id}", json={"organization_id": 999}, headers=admin.headers
    )
    assert missing.status_code == 422
    assert missing.json()["detail"][0]["loc"] == ["body", "organization_id"]
    nulled = client.patch(
        f"{API}/users/{customer.id}", json={"full_name": None}, headers=admin.headers
    )
    assert nulled.status_code == 422


def test_a_ticket_belongs_to_its_requesters_organization_when_filed(client, people):
    admin, agent = people["super_admin"], people["agent"]
    customer = make_user(client, "sub_user")
    org = make_organization(client, admin)
    before = make_ticket(client, customer)
    set_organization(client, admin, customer, org["id"])
    own = make_ticket(client, customer)
    on_behalf = make_ticket(client, agent, user_id=customer.id)
    assert before["organization_id"] is None
    assert own["organization_id"] == org["id"] == on_behalf["organization_id"]
    assert ticket_row(client, own["id"]).organization_id == org["id"]


def test_sharing_on_and_off(client, people):
    admin = people["super_admin"]
    org = make_organization(client, admin)
    ann, bob = make_user(client, "sub_user"), make_user(client, "individual")
    outsider = make_user(client, "individual")
    for member in (ann, bob):
        set_organization(client, admin, member, org["id"])
    anns, bobs = make_ticket(client, ann)["id"], make_ticket(client, bob)["id"]
    theirs = make_ticket(client, outsider)["id"]
    internal = make_ticket(client, people["agent"], user_id=bob.id, is_internal=True)["id"]

    assert ticket_ids(client, ann) == {anns}
    assert client.get(f"{API}/tickets/{bobs}", headers=ann.headers).status_code == 404
    client.patch(f"{ORGS}/{org['id']}", json={"shared_tickets": True}, headers=admin.headers)
    assert ticket_ids(client, ann) == {anns, bobs}
    assert ticket_ids(client, ann, "?scope=organization") == {anns, bobs}
    assert ticket_ids(client, ann, "my") == {anns}
    assert ticket_ids(client, outsider, "?scope=organization") == set()
    assert client.get(f"{API}/tickets/{bobs}", headers=ann.headers).status_code == 200
    assert client.get(f"{API}/tickets/{internal}", headers=ann.headers).status_code == 404
    assert client.get(f"{API}/tickets/{theirs}", headers=ann.headers).status_code == 404
    # A colleague may comment on a shared ticket, but not edit it.
    post_comment(client, ann, bobs, "Same here.")
    edit = client.patch(f"{API}/tickets/{bobs}", json={"subject": "x"}, headers=ann.headers)
    assert edit.status_code == 403
    staff = ticket_ids(client, people["agent"], f"?organization_id={org['id']}")
    assert staff == {anns, bobs, internal}


def test_enterprise_manager_sees_the_organizations_tickets_even_unshared(client, people):
    admin = people["super_admin"]
    org = make_organization(client, admin, shared_tickets=False)
    manager, sub = make_user(client, "enterprise"), make_user(client, "sub_user")
    for member in (manager, sub):
        set_organization(client, admin, member, org["id"])
    subs = make_ticket(client, sub)["id"]
    mine = make_ticket(client, manager)["id"]
    assert ticket_ids(client, manager) == {subs, mine}
    assert ticket_ids(client, sub) == {subs}
    assert client.get(f"{API}/tickets/{subs}/comments", headers=manager.headers).status_code == 200


def test_changing_organization_moves_no_existing_ticket(client, people):
    """Decision: a ticket stays with the organization it was filed under. The requester
    keeps seeing it as their own; the old organization keeps it, the new one never gets it."""
    admin = people["super_admin"]
    old, new = make_organization(client, admin), make_organization(client, admin)
    mover = make_user(client, "sub_user")
    old_manager, new_manager = make_user(client, "enterprise"), make_user(client, "enterprise")
    set_organization(client, admin, old_manager, old["id"])
    set_organization(client, admin, new_manager, new["id"])
    set_organization(client, admin, mover, old["id"])
    filed_at_old = make_ticket(client, mover)["id"]
    set_organization(client, admin, mover, new["id"])
    filed_at_new = make_ticket(client, mover)["id"]
    assert ticket_ids(client, mover) == {filed_at_old, filed_at_new}
    assert ticket_ids(client, old_manager) == {filed_at_old}
    assert ticket_ids(client, new_manager) == {filed_at_new}
    assert ticket_row(client, filed_at_old).organization_id == old["id"]


def test_deleting_an_organization_unshares_its_tickets(client, people):
    admin = people["super_admin"]
    org = make_organization(client, admin, domains=("gone.example",), shared_tickets=True)
    ann, bob = make_user(client, "sub_user"), make_user(client, "sub_user")
    for member in (ann, bob):
        set_organization(client, admin, member, org["id"])
    bobs = make_ticket(client, bob)["id"]
    assert bobs in ticket_ids(client, ann)
    assert client.delete(f"{ORGS}/{org['id']}", headers=admin.headers).status_code == 204
    assert ticket_ids(client, ann) == set()
    assert ticket_ids(client, bob) == {bobs}
    assert ticket_row(client, bobs).organization_id is None
    users = client.get(f"{API}/users", headers=admin.headers).json()
    assert {u["organization_id"] for u in users} == {None}
    assert register(client, "new@gone.example")["organization_id"] is None


def test_organization_filter_values(client, people):
    agent = people["agent"]
    assert client.get(f"{API}/tickets/?organization_id=0", headers=agent.headers).status_code == 422
    assert client.get(f"{API}/tickets/?scope=everyone", headers=agent.headers).status_code == 422
    assert client.get(f"{API}/tickets/?scope=ORGANIZATION", headers=agent.headers).json() == []
