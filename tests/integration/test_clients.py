"""Two real client libraries from PyPI, jaraco's ``irc`` and ``pydle``, talk through hubbub."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from hubbub.server import Server
from tests.integration.peers import JaracoPeer, PydlePeer

CHANNEL = "#room"


@pytest.fixture
async def jaraco(server: Server) -> AsyncIterator[JaracoPeer]:
    peer = JaracoPeer("jaraco")
    await peer.connect(server.addresses[0][1])
    yield peer
    peer.close()


@pytest.fixture
async def pydle_peer(server: Server) -> AsyncIterator[PydlePeer]:
    peer = PydlePeer("pyd")
    await peer.connect(server.addresses[0][1])
    yield peer
    await peer.close()


@pytest.fixture
async def room(jaraco: JaracoPeer, pydle_peer: PydlePeer) -> tuple[JaracoPeer, PydlePeer]:
    """Both peers in #room, each having seen the other there."""
    await jaraco.join(CHANNEL)
    await pydle_peer.join(CHANNEL)
    await jaraco.log.wait_for("join", "pyd", CHANNEL)
    return jaraco, pydle_peer


async def test_both_libraries_register_and_receive_the_welcome_burst(
    jaraco: JaracoPeer, pydle_peer: PydlePeer
) -> None:
    welcome = await jaraco.log.wait_for("welcome")
    assert welcome.args[:2] == ("irc.test", "jaraco")
    assert jaraco.connection.get_nickname() == "jaraco"
    assert pydle_peer.client.registered
    assert pydle_peer.client.nickname == "pyd"


async def test_each_library_sees_the_other_join_the_channel(
    room: tuple[JaracoPeer, PydlePeer],
) -> None:
    jaraco, pydle_peer = room
    assert jaraco.log.find("join", "pyd", CHANNEL) is not None
    assert pydle_peer.log.find("join", "pyd", CHANNEL) is not None
    assert "jaraco" in pydle_peer.client.channels[CHANNEL]["users"]


async def test_channel_messages_flow_from_irc_to_pydle_and_back(
    room: tuple[JaracoPeer, PydlePeer],
) -> None:
    jaraco, pydle_peer = room
    jaraco.say(CHANNEL, "hello from jaraco")
    seen = await pydle_peer.log.wait_for("pubmsg", "jaraco", CHANNEL)
    assert seen.args[2] == "hello from jaraco"

    await pydle_peer.say(CHANNEL, "hello from pydle ✓")
    seen = await jaraco.log.wait_for("pubmsg", "pyd", CHANNEL)
    assert seen.args[2] == "hello from pydle ✓"


async def test_sender_does_not_receive_its_own_channel_message(
    room: tuple[JaracoPeer, PydlePeer],
) -> None:
    jaraco, pydle_peer = room
    jaraco.say(CHANNEL, "first")
    await pydle_peer.say(CHANNEL, "second")
    await jaraco.log.wait_for("pubmsg", "pyd", CHANNEL, "second")
    await pydle_peer.log.wait_for("pubmsg", "jaraco", CHANNEL, "first")
    assert jaraco.log.find("pubmsg", "jaraco") is None
    # pydle echoes its own messages to its callbacks; look at what came off the wire.
    assert pydle_peer.log.find("raw", "PRIVMSG", "pyd") is None
    assert pydle_peer.log.find("raw", "PRIVMSG", "jaraco") is not None


async def test_private_messages_flow_both_ways_between_libraries(
    jaraco: JaracoPeer, pydle_peer: PydlePeer
) -> None:
    jaraco.say("pyd", "psst")
    seen = await pydle_peer.log.wait_for("privmsg", "jaraco", "pyd")
    assert seen.args[2] == "psst"

    await pydle_peer.say("jaraco", "psst back")
    seen = await jaraco.log.wait_for("privmsg", "pyd", "jaraco")
    assert seen.args[2] == "psst back"


