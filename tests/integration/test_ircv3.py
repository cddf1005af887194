"""IRCv3 capabilities negotiated over real sockets and checked against their specifications.

Each test negotiates with ``CAP LS 302`` / ``CAP REQ`` / ``CAP END`` like a client would
and compares what arrives with the examples of the spec at https://ircv3.net/specs/.
Where pydle (a client library from PyPI) supports a capability, it is the peer.
"""

from __future__ import annotations

import asyncio
import calendar
import contextlib
import re
import ssl
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pydle
import pytest
import trustme

from hubbub.doors.irc.caps import SUPPORTED
from hubbub.server import Server
from hubbub.settings import Listen
from hubbub.wire import numerics as n
from hubbub.wire.message import Message, parse
from tests.helpers import LineClient, running_server
from tests.integration.conftest import Clients, make_settings, port_of
from tests.integration.peers import PydleClient, Recorder

CHANNEL = "#room"
# IRCv3 server-time: "YYYY-MM-DDThh:mm:ss.sssZ", always UTC with milliseconds.
TIME_FORMAT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def source_nick(message: Message) -> str:
    return (message.source or "").partition("!")[0]


def is_from(command: str, nick: str) -> Callable[[Message], bool]:
    return lambda m: m.command == command and source_nick(m) == nick


def is_final_cap_ls(message: Message) -> bool:
    return message.command == "CAP" and message.params[1] == "LS" and message.params[2] != "*"


async def negotiate(client: LineClient, nick: str, *caps: str) -> list[Message]:
    """Register with CAP LS 302, a REQ of ``caps`` (acknowledged) and CAP END."""
    await client.send("CAP LS 302", f"NICK {nick}", f"USER {nick[:8]} 0 * :Real {nick}")
    await client.read_until(is_final_cap_ls)
    if caps:
        await client.send(f"CAP REQ :{' '.join(caps)}")
        reply = await client.read_until("CAP")
        # The first parameter is the nick once NICK was sent, "*" before.
        assert reply[-1].params == (nick, "ACK", " ".join(caps))
    await client.send("CAP END")
    return await client.read_until(n.RPL_ENDOFMOTD)


async def connect(
    clients: Clients, server: Server, nick: str, *caps: str, channels: tuple[str, ...] = ()
) -> LineClient:
    """A registered client with ``caps`` that joined ``channels``, everything so far read."""
    client = await clients.open(server)
    await negotiate(client, nick, *caps)
    for channel in channels:
        await client.send(f"JOIN {channel}")
        await client.read_until(is_from("JOIN", nick))
    await client.sync()
    return client


async def settle(*clients: LineClient) -> None:
    """Read (and drop) everything each client was sent so far."""
    for client in clients:
        await client.sync()


async def read_raw_until(client: LineClient, needle: bytes, seconds: float = 5.0) -> bytes:
    """The raw bytes of the first line that contains ``needle`` (CRLF removed)."""
    async with asyncio.timeout(seconds):
        for _ in range(1000):
            raw = await client.reader.readline()
            if not raw:
                raise EOFError("closed while waiting")
            if needle in raw:
                return raw.rstrip(b"\r\n")
    raise AssertionError(f"no line with {needle!r} in 1000 lines")


# -- CAP -------------------------------------------------------------------------------


async def test_cap_ls_302_offers_every_capability_and_implies_cap_notify(
    server: Server, clients: Clients
) -> None:
    client = await clients.open(server)
    await client.send("CAP LS 302")
    lines = await client.read_until(is_final_cap_ls)
    offered = " ".join(m.params[-1] for m in lines if m.command == "CAP").split()
    # A capability may carry a value (``name=value``) with CAP LS 302.
    assert set(SUPPORTED) <= {cap.partition("=")[0] for cap in offered}
    # cap-notify: "enabled implicitly for clients that negotiate version 302".
    await client.send("CAP LIST")
    listed = await client.read_until("CAP")
    assert listed[-1].params[:2] == ("*", "LIST")
    assert "cap-notify" in listed[-1].params[-1].split()
    await client.send("CAP END", "NICK capper", "USER capper 0 * :Capper")
    welcome = await client.read_until(n.RPL_ENDOFMOTD)
    assert welcome[0].command == n.RPL_WELCOME


async def test_cap_ls_without_a_version_does_not_enable_cap_notify(
    server: Server, clients: Clients
) -> None:
    client = await clients.open(server)
    await client.send("CAP LS")
    await client.read_until(is_final_cap_ls)
    await client.send("CAP LIST")
    listed = await client.read_until("CAP")
    assert "cap-notify" not in listed[-1].params[-1].split()


async def test_cap_req_with_one_unknown_capability_is_refused_whole_with_nak(
    server: Server, clients: Clients
) -> None:
    client = await clients.open(server)
    await client.send("CAP LS 302", "CAP REQ :multi-prefix example.org/unknown server-time")
    reply = await client.read_until(lambda m: m.command == "CAP" and m.params[1] != "LS")
    assert reply[-1].params == ("*", "NAK", "multi-prefix example.org/unknown server-time")
    await client.send("CAP LIST")
    listed = await client.read_until("CAP")
    assert listed[-1].params[-1].split() == ["cap-notify"]
    # Nothing of the refused set took effect: no time tag after registration.
    await client.send("CAP END", "NICK naked", "USER naked 0 * :Naked")
    welcome = await client.read_until(n.RPL_ENDOFMOTD)
    assert all(not m.tags for m in welcome)


