"""The API docs pages in a real browser: Swagger UI at /api/docs and Redoc at /api/redoc
render every operation with no request leaving the server (they work offline)."""

from typing import Any

import httpx
import pytest

from tests.web.browser import Server

pytestmark = [pytest.mark.server, pytest.mark.shared_database]


@pytest.fixture(scope="module")
def operations(server: Server) -> list[dict[str, Any]]:
    document = httpx.get(f"{server.base}/api/openapi.json", timeout=30).json()
    return [op for item in document["paths"].values() for op in item.values()]


def _open(browser: Any, server: Server, path: str) -> tuple[Any, list[str], dict[str, str]]:
    """A page at `path`, with every URL the browser asked for and those that failed (why)."""
    page = browser.new_page()
    requested: list[str] = []
    failed: dict[str, str] = {}
    page.on("request", lambda request: requested.append(request.url))
    page.on("requestfailed", lambda request: failed.update({request.url: request.failure}))
    page.goto(f"{server.base}{path}")
    return page, requested, failed


def _outside(requested: list[str], failed: dict[str, str], server: Server) -> list[str]:
    """Requests that left the server's address. One the page's own Content-Security-Policy
    stopped inside the browser never reached the network (Redoc's sidebar names a logo on
    its makers' site; the docs pages' policy refuses it)."""
    local = (f"{server.base}/", "data:", "blob:")
    return [
        url
        for url in requested
        if not url.startswith(local) and "csp" not in failed.get(url, "").lower()
    ]


def test_swagger_ui_renders_every_operation_offline(browser, server, operations):
    page, requested, failed = _open(browser, server, "/api/docs")
    page.wait_for_selector(".opblock", timeout=30_000)
    assert page.locator(".opblock").count() == len(operations)
    # Summaries are shown beside each path.
    create = next(op for op in operations if op["operationId"] == "createTicket")
    assert page.get_by_text(create["summary"], exact=True).count() >= 1
    assert f"{server.base}/assets/swagger-ui-bundle.js" in requested
    page.wait_for_load_state("networkidle")
    assert f"{server.base}/api/openapi.json" in requested
    assert _outside(requested, failed, server) == [], failed
    page.close()


def test_redoc_renders_every_operation_offline(browser, server, operations):
    page, requested, failed = _open(browser, server, "/api/redoc")
    page.wait_for_selector("[data-section-id^='operation/']", timeout=60_000)
    assert page.locator("[data-section-id^='operation/']").count() == len(operations)
    assert f"{server.base}/assets/redoc.standalone.js" in requested
    page.wait_for_load_state("networkidle")
    assert f"{server.base}/api/openapi.json" in requested
    assert _outside(requested, failed, server) == [], failed
    page.close()


def test_docs_redirects_to_the_api_docs(server):
    response = httpx.get(f"{server.base}/docs", timeout=30)
    assert response.status_code == 308
    assert response.headers["location"] == "/api/docs"
