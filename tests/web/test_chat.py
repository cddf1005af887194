"""The web client in a browser against the real server: pages chat with each other, with
an IRC client and with a plain-door user; private chats, mentions, typing, accounts."""

from __future__ import annotations

from playwright.async_api import Page, expect

from hubbub.server import Server
from hubbub.wire import numerics as n
from tests.integration.conftest import Clients
from tests.integration.test_plain import PlainPeer
from tests.web.support import Pages, browser_test, buffer_button, joined, lines, page_url, say

pytestmark = browser_test

ROOM = "#lobby"  # the plain door's room


async def test_two_pages_an_irc_client_and_a_plain_user_talk_in_one_room(
    server: Server, pages: Pages, clients: Clients
) -> None:
    carol = await clients.connect(server, "carol", ROOM)
    dave = await PlainPeer.open(server)
    try:
        await dave.login("dave")
        anna = await pages.open(page_url(server, nick="anna", channels=ROOM))
        await joined(anna, ROOM)
        bob = await pages.open(page_url(server, nick="bob", channels=ROOM))
        await joined(bob, ROOM)
        # The message box has focus once the room is joined.
        await expect(bob.locator("#input")).to_be_focused()
        members = anna.locator("#member-list")
        for nick in ("anna", "bob", "carol", "dave"):
            await expect(members).to_contain_text(nick)

        await say(anna, "hello from anna")
        await expect(lines(bob, "hello from anna")).to_contain_text("anna")
        await carol.read_until(
            lambda m: m.command == "PRIVMSG" and m.params[1] == "hello from anna"
        )
        await dave.read_until("anna: hello from anna")

        await say(bob, "/me waves")
        await expect(lines(anna, "waves").locator(".text")).to_have_text("* bob waves")
        await carol.read_until(lambda m: m.params[-1] == "\x01ACTION waves\x01")

        await carol.send(f"PRIVMSG {ROOM} :carol over irc")
        await dave.send("dave over plain")
        for page in (anna, bob):
            await expect(lines(page, "carol over irc")).to_contain_text("carol")
            await expect(lines(page, "dave over plain")).to_contain_text("dave")
        # Everyone's own line shows once (echo-message, not a local copy as well).
        await expect(lines(anna, "hello from anna")).to_have_count(1)
    finally:
        await dave.close()


async def test_a_private_message_opens_a_chat_on_both_pages(
    server: Server, pages: Pages, clients: Clients
) -> None:
    anna = await pages.open(page_url(server, nick="anna", channels=ROOM))
    bob = await pages.open(page_url(server, nick="bob", channels=ROOM))
    await joined(anna, ROOM)
    await joined(bob, ROOM)

    await say(anna, "/query bob psst, bob")
    await expect(anna.locator("#buffer-title")).to_have_text("bob")
    await expect(lines(anna, "psst, bob")).to_have_count(1)

    chat = buffer_button(bob, "anna")
    await expect(chat.locator(".badge")).to_have_text("1")
    await chat.click()
    await expect(lines(bob, "psst, bob")).to_contain_text("anna")
    await expect(chat.locator(".badge")).to_have_count(0)
    await say(bob, "hi anna")
    await expect(lines(anna, "hi anna")).to_contain_text("bob")

    # An IRC user's private message reaches the page too.
    carol = await clients.connect(server, "carol")
    await carol.send("PRIVMSG anna :from irc")
    await expect(buffer_button(anna, "carol").locator(".badge")).to_have_text("1")


async def test_a_mention_raises_the_badge_of_its_room(
    server: Server, pages: Pages, clients: Clients
) -> None:
    carol = await clients.connect(server, "carol", ROOM)
    anna = await pages.open(page_url(server, nick="anna", channels=f"{ROOM},#other"))
    await joined(anna, ROOM)
    await say(anna, "/join #other")
    await joined(anna, "#other")
    lobby = buffer_button(anna, ROOM)

    await carol.send(f"PRIVMSG {ROOM} :just chatting")
    await expect(lobby.locator(".badge")).to_have_text("1")
    await expect(lobby.locator(".badge.mention")).to_have_count(0)
    await carol.send(f"PRIVMSG {ROOM} :anna: look at this")
    await expect(lobby.locator(".badge.mention")).to_have_text("1")
    await expect(anna).to_have_title("(1) #other · hubbub")

    await lobby.click()
    await expect(lines(anna, "look at this")).to_have_class("line msg mention")
    await expect(lobby.locator(".badge")).to_have_count(0)
    await expect(anna).to_have_title(f"{ROOM} · hubbub")


