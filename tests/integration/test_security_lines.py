"""Security issue 20, seventh probe: what one client's input makes the server send.

A multi-line message sent to a client without draft/multiline, live or from history,
carries the sender's client-only tags (up to 4 KB) on its first line only, not on each of
its lines (IRCv3 multiline, "Fallback").

A ban, exception or invite mask (a mute's too) is at most 200 bytes: a longer one is
refused with ERR_INVALIDMODEPARAM, and the MODE relayed and the list shown stay within
512 bytes.

Every line the server sends is at most 512 bytes with CRLF, tags aside, even when it
echoes a client's long word back as a middle parameter (a refused nick or channel, a
history target): the longest parameters are cut to fit.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from hubbub.server import Server
from hubbub.wire import numerics as n
from hubbub.wire.message import Message, encode, parse
from tests.helpers import LineClient, running_server
from tests.integration.conftest import Clients, make_settings

BIG_TAG = "a" * 4000
LINES = 32  # the default multiline_max_lines
END_OF_LIST = {"b": n.RPL_ENDOFBANLIST, "e": n.RPL_ENDOFEXCEPTLIST, "I": n.RPL_ENDOFINVEXLIST}


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    """A server without flood control that stores each message before delivering it,
    so that CHATHISTORY right after a message finds it."""
    settings = make_settings(tmp_path, flood_rate=0.0).replace(history_sync=True)
    async with running_server(settings) as server:
        yield server


async def connect(
    clients: Clients, server: Server, nick: str, caps: Sequence[str], *channels: str
) -> LineClient:
    """A registered client with ``caps`` that joined ``channels``, everything so far read."""
    client = await clients.open(server)
    await client.send("CAP LS 302", f"CAP REQ :{' '.join(caps)}")
    ack = await client.read_until(lambda m: m.command == "CAP" and m.params[1] in ("ACK", "NAK"))
    assert ack[-1].params[1] == "ACK", ack[-1]
    await client.send("CAP END")
    await client.register(nick)
    for channel in channels:
        await client.send(f"JOIN {channel}")
        await client.read_until(n.RPL_ENDOFNAMES)
    await client.sync()
    return client


def privmsgs(lines: list[Message]) -> list[Message]:
    return [m for m in lines if m.command == "PRIVMSG"]


async def test_multiline_fallback_and_history_carry_client_tags_on_the_first_line_only(
    server: Server, clients: Clients
) -> None:
    sender = await connect(
        clients, server, "sender", ("message-tags", "batch", "draft/multiline"), "#t"
    )
    member = await connect(clients, server, "member", ("message-tags", "server-time"), "#t")

    await sender.send(
        f"@+x={BIG_TAG} BATCH +r draft/multiline #t",
        *(f"@batch=r PRIVMSG #t :line {k}" for k in range(LINES)),
        "BATCH -r",
    )
    await sender.sync()
    got = privmsgs(await member.sync())

    assert [m.params for m in got] == [("#t", f"line {k}") for k in range(LINES)]
    first, *rest = got
    assert first.tags.get("+x") == BIG_TAG
    assert "msgid" in first.tags
    for message in rest:
        # Server tags stay on every line; the sender's 4 KB tag does not.
        assert set(message.tags) == {"time"}, message.tags

    reader = await connect(
        clients,
        server,
        "reader",
        ("message-tags", "server-time", "batch", "draft/chathistory"),
        "#t",
    )
    await reader.send("CHATHISTORY LATEST #t * 50")
    stored = privmsgs(await reader.sync())
    assert [m.params for m in stored] == [("#t", f"line {k}") for k in range(LINES)]
    first, *rest = stored
    assert first.tags.get("+x") == BIG_TAG
    assert "msgid" in first.tags
    for message in rest:
        assert set(message.tags) == {"time", "batch"}, message.tags
    # The server is still serving both.
    await member.sync()
    await sender.sync()


def wire_length(message: Message) -> int:
    """The bytes of ``message`` on the wire with CRLF, its tags aside."""
    return len(encode(Message(message.command, message.params, message.source)))


@pytest.mark.parametrize(
    ("mode", "mask"),
    [("b", "é" * 245), ("e", "é" * 245), ("I", "é" * 245), ("b", "m:" + "x" * 199)],
)
async def test_a_list_mask_over_200_bytes_is_refused_with_696(
    server: Server, clients: Clients, mode: str, mask: str
) -> None:
    op = await clients.connect(server, "op", "#o")
    member = await clients.connect(server, "member", "#o")
    await op.sync()

    await op.send(f"MODE #o +{mode} {mask}")
    refused = await op.sync()

    assert [(m.command, m.params[1:-1]) for m in refused] == [
        (n.ERR_INVALIDMODEPARAM, ("#o", mode, "*"))
    ]
    assert all(m.command != "MODE" for m in await member.sync())
    await op.send(f"MODE #o {mode}")
    listed = await op.sync()
    # Only the end of the list: nothing was added.
    assert [m.command for m in listed] == [END_OF_LIST[mode]], listed


async def test_a_list_mask_of_200_bytes_is_set_and_its_lines_fit_512_bytes(
    server: Server, clients: Clients
) -> None:
    nick = "o" * 30
    op = await clients.connect(server, nick, "#" + "c" * 63)
    member = await clients.connect(server, "member", "#" + "c" * 63)
    await op.sync()
    mask = "é" * 96 + "!*@*"  # 196 bytes

    await op.send(f"MODE {'#' + 'c' * 63} +b {mask}")
    relayed = [m for m in await member.sync() if m.command == "MODE"]
    assert [m.params[1:] for m in relayed] == [("+b", mask)]
    await op.send(f"MODE {'#' + 'c' * 63} b")
    listed = await op.sync()

    assert [m.params[2] for m in listed if m.command == n.RPL_BANLIST] == [mask]
    assert all(wire_length(m) <= 512 for m in [*relayed, *listed]), [
        wire_length(m) for m in [*relayed, *listed]
    ]


ECHOING = [
    "WHOIS {x}",
    "TOPIC {x}",
    "KICK #o {x}",
    "KICK {x} nobody",
    "NICK {x}",
    "CHATHISTORY LATEST {x} * 10",
    "CHATHISTORY LATEST #{x} * 10",
    "CHATHISTORY {x} a b c",
    "MARKREAD {x}",
    "REDACT #o {x}",
]


async def raw_reply(client: LineClient, line: str) -> list[bytes]:
    """The raw lines the server answered to ``line``, up to a PONG barrier."""
    await client.send(line, "PING barrier")
    lines: list[bytes] = []
    async with asyncio.timeout(5):
        while not (raw := await client.reader.readline()).endswith(b"PONG irc.test barrier\r\n"):
            assert raw, lines
            lines.append(raw)
    return lines


def body_length(raw: bytes) -> int:
    """A line's bytes as the limit counts them: CRLF in, tags out."""
    return len(raw.split(b" ", 1)[1] if raw.startswith(b"@") else raw)


@pytest.mark.parametrize("template", ECHOING)
@pytest.mark.parametrize("letter", ["x", "é"])
async def test_a_long_word_echoed_back_is_cut_so_that_every_line_fits_512_bytes(
    server: Server, clients: Clients, template: str, letter: str
) -> None:
    caps = ("message-tags", "batch", "server-time", "draft/chathistory", "draft/read-marker")
    client = await connect(clients, server, "prober", caps, "#o")
    # As long as the client's own line may be: 510 bytes without CRLF.
    room = 510 - len(template.replace("{x}", "").encode())
    line = template.replace("{x}", letter * (room // len(letter.encode())))

    got = await raw_reply(client, line)

    assert got, line
    assert [body_length(raw) for raw in got if body_length(raw) > 512] == []
    # Still serving, and the reply still parses.
    assert all(parse(raw.rstrip(b"\r\n")).command for raw in got)
    await client.sync()
