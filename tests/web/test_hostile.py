"""Hostile text in the web client: markup, script URLs and formatting codes from other
users are shown as text and run nothing, wherever they appear (a message, an action, a
topic, a nick's private chat, a channel list)."""

from __future__ import annotations

from playwright.async_api import expect

from hubbub.server import Server
from tests.integration.conftest import Clients
from tests.web.support import Pages, browser_test, joined, lines, page_url

pytestmark = browser_test

ROOM = "#lobby"
PAYLOADS = (
    '<img src=x onerror="window.pwned=1">',
    "<script>window.pwned=2</script>",
    '<a href="javascript:window.pwned=3">click</a>',
    "javascript:window.pwned=4",
    "JaVaScRiPt:window.pwned=5//http://example.org",
    "data:text/html,<script>window.pwned=6</script>",
    '"><svg onload="window.pwned=7">',
)


async def test_markup_and_script_links_from_others_render_as_text_and_run_nothing(
    server: Server, pages: Pages, clients: Clients
) -> None:
    mallory = await clients.connect(server, "mallory", ROOM)
    anna = await pages.open(page_url(server, nick="anna", channels=ROOM))
    await joined(anna, ROOM)
    await mallory.send(f"TOPIC {ROOM} :{PAYLOADS[0]} see https://example.org/ok")
    for payload in PAYLOADS:
        await mallory.send(f"PRIVMSG {ROOM} :{payload}")
    await mallory.send(f"PRIVMSG {ROOM} :\x01ACTION {PAYLOADS[0]}\x01")
    await mallory.send(f"PRIVMSG anna :{PAYLOADS[1]}")
    await mallory.send(f"PRIVMSG {ROOM} :end of payloads")
    await expect(lines(anna, "end of payloads")).to_have_count(1)

    for payload in PAYLOADS:
        await expect(anna.locator("#messages .line.msg .text", has_text=payload)).to_have_text(
            payload
        )
    await expect(anna.locator("#topic")).to_have_text(f"{PAYLOADS[0]} see https://example.org/ok")
    messages = anna.locator("#messages")
    await expect(messages.locator("img, script, svg, iframe")).to_have_count(0)
    await expect(anna.locator("#topic img")).to_have_count(0)
    # Links: only the http(s) ones, opened apart from this page.
    links = await anna.locator("#messages a, #topic a").evaluate_all(
        "links => links.map(a => [a.protocol, a.rel, a.target, a.textContent])"
    )
    ok = ["https:", "noopener noreferrer", "_blank", "https://example.org/ok"]
    # The topic in the header and in the line that tells of it, then the http URL that
    # follows the script URL in one message.
    assert links == [ok, ok, ["http:", "noopener noreferrer", "_blank", "http://example.org"]]
    await expect(anna.locator("#topic a")).to_have_attribute("href", "https://example.org/ok")
    assert await anna.evaluate("window.pwned") is None


async def test_formatting_codes_are_styles_never_characters(
    server: Server, pages: Pages, clients: Clients
) -> None:
    carol = await clients.connect(server, "carol", ROOM)
    anna = await pages.open(page_url(server, nick="anna", channels=ROOM))
    await joined(anna, ROOM)
    await carol.send(f"PRIVMSG {ROOM} :plain \x02bold\x02 \x0304,01red\x03 \x1ditalic\x0f end")
    line = lines(anna, "plain")
    await expect(line.locator(".text")).to_have_text("plain bold red italic end")
    await expect(line.locator(".f-bold")).to_have_text("bold")
    await expect(line.locator(".fg4.bg1")).to_have_text("red")
    await expect(line.locator(".f-italic")).to_have_text("italic")
