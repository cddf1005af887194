"""History in the web client: the latest lines on joining, older ones on scrolling up,
all of it again after a reload, with the unread count kept; and the reconnection of a
page whose server restarted under it."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Page, expect

from hubbub.server import Server
from tests.helpers import LineClient, running_server
from tests.integration.conftest import Clients
from tests.web.support import (
    Pages,
    browser_test,
    buffer_button,
    joined,
    lines,
    page_url,
    say,
    web_settings,
)

pytestmark = browser_test

ROOM = "#lobby"


async def scroll_to_top(page: Page) -> None:
    await page.locator("#messages").evaluate("el => { el.scrollTop = 0; }")


async def test_the_latest_lines_show_on_joining_and_older_ones_on_scrolling_up(
    server: Server, pages: Pages, clients: Clients
) -> None:
    carol = await clients.connect(server, "carol", ROOM)
    await carol.send(*(f"PRIVMSG {ROOM} :line {i:03}" for i in range(1, 131)))
    await carol.sync()

    anna = await pages.open(page_url(server, nick="anna", channels=ROOM))
    await joined(anna, ROOM)
    # CHATHISTORY LATEST: the last 50, not more.
    await expect(lines(anna, "line 130")).to_have_count(1)
    await expect(lines(anna, "line 081")).to_have_count(1)
    await expect(lines(anna, "line 080")).to_have_count(0)
    await expect(anna.locator("#messages .history-top")).to_have_text(
        "Scroll up for older messages."
    )
    # Scrolling up asks for the page before (CHATHISTORY BEFORE), keeping the place.
    await scroll_to_top(anna)
    await expect(lines(anna, "line 031")).to_have_count(1)
    await expect(lines(anna, "line 081")).to_be_in_viewport()
    await scroll_to_top(anna)
    await expect(lines(anna, "line 001")).to_have_count(1)
    await scroll_to_top(anna)
    await expect(anna.locator("#messages .history-top")).to_have_text(
        "The beginning of the conversation."
    )


async def test_history_and_unread_counts_survive_a_reload(
    server: Server, pages: Pages, clients: Clients
) -> None:
    carol = await clients.connect(server, "carol", ROOM)
    anna = await pages.open(page_url(server, nick="anna", channels=f"{ROOM},#other"))
    await joined(anna, ROOM)
    await say(anna, "said before the reload")
    await carol.send(f"PRIVMSG {ROOM} :carol answers")
    await expect(lines(anna, "carol answers")).to_have_count(1)
    await buffer_button(anna, "#other").click()
    await carol.send(f"PRIVMSG {ROOM} :unread one", f"PRIVMSG {ROOM} :anna: unread two")
    lobby = buffer_button(anna, ROOM)
    await expect(lobby.locator(".badge")).to_have_text("1")  # one mention of two

    await anna.reload()
    await joined(anna, "#other")  # the conversation shown last
    await expect(lobby.locator(".badge.mention")).to_have_text("1")
    await expect(lobby).to_have_attribute("aria-label", "#lobby, 2 unread messages, 1 mention")
    await lobby.click()
    for text in ("said before the reload", "carol answers", "unread one", "unread two"):
        await expect(lines(anna, text)).to_have_count(1)
    # The read marker stands before the first line not read.
    marker = anna.locator("#messages .unread-marker + .line")
    await expect(marker).to_contain_text("unread one")
    await expect(lobby.locator(".badge")).to_have_count(0)


async def test_the_page_reconnects_and_rejoins_after_the_server_restarts(
    tmp_path: Path, pages: Pages
) -> None:
    pages.allowed = ("WebSocket connection to",)
    async with running_server(web_settings(tmp_path)) as server:
        web_port = server.web_addresses[0][1]
        irc_port = server.addresses[0][1]
        anna = await pages.open(page_url(server, nick="anna", channels=f"{ROOM},#rust"))
        await joined(anna, ROOM)
        await say(anna, "before the restart")
        await expect(lines(anna, "before the restart")).to_have_count(1)
    await expect(anna.locator("#conn")).to_contain_text("Connection lost")

    settings = web_settings(tmp_path, web_port=web_port, irc_port=irc_port)
    async with running_server(settings) as server:
        carol = await LineClient.open(irc_port)
        try:
            await carol.register("carol")
            await carol.send(f"JOIN {ROOM}")
            await carol.read_until(
                lambda m: m.command == "JOIN" and (m.source or "").startswith("anna!")
            )
            await expect(anna.locator("#conn")).to_be_hidden()
            await expect(anna.locator("#member-list")).to_contain_text("carol")
            await expect(buffer_button(anna, "#rust")).not_to_have_class("buffer channel parted")
            await carol.send(f"PRIVMSG {ROOM} :welcome back")
            await expect(lines(anna, "welcome back")).to_have_count(1)
            await say(anna, "thanks")
            await carol.read_until(lambda m: m.command == "PRIVMSG" and m.params[1] == "thanks")
            # What was said before the restart is still there once, not twice.
            await expect(lines(anna, "before the restart")).to_have_count(1)
        finally:
            await carol.close()