async def test_typing_is_shown_to_the_other_page_until_the_message_comes(
    server: Server, pages: Pages
) -> None:
    anna = await pages.open(page_url(server, nick="anna", channels=ROOM))
    bob = await pages.open(page_url(server, nick="bob", channels=ROOM))
    await joined(anna, ROOM)
    await joined(bob, ROOM)
    await anna.locator("#input").press_sequentially("hel")
    await expect(bob.locator("#typing")).to_have_text("anna is typing…")
    await anna.locator("#input").press_sequentially("lo")
    await anna.locator("#input").press("Enter")
    await expect(lines(bob, "hello")).to_have_count(1)
    await expect(bob.locator("#typing")).to_have_text("")


async def test_a_taken_nick_gets_a_free_variant_and_the_user_is_told(
    server: Server, pages: Pages, clients: Clients
) -> None:
    await clients.connect(server, "anna", ROOM)
    page = await pages.open(page_url(server, nick="anna", channels=ROOM))
    await joined(page, ROOM)
    await expect(page.locator("#notice")).to_have_text("The name anna is taken: you are anna_.")
    await expect(page.locator("#me")).to_have_text("anna_")


async def test_commands_and_tab_completion_and_recall(
    server: Server, pages: Pages, clients: Clients
) -> None:
    carol = await clients.connect(server, "carol", ROOM)
    anna = await pages.open(page_url(server, nick="anna", channels=ROOM))
    await joined(anna, ROOM)
    box = anna.locator("#input")

    await box.fill("car")
    await box.press("Tab")
    await expect(box).to_have_value("carol: ")
    await box.press_sequentially("hi")
    await box.press("Enter")
    await carol.read_until(lambda m: m.command == "PRIVMSG" and m.params[1] == "carol: hi")
    await box.press("ArrowUp")
    await expect(box).to_have_value("carol: hi")
    await box.fill("")

    # carol made the room: anna may set its topic once carol makes her an operator.
    await carol.send(f"MODE {ROOM} +o anna")
    await expect(anna.locator("#member-list")).to_contain_text("@anna")
    await say(anna, "/topic a room for tests")
    await expect(anna.locator("#topic")).to_have_text("a room for tests")
    await carol.read_until(lambda m: m.command == "TOPIC")
    await say(anna, "/nick anna2")
    await expect(anna.locator("#me")).to_have_text("anna2")
    await carol.read_until(lambda m: m.command == "NICK" and m.params[0] == "anna2")
    await say(anna, "/whois carol")
    await expect(lines(anna, "Real carol")).to_have_count(1)
    await say(anna, "/frobnicate")
    await expect(lines(anna, "Unknown command /frobnicate")).to_have_count(1)
    await say(anna, "/part")
    await carol.read_until(lambda m: m.command == "PART")
    await expect(buffer_button(anna, ROOM)).to_have_count(0)


async def test_pasting_several_lines_asks_before_sending_them(
    server: Server, pages: Pages, clients: Clients
) -> None:
    carol = await clients.connect(server, "carol", ROOM)
    anna = await pages.open(page_url(server, nick="anna", channels=ROOM))
    await joined(anna, ROOM)
    paste = "first line\nsecond line\nthird line"
    script = """text => {
        const data = new DataTransfer();
        data.setData("text/plain", text);
        document.querySelector("#input").dispatchEvent(
            new ClipboardEvent("paste", {clipboardData: data, bubbles: true, cancelable: true}));
    }"""
    await anna.evaluate(script, paste)
    dialog = anna.locator("#paste-dialog")
    await expect(dialog).to_be_visible()
    await expect(dialog.locator(".paste-count")).to_have_text("Send 3 lines as separate messages?")
    await dialog.get_by_role("button", name="Cancel").click()
    await expect(dialog).to_be_hidden()
    await anna.evaluate(script, paste)
    await anna.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()
    await anna.evaluate(script, paste)
    await dialog.get_by_role("button", name="Send them").click()
    seen = await carol.read_until(lambda m: m.command == "PRIVMSG" and "third" in m.params[1])
    said = [m.params[1] for m in seen if m.command == "PRIVMSG"]
    assert said[-3:] == ["first line", "second line", "third line"]
    await expect(lines(anna, "third line")).to_have_count(1)


