"""The admin console: every page for every role (404 for all but the super_admin, the sign-in
page for visitors), CSRF on each form, and each page calling the API's own services."""

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.factories import (
    API,
    CUSTOMER_ROLES,
    FakeClock,
    People,
    insert_tickets,
    make_ticket,
    make_user,
)
from tests.web.pages import browser_for, visible_text

ADMIN_PAGES = (
    "/admin",
    "/admin/dashboard",
    "/admin/dashboard?start_date=2025-01-01&end_date=2025-01-31",
    "/admin/sla",
    "/admin/sla/preview?preview_priority=urgent",
    "/admin/users",
    "/admin/tokens",
    "/admin/webhooks",
    "/admin/mail",
    "/admin/mail?outbox_status=failed&inbound_status=failed",
    "/admin/jobs",
    "/admin/jobs?status=any",
    "/admin/macros",
    "/admin/custom-fields",
    "/admin/assignment-rules",
)
# Each form of the console, with a body the super_admin's form would send.
ADMIN_FORMS = {
    "/admin/sla/policies": {
        "priority": "low",
        "first_response_time": "100",
        "resolution_time": "200",
    },
    "/admin/sla/hours": {"timezone": "UTC", "mon": "09:00-17:00"},
    "/admin/users": {
        "email": "new-agent@example.com",
        "full_name": "New Agent",
        "password": "a-long-enough-password-9",
        "role": "agent",
    },
    "/admin/tokens": {"name": "ci", "scopes": "tickets:read"},
    "/admin/webhooks": {"url": "https://93.184.215.14/hook", "event_types": "*"},
    "/admin/tokens/1/revoke": {},
    "/admin/webhooks/1": {"is_active": "false"},
    "/admin/webhooks/1/delete": {},
    "/admin/webhooks/1/deliveries/1/retry": {},
    "/admin/mail/outbox/1/retry": {},
    "/admin/mail/inbound/1/reprocess": {},
    "/admin/jobs/1/retry": {},
    "/admin/macros": {"name": "Thanks", "body": "Thanks!"},
    "/admin/macros/1": {"name": "Thanks", "body": "Thanks!"},
    "/admin/macros/1/delete": {},
    "/admin/custom-fields": {"key": "plan", "label": "Plan", "type": "text"},
    "/admin/custom-fields/1": {"label": "Plan"},
    "/admin/custom-fields/1/delete": {},
    "/admin/assignment-rules": {"name": "All", "agent_ids": "1", "is_active": "on"},
    "/admin/assignment-rules/1": {"name": "All", "agent_ids": "1"},
    "/admin/assignment-rules/1/delete": {},
}


def _user_forms(people: People) -> dict[str, dict[str, str]]:
    target = people["other"].id
    return {
        f"/admin/users/{target}": {"is_active": "false"},
        f"/admin/users/{target}/reset-link": {},
    }


def test_visitors_are_sent_to_sign_in_from_every_admin_page(client: TestClient) -> None:
    for url in ADMIN_PAGES:
        response = client.get(url, follow_redirects=False)
        assert response.status_code == 303, url
        assert response.headers["location"].startswith("/login?next=/admin"), url


@pytest.mark.parametrize("role", ["agent", *CUSTOMER_ROLES])
def test_everyone_but_the_super_admin_gets_404_on_every_admin_page(
    client: TestClient, people: People, role: str
) -> None:
    browser = browser_for(client, people[role])
    for url in ADMIN_PAGES:
        assert browser.get(url).status_code == 404, url
    for url, data in (ADMIN_FORMS | _user_forms(people)).items():
        assert browser.post(url, data).status_code == 404, url
    assert "/admin" not in browser.get("/desk" if role == "agent" else "/portal").text
    # Nothing changed.
    policies = client.get(f"{API}/tickets/sla/config", headers=people["super_admin"].headers)
    assert [p["first_response_time"] for p in policies.json() if p["priority"] == "low"] != [100]
    user = client.get(f"{API}/users", headers=people["super_admin"].headers).json()
    assert all(u["is_active"] for u in user)