async def test_cap_req_with_minus_disables_a_capability(server: Server, clients: Clients) -> None:
    client = await connect(clients, server, "toggler", "server-time", "multi-prefix")
    await client.send("CAP REQ :-server-time")
    reply = await client.read_until("CAP")
    assert reply[-1].params == ("toggler", "ACK", "-server-time")
    await client.send("CAP LIST")
    listed = await client.read_until("CAP")
    assert set(listed[-1].params[-1].split()) == {"cap-notify", "multi-prefix"}


async def test_sts_is_not_offered_without_a_tls_listener(server: Server, clients: Clients) -> None:
    client = await clients.open(server)
    await client.send("CAP LS 302")
    lines = await client.read_until(is_final_cap_ls)
    offered = " ".join(m.params[-1] for m in lines if m.command == "CAP").split()
    assert not [cap for cap in offered if cap.startswith("sts")]


@pytest.fixture
async def tls_server(tmp_path: Path) -> AsyncIterator[Server]:
    """A server with a plaintext and a TLS listener, certificate from a trustme CA."""
    ca = trustme.CA()
    leaf = ca.issue_cert("127.0.0.1", "localhost")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.write_bytes(b"".join(blob.bytes() for blob in leaf.cert_chain_pems))
    leaf.private_key_pem.write_to_path(str(key))
    settings = make_settings(tmp_path).replace(
        listen=(Listen("127.0.0.1", 0), Listen("127.0.0.1", 0, tls=True)),
        tls_cert=cert,
        tls_key=key,
        sts_duration=31536000,
    )
    async with running_server(settings) as server:
        yield server


async def offered_caps(client: LineClient) -> list[str]:
    await client.send("CAP LS 302")
    lines = await client.read_until(is_final_cap_ls)
    return " ".join(m.params[-1] for m in lines if m.command == "CAP").split()


async def test_sts_on_a_plaintext_connection_names_the_tls_port(
    tls_server: Server, clients: Clients
) -> None:
    client = await clients.open(tls_server)
    sts = [cap for cap in await offered_caps(client) if cap.startswith("sts=")]
    # IRCv3 STS: on an insecure connection, "port" is the port of the secure listener.
    assert sts == [f"sts=port={tls_server.tls_addresses[0][1]}"]


async def test_sts_on_a_tls_connection_gives_the_policy_duration(
    tls_server: Server,
) -> None:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    reader, writer = await asyncio.open_connection(
        "127.0.0.1", tls_server.tls_addresses[0][1], ssl=context
    )
    client = LineClient(reader, writer)
    try:
        sts = [cap for cap in await offered_caps(client) if cap.startswith("sts=")]
        assert sts == ["sts=duration=31536000"]
    finally:
        await client.close()


# -- message-tags ----------------------------------------------------------------------


@pytest.fixture
async def tagged_room(
    server: Server, clients: Clients
) -> tuple[LineClient, LineClient, LineClient]:
    """alice and bob with message-tags, carol without, all in #room."""
    alice = await connect(clients, server, "alice", "message-tags", channels=(CHANNEL,))
    bob = await connect(clients, server, "bob", "message-tags", channels=(CHANNEL,))
    carol = await connect(clients, server, "carol", channels=(CHANNEL,))
    await settle(alice, bob, carol)
    return alice, bob, carol


async def test_client_only_tag_from_the_spec_escaping_example_is_relayed_as_is(
    tagged_room: tuple[LineClient, LineClient, LineClient],
) -> None:
    alice, bob, carol = tagged_room
    # Spec example: raw value "raw+:=,escaped; \" escaped as "raw+:=,escaped\:\s\\";
    # the client's own source prefix is ignored.
    await alice.send(r"@+example=raw+:=,escaped\:\s\\ :irc.example.com NOTICE #room :Message")
    raw = await read_raw_until(bob, b" NOTICE #room ")
    tags = raw[1 : raw.index(b" ")].split(b";")
    assert rb"+example=raw+:=,escaped\:\s\\" in tags
    relayed = parse(raw)
    assert relayed.tags["+example"] == "raw+:=,escaped; \\"
    assert relayed.source is not None
    assert relayed.source.startswith("alice!")
    assert relayed.params == (CHANNEL, "Message")
    # A client without message-tags gets the message and no tags at all.
    plain = await carol.read_until("NOTICE")
    assert plain[-1].tags == {}
    assert plain[-1].params == (CHANNEL, "Message")


async def test_vendor_prefixed_client_only_tag_is_relayed(
    tagged_room: tuple[LineClient, LineClient, LineClient],
) -> None:
    alice, bob, _ = tagged_room
    await alice.send(
        "@+example.com/foo=bar :irc.example.com NOTICE #room "
        ":A vendor-prefixed client-only tagged message"
    )
    got = await bob.read_until("NOTICE")
    assert got[-1].tags["+example.com/foo"] == "bar"
    assert got[-1].params[-1] == "A vendor-prefixed client-only tagged message"


async def test_malformed_client_only_tag_keys_are_not_relayed(
    tagged_room: tuple[LineClient, LineClient, LineClient],
) -> None:
    # Probe 17: keys with controls, a bidi override, an escape or nothing after the "+"
    # were relayed to every member and kept in history.
    alice, bob, _ = tagged_room
    bad = ["+", "+a\x01b", "+\u00e9\u202e", "+a\\:b", "+a/", "+/b", "+-a.b/c"]
    sent = ";".join(f"{key}=x" for key in bad)
    # Probe 18: values with controls and bidi overrides too.
    sent += ";+ctl=a\x01b;+bidi=a\u202eb;+esc=\x1b[2J"
    # Probe 19: separators, hidden tag letters, zero-width and blank-drawn characters.
    sent += ";+sep=a\u2028b;+hide=a\U000e0041b;+zw=a\u200bb;+blank=\u3164"
    # Probe 20: variation selectors that carry data, a grapheme joiner, stacked marks.
    sent += ";+vs=x\U000e0100\U000e0101;+cgj=a\u034fb;+zalgo=e" + "\u0301" * 40
    await alice.send(f"@{sent};+good=1;+example.com/fine=2;+emoji=\U0001f44d PRIVMSG #room :tag")
    got = await bob.read_until("PRIVMSG")
    relayed = {key for key in got[-1].tags if key.startswith("+")}
    assert relayed == {"+good", "+example.com/fine", "+emoji"}


