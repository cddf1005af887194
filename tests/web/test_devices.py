"""One account on two browsers (multiclient): both pages are devices of one user, show
one conversation, and share what has been read."""

from __future__ import annotations

from playwright.async_api import Page, expect

from hubbub.core.presence import sessions_of
from hubbub.doors.irc.client import IrcClient
from hubbub.server import Server
from hubbub.wire import numerics as n
from tests.integration.conftest import Clients
from tests.web.support import Pages, browser_test, buffer_button, joined, lines, page_url, say

pytestmark = browser_test

ROOM = "#lobby"
PASSWORD = "correct-horse-battery"


async def log_in(pages: Pages, server: Server, channels: str) -> Page:
    """A new browser logged in from the form to the account anna, as the nick anna."""
    page = await pages.open(page_url(server))
    await page.fill("#f-nick", "anna")
    await page.fill("#f-channels", channels)
    await page.get_by_label("Log in").check()
    await page.fill("#f-account", "anna")
    await page.fill("#f-password", PASSWORD)
    await page.get_by_role("button", name="Connect").click()
    await expect(page.locator("#me")).to_have_text("anna (anna)")
    return page


async def test_two_browsers_of_one_account_show_one_conversation_and_unread_state(
    server: Server, pages: Pages, clients: Clients
) -> None:
    owner = await clients.connect(server, "anna")
    await owner.send(f"NS REGISTER {PASSWORD}")
    await owner.read_until(n.RPL_LOGGEDIN)
    await owner.close()
    carol = await clients.connect(server, "carol", ROOM, "#other")

    laptop = await log_in(pages, server, ROOM)
    await joined(laptop, ROOM)
    await carol.send(f"PRIVMSG {ROOM} :said before the phone came")
    await say(laptop, "the laptop answers")
    await expect(lines(laptop, "the laptop answers")).to_have_count(1)

    # The phone asks only for #other; it is shown #lobby too, where its user already
    # is, with the conversation so far (its own line as its own).
    phone = await log_in(pages, server, "#other")
    await joined(phone, "#other")
    await expect(buffer_button(phone, ROOM)).to_be_visible()
    await expect(buffer_button(laptop, "#other")).to_be_visible()  # one user joined it
    await buffer_button(phone, ROOM).click()
    await expect(lines(phone, "said before the phone came")).to_have_count(1)
    await expect(lines(phone, "the laptop answers")).to_have_class("line msg self")
    # Each browser is a device of its own, named once and kept.
    kept = "localStorage.getItem('hubbub.device')"
    names = [await page.evaluate(kept) for page in (laptop, phone)]
    assert all(name.startswith("web-") for name in names)
    assert names[0] != names[1]
    user = server.hub.find_user("anna")
    assert user is not None
    devices = [s.device or "" for s in sessions_of(user) if isinstance(s, IrcClient)]
    assert sorted(devices) == sorted(names)

    # What one says shows on the other as said by us; carol hears one anna.
    await say(phone, "from the phone")
    await expect(lines(laptop, "from the phone")).to_have_class("line msg self")
    await carol.read_until(lambda m: m.command == "PRIVMSG" and m.params[1] == "from the phone")
    await carol.send(f"PRIVMSG {ROOM} :carol to both")
    for page in (laptop, phone):
        await expect(lines(page, "carol to both")).to_have_count(1)
    # A private message from one device is in the other's chat with carol, not anna's.
    await say(laptop, "/msg carol psst")
    await carol.read_until(lambda m: m.command == "PRIVMSG" and m.params == ("carol", "psst"))
    await expect(buffer_button(phone, "carol")).to_be_visible()
    await expect(buffer_button(phone, "anna")).to_have_count(0)
    await buffer_button(phone, "carol").click()
    await expect(lines(phone, "psst")).to_have_class("line msg self")

    # Unread on both, read on one: draft/read-marker clears it on the other.
    for page in (laptop, phone):
        await buffer_button(page, "#other").click()
        await joined(page, "#other")
    await carol.send(f"PRIVMSG {ROOM} :news for both")
    for page in (laptop, phone):
        await expect(buffer_button(page, ROOM).locator(".badge")).to_have_text("1")
    await buffer_button(phone, ROOM).click()
    await expect(lines(phone, "news for both")).to_have_count(1)
    await expect(buffer_button(laptop, ROOM).locator(".badge")).to_have_count(0)