def _every_admin_route(client: TestClient) -> list[tuple[str, str]]:
    """(method, path) of every route under /admin, path parameters set to 1."""
    from fastapi.routing import iter_route_contexts

    found = []
    for route in iter_route_contexts(client.app.routes):  # type: ignore[attr-defined]
        path = getattr(route, "path", "")
        if path.startswith("/admin"):
            for method in sorted(getattr(route, "methods", set()) - {"HEAD"}):
                found.append((method, re.sub(r"\{[^}]+\}", "1", path)))
    return found


@pytest.mark.parametrize("role", ["agent", "individual"])
def test_no_admin_route_answers_anyone_but_the_super_admin(
    client: TestClient, people: People, role: str
) -> None:
    """Every route, including ones added later: none may forget the check."""
    routes = _every_admin_route(client)
    assert len(routes) >= 36
    browser = browser_for(client, people[role])
    for method, path in routes:
        answer = browser.get(path) if method == "GET" else browser.post(path)
        assert answer.status_code == 404, (method, path)
        anonymous = client.request(method, path, follow_redirects=False)
        assert anonymous.status_code == 303, (method, path)
        assert anonymous.headers["location"].startswith("/login"), (method, path)


def test_the_super_admin_sees_every_admin_page(client: TestClient, people: People) -> None:
    browser = browser_for(client, people["super_admin"])
    for url in ADMIN_PAGES:
        response = browser.get(url)
        if url == "/admin":
            assert response.headers["location"] == "/admin/dashboard"
            continue
        assert response.status_code == 200, url
    assert 'href="/admin/dashboard"' in browser.get("/desk").text


def test_every_admin_form_needs_the_csrf_token(client: TestClient, people: People) -> None:
    browser = browser_for(client, people["super_admin"])
    for url, data in (ADMIN_FORMS | _user_forms(people)).items():
        assert browser.post(url, data, csrf=False).status_code == 403, url
        assert browser.post(url, data | {"csrf_token": "forged"}, csrf=False).status_code == 403
    user = client.get(f"{API}/users", headers=people["super_admin"].headers).json()
    assert all(u["is_active"] for u in user)
    assert "new-agent@example.com" not in {u["email"] for u in user}


# The dashboard


def _cells(page: str, key: str) -> dict[str, list[str]]:
    """A figure table's rows: label -> the cells' data-value."""
    table = re.search(rf'<table[^>]*data-table="{key}".*?</table>', page, re.S)
    assert table, key
    rows = {}
    for row in re.findall(r"<tr><th scope=\"row\">(.*?)</th>(.*?)</tr>", table.group(0), re.S):
        rows[row[0].strip()] = re.findall(r'data-value="([^"]*)"', row[1])
    return rows


def _chart_data(page: str) -> dict[str, Any]:
    import html
    import json

    found = re.search(r'<script type="application/json" id="chart-data">(.*?)</script>', page, re.S)
    assert found
    return json.loads(html.unescape(found.group(1)))  # type: ignore[no-any-return]


