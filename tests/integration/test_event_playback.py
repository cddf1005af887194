"""draft/event-playback: topic changes and lasting TAGMSGs are kept with the messages,
and given back by CHATHISTORY only to the clients that ask for them."""

from __future__ import annotations

from pathlib import Path

from hubbub.wire.message import Message
from tests.helpers import LineClient, running_server
from tests.integration.conftest import Clients
from tests.integration.test_history import (
    CHAN,
    FULL_CAPS,
    connect,
    request,
    settings_for,
)
from tests.integration.test_plain import PlainPeer

PLAYBACK = (*FULL_CAPS, "draft/event-playback")


async def answered(client: LineClient, line: str, command: str) -> list[Message]:
    """The lines of ``command`` the server answered ``line`` with (its echo)."""
    return [m for m in await request(client, line) if m.command == command]


async def batched(client: LineClient, line: str) -> list[Message]:
    """What a CHATHISTORY request's batch holds."""
    return [m for m in await request(client, line) if "batch" in m.tags and m.command != "BATCH"]


async def test_a_client_with_event_playback_gets_topics_and_reactions_back(
    tmp_path: Path, clients: Clients
) -> None:
    async with running_server(settings_for(tmp_path)) as server:
        alice = await connect(clients, server, "alice", CHAN, caps=PLAYBACK)
        bob = await connect(clients, server, "bob", CHAN)
        topic = [
            m for m in await request(alice, f"TOPIC {CHAN} :release day") if m.command == "TOPIC"
        ]
        said = [
            m for m in await request(alice, f"PRIVMSG {CHAN} :it is out") if m.command == "PRIVMSG"
        ]
        react = [
            m
            for m in await request(
                alice, f"@+draft/react=tada;+draft/reply={said[0].tags['msgid']} TAGMSG {CHAN}"
            )
            if m.command == "TAGMSG"
        ]
        await request(alice, f"@+typing=active TAGMSG {CHAN}")
        # The live TOPIC carries the id it is kept under.
        assert topic[0].tags["msgid"]

        kept = await batched(alice, f"CHATHISTORY LATEST {CHAN} * 10")
        assert [(m.command, m.tags["msgid"]) for m in kept] == [
            ("TOPIC", topic[0].tags["msgid"]),
            ("PRIVMSG", said[0].tags["msgid"]),
            ("TAGMSG", react[0].tags["msgid"]),
        ]
        assert kept[0].params == (CHAN, "release day")
        assert kept[2].tags["+draft/react"] == "tada"
        # Without the capability: the messages only.
        plain = await batched(bob, f"CHATHISTORY LATEST {CHAN} * 10")
        assert [m.command for m in plain] == ["PRIVMSG"]


async def test_event_playback_is_offered_only_with_history(
    tmp_path: Path, clients: Clients
) -> None:
    settings = settings_for(tmp_path).replace(history=False)
    async with running_server(settings) as server:
        client = await clients.open(server)
        await client.send("CAP LS 302")
        listed = await client.read_until(lambda m: m.command == "CAP" and m.params[2] != "*")
        offered = " ".join(m.params[-1] for m in listed if m.command == "CAP")
        assert "draft/event-playback" not in offered
        assert "draft/chathistory" not in offered


async def test_the_plain_door_backlog_shows_messages_not_topic_changes(
    tmp_path: Path, clients: Clients
) -> None:
    async with running_server(settings_for(tmp_path)) as server:
        alice = await connect(clients, server, "alice", "#lobby")
        await request(alice, "TOPIC #lobby :welcome all")
        await request(alice, "PRIVMSG #lobby :hello plain people")
        plain = await PlainPeer.open(server)
        try:
            await plain.login("petya")
            seen = await plain.sync()
        finally:
            await plain.close()
        backlog = [line for line in seen if line.startswith("  ")]
        assert any("hello plain people" in line for line in backlog), seen
        assert not any("welcome all" in line for line in backlog), seen
