"""Profiles (draft/metadata-3) in the web client: avatars (an image for https URLs only),
display names and statuses, set over IRC and shown in the member list and beside nicks;
hostile values stay text."""

from __future__ import annotations

import base64

from playwright.async_api import Route, expect

from hubbub.server import Server
from hubbub.wire import numerics as n
from tests.integration.conftest import Clients
from tests.web.support import Pages, browser_test, buffer_button, joined, lines, page_url, say

pytestmark = browser_test

ROOM = "#lobby"
AVATAR = "https://avatars.example/carol.png"
# A 1×1 PNG, answered for the avatar in place of the network.
PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
HOSTILE = '<img src=x onerror="document.title=1">'


async def test_avatars_display_names_and_statuses_are_shown(
    server: Server, pages: Pages, clients: Clients
) -> None:
    anna = await pages.open(page_url(server, nick="anna", channels=ROOM))
    fetched: list[str] = []

    async def avatar(route: Route) -> None:
        fetched.append(route.request.url)
        await route.fulfill(status=200, content_type="image/png", body=PIXEL)

    await anna.route("https://avatars.example/**", avatar)
    await joined(anna, ROOM)
    carol = await clients.open(server)
    await carol.send("CAP REQ :draft/metadata-3", "CAP END")
    await carol.register("carol")
    await carol.send(
        "METADATA * SET display-name :Carol C.",
        "METADATA * SET status :out for lunch",
        f"METADATA * SET avatar :{AVATAR}",
    )
    dave = await clients.open(server)
    await dave.send("CAP REQ :draft/metadata-3", "CAP END")
    await dave.register("dave")
    await dave.send(
        f"METADATA * SET display-name :{HOSTILE}",
        "METADATA * SET avatar :data:image/png;base64,iVBORw0KGgo=",
    )
    for client in (carol, dave):
        await client.send(f"JOIN {ROOM}")
        await client.read_until(n.RPL_ENDOFNAMES)
    members = anna.locator("#member-list")
    carol_row = members.locator("button.member", has_text="carol")
    await expect(carol_row.locator(".display-name")).to_have_text("Carol C.")
    await expect(carol_row.locator(".profile-status")).to_have_text("out for lunch")
    await expect(carol_row.locator("img.avatar")).to_have_attribute("src", AVATAR)
    await expect(carol_row.locator("img.avatar")).to_have_js_property("naturalWidth", 1)
    assert fetched == [AVATAR]
    # An inline image is not shown (https only), and a hostile name is text.
    dave_row = members.locator("button.member", has_text="dave")
    await expect(dave_row.locator(".display-name")).to_have_text(HOSTILE)
    await expect(dave_row.locator("img")).to_have_count(0)
    assert await anna.title() != "1"

    await carol.send(f"PRIVMSG {ROOM} :hello anna")
    await expect(lines(anna, "hello anna").locator(".display-name")).to_have_text("Carol C.")
    # A change is shown as it is made.
    await carol.send("METADATA * SET status :back")
    await expect(carol_row.locator(".profile-status")).to_have_text("back")
    await carol.send("METADATA * SET display-name")
    await expect(carol_row.locator(".display-name")).to_have_count(0)


async def test_a_profile_set_in_one_browser_is_seen_in_another_and_over_irc(
    server: Server, pages: Pages, clients: Clients
) -> None:
    async def avatar(route: Route) -> None:
        await route.fulfill(status=200, content_type="image/png", body=PIXEL)

    anna = await pages.open(page_url(server, nick="anna", channels=ROOM))
    bob = await pages.open(page_url(server, nick="bob", channels=ROOM))
    for page in (anna, bob):
        await page.route("https://avatars.example/**", avatar)
        await joined(page, ROOM)
    await say(anna, "/profile display-name Anna A.")
    await say(anna, "/profile avatar https://avatars.example/anna.png")
    await say(anna, "/profile status writing tests")
    # Said once the server has it.
    await expect(lines(anna, "display-name set to: Anna A.")).to_have_count(1)
    await expect(lines(anna, "status set to: writing tests")).to_have_count(1)
    anna_row = bob.locator("#member-list button.member", has_text="anna")
    await expect(anna_row.locator(".display-name")).to_have_text("Anna A.")
    await expect(anna_row.locator(".profile-status")).to_have_text("writing tests")
    await expect(anna_row.locator("img.avatar")).to_have_attribute(
        "src", "https://avatars.example/anna.png"
    )
    # A client of any kind reads the same keys (hubbub chat asks as this one does).
    carol = await clients.open(server)
    await carol.send("CAP REQ :draft/metadata-3", "CAP END")
    await carol.register("carol")
    await carol.send("METADATA anna GET display-name")
    got = await carol.read_until(n.RPL_KEYVALUE)
    assert got[-1].params[1:] == ("anna", "display-name", "*", "Anna A.")
    # Cleared from the browser, gone for the others.
    await say(anna, "/profile status")
    await expect(anna_row.locator(".profile-status")).to_have_count(0)
    # Refused by the server: said in words, and not said to be set.
    await say(anna, "/profile avatar javascript:alert(1)")
    await expect(anna.locator(".line.error")).not_to_have_count(0)
    await expect(lines(anna, "avatar set to")).to_have_count(1)
    await expect(anna_row.locator("img.avatar")).to_have_attribute(
        "src", "https://avatars.example/anna.png"
    )
    # The full name and status are the member's tooltip (the list is narrow).
    await expect(anna_row).to_have_attribute("title", "anna, Anna A., operator")
    # WHOIS reads as sentences, with the display name.
    await say(bob, "/whois anna")
    await expect(lines(bob, "anna display-name: Anna A.")).to_have_count(1)
    await expect(lines(bob, "anna is ~web@127.0.0.1")).to_have_count(1)
    # A line drawn again after the display name is cleared shows no trace of it.
    await say(anna, "hello bob")
    await expect(lines(bob, "hello bob").locator(".display-name")).to_have_text("Anna A.")
    await say(anna, "/profile display-name")
    await expect(lines(anna, "display-name cleared")).to_have_count(1)
    await buffer_button(bob, "*server*").click()
    await buffer_button(bob, ROOM).click()
    await expect(lines(bob, "hello bob")).to_have_count(1)
    await expect(lines(bob, "hello bob").locator(".display-name")).to_have_count(0)
    assert "null" not in await lines(bob, "hello bob").inner_text()