def test_dashboard_figures_are_the_apis_and_every_chart_has_its_table(
    client: TestClient, people: People, fake_clock: FakeClock
) -> None:
    fake_clock.set(datetime(2025, 3, 10, 12, 0, tzinfo=UTC))
    owner = people["individual"].id
    day = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
    insert_tickets(client, owner, 3, created_at=day - timedelta(days=10))  # before the range
    insert_tickets(
        client,
        owner,
        2,
        created_at=day - timedelta(days=10),
        status="resolved",
        resolved_at=day + timedelta(days=1),
    )
    insert_tickets(client, owner, 4, created_at=day, priority="high", category="billing")
    insert_tickets(
        client,
        owner,
        1,
        created_at=day + timedelta(days=2),
        status="closed",
        resolved_at=day + timedelta(days=2, hours=5),
        priority="urgent",
    )
    browser = browser_for(client, people["super_admin"])
    page = browser.get("/admin/dashboard?start_date=2025-03-01&end_date=2025-03-07").text
    api = client.get(
        f"{API}/tickets/statistics/overview?start_date=2025-03-01&end_date=2025-03-07",
        headers=people["super_admin"].headers,
    ).json()
    charts = _chart_data(page)
    for key, figures in (
        ("status", {s: api[f"{s}_tickets"] for s in charts["status"]["labels"]}),
        ("priority", api["tickets_by_priority"]),
        ("category", api["tickets_by_category"]),
    ):
        assert dict(
            zip(charts[key]["labels"], dict(charts[key]["series"])["Tickets"], strict=True)
        ) == (figures)
        table = _cells(page, key)
        assert [int(v[0]) for v in table.values()] == dict(charts[key]["series"])["Tickets"]
    assert api["total_tickets"] == 5
    assert api["tickets_by_priority"]["high"] == 4
    daily = charts["daily"] | {"series": dict(charts["daily"]["series"])}
    assert daily["labels"][0] == "2025-03-01" and daily["labels"][-1] == "2025-03-07"
    assert daily["series"]["Created"] == [0, 0, 4, 0, 1, 0, 0]
    assert daily["series"]["Resolved"] == [0, 0, 0, 2, 1, 0, 0]
    # 5 open before the range (3 open, 2 resolved later), then the range's flow.
    assert daily["series"]["Backlog"] == [5, 5, 9, 7, 7, 7, 7]
    table = _cells(page, "daily")
    assert [[int(c) for c in v] for v in table.values()] == [
        list(col) for col in zip(*daily["series"].values(), strict=True)
    ]
    assert [name for name, _ in charts["daily"]["series"]] == ["Created", "Resolved", "Backlog"]
    sla = _cells(page, "sla")
    assert [v[0] for v in sla.values()] == [
        "" if api[k] is None else str(api[k])
        for k in ("sla_first_response_compliance", "sla_resolution_compliance")
    ]
    counts = client.get(f"{API}/dashboard", headers=people["super_admin"].headers).json()
    for key in ("open_tickets", "unassigned_tickets", "created_today", "sla_breached_tickets"):
        assert f'data-count="{key}">{counts[key]}<' in page, key


def test_dashboard_range_is_checked(client: TestClient, people: People) -> None:
    browser = browser_for(client, people["super_admin"])
    bad = {
        "start_date=2025-02-01&end_date=2025-01-01": "end_date is before start_date",
        "start_date=2024-01-01&end_date=2025-06-01": "at most 366 days",
        "start_date=yesterday": "not a date",
    }
    for query, message in bad.items():
        response = browser.get(f"/admin/dashboard?{query}")
        assert response.status_code == 422, query
        assert message in visible_text(response.text)


# SLA and business hours


def test_policy_form_is_the_apis_policy_change(client: TestClient, people: People) -> None:
    browser = browser_for(client, people["super_admin"])
    form = {"priority": "urgent", "first_response_time": "45", "resolution_time": "600"}
    response = browser.post("/admin/sla/policies", form | {"business_hours": "on"})
    assert response.status_code == 303
    policies = client.get(f"{API}/tickets/sla/config", headers=people["super_admin"].headers).json()
    urgent = next(p for p in policies if p["priority"] == "urgent")
    assert urgent == {
        "priority": "urgent",
        "first_response_time": 45,
        "resolution_time": 600,
        "applies_business_hours_only": True,
    }
    page = browser.get("/admin/sla?saved=urgent").text
    assert 'name="first_response_time" value="45"' in page
    refused = browser.post("/admin/sla/policies", form | {"first_response_time": "0"})
    assert refused.status_code == 422
    assert "greater than 0" in visible_text(refused.text)
    assert browser.post("/admin/sla/policies", form | {"resolution_time": "x"}).status_code == 422


