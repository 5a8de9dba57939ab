"""The browser tests' shared pieces: one real server per module on the module's database, and
Debian's Chromium driven by Playwright (a module that needs another server defines its own)."""

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import _reset
from tests.web.browser import Server, launch, require_chromium, start_server


@pytest.fixture(scope="module")
def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    require_chromium()
    asyncio.run(_reset(database_url))
    yield from start_server(database_url, tmp_path_factory.mktemp("browser-data"))


@pytest.fixture(scope="module")
def browser(server: Server) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()
