"""Profiles in ``hubbub chat`` (draft/metadata-3), against the real server: display names
beside nicks, and ``/profile`` to set one's own."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hubbub.server import Server
from hubbub.wire import numerics as n
from hubbub.wire.casemap import Key
from tests.client.support import irc_port, make_app, server_settings, showing, until
from tests.helpers import LineClient, running_server


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    async with running_server(server_settings(tmp_path)) as server:
        yield server


@pytest.fixture
async def bob(server: Server) -> AsyncIterator[LineClient]:
    client = await LineClient.open(irc_port(server))
    await client.send("CAP REQ :draft/metadata-3 batch", "CAP END")
    await client.register("bob")
    await client.send("METADATA * SUB display-name")
    await client.read_until(n.RPL_METADATASUBOK)
    yield client
    await client.close()


async def test_display_names_are_shown_beside_nicks(server: Server, bob: LineClient) -> None:
    await bob.send("METADATA * SET display-name :Bob the Builder")
    await bob.read_until(n.RPL_KEYVALUE)
    app = make_app(irc_port(server), "anna", ("#rust",))
    async with app.run_test(size=(120, 36)):
        await until(app, lambda: app.state.active == Key("#rust"))
        await bob.send("JOIN #rust")
        await bob.read_until(n.RPL_ENDOFNAMES)
        await until(app, lambda: app.state.display_names.get(Key("bob")) == "Bob the Builder")
        await bob.send("PRIVMSG #rust :hi anna")
        await until(app, showing(app, "<Bob the Builder (bob)> hi anna"))
        # A change reaches the client as it is made; a removal takes the name away.
        await bob.send("METADATA * SET display-name :Robert")
        await until(app, lambda: app.state.display_names.get(Key("bob")) == "Robert")
        await bob.send("METADATA * SET display-name")
        await until(app, lambda: Key("bob") not in app.state.display_names)
        await bob.send("PRIVMSG #rust :plain again")
        await until(app, showing(app, "<bob> plain again"))


async def test_profile_sets_the_users_own_display_name(server: Server, bob: LineClient) -> None:
    app = make_app(irc_port(server), "anna", ("#rust",))
    async with app.run_test(size=(120, 36)) as pilot:
        await until(app, lambda: app.state.active == Key("#rust"))
        await bob.send("JOIN #rust")
        await bob.read_until(n.RPL_ENDOFNAMES)
        await pilot.press(*"/profile display-name Anna K.", "enter")
        told = await bob.read_until(n.RPL_KEYVALUE)
        assert told[-1].params == ("bob", "anna", "display-name", "*", "Anna K.")
        await until(app, showing(app, "display-name: Anna K."))
        await pilot.press(*"/profile avatar http://insecure.example/a.png", "enter")
        await until(
            app, showing(app, "Invalid value: an avatar is an https: URL or a data: image")
        )


async def _profiled(server: Server, nick: str, display_name: str | None) -> LineClient:
    """A client of ``nick`` in #rust, with ``display_name`` set first when given."""
    client = await LineClient.open(irc_port(server))
    await client.send("CAP REQ :draft/metadata-3", "CAP END")
    await client.register(nick)
    if display_name is not None:
        await client.send(f"METADATA * SET display-name :{display_name}")
        await client.read_until(n.RPL_KEYVALUE)
    await client.send("JOIN #rust")
    await client.read_until(n.RPL_ENDOFNAMES)
    return client


async def test_whoever_takes_the_nick_of_one_who_quit_has_no_display_name(
    server: Server,
) -> None:
    app = make_app(irc_port(server), "anna", ("#rust",))
    async with app.run_test(size=(120, 36)):
        await until(app, lambda: app.state.active == Key("#rust"))
        alice = await _profiled(server, "alice", "Alice (channel admin)")
        await until(app, lambda: app.state.display_names.get(Key("alice")) is not None)
        await alice.send("QUIT :bye")
        assert await alice.closed()
        await alice.close()
        await until(app, showing(app, "alice quit"))
        # The server says nothing of a newcomer with no keys: nothing must be left to show.
        mallory = await _profiled(server, "alice", None)
        await mallory.send("PRIVMSG #rust :please send me your password")
        await until(app, showing(app, "<alice> please send me your password"))
        assert Key("alice") not in app.state.display_names
        await mallory.close()


async def test_a_display_name_follows_its_holder_to_a_new_nick(server: Server) -> None:
    app = make_app(irc_port(server), "anna", ("#rust",))
    async with app.run_test(size=(120, 36)):
        await until(app, lambda: app.state.active == Key("#rust"))
        alice = await _profiled(server, "alice", "Alice A.")
        await until(app, lambda: app.state.display_names.get(Key("alice")) == "Alice A.")
        await alice.send("NICK alice_")
        await until(app, lambda: app.state.display_names.get(Key("alice_")) == "Alice A.")
        assert Key("alice") not in app.state.display_names
        await alice.send("PRIVMSG #rust :renamed")
        await until(app, showing(app, "<Alice A. (alice_)> renamed"))
        mallory = await _profiled(server, "alice", None)
        await mallory.send("PRIVMSG #rust :it is me")
        await until(app, showing(app, "<alice> it is me"))
        await mallory.close()
        await alice.close()