def test_hours_form_saves_and_shows_the_calendars_messages(
    client: TestClient, people: People
) -> None:
    browser = browser_for(client, people["super_admin"])
    form = {
        "timezone": "Europe/Paris",
        "mon": "08:00-12:00, 13:00-17:00",
        "tue": "09:00-17:00",
        "holidays": "2025-12-25\n2025-12-26",
    }
    assert browser.post("/admin/sla/hours", form).status_code == 303
    hours = client.get(
        f"{API}/tickets/sla/business-hours", headers=people["super_admin"].headers
    ).json()
    assert hours["timezone"] == "Europe/Paris"
    assert hours["weekly"]["mon"] == [["08:00", "12:00"], ["13:00", "17:00"]]
    assert hours["weekly"]["wed"] == []
    assert hours["holidays"] == ["2025-12-25", "2025-12-26"]
    page = browser.get("/admin/sla").text
    assert 'value="08:00-12:00, 13:00-17:00"' in page
    for bad, field in (
        ({"timezone": "Mars/Olympus"}, "time zone"),
        ({"mon": "17:00-09:00"}, "mon"),
        ({"holidays": "2025-13-45"}, "holiday"),
    ):
        response = browser.post("/admin/sla/hours", form | bad)
        assert response.status_code == 422, bad
        assert field in visible_text(response.text).lower(), bad
        api = client.put(
            f"{API}/tickets/sla/business-hours",
            json={"timezone": "UTC", "weekly": {}, "holidays": []} | _api_shape(form | bad),
            headers=people["super_admin"].headers,
        )
        assert api.status_code == 422
        detail = api.json()["detail"]
        message = detail if isinstance(detail, str) else detail[0]["msg"]
        assert message.removeprefix("Value error, ") in visible_text(response.text)


def _api_shape(form: dict[str, str]) -> dict[str, Any]:
    weekly = {
        day: [part.strip().split("-") for part in form[day].split(",")]
        for day in ("mon", "tue")
        if day in form
    }
    return {"timezone": form["timezone"], "weekly": weekly, "holidays": form["holidays"].split()}


def test_preview_is_the_due_time_a_new_ticket_gets(
    client: TestClient, people: People, fake_clock: FakeClock
) -> None:
    fake_clock.set(datetime(2025, 1, 10, 16, 0, tzinfo=UTC))  # a Friday, 16:00 UTC
    browser = browser_for(client, people["super_admin"])
    form = {"priority": "high", "first_response_time": "120", "resolution_time": "480"}
    browser.post("/admin/sla/policies", form | {"business_hours": "on"})
    fragment = browser.get("/admin/sla/preview?preview_priority=high").text
    ticket = make_ticket(client, people["individual"], priority="high")
    first = datetime.fromisoformat(ticket["first_response_due_at"].replace("Z", "+00:00"))
    resolution = datetime.fromisoformat(ticket["resolution_due_at"].replace("Z", "+00:00"))
    assert f'data-due="first_response">{first:%Y-%m-%d %H:%M} UTC<' in fragment
    assert f'data-due="resolution">{resolution:%Y-%m-%d %H:%M} UTC<' in fragment
    # Hours as the form stands (not saved): Saturdays open 10:00-20:00 UTC.
    query = "preview_priority=high&timezone=UTC&fri=09:00-17:00&sat=10:00-20:00"
    fragment = browser.get(f"/admin/sla/preview?{query}").text
    assert 'data-due="first_response">2025-01-11 11:00 UTC<' in fragment
    bad = browser.get("/admin/sla/preview?preview_priority=high&timezone=UTC&mon=25:00-26:00").text
    assert 'data-preview="error"' in bad
    assert "mon" in visible_text(bad)


# Users


