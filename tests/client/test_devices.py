"""``hubbub chat`` as one device of an account (multiclient), driven with Pilot against
the real hubbub server: attached to the user already there, it shows that user's
channels and history, what the other device says as its own, and shares what was read.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hubbub.client.state import BufferKind
from hubbub.core.presence import sessions_of
from hubbub.doors.irc.client import IrcClient
from hubbub.server import Server
from hubbub.wire import numerics as n
from hubbub.wire.casemap import Key
from hubbub.wire.message import Message
from tests.client.support import irc_port, make_app, server_settings, until
from tests.helpers import LineClient, running_server

PASSWORD = "correct-horse-battery"


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    async with running_server(server_settings(tmp_path)) as server:
        owner = await LineClient.open(irc_port(server))
        await owner.register("anna")
        await owner.send(f"NS REGISTER {PASSWORD}")
        await owner.read_until(n.RPL_LOGGEDIN)
        await owner.send("QUIT")
        await owner.closed()
        await owner.close()
        yield server


async def phone_of(server: Server) -> LineClient:
    """Another device of the account anna, as the nick anna: a bare IRC connection."""
    phone = await LineClient.open(irc_port(server))
    secret = base64.b64encode(f"\0anna@phone\0{PASSWORD}".encode()).decode()
    await phone.send(
        "CAP LS 302",
        "NICK anna",
        "USER anna 0 * :Anna",
        "CAP REQ :sasl server-time draft/read-marker",
    )
    await phone.read_until(lambda m: m.command == "CAP" and m.params[1] == "ACK")
    await phone.send("AUTHENTICATE PLAIN")
    await phone.read_until("AUTHENTICATE")
    await phone.send(f"AUTHENTICATE {secret}", "CAP END")
    await phone.read_until(n.RPL_ENDOFMOTD)
    return phone


def said(message: Message, text: str) -> bool:
    return message.command == "PRIVMSG" and message.params[-1] == text


async def test_an_attached_client_shows_one_conversation_and_shares_what_was_read(
    server: Server,
) -> None:
    bob = await LineClient.open(irc_port(server))
    phone = await phone_of(server)
    try:
        await bob.register("bob")
        await bob.send("JOIN #rust")
        await bob.read_until(n.RPL_ENDOFNAMES)
        await phone.send("JOIN #rust,#other")
        await phone.read_until(lambda m: m.command == n.RPL_ENDOFNAMES and m.params[1] == "#other")
        await bob.send("PRIVMSG #rust :before the laptop came")
        await phone.send("PRIVMSG #rust :the phone said earlier")
        await bob.read_until(lambda m: said(m, "the phone said earlier"))

        # No channel configured: attached, it lands in its user's channels, not the lobby.
        app = make_app(irc_port(server), account="anna", password=PASSWORD, device="laptop")
        async with app.run_test(size=(120, 36)) as pilot:
            state = app.state
            await until(app, lambda: state.active == Key("#other"))
            assert state.joined_channels() == ["#other", "#rust"]
            rust = state.buffers[Key("#rust")]

            def line(text: str) -> bool:
                return any(line.text == text for line in rust.lines)

            # The conversation so far, from history; the phone's line is our own.
            await until(
                app, lambda: line("before the laptop came") and line("the phone said earlier")
            )
            assert [x.own for x in rust.lines if x.text == "the phone said earlier"] == [True]
            user = server.hub.find_user("anna")
            assert user is not None
            assert sorted(user.channels) == [Key("#other"), Key("#rust")]  # no lobby joined
            devices = [s.device for s in sessions_of(user) if isinstance(s, IrcClient)]
            assert sorted(d or "" for d in devices) == ["laptop", "phone"]

            # What the phone says shows as ours, a private message with the one it went to.
            await phone.send("PRIVMSG #rust :from the phone", "PRIVMSG bob :psst")
            await bob.read_until(lambda m: said(m, "psst"))
            await until(app, lambda: Key("bob") in state.buffers and line("from the phone"))
            assert [x.own for x in rust.lines if x.text == "from the phone"] == [True]
            query = state.buffers[Key("bob")]
            assert query.kind is BufferKind.QUERY
            assert [(x.text, x.own) for x in query.lines if x.nick] == [("psst", True)]
            assert Key("anna") not in state.buffers
            assert rust.unread == query.unread == 0  # own lines are not unread

            # bob's lines are unread on both; the phone reads them, and here too they go.
            await bob.send("PRIVMSG #rust :news one", "PRIVMSG #rust :anna: news two")
            got = await phone.read_until(lambda m: said(m, "anna: news two"))
            await until(app, lambda: rust.unread == 2)
            assert rust.mentions == 1
            await phone.send(f"MARKREAD #rust timestamp={got[-1].tags['time']}")
            await until(app, lambda: rust.unread == 0)
            assert rust.mentions == 0

            # And the other way: reading #rust here moves the marker the phone is told.
            await bob.send("PRIVMSG #rust :news three")
            got = await phone.read_until(lambda m: said(m, "news three"))
            await until(app, lambda: rust.unread == 1)
            await pilot.press("ctrl+n")  # #other → #rust
            told = await phone.read_until("MARKREAD")
            assert told[-1].params == ("#rust", f"timestamp={got[-1].tags['time']}")
    finally:
        for client in (bob, phone):
            await client.close()
