"""Profiles (draft/metadata-3) in the web client: avatars (an image for https URLs only),
display names and statuses, set over IRC and shown in the member list and beside nicks;
hostile values stay text."""

from __future__ import annotations

import base64

from playwright.async_api import Page, Route, expect

from hubbub.server import Server
from hubbub.wire import numerics as n
from tests.helpers import LineClient
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


async def _profiled(server: Server, clients: Clients, nick: str, *keys: str) -> LineClient:
    """An IRC client of ``nick`` in ROOM that first sets ``keys`` ("key :value")."""
    client = await clients.open(server)
    await client.send("CAP REQ :draft/metadata-3", "CAP END")
    await client.register(nick)
    for key in keys:
        await client.send(f"METADATA * SET {key}")
        await client.read_until(n.RPL_KEYVALUE)
    await client.send(f"JOIN {ROOM}")
    await client.read_until(n.RPL_ENDOFNAMES)
    return client


async def _with_avatars(page: Page) -> None:
    async def avatar(route: Route) -> None:
        await route.fulfill(status=200, content_type="image/png", body=PIXEL)

    await page.route("https://avatars.example/**", avatar)


async def test_whoever_takes_the_nick_of_one_who_quit_is_shown_without_their_profile(
    server: Server, pages: Pages, clients: Clients
) -> None:
    anna = await pages.open(page_url(server, nick="anna", channels=ROOM))
    await _with_avatars(anna)
    await joined(anna, ROOM)
    alice = await _profiled(
        server, clients, "alice", "display-name :Alice (admin)", f"avatar :{AVATAR}"
    )
    members = anna.locator("#member-list")
    await expect(members.locator(".display-name")).to_have_text("Alice (admin)")
    await alice.send("QUIT :bye")
    assert await alice.closed()
    await expect(members.get_by_role("button", name="alice", exact=False)).to_have_count(0)
    # The server says nothing of a newcomer with no keys: nothing must be left to show.
    mallory = await _profiled(server, clients, "alice")
    await mallory.send(f"PRIVMSG {ROOM} :please send me your password")
    line = lines(anna, "please send me your password")
    await expect(line).to_have_count(1)
    await expect(line.locator(".display-name")).to_have_count(0)
    await expect(members.get_by_role("button", name="alice", exact=True)).to_have_count(1)
    await expect(members.locator(".display-name")).to_have_count(0)
    await expect(members.locator("img.avatar")).to_have_count(0)


async def test_a_profile_follows_its_holder_to_a_new_nick(
    server: Server, pages: Pages, clients: Clients
) -> None:
    anna = await pages.open(page_url(server, nick="anna", channels=ROOM))
    await _with_avatars(anna)
    await joined(anna, ROOM)
    alice = await _profiled(
        server, clients, "alice", "display-name :Alice A.", f"avatar :{AVATAR}"
    )
    members = anna.locator("#member-list")
    renamed = members.locator("button.member", has_text="alice_")
    await alice.send("NICK alice_")
    await expect(renamed.locator(".display-name")).to_have_text("Alice A.")
    await expect(renamed.locator("img.avatar")).to_have_attribute("src", AVATAR)
    # Someone else in the old nick is not her.
    mallory = await _profiled(server, clients, "alice")
    await mallory.send(f"PRIVMSG {ROOM} :it is me")
    await expect(lines(anna, "it is me")).to_have_count(1)
    await expect(lines(anna, "it is me").locator(".display-name")).to_have_count(0)
    await expect(members.get_by_role("button", name="alice", exact=True)).to_have_count(1)
    await expect(members.locator(".display-name")).to_have_count(1)