def test_users_are_created_changed_and_deactivated_through_the_service(
    client: TestClient, people: People
) -> None:
    browser = browser_for(client, people["super_admin"])
    created = browser.post("/admin/users", ADMIN_FORMS["/admin/users"])
    assert created.status_code == 303
    listed = client.get(f"{API}/users", headers=people["super_admin"].headers).json()
    new = next(u for u in listed if u["email"] == "new-agent@example.com")
    assert new["role"] == "agent"
    assert browser.post(f"/admin/users/{new['id']}", {"role": "super_admin"}).status_code == 303
    assert browser.post(f"/admin/users/{new['id']}", {"is_active": "false"}).status_code == 303
    after = client.get(f"{API}/users", headers=people["super_admin"].headers).json()
    new = next(u for u in after if u["email"] == "new-agent@example.com")
    assert (new["role"], new["is_active"]) == ("super_admin", False)
    page = browser.get("/admin/users").text
    assert "Reactivate New Agent" in page
    agents = browser.get("/admin/users?role=super_admin").text
    assert "Reactivate New Agent" in agents and people["agent"].email not in agents
    later = browser.get(f"/admin/users?after={new['id']}").text
    assert "New Agent" not in later
    weak = browser.post(
        "/admin/users",
        ADMIN_FORMS["/admin/users"] | {"email": "x@example.com", "password": "short"},
    )
    assert weak.status_code == 422


def test_the_last_active_super_admin_cannot_be_deactivated(
    client: TestClient, people: People
) -> None:
    admin = people["super_admin"]
    browser = browser_for(client, admin)
    response = browser.post(f"/admin/users/{admin.id}", {"is_active": "false"})
    assert response.status_code == 409
    api = client.patch(f"{API}/users/{admin.id}", json={"is_active": False}, headers=admin.headers)
    assert api.status_code == 409
    assert api.json()["detail"] in visible_text(response.text)
    demoted = browser.post(f"/admin/users/{admin.id}", {"role": "agent"})
    assert demoted.status_code == 409
    me = client.get(f"{API}/auth/me", headers=admin.headers).json()
    assert (me["role"], me["is_active"]) == ("super_admin", True)


def test_reset_password_mails_the_reset_link(client: TestClient, people: People) -> None:
    from sqlalchemy import select

    from tests.factories import in_db
    from ticketdesk.mail.models import OutboundEmail

    target = make_user(client, "agent", email="forgetful@example.com")
    browser = browser_for(client, people["super_admin"])
    assert browser.post(f"/admin/users/{target.id}/reset-link").status_code == 303

    async def _mails(session: Any) -> list[Any]:
        return list(await session.scalars(select(OutboundEmail)))

    mails = in_db(client, _mails)
    assert [(m.kind, m.to_addr) for m in mails] == [("password_reset", "forgetful@example.com")]
    assert browser.post("/admin/users/999999/reset-link").status_code == 404


# Operations: tokens, webhooks, mail, jobs


def test_a_token_made_on_the_page_is_shown_once_and_works(
    client: TestClient, people: People
) -> None:
    browser = browser_for(client, people["super_admin"])
    response = browser.post("/admin/tokens", {"name": "<b>ci</b>", "scopes": "tickets:read"})
    assert response.status_code == 201
    assert "&lt;b&gt;ci&lt;/b&gt;" in response.text and "<b>ci</b>" not in response.text
    plain = re.search(r'id="new-token" value="([^"]+)"', response.text)
    assert plain
    me = client.get(f"{API}/auth/me", headers={"Authorization": f"Bearer {plain.group(1)}"})
    assert me.status_code == 200
    page = browser.get("/admin/tokens").text
    assert plain.group(1) not in page
    listed = client.get(f"{API}/auth/tokens", headers=people["super_admin"].headers).json()
    assert [t["name"] for t in listed] == ["<b>ci</b>"]
    assert browser.post(f"/admin/tokens/{listed[0]['id']}/revoke").status_code == 303
    me = client.get(f"{API}/auth/me", headers={"Authorization": f"Bearer {plain.group(1)}"})
    assert me.status_code == 401