@pytest.mark.parametrize(
    ("sent", "relayed", "value"),
    [
        (r"a\:b", r"a\:b", "a;b"),
        (r"a\sb", r"a\sb", "a b"),
        (r"a\\b", r"a\\b", "a\\b"),
        (r"a\rb", r"a\rb", "a\rb"),
        (r"a\nb", r"a\nb", "a\nb"),
        # "If a lone \ exists at the end of an escaped value ... there SHOULD be no output
        # character. For example, the escaped value test\ should unescape to test."
        ("test\\", "test", "test"),
        # An unknown escape is the character itself.
        (r"\b\x", "bx", "bx"),
        ("日本語", "日本語", "日本語"),
    ],
)
async def test_tag_values_are_unescaped_and_escaped_again_per_the_spec_table(
    tagged_room: tuple[LineClient, LineClient, LineClient], sent: str, relayed: str, value: str
) -> None:
    alice, bob, _ = tagged_room
    await alice.send(f"@+example.org/v={sent} PRIVMSG #room :escaping")
    raw = await read_raw_until(bob, b" PRIVMSG #room ")
    tags = raw[1 : raw.index(b" ")].decode().split(";")
    assert f"+example.org/v={relayed}" in tags
    assert parse(raw).tags["+example.org/v"] == value


async def test_tags_without_the_client_only_prefix_are_not_relayed(
    tagged_room: tuple[LineClient, LineClient, LineClient],
) -> None:
    alice, bob, _ = tagged_room
    await alice.send(
        "@example-tag=example-value;msgid=forged;time=2000-01-01T00:00:00.000Z;"
        "example.com/ddd=eee;+kept=yes PRIVMSG #room :Message"
    )
    got = await bob.read_until("PRIVMSG")
    tags = dict(got[-1].tags)
    assert tags.pop("+kept") == "yes"
    assert tags.pop("msgid") != "forged"
    assert tags == {}


async def test_tagmsg_reaches_only_clients_with_message_tags(
    tagged_room: tuple[LineClient, LineClient, LineClient],
) -> None:
    alice, bob, carol = tagged_room
    await alice.send("@+example-client-tag=example-value TAGMSG #room")
    got = await bob.read_until("TAGMSG")
    assert got[-1].params == (CHANNEL,)
    assert got[-1].tags["+example-client-tag"] == "example-value"
    assert source_nick(got[-1]) == "alice"
    # "Servers MUST NOT deliver TAGMSG to clients that haven't negotiated message-tags."
    assert await carol.sync() == []
    await alice.send("PRIVMSG #room :after")
    after = await carol.read_until("PRIVMSG")
    assert [m.command for m in after] == ["PRIVMSG"]


async def test_tagmsg_with_only_an_unprefixed_tag_is_relayed_without_it(
    tagged_room: tuple[LineClient, LineClient, LineClient],
) -> None:
    alice, bob, _ = tagged_room
    # Spec example: "C: @unknown-tag TAGMSG #channel"
    #               "S: :nick!user@example.com TAGMSG #channel"
    await alice.send("@unknown-tag TAGMSG #room")
    await alice.send("PRIVMSG #room :marker")
    got = await bob.read_until("PRIVMSG")
    tagmsgs = [m for m in got if m.command == "TAGMSG"]
    assert len(tagmsgs) == 1, got
    assert "unknown-tag" not in tagmsgs[0].tags


async def test_tag_data_over_4094_bytes_is_refused_with_417(
    tagged_room: tuple[LineClient, LineClient, LineClient],
) -> None:
    alice, bob, _ = tagged_room
    fits = "+example.org/big=" + "x" * (4094 - len("+example.org/big="))
    await alice.send(f"@{fits} TAGMSG #room")
    got = await bob.read_until("TAGMSG")
    assert got[-1].tags["+example.org/big"] == fits.partition("=")[2]

    # Spec example: "@+tag1;+tag2;+tag[...];+tag5000 TAGMSG #channel" gets 417.
    many = ";".join(f"+tag{i}" for i in range(1, 5001))
    await alice.send(f"@{many} TAGMSG #room")
    refused = await alice.read_until(n.ERR_INPUTTOOLONG)
    assert refused[-1].params == ("alice", "Input line was too long")
    assert await bob.sync() == []
    await alice.send(f"@{fits}x TAGMSG #room")
    refused = await alice.read_until(n.ERR_INPUTTOOLONG)
    assert await bob.sync() == []


# -- server-time, msgid, echo-message ---------------------------------------------------