async def test_an_account_made_from_the_form_logs_in_again_after_a_reload(
    server: Server, pages: Pages, clients: Clients
) -> None:
    page = await pages.open(page_url(server))
    await page.fill("#f-nick", "anna")
    await page.fill("#f-channels", ROOM)
    await page.get_by_label("Create an account").check()
    await page.fill("#f-password", "correct horse battery")
    await page.get_by_role("button", name="Connect").click()
    await joined(page, ROOM)
    await expect(page.locator("#me")).to_have_text("anna (anna)")

    # The reload logs in with SASL (SCRAM-SHA-256, by Web Crypto) from the session.
    await page.reload()
    await joined(page, ROOM)
    await expect(page.locator("#me")).to_have_text("anna (anna)")
    carol = await clients.connect(server, "carol")
    await carol.send("WHOIS anna")
    reply = await carol.read_until(n.RPL_ENDOFWHOIS)
    assert any(m.command == n.RPL_WHOISACCOUNT and m.params[2] == "anna" for m in reply)

    # Another browser logs in to the account from the form.
    other = await pages.open(page_url(server))
    await other.fill("#f-nick", "anna_phone")
    await other.get_by_label("Log in").check()
    await other.fill("#f-account", "anna")
    await other.fill("#f-password", "correct horse battery")
    await other.get_by_role("button", name="Connect").click()
    await expect(other.locator("#me")).to_have_text("anna_phone (anna)")

    wrong = await pages.open(page_url(server))
    await wrong.fill("#f-nick", "mallory")
    await wrong.get_by_label("Log in").check()
    await wrong.fill("#f-account", "anna")
    await wrong.fill("#f-password", "not the password")
    await wrong.get_by_role("button", name="Connect").click()
    await expect(wrong.locator("#connect-error")).to_contain_text("Logging in failed")


async def test_the_page_speaks_russian_to_a_russian_browser(server: Server, pages: Pages) -> None:
    page = await pages.open(page_url(server), locale="ru-RU")
    await expect(page.get_by_role("button", name="Войти в чат")).to_be_visible()
    await expect(page.locator("html")).to_have_attribute("lang", "ru")
    await page.fill("#f-nick", "анна")
    await page.fill("#f-channels", ROOM)
    await page.get_by_role("button", name="Войти в чат").click()
    await joined(page, ROOM)
    await expect(page.locator("#input")).to_have_attribute("placeholder", f"Сообщение в {ROOM}")


async def test_a_link_with_a_nick_and_channels_joins_them_at_once(
    server: Server, pages: Pages
) -> None:
    page = await pages.open(page_url(server, nick="anna", channels="#rust,lobby"))
    await joined(page, "#rust")
    await expect(buffer_button(page, "#lobby")).to_be_visible()
    # Keyboard: Alt+Up and Alt+Down go through the list (server, #lobby, #rust).
    await page.keyboard.press("Alt+ArrowUp")
    await expect(page.locator("#buffer-title")).to_have_text("#lobby")
    await page.keyboard.press("Alt+ArrowDown")
    await expect(page.locator("#buffer-title")).to_have_text("#rust")
    await page.keyboard.press("Alt+1")
    await expect(page.locator("#buffer-title")).to_have_text("hubbub")