def test_webhooks_are_made_switched_and_their_failed_deliveries_retried(
    client: TestClient, people: People
) -> None:
    from tests.factories import in_db
    from ticketdesk.webhooks.models import DeliveryStatus, WebhookDelivery

    browser = browser_for(client, people["super_admin"])
    refused = browser.post("/admin/webhooks", {"url": "http://127.0.0.1/hook"})
    assert refused.status_code == 422
    made = browser.post("/admin/webhooks", ADMIN_FORMS["/admin/webhooks"])
    assert made.status_code == 201
    assert 'id="new-secret" value="' in made.text
    hook = client.get(f"{API}/webhooks", headers=people["super_admin"].headers).json()[0]
    ping = client.post(f"{API}/webhooks/{hook['id']}/ping", headers=people["super_admin"].headers)
    delivery = ping.json()["id"]

    async def _fail(session: Any) -> None:
        row = await session.get(WebhookDelivery, delivery)
        row.status, row.last_error = DeliveryStatus.FAILED, "connection refused"

    in_db(client, _fail)
    page = browser.get(f"/admin/webhooks/{hook['id']}").text
    assert "connection refused" in page and f"Retry delivery {delivery}" in page
    retried = browser.post(f"/admin/webhooks/{hook['id']}/deliveries/{delivery}/retry")
    assert retried.status_code == 303
    got = client.get(
        f"{API}/webhooks/{hook['id']}/deliveries", headers=people["super_admin"].headers
    ).json()
    assert got[0]["status"] == "pending"
    assert browser.post(f"/admin/webhooks/{hook['id']}", {"is_active": "false"}).status_code == 303
    off = client.get(f"{API}/webhooks/{hook['id']}", headers=people["super_admin"].headers)
    assert off.json()["is_active"] is False
    assert browser.post(f"/admin/webhooks/{hook['id']}/delete").status_code == 303
    assert client.get(f"{API}/webhooks", headers=people["super_admin"].headers).json() == []


def test_failed_mail_and_failed_jobs_are_retried_from_their_pages(
    client: TestClient, people: People
) -> None:
    from sqlalchemy import select

    from tests.factories import in_db
    from ticketdesk import clock
    from ticketdesk.jobs.models import Job, JobStatus
    from ticketdesk.mail.models import OutboundEmail, OutboxStatus

    browser = browser_for(client, people["super_admin"])
    browser.post(f"/admin/users/{people['agent'].id}/reset-link")

    async def _break(session: Any) -> tuple[int, int]:
        mail = await session.scalar(select(OutboundEmail))
        mail.status, mail.last_error = OutboxStatus.FAILED, "550 <no such user>"
        job = Job(
            kind="mail.send",
            payload={},
            status=JobStatus.FAILED,
            attempts=5,
            max_attempts=5,
            run_at=clock.now(),
            last_error="Traceback: boom",
            created_at=clock.now(),
        )
        session.add(job)
        await session.flush()
        return mail.id, job.id

    mail_id, job_id = in_db(client, _break)
    page = browser.get("/admin/mail?outbox_status=failed").text
    assert "550 &lt;no such user&gt;" in page and f"Retry mail {mail_id}" in page
    assert browser.post(f"/admin/mail/outbox/{mail_id}/retry").status_code == 303
    outbox = client.get(f"{API}/mail/outbox", headers=people["super_admin"].headers).json()
    assert outbox[0]["status"] == "queued"
    page = browser.get("/admin/jobs").text
    assert "Traceback: boom" in page and f"Retry job {job_id}" in page
    assert browser.post(f"/admin/jobs/{job_id}/retry").status_code == 303
    jobs = client.get(f"{API}/jobs?kind=mail.send", headers=people["super_admin"].headers).json()
    assert next(j for j in jobs if j["id"] == job_id)["status"] == "queued"
    assert browser.post(f"/admin/jobs/{job_id}/retry").status_code == 409


# Settings of macros, custom fields, assignment rules


