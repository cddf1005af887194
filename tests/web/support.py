"""What the browser tests share: the browser's path and flags, pages that record their
errors, and the few steps every test takes on a page (open, say, read)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from playwright.async_api import Browser, BrowserContext, ConsoleMessage, Locator, Page, expect

from hubbub.server import Server
from hubbub.settings import Listen, Settings
from tests.integration.conftest import make_settings

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ROOT = Path(__file__).resolve().parents[2]
WIDE = {"width": 1200, "height": 760}
PHONE = {"width": 360, "height": 740}

# Every browser test: selected with `-m browser`, skipped (saying why) without chromium.
browser_test = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs Debian's chromium at /usr/bin/chromium (apt-get install -y chromium)",
    ),
]


def web_settings(tmp_path: Path, web_port: int = 0, irc_port: int = 0) -> Settings:
    """Settings for a server with IRC, plain and web doors on 127.0.0.1.

    127.0.0.0/8 is trusted, so that a test client may say many lines at once.
    """
    return make_settings(tmp_path).replace(
        listen=(Listen("127.0.0.1", irc_port),),
        web=Listen("127.0.0.1", web_port),
        trusted=("127.0.0.0/8",),
    )


def page_url(server: Server, **params: str) -> str:
    host, port = server.web_addresses[0]
    query = urlencode(params)
    return f"http://{host}:{port}/" + (f"?{query}" if query else "")


@dataclass
class Pages:
    """Browser pages, each in its own context (its own storage, as another person's
    browser), with the errors they log kept for a check at the end of the test."""

    browser: Browser
    contexts: list[BrowserContext] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    # Console errors a test expects (the failed WebSocket reconnections of a restart).
    allowed: tuple[str, ...] = ()

    async def open(
        self,
        url: str,
        viewport: dict[str, int] | None = None,
        locale: str = "en-US",
        **context_options: Any,
    ) -> Page:
        context = await self.browser.new_context(
            viewport=viewport or WIDE,  # type: ignore[arg-type]
            locale=locale,
            reduced_motion="reduce",
            **context_options,
        )
        self.contexts.append(context)
        page = await context.new_page()
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))
        await page.goto(url)
        return page

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error" and not any(a in message.text for a in self.allowed):
            self.errors.append(f"console: {message.text}")

    async def close_all(self) -> None:
        for context in self.contexts:
            with contextlib.suppress(Exception):
                await context.close()

    def check_no_errors(self) -> None:
        """The pages logged no error: no script failure, no CSP refusal."""
        assert self.errors == [], self.errors


async def say(page: Page, text: str) -> None:
    """Types ``text`` in the message box and sends it."""
    box = page.locator("#input")
    await box.fill(text)
    await box.press("Enter")


def lines(page: Page, text: str) -> Locator:
    """The message rows containing ``text``."""
    return page.locator("#messages .line", has_text=text)


def buffer_button(page: Page, name: str) -> Locator:
    return page.locator(f'#buffer-list button.buffer[data-name="{name}"]')


async def joined(page: Page, channel: str) -> None:
    """Waits until the page shows ``channel``, joined, as the active conversation."""
    await expect(page.locator("#buffer-title")).to_have_text(channel)
    await expect(buffer_button(page, channel)).to_have_attribute("aria-current", "page")
    await expect(page.locator("#conn")).to_be_hidden()
