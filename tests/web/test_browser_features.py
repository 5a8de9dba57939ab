"""Files, custom fields, ratings and password reset in a real browser (Playwright driving
Debian's Chromium) against a real server, with axe-core on every page they change."""

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from tests.web.browser import (
    ADMIN,
    Server,
    axe_violations,
    sign_in,
)
from tests.web.test_browser import LIVE_TIMEOUT, register, submit_ticket, wait_live
from ticketdesk import db

pytestmark = [pytest.mark.server, pytest.mark.shared_database]


def api(server: Server, method: str, path: str, **kwargs: Any) -> Any:
    admin = server.token(ADMIN[0], ADMIN[1])
    response = httpx.request(method, f"{server.api}{path}", headers=admin, timeout=30, **kwargs)
    assert response.status_code < 300, response.text
    return response.json() if response.content else None


def no_serious_violations(page: Any, name: str) -> None:
    found = axe_violations(page)
    assert found == [], (name, [n["html"] for v in found for n in v["nodes"]])


def test_a_file_sent_from_the_portal_is_downloaded_on_the_desk(
    server: Server, browser: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    api(server, "POST", "/custom-fields", json={
        "key": "plan", "label": "Plan", "type": "select", "options": ["free", "pro"],
        "visible_to_customer": True, "editable_by_customer": True,
    })  # fmt: skip
    customer = browser.new_context().new_page()
    register(customer, server, "uma@example.com", "Uma Customer")
    customer.goto(f"{server.base}/portal/tickets/new")
    no_serious_violations(customer, "portal-new-ticket with fields and files")
    customer.get_by_label("Subject").fill("Invoice is wrong")
    customer.get_by_label("Description").fill("See the attached invoice.")
    customer.get_by_label("Plan").select_option("pro")
    invoice = tmp_path / "invoice-2026.txt"
    invoice.write_bytes(b"Invoice 2026-11\nTotal: 42 EUR\n")
    customer.get_by_label("Attachments").set_input_files(str(invoice))
    customer.get_by_role("button", name="Submit ticket").click()
    customer.wait_for_url("**/portal/tickets/TKT-*")
    number = customer.url.rsplit("/", 1)[1]
    expect(customer.get_by_role("link", name="invoice-2026.txt")).to_be_visible()
    no_serious_violations(customer, "portal-ticket with a file")

    agent = browser.new_context(accept_downloads=True).new_page()
    sign_in(agent, server, ADMIN[0], ADMIN[1])
    agent.goto(f"{server.base}/desk/tickets/{number}")
    with agent.expect_download() as download:
        agent.get_by_role("link", name="invoice-2026.txt").click()
    saved = tmp_path / "downloaded.txt"
    download.value.save_as(str(saved))
    assert download.value.suggested_filename == "invoice-2026.txt"
    assert saved.read_bytes() == invoice.read_bytes()

    # An internal note with a file: marked on the desk, never on the portal.
    agent.get_by_role("tab", name="Internal note").click()
    agent.get_by_label("Internal note").fill("Our copy of the invoice")
    note_file = tmp_path / "ledger-internal.txt"
    note_file.write_bytes(b"ledger\n")
    agent.get_by_label("Attachments").set_input_files(str(note_file))
    agent.get_by_role("button", name="Send").click()
    agent.wait_for_url("**#comment-*")
    expect(agent.locator(".comment.internal")).to_contain_text("ledger-internal.txt")
    expect(agent.locator(".comment.internal")).to_contain_text("Internal · staff only")
    no_serious_violations(agent, "desk-ticket with files and fields")
    customer.reload()
    expect(customer.get_by_role("link", name="invoice-2026.txt")).to_be_visible()
    assert "ledger-internal" not in customer.content()


def test_an_agent_sets_a_custom_field_on_the_desk(server: Server, browser: Any) -> None:
    from playwright.sync_api import expect

    api(server, "POST", "/custom-fields", json={
        "key": "severity", "label": "Severity", "type": "select",
        "options": ["minor", "major", "critical"],
    })  # fmt: skip
    api(
        server,
        "POST",
        "/custom-fields",
        json={"key": "budget", "label": "Budget", "type": "number"},
    )
    customer = browser.new_context().new_page()
    register(customer, server, "ivo@example.com", "Ivo Customer")
    number = submit_ticket(customer, server, "Payments fail", "Since this morning.")
    agent = browser.new_context().new_page()
    sign_in(agent, server, ADMIN[0], ADMIN[1])
    agent.goto(f"{server.base}/desk/tickets/{number}")
    agent.get_by_label("Budget").fill("10000000000000000")  # a number, but past the service's bound
    agent.get_by_role("button", name="Save").click()
    expect(agent.locator("#property-errors")).to_contain_text("Budget: must be a finite number")
    expect(agent.get_by_label("Budget")).to_have_value("10000000000000000")
    no_serious_violations(agent, "desk-ticket with a field error")
    agent.get_by_label("Budget").fill("1200")
    agent.get_by_label("Severity").select_option("critical")
    agent.get_by_role("button", name="Save").click()
    agent.wait_for_url(f"**/desk/tickets/{number}")
    expect(agent.get_by_label("Severity")).to_have_value("critical")
    expect(agent.get_by_label("Budget")).to_have_value("1200")
    ticket = api(server, "GET", f"/tickets/{number}")
    assert ticket["custom_fields"]["severity"] == "critical"
    assert ticket["custom_fields"]["budget"] == 1200
    customer.reload()
    assert "Severity" not in customer.content()


def test_a_customer_rates_a_resolved_ticket(server: Server, browser: Any) -> None:
    from playwright.sync_api import expect

    customer = browser.new_context().new_page()
    register(customer, server, "ola@example.com", "Ola Customer")
    number = submit_ticket(customer, server, "Wifi slow", "In room 4.")
    wait_live(customer)
    for step in ("in_progress", "resolved"):
        api(server, "POST", f"/tickets/{number}/status", json={"status": step})
    # Offered as soon as the ticket is resolved, without a reload.
    expect(customer.get_by_role("heading", name="How did we do?")).to_be_visible(
        timeout=LIVE_TIMEOUT
    )
    no_serious_violations(customer, "portal-ticket offering the rating")
    customer.get_by_label("Good").check()
    customer.get_by_label("Comment (optional)").fill("Fast and friendly")
    customer.get_by_role("button", name="Send rating").click()
    customer.wait_for_url("**#rating")
    expect(customer.locator("#rating-given")).to_contain_text("You rated this: Good")
    no_serious_violations(customer, "portal-ticket with a rating")
    assert api(server, "GET", f"/tickets/{number}/satisfaction")["rating"] == "good"
    agent = browser.new_context().new_page()
    sign_in(agent, server, ADMIN[0], ADMIN[1])
    agent.goto(f"{server.base}/desk/tickets/{number}")
    expect(agent.locator("#rating-given")).to_contain_text("Rated: Good")


async def _newest_reset_mail(url: str) -> str:
    engine = db.create_engine(url)
    try:
        async with engine.connect() as conn:
            found = await conn.scalar(
                text(
                    "SELECT body_text FROM mail_outbox WHERE kind = 'password_reset'"
                    " ORDER BY id DESC LIMIT 1"
                )
            )
    finally:
        await engine.dispose()
    assert found is not None, "no password reset mail was written"
    return str(found)


def test_the_password_reset_round_trip(server: Server, browser: Any, database_url: str) -> None:
    from playwright.sync_api import expect

    first = browser.new_context().new_page()
    register(first, server, "pia@example.com", "Pia Customer")
    page = browser.new_context().new_page()
    page.goto(f"{server.base}/login")
    page.get_by_role("link", name="Forgot password?").click()
    page.wait_for_url("**/reset-password")
    no_serious_violations(page, "reset-password request")
    page.get_by_label("Email").fill("pia@example.com")
    page.get_by_role("button", name="Send reset link").click()
    expect(page.locator("#reset-sent")).to_contain_text("If the address has an account")
    no_serious_violations(page, "reset-password sent")

    # Playwright's own event loop runs in this thread: read the database from another one.
    with ThreadPoolExecutor(1) as worker:
        body = worker.submit(asyncio.run, _newest_reset_mail(database_url)).result()
    link = re.search(r"http://\S+/reset-password\?token=[A-Za-z0-9_\-]+", body)
    assert link is not None and link.group(0).startswith(server.base)
    page.goto(link.group(0))
    no_serious_violations(page, "reset-password choose")
    page.get_by_label("New password").fill("a-much-newer-password-7")
    page.get_by_role("button", name="Set password").click()
    expect(page.get_by_role("heading", name="Password changed")).to_be_visible()
    page.get_by_role("link", name="Sign in").click()
    sign_in(page, server, "pia@example.com", "a-much-newer-password-7")
    expect(page).to_have_url(f"{server.base}/portal")
    first.goto(f"{server.base}/portal")  # the session from before the reset ended
    expect(first).to_have_url(re.compile(r"/login\?next="))