async def test_server_time_tags_messages_and_joins_in_utc_with_milliseconds(
    server: Server, clients: Clients
) -> None:
    timed = await connect(clients, server, "timed", "server-time", channels=(CHANNEL,))
    other = await connect(clients, server, "other", channels=(CHANNEL,))
    before = time.time()
    joined = await timed.read_until(is_from("JOIN", "other"))
    await other.send("PRIVMSG #room :what time is it")
    said = await timed.read_until("PRIVMSG")
    after = time.time()
    for message in (joined[-1], said[-1]):
        stamp = message.tags["time"]
        assert TIME_FORMAT.match(stamp), stamp
        moment = calendar.timegm(time.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S"))
        assert before - 5 <= moment <= after + 5
    # Without the capability, no time tag.
    await timed.send("PRIVMSG #room :and without")
    plain = await other.read_until("PRIVMSG")
    assert "time" not in plain[-1].tags


async def test_msgid_is_the_same_in_echo_and_relay_and_unique_per_message(
    server: Server, clients: Clients
) -> None:
    alice = await connect(
        clients, server, "alice", "message-tags", "echo-message", channels=(CHANNEL,)
    )
    bob = await connect(clients, server, "bob", "message-tags", channels=(CHANNEL,))
    await settle(alice, bob)
    seen: list[str] = []
    for line, command, target in (
        ("PRIVMSG #room :one", "PRIVMSG", CHANNEL),
        ("NOTICE #room :two", "NOTICE", CHANNEL),
        ("@+example.org/x=1 TAGMSG #room", "TAGMSG", CHANNEL),
        ("PRIVMSG bob :three", "PRIVMSG", "bob"),
        ("NOTICE bob :four", "NOTICE", "bob"),
        ("@+example.org/x=2 TAGMSG bob", "TAGMSG", "bob"),
    ):
        await alice.send(line)
        echo = (await alice.read_until(command))[-1]
        relay = (await bob.read_until(command))[-1]
        assert echo.params[0] == relay.params[0] == target
        assert echo.source == relay.source
        assert echo.tags["msgid"] == relay.tags["msgid"] != ""
        seen.append(echo.tags["msgid"])
    assert len(set(seen)) == len(seen)


async def test_echo_message_returns_the_senders_own_message(
    server: Server, clients: Clients
) -> None:
    echoer = await connect(clients, server, "echoer", "echo-message", channels=(CHANNEL,))
    quiet = await connect(clients, server, "quiet", channels=(CHANNEL,))
    await settle(echoer)
    await echoer.send("PRIVMSG #room :hello, me too")
    echo = await echoer.read_until("PRIVMSG")
    assert echo[-1].params == (CHANNEL, "hello, me too")
    assert (echo[-1].source or "").startswith("echoer!~echoer@")
    got = await quiet.read_until("PRIVMSG")
    assert got[-1].source == echo[-1].source
    # Without echo-message the sender hears nothing back.
    await quiet.send("PRIVMSG #room :no echo")
    await echoer.read_until(is_from("PRIVMSG", "quiet"))
    assert await quiet.sync() == []


# -- labeled-response and batch --------------------------------------------------------

LABELED = ("labeled-response", "batch", "message-tags")


async def test_labeled_command_with_one_reply_gets_that_reply_labeled(
    server: Server, clients: Clients
) -> None:
    client = await connect(clients, server, "labeler", *LABELED)
    await client.send("@label=pQraCjj82e PING token")
    reply = await client.read_until("PONG")
    assert reply[-1].tags == {"label": "pQraCjj82e"}
    assert reply[-1].params == ("irc.test", "token")


async def test_labeled_failed_privmsg_gets_a_labeled_401(server: Server, clients: Clients) -> None:
    client = await connect(clients, server, "labeler", *LABELED)
    # Spec example: "@label=dc11f13f11 PRIVMSG nick :Hello" answered by a labeled 401.
    await client.send("@label=dc11f13f11 PRIVMSG nobody :Hello")
    reply = await client.read_until(n.ERR_NOSUCHNICK)
    assert reply[-1].tags == {"label": "dc11f13f11"}
    assert reply[-1].params[1] == "nobody"


async def test_labeled_command_without_reply_gets_a_labeled_ack(
    server: Server, clients: Clients
) -> None:
    client = await connect(clients, server, "labeler", *LABELED)
    # Spec example: "@label=abc PONG :foobar" answered by "@label=abc :irc.example.com ACK".
    await client.send("@label=abc PONG :foobar")
    reply = await client.read_until("ACK")
    assert reply[-1] == Message("ACK", (), "irc.test", {"label": "abc"})


def check_labeled_batch(lines: list[Message], label: str) -> list[Message]:
    """The inner lines of a labeled-response batch, after checking its frame."""
    start, *inner, end = lines
    assert start.command == "BATCH"
    assert start.tags == {"label": label}
    reference = start.params[0].removeprefix("+")
    assert start.params == (f"+{reference}", "labeled-response")
    assert end.command == "BATCH"
    assert end.params == (f"-{reference}",)
    assert "label" not in end.tags
    for line in inner:
        assert line.tags == {"batch": reference}, line
    return inner


async def test_labeled_whois_comes_in_a_labeled_response_batch(
    server: Server, clients: Clients
) -> None:
    client = await connect(clients, server, "labeler", *LABELED)
    await connect(clients, server, "target")
    await client.send("@label=mGhe5V7RTV WHOIS target")
    first = await client.read()
    assert first is not None
    rest = await client.read_until(lambda m: m.command == "BATCH" and m.params[0][0] == "-")
    inner = check_labeled_batch([first, *rest], "mGhe5V7RTV")
    assert inner[0].command == n.RPL_WHOISUSER
    assert inner[0].params[1] == "target"
    assert inner[-1].command == n.RPL_ENDOFWHOIS


async def test_labeled_join_comes_in_a_batch_with_the_join_and_names(
    server: Server, clients: Clients
) -> None:
    client = await connect(clients, server, "labeler", *LABELED)
    await client.send("@label=j1 JOIN #room")
    first = await client.read()
    assert first is not None
    rest = await client.read_until(lambda m: m.command == "BATCH" and m.params[0][0] == "-")
    inner = check_labeled_batch([first, *rest], "j1")
    assert [m.command for m in inner] == ["JOIN", n.RPL_NAMREPLY, n.RPL_ENDOFNAMES]
    assert inner[0].params == (CHANNEL,)


async def test_every_labeled_batch_has_its_own_reference(server: Server, clients: Clients) -> None:
    client = await connect(clients, server, "labeler", *LABELED)
    references = []
    for index in range(3):
        await client.send(f"@label=w{index} WHOIS labeler")
        lines = await client.read_until(lambda m: m.command == "BATCH" and m.params[0][0] == "-")
        starts = [m for m in lines if m.command == "BATCH" and m.params[0][0] == "+"]
        assert len(starts) == 1
        assert starts[0].tags == {"label": f"w{index}"}
        references.append(starts[0].params[0][1:])
    assert len(set(references)) == 3


async def test_labeled_message_to_oneself_labels_only_the_echo(
    server: Server, clients: Clients
) -> None:
    client = await connect(clients, server, "selfish", *LABELED, "echo-message")
    await client.send("@label=self1 PRIVMSG selfish :note to self")
    lines = [m for m in await client.sync() if m.command == "PRIVMSG"]
    # "When a client sends a message to itself, the server MUST NOT include the label
    # tag, except for any acknowledgment sent with the echo-message mechanism."
    assert len(lines) == 2
    labeled = [m for m in lines if "label" in m.tags]
    assert len(labeled) == 1
    assert labeled[0].tags["label"] == "self1"
    assert lines[0].tags["msgid"] == lines[1].tags["msgid"]


async def test_labeled_tagmsg_echo_and_relay_match_the_spec_example(
    server: Server, clients: Clients
) -> None:
    c1 = await connect(clients, server, "nick", *LABELED, "echo-message", channels=(CHANNEL,))
    c2 = await connect(clients, server, "other", "message-tags", channels=(CHANNEL,))
    await settle(c1)
    await c1.send("@label=123;+example-client-tag=example-value TAGMSG #room")
    echo = (await c1.read_until("TAGMSG"))[-1]
    relay = (await c2.read_until("TAGMSG"))[-1]
    msgid = relay.tags["msgid"]
    assert dict(echo.tags) == {
        "label": "123",
        "msgid": msgid,
        "+example-client-tag": "example-value",
    }
    assert dict(relay.tags) == {"msgid": msgid, "+example-client-tag": "example-value"}
    assert echo.source == relay.source
    assert echo.params == relay.params == (CHANNEL,)


# -- away-notify, extended-join, invite-notify, setname -------------------------------


async def test_away_notify_tells_channel_members_with_the_capability(
    server: Server, clients: Clients
) -> None:
    alice = await connect(clients, server, "alice", channels=(CHANNEL,))
    watcher = await connect(clients, server, "watcher", "away-notify", channels=(CHANNEL,))
    plain = await connect(clients, server, "plain", channels=(CHANNEL,))
    await settle(alice, watcher, plain)
    await alice.send("AWAY :Gone to lunch.  Back in 5")
    got = await watcher.read_until("AWAY")
    assert source_nick(got[-1]) == "alice"
    assert got[-1].params == ("Gone to lunch.  Back in 5",)
    await alice.send("AWAY")
    got = await watcher.read_until("AWAY")
    assert got[-1].params == ()
    assert await plain.sync() == []


async def test_extended_join_carries_the_account_and_realname(
    server: Server, clients: Clients
) -> None:
    watcher = await connect(clients, server, "watcher", "extended-join", channels=(CHANNEL,))
    plain = await connect(clients, server, "plain", channels=(CHANNEL,))
    await settle(watcher)
    joiner = await clients.open(server)
    await joiner.send("NICK joiner", "USER joiner 0 * :Joe Joiner")
    await joiner.read_until(n.RPL_ENDOFMOTD)
    await joiner.send("JOIN #room")
    got = await watcher.read_until("JOIN")
    # "JOIN #channelname accountname :Real Name", with "*" when not logged in.
    assert got[-1].params == (CHANNEL, "*", "Joe Joiner")
    assert source_nick(got[-1]) == "joiner"
    seen = await plain.read_until("JOIN")
    assert seen[-1].params == (CHANNEL,)


async def test_extended_join_applies_to_the_joining_clients_own_join(
    server: Server, clients: Clients
) -> None:
    client = await connect(clients, server, "joiner", "extended-join")
    await client.send("JOIN #room")
    got = await client.read_until("JOIN")
    assert got[-1].params == (CHANNEL, "*", "Real joiner")


async def test_invited_user_gets_invite_whatever_its_capabilities(
    server: Server, clients: Clients
) -> None:
    op = await connect(clients, server, "op", channels=(CHANNEL,))
    guest = await connect(clients, server, "guest")
    await op.send("INVITE guest #room")
    reply = await op.read_until(n.RPL_INVITING)
    assert reply[-1].params == ("op", "guest", CHANNEL)
    got = await guest.read_until("INVITE")
    assert got[-1].params == ("guest", CHANNEL)
    assert source_nick(got[-1]) == "op"


async def test_invite_notify_tells_channel_operators_with_the_capability(
    server: Server, clients: Clients
) -> None:
    op = await connect(clients, server, "op", channels=(CHANNEL,))
    cohost = await connect(clients, server, "cohost", "invite-notify", channels=(CHANNEL,))
    plain = await connect(clients, server, "plain", channels=(CHANNEL,))
    await op.send("MODE #room +o cohost")
    await cohost.read_until("MODE")
    await settle(op, cohost, plain)
    await connect(clients, server, "guest")
    await op.send("INVITE guest #room")
    await op.read_until(n.RPL_INVITING)
    # Spec: ":<inviter> INVITE <target> <channel>"; a server may limit it to channel
    # operators, and cohost is one.
    got = await cohost.read_until("INVITE", seconds=2)
    assert source_nick(got[-1]) == "op"
    assert got[-1].params == ("guest", CHANNEL)
    assert [m.command for m in await plain.sync()] == []


async def test_setname_is_sent_to_the_sender_and_channel_members_with_the_capability(
    server: Server, clients: Clients
) -> None:
    batman = await connect(clients, server, "batman", "setname", channels=(CHANNEL,))
    robin = await connect(clients, server, "robin", "setname", channels=(CHANNEL,))
    alfred = await connect(clients, server, "alfred", channels=(CHANNEL,))
    await settle(batman, robin, alfred)
    # Spec example: "SETNAME :Bruce Wayne <bruce@wayne.enterprises>".
    await batman.send("SETNAME :Bruce Wayne <bruce@wayne.enterprises>")
    for client in (batman, robin):
        got = await client.read_until("SETNAME")
        assert source_nick(got[-1]) == "batman"
        assert got[-1].params == ("Bruce Wayne <bruce@wayne.enterprises>",)
    assert await alfred.sync() == []
    # "SETNAME Batman" without a colon is a realname too.
    await batman.send("SETNAME Batman")
    got = await robin.read_until("SETNAME")
    assert got[-1].params == ("Batman",)
    await alfred.send("WHOIS batman")
    whois = await alfred.read_until(n.RPL_ENDOFWHOIS)
    assert whois[0].params[-1] == "Batman"


async def test_setname_with_an_invalid_realname_fails_and_changes_nothing(
    server: Server, clients: Clients
) -> None:
    batman = await connect(clients, server, "batman", "setname", channels=(CHANNEL,))
    robin = await connect(clients, server, "robin", "setname", channels=(CHANNEL,))
    await settle(batman)
    too_long = "Heute back ich, morgen brau ich, " * 10
    await batman.send(f"SETNAME :{too_long}")
    got = await batman.read_until("FAIL")
    assert got[-1].params == ("SETNAME", "INVALID_REALNAME", "Realname is not valid")
    assert await robin.sync() == []
    await robin.send("WHOIS batman")
    whois = await robin.read_until(n.RPL_ENDOFWHOIS)
    assert whois[0].params[-1] == "Real batman"


# -- MONITOR and extended-monitor --------------------------------------------------------


async def test_monitor_reports_online_and_offline_nicks_and_later_changes(
    server: Server, clients: Clients
) -> None:
    watcher = await connect(clients, server, "watcher")
    await connect(clients, server, "here")
    await watcher.send("MONITOR + here,away1")
    got = await watcher.read_until(n.RPL_MONOFFLINE)
    online = [m for m in got if m.command == n.RPL_MONONLINE]
    assert [m.params for m in online] == [("watcher", "here!~here@127.0.0.1")]
    assert got[-1].params == ("watcher", "away1")

    comer = await connect(clients, server, "away1")
    got = await watcher.read_until(n.RPL_MONONLINE)
    assert got[-1].params == ("watcher", "away1!~away1@127.0.0.1")
    await comer.send("NICK renamed")
    got = await watcher.read_until(n.RPL_MONOFFLINE)
    assert got[-1].params == ("watcher", "away1")
    await comer.send("NICK away1")
    got = await watcher.read_until(n.RPL_MONONLINE)
    assert got[-1].params[1].startswith("away1!")
    await comer.send("QUIT :bye")
    got = await watcher.read_until(n.RPL_MONOFFLINE)
    assert got[-1].params == ("watcher", "away1")


async def test_monitor_list_status_remove_and_clear(server: Server, clients: Clients) -> None:
    watcher = await connect(clients, server, "watcher")
    await connect(clients, server, "one")
    await watcher.send("MONITOR + one,two,three")
    await watcher.sync()
    await watcher.send("MONITOR L")
    listed = await watcher.read_until(n.RPL_ENDOFMONLIST)
    names = ",".join(m.params[1] for m in listed if m.command == n.RPL_MONLIST).split(",")
    assert sorted(names) == ["one", "three", "two"]
    assert listed[-1].params == ("watcher", "End of MONITOR list")

    await watcher.send("MONITOR - two", "MONITOR S")
    status = await watcher.sync()
    assert [(m.command, m.params[1]) for m in status] == [
        (n.RPL_MONONLINE, "one!~one@127.0.0.1"),
        (n.RPL_MONOFFLINE, "three"),
    ]
    await watcher.send("MONITOR C", "MONITOR L")
    listed = await watcher.read_until(n.RPL_ENDOFMONLIST)
    assert [m.command for m in listed] == [n.RPL_ENDOFMONLIST]


async def test_monitor_list_full_gets_734_with_the_nicks_that_did_not_fit(
    tmp_path: Path, clients: Clients
) -> None:
    async with running_server(make_settings(tmp_path, monitor=2)) as server:
        watcher = await connect(clients, server, "watcher")
        await watcher.send("MONITOR + a1,b2,c3,d4")
        lines = await watcher.sync()
        full = [m for m in lines if m.command == n.ERR_MONLISTFULL]
        # ":<server> 734 <nick> <limit> <targets> :Monitor list is full."
        assert len(full) == 1
        assert full[0].params[:3] == ("watcher", "2", "c3,d4")
        offline = ",".join(m.params[1] for m in lines if m.command == n.RPL_MONOFFLINE)
        assert sorted(offline.split(",")) == ["a1", "b2"]
        await watcher.send("MONITOR L")
        listed = await watcher.read_until(n.RPL_ENDOFMONLIST)
        assert len([m for m in listed if m.command == n.RPL_MONLIST]) == 1


async def test_extended_monitor_sends_away_and_setname_of_monitored_nicks(
    server: Server, clients: Clients
) -> None:
    extended = await connect(
        clients, server, "extended", "extended-monitor", "away-notify", "setname"
    )
    basic = await connect(clients, server, "basic", "away-notify", "setname")
    target = await connect(clients, server, "target")
    for client in (extended, basic):
        await client.send("MONITOR + target")
        await client.read_until(n.RPL_MONONLINE)
    await target.send("AWAY :out", "SETNAME :New Name")
    await target.sync()
    got = await extended.sync()
    assert [(m.command, m.params) for m in got] == [
        ("AWAY", ("out",)),
        ("SETNAME", ("New Name",)),
    ]
    # Without extended-monitor, MONITOR only reports presence.
    assert await basic.sync() == []


# -- NAMES variants --------------------------------------------------------------------


async def test_multi_prefix_lists_every_status_in_names_who_and_whois(
    server: Server, clients: Clients
) -> None:
    chief = await connect(clients, server, "chief", channels=(CHANNEL,))
    await chief.send("MODE #room +v chief")
    await chief.read_until("MODE")
    multi = await connect(clients, server, "multi", "multi-prefix", channels=(CHANNEL,))
    single = await connect(clients, server, "single", channels=(CHANNEL,))

    await multi.send("NAMES #room")
    names = await multi.read_until(n.RPL_ENDOFNAMES)
    assert "@+chief" in names[-2].params[-1].split()
    await single.send("NAMES #room")
    names = await single.read_until(n.RPL_ENDOFNAMES)
    assert "@chief" in names[-2].params[-1].split()

    await multi.send("WHO #room")
    who = await multi.read_until(n.RPL_ENDOFWHO)
    flags = {m.params[5]: m.params[6] for m in who if m.command == n.RPL_WHOREPLY}
    assert flags["chief"] == "H@+"
    await multi.send("WHOIS chief")
    whois = await multi.read_until(n.RPL_ENDOFWHOIS)
    channels = [m for m in whois if m.command == n.RPL_WHOISCHANNELS]
    assert channels[0].params[-1] == "@+#room"


async def test_userhost_in_names_lists_full_masks(server: Server, clients: Clients) -> None:
    await connect(clients, server, "first", channels=(CHANNEL,))
    client = await connect(clients, server, "uhn", "userhost-in-names")
    await client.send("JOIN #room")
    names = await client.read_until(n.RPL_ENDOFNAMES)
    listed = names[-2].params[-1].split()
    assert sorted(listed) == ["@first!~first@127.0.0.1", "uhn!~uhn@127.0.0.1"]


async def test_no_implicit_names_skips_names_on_join_but_names_still_works(
    server: Server, clients: Clients
) -> None:
    client = await connect(clients, server, "quiet", "draft/no-implicit-names")
    await client.send("JOIN #room")
    joined = await client.sync()
    assert [m.command for m in joined] == ["JOIN"]
    await client.send("NAMES #room")
    names = await client.read_until(n.RPL_ENDOFNAMES)
    assert names[0].params[-1] == "@quiet"


# -- bot mode --------------------------------------------------------------------------


async def test_bot_mode_shows_in_isupport_whois_who_and_as_a_message_tag(
    server: Server, clients: Clients
) -> None:
    bot = await clients.open(server)
    welcome = await negotiate(bot, "robodan")
    tokens = " ".join(" ".join(m.params[1:-1]) for m in welcome if m.command == n.RPL_ISUPPORT)
    assert "BOT=B" in tokens.split()
    await bot.send("JOIN #room", "MODE robodan +B")
    mode = await bot.read_until("MODE")
    assert mode[-1].params[0] == "robodan"
    assert "B" in mode[-1].params[1]

    alice = await connect(clients, server, "alice", "message-tags", channels=(CHANNEL,))
    plain = await connect(clients, server, "plain", channels=(CHANNEL,))
    await alice.send("WHOIS robodan")
    whois = await alice.read_until(n.RPL_ENDOFWHOIS)
    bots = [m for m in whois if m.command == n.RPL_WHOISBOT]
    assert len(bots) == 1
    assert bots[0].params[:2] == ("alice", "robodan")
    await alice.send("WHO #room")
    who = await alice.read_until(n.RPL_ENDOFWHO)
    flags = {m.params[5]: m.params[6] for m in who if m.command == n.RPL_WHOREPLY}
    assert "B" in flags["robodan"]
    assert "B" not in flags["alice"]

    await bot.send("PRIVMSG #room :Hello! Try typing .help to see my commands!")
    got = await alice.read_until("PRIVMSG")
    assert "bot" in got[-1].tags
    assert got[-1].tags["bot"] == ""
    got = await plain.read_until("PRIVMSG")
    assert got[-1].tags == {}
    await bot.send("NOTICE alice :a notice from a bot")
    got = await alice.read_until("NOTICE")
    assert "bot" in got[-1].tags
    # Humans carry no bot tag.
    await plain.send("PRIVMSG #room :a human speaks")
    got = await alice.read_until("PRIVMSG")
    assert "bot" not in got[-1].tags


# -- pydle as the peer -----------------------------------------------------------------


class TaggedPydleClient(PydleClient):
    """A pydle client that also keeps every line's tags and MONITOR callbacks."""

    def __init__(self, nick: str, log: Recorder) -> None:
        super().__init__(nick, log)
        self.lines: list[tuple[str, str, tuple[str, ...], dict[str, Any]]] = []
        self.offline_count = 0

    async def on_raw(self, message: Any) -> None:
        source = str(message.source or "").partition("!")[0]
        params = tuple(str(p) for p in message.params)
        self.lines.append((str(message.command), source, params, dict(message.tags or {})))
        await super().on_raw(message)

    async def on_user_online(self, nickname: str) -> None:
        self.log.record("online", nickname)

    async def on_user_offline(self, nickname: str) -> None:
        self.offline_count += 1
        self.log.record("offline", nickname, str(self.offline_count))

    def tags_of(self, command: str, source: str, *params: str) -> dict[str, Any]:
        for seen_command, seen_source, seen_params, tags in self.lines:
            if (seen_command, seen_source) == (command, source) and seen_params[
                : len(params)
            ] == params:
                return tags
        raise AssertionError(f"pydle saw no {command} from {source} {params}")


@pytest.fixture
async def pydle_server(tmp_path: Path) -> AsyncIterator[Server]:
    """A server for pydle, without history or accounts: pydle 1.0 takes a CAP LS 302
    reply split over lines (``CAP * LS * :...``) for a list of one capability, ``*``, and
    ends negotiation there; the capabilities of history and accounts (and their values)
    make the list longer than one line."""
    async with running_server(make_settings(tmp_path).replace(history=False)) as server:
        yield server


@pytest.fixture
async def pyd(pydle_server: Server) -> AsyncIterator[TaggedPydleClient]:
    """A pydle client connected (and named) through hubbub."""
    log = Recorder()
    client = TaggedPydleClient("pyd", log)
    await client.connect("127.0.0.1", port_of(pydle_server))
    try:
        await log.wait_for("connect")
        await log.wait_for("nick", pydle.client.DEFAULT_NICKNAME, "pyd")
        yield client
    finally:
        with contextlib.suppress(ConnectionError):
            await client.disconnect(expected=True)


async def test_pydle_negotiates_every_capability_it_supports(pyd: TaggedPydleClient) -> None:
    enabled = {cap for cap, on in pyd._capabilities.items() if on}
    assert {
        "away-notify",
        "cap-notify",
        "echo-message",
        "extended-join",
        "invite-notify",
        "message-tags",
        "multi-prefix",
        "userhost-in-names",
    } <= enabled
    assert enabled <= set(SUPPORTED)


async def test_pydle_gets_its_own_message_back_once_with_the_msgid_others_see(
    pydle_server: Server, clients: Clients, pyd: TaggedPydleClient
) -> None:
    bob = await connect(clients, pydle_server, "bob", "message-tags", channels=(CHANNEL,))
    await pyd.join(CHANNEL)
    await pyd.log.wait_for("join", "pyd", CHANNEL)
    await bob.read_until(is_from("JOIN", "pyd"))
    await pyd.message(CHANNEL, "echo me")
    echo = await pyd.log.wait_for("pubmsg", "pyd", CHANNEL, "echo me")
    relay = (await bob.read_until("PRIVMSG"))[-1]
    assert echo.args == ("pyd", CHANNEL, "echo me")
    assert pyd.tags_of("PRIVMSG", "pyd", CHANNEL, "echo me")["msgid"] == relay.tags["msgid"]
    # pydle reports it once: it fakes no echo of its own when echo-message is on.
    assert len([s for s in pyd.log.seen if s.kind == "pubmsg" and s.args[0] == "pyd"]) == 1


async def test_pydle_client_only_tags_cross_the_server_both_ways(
    pydle_server: Server, clients: Clients, pyd: TaggedPydleClient
) -> None:
    bob = await connect(clients, pydle_server, "bob", "message-tags")
    await pyd.rawmsg("PRIVMSG", "bob", "tagged hello", tags={"+example.org/mood": "sunny"})
    got = (await bob.read_until("PRIVMSG"))[-1]
    assert got.tags["+example.org/mood"] == "sunny"
    await bob.send(r"@+example.org/mood=very\ssunny;+draft/reply=abc PRIVMSG pyd :hi pydle")
    await pyd.log.wait_for("privmsg", "bob", "pyd", "hi pydle")
    tags = pyd.tags_of("PRIVMSG", "bob", "pyd", "hi pydle")
    assert tags["+example.org/mood"] == "very sunny"
    assert tags["+draft/reply"] == "abc"


async def test_pydle_follows_away_and_realname_through_away_notify_and_extended_join(
    pydle_server: Server, clients: Clients, pyd: TaggedPydleClient
) -> None:
    await pyd.join(CHANNEL)
    await pyd.log.wait_for("join", "pyd", CHANNEL)
    rover = await clients.open(pydle_server)
    await rover.send("NICK rover", "USER rover 0 * :Rover the Wanderer")
    await rover.read_until(n.RPL_ENDOFMOTD)
    await rover.send("JOIN #room")
    await pyd.log.wait_for("join", "rover", CHANNEL)
    assert pyd.users["rover"]["realname"] == "Rover the Wanderer"
    await rover.send("AWAY :walkies")
    await pyd.log.wait_for("raw", "AWAY", "rover", "walkies")
    assert pyd.users["rover"]["away"] is True
    assert pyd.users["rover"]["away_message"] == "walkies"


async def test_pydle_monitor_is_told_when_a_nick_comes_online_and_leaves(
    pydle_server: Server, clients: Clients, pyd: TaggedPydleClient
) -> None:
    assert await pyd.monitor("later")
    await pyd.log.wait_for("offline", "later")
    later = await connect(clients, pydle_server, "later")
    await pyd.log.wait_for("online", "later")
    await later.send("QUIT :gone")
    await pyd.log.wait_for("offline", "later", "2")