def test_macros_are_made_edited_and_deleted_on_their_page(
    client: TestClient, people: People
) -> None:
    admin = people["super_admin"]
    browser = browser_for(client, admin)
    form = {
        "name": "Ask for logs",
        "body": "Hello {{ customer.name }}, could you send the logs?",
        "status": "waiting_on_customer",
        "add_tags": "logs, waiting",
        "assign": "me",
        "is_shared": "on",
    }
    assert browser.post("/admin/macros", form).status_code == 303
    made = client.get(f"{API}/macros", headers=admin.headers).json()
    assert len(made) == 1
    assert made[0]["actions"] == {
        "status": "waiting_on_customer",
        "add_tags": ["logs", "waiting"],
        "remove_tags": [],
        "assign": "me",
        "internal": False,
    }
    assert made[0]["is_shared"] is True
    page = browser.get("/admin/macros").text
    assert "Ask for logs" in page and "{{ customer.name }}" in page
    bad = browser.post(f"/admin/macros/{made[0]['id']}", form | {"body": "{{ secrets }}"})
    assert bad.status_code == 422
    assert "placeholders allowed" in visible_text(bad.text)
    changed = browser.post(f"/admin/macros/{made[0]['id']}", form | {"name": "Logs please"})
    assert changed.status_code == 303
    assert client.get(f"{API}/macros", headers=admin.headers).json()[0]["name"] == "Logs please"
    assert browser.post(f"/admin/macros/{made[0]['id']}/delete").status_code == 303
    assert client.get(f"{API}/macros", headers=admin.headers).json() == []


def test_custom_fields_are_made_edited_and_deleted_on_their_page(
    client: TestClient, people: People
) -> None:
    admin = people["super_admin"]
    browser = browser_for(client, admin)
    form = {"key": "plan", "label": "Plan", "type": "select", "options": "free, pro"}
    assert (
        browser.post("/admin/custom-fields", form | {"visible_to_customer": "on"}).status_code
        == 303
    )
    fields = client.get(f"{API}/custom-fields", headers=admin.headers).json()
    assert [(f["key"], f["options"], f["visible_to_customer"]) for f in fields] == [
        ("plan", ["free", "pro"], True)
    ]
    refused = browser.post("/admin/custom-fields", form | {"key": "size", "options": ""})
    assert refused.status_code == 422
    assert "needs options" in visible_text(refused.text)
    update = {"label": "Plan <i>tier</i>", "options": "free, pro, team"}
    assert browser.post(f"/admin/custom-fields/{fields[0]['id']}", update).status_code == 303
    field = client.get(f"{API}/custom-fields", headers=admin.headers).json()[0]
    assert (field["label"], field["options"]) == ("Plan <i>tier</i>", ["free", "pro", "team"])
    assert "Plan &lt;i&gt;tier&lt;/i&gt;" in browser.get("/admin/custom-fields").text
    assert browser.post(f"/admin/custom-fields/{field['id']}/delete").status_code == 303
    assert client.get(f"{API}/custom-fields", headers=admin.headers).json() == []


def test_assignment_rules_are_made_edited_and_deleted_on_their_page(
    client: TestClient, people: People
) -> None:
    admin = people["super_admin"]
    browser = browser_for(client, admin)
    agent = people["agent"].id
    form = {
        "name": "Billing",
        "categories": "billing",
        "priorities": ["high", "urgent"],
        "agent_ids": str(agent),
        "strategy": "least_loaded",
        "max_open_per_agent": "20",
        "is_active": "on",
    }
    assert browser.post("/admin/assignment-rules", form).status_code == 303
    rules = client.get(f"{API}/assignment-rules", headers=admin.headers).json()
    assert len(rules) == 1
    rule = rules[0]
    assert rule["conditions"]["categories"] == ["billing"]
    assert sorted(rule["conditions"]["priorities"]) == ["high", "urgent"]
    assert (rule["agent_ids"], rule["strategy"], rule["max_open_per_agent"]) == (
        [agent],
        "least_loaded",
        20,
    )
    customer = str(people["individual"].id)
    refused = browser.post("/admin/assignment-rules", form | {"agent_ids": customer})
    assert refused.status_code == 422
    edit = form | {"name": "Billing off", "max_open_per_agent": ""}
    edit.pop("is_active")
    assert browser.post(f"/admin/assignment-rules/{rule['id']}", edit).status_code == 303
    rule = client.get(f"{API}/assignment-rules", headers=admin.headers).json()[0]
    assert (rule["name"], rule["is_active"], rule["max_open_per_agent"]) == (
        "Billing off",
        False,
        None,
    )
    assert browser.post(f"/admin/assignment-rules/{rule['id']}/delete").status_code == 303
    assert client.get(f"{API}/assignment-rules", headers=admin.headers).json() == []
