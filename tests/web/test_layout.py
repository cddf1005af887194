"""The web client's layout: at 360 px nothing scrolls sideways and the lists are
drawers; landmarks and labels are there; and the screenshots in the README, wide and at
phone width, are made here (docs/web-wide.png, docs/web-phone.png)."""

from __future__ import annotations

from playwright.async_api import Page, Response, expect

from hubbub.server import Server
from tests.integration.conftest import Clients
from tests.web.support import (
    PHONE,
    ROOT,
    WIDE,
    Pages,
    browser_test,
    buffer_button,
    joined,
    lines,
    page_url,
    say,
)

pytestmark = browser_test

ROOM = "#lobby"
LONG_WORD = "a" * 400
LONG_URL = "https://example.org/" + "path/" * 60


async def no_sideways_scroll(page: Page) -> None:
    widths = await page.evaluate(
        """() => [document.documentElement.scrollWidth, innerWidth,
                  document.querySelector("#messages").scrollWidth,
                  document.querySelector("#messages").clientWidth]"""
    )
    assert widths[0] <= widths[1], widths
    assert widths[2] <= widths[3], widths


async def test_a_phone_width_page_does_not_scroll_sideways_and_has_drawers(
    server: Server, pages: Pages, clients: Clients
) -> None:
    carol = await clients.connect(server, "carol", ROOM)
    anna = await pages.open(page_url(server), viewport=PHONE)
    await no_sideways_scroll(anna)  # the connect form
    await anna.fill("#f-nick", "anna")
    await anna.fill("#f-channels", f"{ROOM},#other")
    await anna.get_by_role("button", name="Connect").click()
    await joined(anna, ROOM)
    await carol.send(f"PRIVMSG {ROOM} :{LONG_WORD}", f"PRIVMSG {ROOM} :{LONG_URL}")
    await carol.send(f"TOPIC {ROOM} :{LONG_WORD[:300]}")
    await say(anna, LONG_WORD[:300])
    await expect(anna.locator("#topic")).to_have_text(LONG_WORD[:300])
    await expect(lines(anna, LONG_URL)).to_have_count(1)
    await no_sideways_scroll(anna)

    sidebar = anna.locator("#sidebar")
    await expect(sidebar).not_to_be_in_viewport()
    conversations = anna.get_by_role("button", name="Conversations")
    await conversations.click()
    await expect(conversations).to_have_attribute("aria-expanded", "true")
    await expect(sidebar).to_be_in_viewport()
    await buffer_button(anna, "#other").click()
    await expect(anna.locator("#buffer-title")).to_have_text("#other")
    await expect(sidebar).not_to_be_in_viewport()

    members = anna.get_by_role("button", name="Members")
    await anna.keyboard.press("Alt+ArrowUp")
    await expect(anna.locator("#buffer-title")).to_have_text(ROOM)
    await members.click()
    await expect(anna.locator("#members")).to_be_in_viewport()
    await expect(anna.locator("#member-list")).to_contain_text("carol")
    await anna.keyboard.press("Escape")
    await expect(anna.locator("#members")).not_to_be_in_viewport()
    await no_sideways_scroll(anna)


async def test_the_page_has_landmarks_and_labels(server: Server, pages: Pages) -> None:
    anna = await pages.open(page_url(server, nick="anna", channels=ROOM))
    await joined(anna, ROOM)
    await expect(anna.get_by_role("navigation", name="Conversations")).to_be_visible()
    await expect(anna.get_by_role("log", name="Messages")).to_be_visible()
    await expect(anna.get_by_role("textbox", name="Message")).to_be_focused()
    await expect(anna.get_by_role("complementary", name="1 member")).to_be_visible()
    await expect(anna.get_by_role("button", name="#lobby")).to_have_attribute(
        "aria-current", "page"
    )


async def test_the_theme_follows_the_systems_light_or_dark(server: Server, pages: Pages) -> None:
    for scheme, background in (("light", "rgb(255, 255, 255)"), ("dark", "rgb(23, 25, 29)")):
        page = await pages.open(page_url(server), color_scheme=scheme)
        await expect(page.locator("body")).to_have_css("background-color", background)


async def scene(server: Server, pages: Pages, clients: Clients, viewport: dict[str, int]) -> Page:
    """A lively room, as seen by anna."""
    carol = await clients.connect(server, "carol", ROOM, "#rust")
    await carol.send(f"TOPIC {ROOM} :Everything about hubbub · https://example.org/hubbub")
    await carol.send(f"PRIVMSG {ROOM} :Good morning! The new release is out.")
    await carol.sync()
    bob = await pages.open(page_url(server, nick="bob", channels=f"{ROOM},#rust"))
    await joined(bob, ROOM)
    anna = await pages.open(page_url(server, nick="anna", channels=f"{ROOM},#rust"), viewport)
    await joined(anna, ROOM)
    await say(bob, "anna: did you try the web client yet?")
    await say(anna, "I'm using it right now, with no install at all")
    await say(bob, "/me is impressed")
    await carol.send(f"PRIVMSG {ROOM} :The notes are at https://example.org/notes")
    await carol.send("PRIVMSG #rust :anyone around?", "PRIVMSG #rust :anna: are you there?")
    await expect(lines(anna, "The notes are at")).to_have_count(1)
    await expect(buffer_button(anna, "#rust").locator(".badge")).to_have_text("1")
    await anna.locator("#input").press_sequentially("Thanks, carol")
    return anna


async def test_screenshots_wide_and_at_phone_width(
    server: Server, pages: Pages, clients: Clients
) -> None:
    anna = await scene(server, pages, clients, WIDE)
    await anna.screenshot(path=ROOT / "docs" / "web-wide.png")
    await anna.set_viewport_size(PHONE)  # type: ignore[arg-type]
    await expect(anna.locator("#sidebar")).not_to_be_in_viewport()
    await anna.screenshot(path=ROOT / "docs" / "web-phone.png")


async def test_the_first_load_is_within_budget_and_a_repeat_visit_only_revalidates(
    server: Server, pages: Pages
) -> None:
    page = await pages.open("about:blank")
    first: list[Response] = []
    page.on("response", lambda response: first.append(response))
    await page.goto(page_url(server, nick="anna", channels=ROOM))
    await joined(page, ROOM)
    sizes = [await response.request.sizes() for response in first]
    transferred = sum(s["responseBodySize"] + s["responseHeadersSize"] for s in sizes)
    # Issue 14: at most 200 KB transferred on a first load, everything included.
    assert transferred <= 200_000, transferred
    assert all(r.status == 200 for r in first), [(r.url, r.status) for r in first]
    assert all(r.headers.get("content-encoding") == "gzip" for r in first if r.url.endswith(".js"))

    files = len(first)
    again: list[Response] = []
    page.on("response", lambda response: again.append(response))
    await page.reload()
    await joined(page, ROOM)
    # Each file came back without a body: a 304, shown by the browser as its cached copy.
    bodies = [(r.url, (await r.request.sizes())["responseBodySize"]) for r in again]
    assert len(bodies) == files
    assert all(size == 0 for _, size in bodies), bodies
