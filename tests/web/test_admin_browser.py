"""The admin console in a real browser (Playwright driving Debian's Chromium) against a real
server: the charts against their tables and the API, the SLA editor, the business-hours
preview, deactivating a user, accessibility (axe-core) and JavaScript weight of every page."""

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.web.browser import (
    ADMIN,
    PASSWORD,
    SCREENSHOTS,
    Server,
    axe_violations,
    sign_in,
)

pytestmark = [pytest.mark.server, pytest.mark.shared_database]
JS_BUDGET = 150 * 1024
ADMIN_PAGES = (
    "dashboard",
    "sla",
    "users",
    "tokens",
    "webhooks",
    "mail",
    "jobs",
    "macros",
    "custom-fields",
    "assignment-rules",
)


@pytest.fixture(scope="module")
def admin_page(browser: Any, server: Server) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in(page, server, ADMIN[0], ADMIN[1])
    yield page
    context.close()


def _api(server: Server) -> dict[str, str]:
    return server.token(ADMIN[0], ADMIN[1])


def _seed(server: Server) -> None:
    """Tickets of several priorities and categories; one resolved."""
    headers = _api(server)
    made = []
    for priority, category in (
        ("high", "billing"),
        ("high", "technical_support"),
        ("low", "billing"),
        ("urgent", "account"),
    ):
        body = {"subject": f"{priority} {category}", "description": "Seeded.", "priority": priority}
        body["category"] = category
        response = httpx.post(f"{server.api}/tickets/", json=body, headers=headers, timeout=30)
        assert response.status_code == 201, response.text
        made.append(response.json())
    done = httpx.post(
        f"{server.api}/tickets/{made[0]['id']}/status",
        json={"status": "resolved"},
        headers=headers,
        timeout=30,
    )
    assert done.status_code == 200, done.text


def _table(page: Any, key: str) -> dict[str, list[str]]:
    rows = page.locator(f"table[data-table='{key}'] tbody tr")
    return {
        rows.nth(i).locator("th").inner_text().strip(): [
            cell.get_attribute("data-value") for cell in rows.nth(i).locator("td").all()
        ]
        for i in range(rows.count())
    }


