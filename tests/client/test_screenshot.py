"""The README's screenshot: a scripted session against the in-process server.

Run with ``HUBBUB_SCREENSHOT=docs/chat.svg`` to write the SVG there; otherwise it goes
to a temporary folder and the test checks what it shows.
"""

from __future__ import annotations

import os
from pathlib import Path

from textual.pilot import Pilot

from hubbub.client.app import ChatApp
from hubbub.client.widgets.input import ChatInput
from hubbub.wire import numerics as n
from hubbub.wire.casemap import Key
from tests.client.support import irc_port, make_app, server_settings, showing, until
from tests.helpers import LineClient, running_server


async def send(app: ChatApp, pilot: Pilot[None], text: str) -> None:
    """Put a line in the input and press enter (typing each key is slow, and the typing
    itself is tested elsewhere)."""
    app.query_one(ChatInput).value = text
    await pilot.press("enter")


async def test_main_screen_screenshot(tmp_path: Path) -> None:
    target = Path(os.environ.get("HUBBUB_SCREENSHOT", tmp_path / "chat.svg"))
    async with running_server(server_settings(tmp_path)) as server:
        port = irc_port(server)
        app = make_app(port, "anna", ("#rust", "#lobby"))
        async with app.run_test(size=(110, 28)) as pilot:
            await until(app, lambda: Key("#lobby") in app.state.buffers)
            assert app.state.active == Key("#rust")  # the first configured channel
            await send(app, pilot, "/topic Rust, gently: questions welcome")
            peers: list[LineClient] = []
            for nick in ("bob", "carol", "dmitri"):
                peer = await LineClient.open(port)
                await peer.register(nick)
                await peer.send("JOIN #rust,#lobby")
                await peer.read_until(n.RPL_ENDOFNAMES)
                peers.append(peer)
            bob, carol, dmitri = peers
            await until(app, lambda: len(app.state.buffers[Key("#rust")].members) == 4)
            await bob.send("PRIVMSG #rust :morning! anyone tried the new borrow checker?")
            await until(app, showing(app, "borrow checker"))
            await send(app, pilot, "/me has, and it is kind")
            await carol.send("PRIVMSG #rust :anna: does it catch the loop case now?")
            await until(app, showing(app, "loop case"))
            await send(app, pilot, "carol: yes, since the last release")
            await dmitri.send("NOTICE #rust :build bot: main is green", "MODE #rust +v dmitri")
            await carol.send("PRIVMSG #lobby :lunch at noon?", "PRIVMSG anna :got a minute?")
            await until(app, lambda: Key("carol") in app.state.buffers)
            await dmitri.send("PART #rust :off to review", "PRIVMSG #rust :bye")
            await bob.sync()
            await until(app, showing(app, "dmitri left"))
            await send(app, pilot, "see you")
            await until(app, showing(app, "<anna> see you"))
            await pilot.pause()
            svg = app.export_screenshot()
            app.save_screenshot(target.name, str(target.parent))
            for peer in peers:
                await peer.close()
    assert "#rust" in svg
    assert "borrow" in svg
    assert "\x1b" not in svg