async def test_quit_shows_the_form_again_without_reconnecting(
    server: Server, pages: Pages, clients: Clients
) -> None:
    carol = await clients.connect(server, "carol", ROOM)
    page = await pages.open(page_url(server, nick="anna", channels=ROOM))
    await joined(page, ROOM)
    await say(page, "/quit bye now")
    await carol.read_until(lambda m: m.command == "QUIT" and m.params[0].endswith("bye now"))
    await expect(page.locator("#connect")).to_be_visible()
    await expect(page.locator("#f-nick")).to_have_value("anna")
    # Reloading does not connect again: the user left.
    await page.reload()
    await expect(page.locator("#connect")).to_be_visible()
    await expect(page.locator("#app")).to_be_hidden()


async def test_reading_on_one_page_clears_the_count_on_the_accounts_other_page(
    server: Server, pages: Pages, clients: Clients
) -> None:
    owner = await clients.connect(server, "anna")
    await owner.send("NS REGISTER correct-horse-battery")
    await owner.read_until(n.RPL_LOGGEDIN)
    await owner.close()
    carol = await clients.connect(server, "carol", ROOM, "#other")

    async def log_in(nick: str, channels: str) -> Page:
        page = await pages.open(page_url(server))
        await page.fill("#f-nick", nick)
        await page.fill("#f-channels", channels)
        await page.get_by_label("Log in").check()
        await page.fill("#f-account", "anna")
        await page.fill("#f-password", "correct-horse-battery")
        await page.get_by_role("button", name="Connect").click()
        await expect(page.locator("#me")).to_have_text(f"{nick} (anna)")
        return page

    reading = await log_in("anna", f"#other,{ROOM}")
    away = await log_in("anna_phone", f"#other,{ROOM}")
    for page in (reading, away):
        await joined(page, "#other")
    await carol.send(f"PRIVMSG {ROOM} :news for both")
    for page in (reading, away):
        await expect(buffer_button(page, ROOM).locator(".badge")).to_have_text("1")
    # draft/read-marker: the page that shows the line moves the account's marker, and
    # the server tells the other page, whose count goes.
    await buffer_button(reading, ROOM).click()
    await expect(lines(reading, "news for both")).to_have_count(1)
    await expect(buffer_button(away, ROOM).locator(".badge")).to_have_count(0)
    await carol.send("PRIVMSG #other :only the phone reads this")
    await expect(lines(away, "only the phone reads this")).to_have_count(1)
    await away.close()
    # The marker is the account's: a new page of it starts with nothing unread.
    again = await log_in("anna_again", ROOM)
    await joined(again, ROOM)
    await expect(lines(again, "news for both")).to_have_count(1)
    await expect(again.locator("#messages .unread-marker")).to_have_count(0)


async def test_mentions_and_private_messages_notify_the_desktop_once_asked(
    server: Server, pages: Pages, clients: Clients
) -> None:
    carol = await clients.connect(server, "carol", ROOM)
    anna = await pages.open(
        page_url(server, nick="anna", channels=f"{ROOM},#other"), permissions=["notifications"]
    )
    # The page's Notification, recorded: headless chromium shows none.
    await anna.add_init_script(
        """window.shown = [];
        window.Notification = class extends EventTarget {
            static permission = "granted";
            static requestPermission() { return Promise.resolve("granted"); }
            constructor(title, options) { super(); window.shown.push([title, options.body]); }
            close() {}
        };"""
    )
    await anna.reload()
    await joined(anna, ROOM)
    toggle = anna.locator("#notify-toggle")
    await expect(toggle).to_have_text("Notifications: off")
    await carol.send(f"PRIVMSG {ROOM} :anna: not yet")  # in view, and not asked for
    await toggle.click()
    await expect(toggle).to_have_attribute("aria-pressed", "true")
    await buffer_button(anna, "#other").click()
    await carol.send(f"PRIVMSG {ROOM} :anna: \x02now\x02", f"PRIVMSG {ROOM} :no mention")
    await carol.send("PRIVMSG anna :a private word")
    await expect(buffer_button(anna, "carol")).to_be_visible()
    shown = await anna.evaluate("window.shown")
    assert shown == [["carol · #lobby", "anna: now"], ["carol", "a private word"]]