def test_charts_show_their_tables_numbers_which_are_the_apis(
    server: Server, admin_page: Any
) -> None:
    _seed(server)
    page = admin_page
    page.goto(f"{server.base}/admin/dashboard")
    page.wait_for_function("() => window.Chart && Chart.getChart(document.querySelector('canvas'))")
    charts = page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('canvas[data-chart]')].map(
            (c) => [c.dataset.chart, {labels: Chart.getChart(c).data.labels,
                    series: Chart.getChart(c).data.datasets.map((d) => [d.label, d.data])}]))"""
    )
    assert set(charts) == {"daily", "status", "priority", "category", "sla"}
    for key, chart in charts.items():
        table = _table(page, key)
        assert len(table) == len(chart["labels"]), key
        for i, cells in enumerate(table.values()):
            drawn = [values[i] for _, values in chart["series"]]
            assert [None if c == "" else float(c) for c in cells] == drawn, (key, i)
    start = page.get_by_label("From").input_value()
    end = page.get_by_label("To").input_value()
    overview = httpx.get(
        f"{server.api}/tickets/statistics/overview",
        params={"start_date": start, "end_date": end},
        headers=_api(server),
        timeout=30,
    ).json()
    assert (
        dict(zip(charts["priority"]["labels"], charts["priority"]["series"][0][1], strict=True))
        == (overview["tickets_by_priority"])
    )
    assert (
        dict(zip(charts["category"]["labels"], charts["category"]["series"][0][1], strict=True))
        == (overview["tickets_by_category"])
    )
    statuses = dict(zip(charts["status"]["labels"], charts["status"]["series"][0][1], strict=True))
    assert statuses == {s: overview[f"{s}_tickets"] for s in statuses}
    assert overview["tickets_by_priority"]["high"] == 2
    daily = dict(charts["daily"]["series"])
    assert sum(daily["Created"]) == overview["total_tickets"] == 4
    assert daily["Resolved"][-1] == 1
    assert daily["Backlog"][-1] == 3
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "admin-dashboard.png"), full_page=True)


def test_sla_editor_saves_through_the_api(server: Server, admin_page: Any) -> None:
    from playwright.sync_api import expect

    page = admin_page
    page.goto(f"{server.base}/admin/sla")
    page.get_by_label("First response minutes, urgent").fill("25")
    page.get_by_label("Resolution minutes, urgent").fill("300")
    page.get_by_label("Business hours only, urgent").uncheck()
    page.get_by_role("button", name="Save urgent").click()
    expect(page.locator("#policy-urgent .saved")).to_have_text("Saved")
    expect(page.get_by_label("First response minutes, urgent")).to_have_value("25")
    config = httpx.get(f"{server.api}/tickets/sla/config", headers=_api(server), timeout=30)
    urgent = next(p for p in config.json() if p["priority"] == "urgent")
    assert (urgent["first_response_time"], urgent["resolution_time"]) == (25, 300)
    assert urgent["applies_business_hours_only"] is False
    # The browser's own check refuses 0 before the API would.
    page.get_by_label("First response minutes, urgent").fill("0")
    page.get_by_role("button", name="Save urgent").click()
    assert page.url.endswith("/admin/sla?saved=urgent#policy-urgent")


def test_business_hours_preview_follows_the_form_and_the_saved_hours(
    server: Server, admin_page: Any
) -> None:
    from playwright.sync_api import expect

    page = admin_page
    headers = _api(server)
    policy = {"priority": "low", "first_response_time": 90, "resolution_time": 600}
    httpx.post(
        f"{server.api}/tickets/sla/config",
        json=policy | {"applies_business_hours_only": True},
        headers=headers,
        timeout=30,
    ).raise_for_status()
    page.goto(f"{server.base}/admin/sla")
    page.get_by_label("A ticket created now with priority").select_option("low")
    preview = page.locator("#preview")
    expect(preview.locator("[data-due='first_response']")).to_be_visible()
    page.get_by_label("Monday").fill("25:00-26:00")
    expect(preview.get_by_role("alert")).to_contain_text("mon")
    page.get_by_label("Time zone").fill("UTC")
    for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"):
        page.get_by_label(day).fill("00:00-24:00")
    page.get_by_label("Holidays").fill("")
    expect(preview.get_by_role("alert")).to_have_count(0)
    # Open every hour: the preview soon says 90 minutes from now.
    shown = _wait_for_due(page, timedelta(minutes=90))
    page.get_by_role("button", name="Save business hours").click()
    expect(page.locator("#hours .saved")).to_have_text("Saved")
    body = {"subject": "Preview check", "description": "x", "priority": "low"}
    ticket = httpx.post(f"{server.api}/tickets/", json=body, headers=headers, timeout=30).json()
    created = datetime.fromisoformat(ticket["created_at"].replace("Z", "+00:00"))
    due = datetime.fromisoformat(ticket["first_response_due_at"].replace("Z", "+00:00"))
    assert (due - created).total_seconds() == 90 * 60
    assert abs((due - shown).total_seconds()) < 3 * 60


def _wait_for_due(page: Any, later: timedelta) -> datetime:
    """The preview's first-response due time once it is `later` from now (give or take the
    minute it is shown to)."""
    deadline = time.monotonic() + 15
    while True:
        text = page.locator("#preview [data-due='first_response']").all_inner_texts()
        if text:
            shown = datetime.strptime(text[0], "%Y-%m-%d %H:%M UTC").replace(tzinfo=UTC)
            if abs((shown - (datetime.now(UTC) + later)).total_seconds()) < 3 * 60:
                return shown
        assert time.monotonic() < deadline, f"the preview still shows {text}"
        page.wait_for_timeout(200)


def test_deactivating_a_user_ends_their_access_but_never_the_last_admin(
    server: Server, admin_page: Any
) -> None:
    from playwright.sync_api import expect

    page = admin_page
    page.goto(f"{server.base}/admin/users")
    page.get_by_label("Full name", exact=True).fill("Dee Agent")
    page.get_by_label("Email", exact=True).fill("dee@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Role", exact=True).select_option("agent")
    page.get_by_role("button", name="Create user").click()
    expect(page.get_by_role("status")).to_have_text("User created.")
    assert server.token("dee@example.com", PASSWORD)
    page.get_by_role("button", name="Deactivate Dee Agent").click()
    expect(page.get_by_role("button", name="Reactivate Dee Agent")).to_be_visible()
    refused = httpx.post(
        f"{server.api}/auth/login",
        json={"email": "dee@example.com", "password": PASSWORD},
        timeout=30,
    )
    assert refused.status_code in (401, 403)
    page.get_by_role("button", name="Deactivate Ana Admin").click()
    expect(page.locator("h1")).to_have_text("Conflict")
    expect(page.locator(".errors")).to_contain_text("super_admin")
    me = httpx.get(f"{server.api}/auth/me", headers=_api(server), timeout=30).json()
    assert me["is_active"] is True


def test_every_admin_page_is_accessible_and_light(server: Server, browser: Any) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    sign_in(context.new_page(), server, ADMIN[0], ADMIN[1])
    for name in ADMIN_PAGES:
        page = context.new_page()
        sizes: list[int] = []

        def _count(request: Any, found: list[int] = sizes) -> None:
            if request.resource_type == "script":
                found.append(request.sizes()["responseBodySize"])

        page.on("requestfinished", _count)
        page.goto(f"{server.base}/admin/{name}")
        page.wait_for_load_state("networkidle")
        assert axe_violations(page) == [], name
        # Bytes on the wire (gzip where the browser accepts it), as the budget counts them.
        assert sum(sizes) <= JS_BUDGET, (name, sizes)
        page.close()
    context.close()
