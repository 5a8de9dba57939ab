"""Data protection: the export of everything stored about a person, and anonymization that
leaves the old name and address in no response of the API."""

import json

import pytest

from tests.attachments.conftest import PDF, PNG, upload_ok
from tests.factories import (
    API,
    PASSWORD,
    count_rows,
    in_db,
    make_organization,
    make_ticket,
    make_user,
    post_comment,
    set_organization,
    set_status,
)
from ticketdesk.sla.models import SettingsAudit


def export(client, actor, path="/auth/me/export"):
    response = client.get(f"{API}{path}", headers=actor.headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    return response.json()


def test_self_export_holds_what_the_person_may_see(client, people):
    admin, agent = people["super_admin"], people["agent"]
    org = make_organization(client, admin, name="Acme")
    customer = make_user(client, "sub_user", name="Ada Lovelace")
    set_organization(client, admin, customer, org["id"])
    own = make_ticket(client, customer, subject="Report fails")
    post_comment(client, agent, own["id"], "We are on it.")
    post_comment(client, agent, own["id"], "Secret staff remark.", is_internal=True)
    post_comment(client, customer, own["id"], "Thanks!")
    make_ticket(client, agent, user_id=customer.id, is_internal=True, subject="Staff only")
    set_status(client, agent, own["id"], "resolved")
    rated = client.post(
        f"{API}/tickets/{own['id']}/satisfaction",
        json={"rating": "good", "comment": "Great"},
        headers=customer.headers,
    )
    assert rated.status_code == 201
    make_ticket(client, people["other"], subject="Someone else's")

    document = export(client, customer)
    assert set(document) == {
        "exported_at",
        "account",
        "organization",
        "tickets",
        "comments_written",
        "satisfaction_ratings",
        "attachments_uploaded",
        "notification_settings",
    }
    assert document["account"]["email"] == customer.email
    assert document["account"]["full_name"] == "Ada Lovelace"
    assert document["organization"] == {"id": org["id"], "name": "Acme"}
    assert [t["subject"] for t in document["tickets"]] == ["Report fails"]
    thread = document["tickets"][0]["comments"]
    assert [(c["author"], c["comment"]) for c in thread] == [
        ("Agent 4", "We are on it."),
        ("Ada Lovelace", "Thanks!"),
    ]
    assert [c["comment"] for c in document["comments_written"]] == ["Thanks!"]
    assert document["satisfaction_ratings"][0]["rating"] == "good"
    text = json.dumps(document)
    assert "Secret staff remark" not in text and "Staff only" not in text
    assert "password" not in text and "$argon2" not in text
    # The super_admin gets the same document, to hand over.
    by_admin = export(client, admin, f"/users/{customer.id}/export")
    assert {k: v for k, v in by_admin.items() if k != "exported_at"} == {
        k: v for k, v in document.items() if k != "exported_at"
    }


def test_export_lists_the_files_the_person_may_see_and_their_notification_settings(client, people):
    customer, agent, other = people["individual"], people["agent"], people["other"]
    own = make_ticket(client, customer)["id"]
    theirs = make_ticket(client, other)["id"]
    (mine,) = upload_ok(client, customer, own, ("screen.png", PNG))
    (reply,) = upload_ok(client, agent, own, ("manual.pdf", PDF))
    (secret,) = upload_ok(client, agent, own, ("refund-notes.pdf", PDF), is_internal=True)
    upload_ok(client, other, theirs, ("not-yours.pdf", PDF))
    gone = upload_ok(client, customer, own, ("deleted.pdf", PDF))[0]
    assert (
        client.delete(f"{API}/attachments/{gone['id']}", headers=agent.headers).status_code == 204
    )
    changed = client.patch(
        f"{API}/users/me/notifications", json={"staff_reply": False}, headers=customer.headers
    )
    assert changed.status_code == 200, changed.text

    document = export(client, customer)
    (ticket,) = document["tickets"]
    assert [f["filename"] for f in ticket["attachments"]] == ["screen.png", "manual.pdf"]
    assert [f["filename"] for f in document["attachments_uploaded"]] == ["screen.png"]
    listed = ticket["attachments"][0]
    assert listed["id"] == mine["id"] and listed["sha256"] == mine["sha256"]
    # The download is the ordinary, authenticated one: it works for the person themself.
    got = client.get(listed["download"], headers=customer.headers)
    assert got.status_code == 200 and got.content == PNG
    assert ticket["attachments"][1]["id"] == reply["id"]
    text = json.dumps(document)
    for hidden in ("refund-notes", secret["id"], "not-yours", "deleted.pdf"):
        assert hidden not in text
    assert document["notification_settings"] == {
        "ticket_received": True,
        "staff_reply": False,
        "status_changed": True,
    }
    # Staff see their own uploads, internal ones too, and their own kinds of notification.
    staff_document = export(client, agent)
    assert [f["filename"] for f in staff_document["attachments_uploaded"]] == [
        "manual.pdf",
        "refund-notes.pdf",
    ]
    assert set(staff_document["notification_settings"]) == {
        "ticket_assigned",
        "customer_reply",
        "new_ticket",
        "sla_breach",
    }


def test_export_is_streamed_in_batches_and_complete(client, people):
    from tests.factories import insert_tickets

    customer = make_user(client, "individual")
    ids = insert_tickets(client, customer.id, 1203)
    document = export(client, customer)
    assert [t["id"] for t in document["tickets"]] == ids


@pytest.mark.parametrize("role", ["individual", "enterprise", "sub_user", "agent"])
def test_only_the_super_admin_exports_or_anonymizes_others(client, people, role):
    target = make_user(client, "individual")
    actor = people[role]
    assert client.get(f"{API}/users/{target.id}/export", headers=actor.headers).status_code == 403
    response = client.post(f"{API}/users/{target.id}/anonymize", headers=actor.headers)
    assert response.status_code == 403
    assert client.get(f"{API}/auth/me/export", headers=actor.headers).status_code == 200
    assert client.get(f"{API}/auth/me/export").status_code == 401
    assert count_rows(client, SettingsAudit) == 0


def test_missing_users(client, people):
    admin = people["super_admin"]
    assert client.get(f"{API}/users/999999/export", headers=admin.headers).status_code == 404
    assert client.post(f"{API}/users/999999/anonymize", headers=admin.headers).status_code == 404
    assert client.post(f"{API}/users/0/anonymize", headers=admin.headers).status_code == 422


def test_anonymization_leaves_the_old_identity_in_no_response(client, people):
    admin, agent = people["super_admin"], people["agent"]
    org = make_organization(client, admin, shared_tickets=True)
    zelda = make_user(client, "sub_user", email="zelda.quux@example.com", name="Zelda Quux")
    colleague = make_user(client, "enterprise")
    for member in (zelda, colleague):
        set_organization(client, admin, member, org["id"])
    first = make_ticket(client, zelda, subject="Printer on fire")
    second = make_ticket(client, zelda, subject="Invoice question")
    post_comment(client, zelda, first["id"], "Please hurry.")
    post_comment(client, agent, first["id"], "Extinguisher on its way.")
    post_comment(client, colleague, first["id"], "Same here.")
    assign = client.post(
        f"{API}/tickets/{first['id']}/assign",
        json={"assigned_to_id": agent.id},
        headers=admin.headers,
    )
    assert assign.status_code == 200
    set_status(client, agent, first["id"], "resolved")
    rated = client.post(
        f"{API}/tickets/{first['id']}/satisfaction", json={"rating": "good"}, headers=zelda.headers
    )
    assert rated.status_code == 201
    merged = client.post(
        f"{API}/tickets/{second['id']}/merge", json={"into": first["id"]}, headers=agent.headers
    )
    assert merged.status_code == 200
    before = client.get(f"{API}/tickets/{first['id']}", headers=agent.headers).json()
    assert before["creator_email"] == "zelda.quux@example.com"

    response = client.post(f"{API}/users/{zelda.id}/anonymize", headers=admin.headers)
    assert response.status_code == 200, response.text
    placeholder = response.json()
    assert placeholder["full_name"] == f"Anonymized user {zelda.id}"
    assert placeholder["email"] == f"anonymized-{zelda.id}@anonymized.invalid"
    assert placeholder["is_active"] is False

    # Her tokens and password stop working.
    assert client.get(f"{API}/auth/me", headers=zelda.headers).status_code == 401
    login = client.post(
        f"{API}/auth/login", json={"email": "zelda.quux@example.com", "password": PASSWORD}
    )
    assert login.status_code == 401

    walk = []
    for actor in (admin, agent, colleague):
        paths = [
            "/tickets/",
            "/tickets/?scope=organization",
            f"/tickets/?user_id={zelda.id}",
            "/tickets/?q=printer",
            "/auth/me",
            "/auth/me/export",
        ]
        for ticket in (first, second):
            tid = ticket["id"]
            paths += [
                f"/tickets/{tid}",
                f"/tickets/{ticket['ticket_number']}",
                f"/tickets/{tid}/comments",
                f"/tickets/{tid}/history",
                f"/tickets/{tid}/activity",
                f"/tickets/{tid}/satisfaction",
            ]
        if actor is not colleague:
            paths += ["/users", "/users?role=sub_user", "/users?role=agent", "/tickets/my"]
        if actor is admin:
            paths += [
                f"/users/{zelda.id}/export",
                "/organizations",
                f"/organizations/{org['id']}",
                "/tickets/statistics/overview",
                "/tickets/statistics/agents",
                "/dashboard",
                "/tickets/sla/audit",
                "/events",
            ]
        for path in paths:
            got = client.get(f"{API}{path}", headers=actor.headers)
            walk.append((actor.email, path, got.status_code, got.text))
    assert len(walk) > 50
    assert sum(1 for *_, status, _ in walk if status == 200) > 45
    for email, path, _status, body in walk:
        lowered = body.lower()
        for secret in ("zelda", "quux", "zelda.quux@example.com"):
            assert secret not in lowered, (email, path, secret)

    # Tickets, comments, the rating and the statistics stay whole.
    after = client.get(f"{API}/tickets/{first['id']}", headers=agent.headers).json()
    assert after["creator_name"] == f"Anonymized user {zelda.id}"
    assert after["comments_count"] == before["comments_count"]
    thread = client.get(f"{API}/tickets/{first['id']}/comments", headers=agent.headers).json()
    assert [c["comment"] for c in thread] == [
        "Please hurry.",
        "Extinguisher on its way.",
        "Same here.",
    ]
    overview = client.get(f"{API}/tickets/statistics/overview", headers=admin.headers).json()
    assert overview["total_tickets"] == 2
    assert overview["satisfaction"] == {"good": 1, "bad": 0, "score": 100.0}
    # Irreversible, and audited without the old values.
    again = client.post(f"{API}/users/{zelda.id}/anonymize", headers=admin.headers)
    assert again.status_code == 409
    revive = client.patch(
        f"{API}/users/{zelda.id}", json={"is_active": True}, headers=admin.headers
    )
    assert revive.status_code == 409

    async def _audit(session):
        from sqlalchemy import select

        return [(a.entity, a.before, a.after) for a in await session.scalars(select(SettingsAudit))]

    assert in_db(client, _audit) == [("user", None, {"user_id": zelda.id, "action": "anonymized"})]
    # The address is free again for someone new.
    fresh = client.post(
        f"{API}/auth/register",
        json={"email": "zelda.quux@example.com", "password": PASSWORD, "full_name": "New"},
    )
    assert fresh.status_code == 201


def test_the_super_admin_cannot_anonymize_themselves(client, people):
    admin = people["super_admin"]
    response = client.post(f"{API}/users/{admin.id}/anonymize", headers=admin.headers)
    assert response.status_code == 409
    assert client.get(f"{API}/auth/me", headers=admin.headers).status_code == 200
