"""Fixtures for the browser tests: Debian's chromium driven by Playwright, and a server
with every door (the web listener too) on 127.0.0.1, port 0.

Browsers cannot be downloaded here, so Playwright drives ``/usr/bin/chromium`` (`.ci/run`
installs it); without it the browser tests are skipped, saying why.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright, expect

from hubbub.server import Server
from tests.helpers import running_server
from tests.integration.conftest import Clients
from tests.web.support import CHROMIUM, CHROMIUM_ARGS, Pages, web_settings

# Waits on the page (expect(...).to_have_text and the like) give up after this long.
expect.set_options(timeout=10_000)


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    async with running_server(web_settings(tmp_path)) as server:
        yield server


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            await browser.close()


@pytest.fixture
async def pages(browser: Browser) -> AsyncIterator[Pages]:
    opened = Pages(browser)
    try:
        yield opened
    finally:
        await opened.close_all()
    opened.check_no_errors()


@pytest.fixture
async def clients() -> AsyncIterator[Clients]:
    opened = Clients()
    try:
        yield opened
    finally:
        await opened.close_all()