async def test_topic_set_with_irc_is_seen_by_pydle(room: tuple[JaracoPeer, PydlePeer]) -> None:
    jaraco, pydle_peer = room
    jaraco.topic(CHANNEL, "Topic by jaraco")
    seen = await pydle_peer.log.wait_for("topic", "jaraco", CHANNEL)
    assert seen.args[2] == "Topic by jaraco"
    assert pydle_peer.client.channels[CHANNEL]["topic"] == "Topic by jaraco"


async def test_topic_set_with_pydle_is_seen_by_irc(room: tuple[JaracoPeer, PydlePeer]) -> None:
    jaraco, pydle_peer = room
    # The channel is +t and jaraco, its creator, is the only operator.
    jaraco.mode(CHANNEL, "+o", "pyd")
    await pydle_peer.log.wait_for("raw", "MODE", "jaraco", CHANNEL, "+o", "pyd")
    await pydle_peer.topic(CHANNEL, "Topic by pydle")
    seen = await jaraco.log.wait_for("topic", "pyd", CHANNEL)
    assert seen.args[2] == "Topic by pydle"


async def test_part_with_irc_is_seen_by_pydle_with_its_reason(
    room: tuple[JaracoPeer, PydlePeer],
) -> None:
    jaraco, pydle_peer = room
    jaraco.part(CHANNEL, "off to lunch")
    seen = await pydle_peer.log.wait_for("part", "jaraco", CHANNEL)
    assert seen.args[2] == "off to lunch"
    assert "jaraco" not in pydle_peer.client.channels[CHANNEL]["users"]


async def test_part_with_pydle_is_seen_by_irc_with_its_reason(
    room: tuple[JaracoPeer, PydlePeer],
) -> None:
    jaraco, pydle_peer = room
    await pydle_peer.part(CHANNEL, "see you")
    seen = await jaraco.log.wait_for("part", "pyd", CHANNEL)
    assert seen.args[2] == "see you"


async def test_quit_with_irc_is_seen_by_pydle_with_its_reason(
    room: tuple[JaracoPeer, PydlePeer],
) -> None:
    jaraco, pydle_peer = room
    jaraco.quit("gone fishing")
    seen = await pydle_peer.log.wait_for("quit", "jaraco")
    assert "gone fishing" in seen.args[2]
    await jaraco.log.wait_for("disconnect")


async def test_quit_with_pydle_is_seen_by_irc_with_its_reason(
    room: tuple[JaracoPeer, PydlePeer],
) -> None:
    jaraco, pydle_peer = room
    await pydle_peer.quit("pydle says bye")
    seen = await jaraco.log.wait_for("quit", "pyd")
    assert "pydle says bye" in seen.args[2]


async def test_nick_change_with_irc_is_seen_by_pydle(
    room: tuple[JaracoPeer, PydlePeer],
) -> None:
    jaraco, pydle_peer = room
    jaraco.change_nick("jaraco2")
    await pydle_peer.log.wait_for("nick", "jaraco", "jaraco2")
    await jaraco.log.wait_for("nick", "jaraco", "jaraco2")
    assert jaraco.connection.get_nickname() == "jaraco2"
    assert "jaraco2" in pydle_peer.client.channels[CHANNEL]["users"]

    await pydle_peer.say(CHANNEL, "hi jaraco2")
    seen = await jaraco.log.wait_for("pubmsg", "pyd", CHANNEL, "hi jaraco2")
    assert seen.args[2] == "hi jaraco2"


async def test_nick_change_with_pydle_is_seen_by_irc(
    room: tuple[JaracoPeer, PydlePeer],
) -> None:
    jaraco, pydle_peer = room
    await pydle_peer.change_nick("pyd2")
    await jaraco.log.wait_for("nick", "pyd", "pyd2")
    await pydle_peer.log.wait_for("nick", "pyd", "pyd2")
    assert pydle_peer.client.nickname == "pyd2"

    jaraco.say("pyd2", "new name?")
    seen = await pydle_peer.log.wait_for("privmsg", "jaraco", "pyd2")
    assert seen.args[2] == "new name?"
