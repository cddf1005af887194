"""The web listener in the real server on 127.0.0.1, port 0: IRC over WebSocket (the
``websockets`` client library as the peer) in the same rooms as TCP IRC and plain-door
users, held to the same limits; the web client's files over HTTP; TLS.

Nothing waits by sleeping: tests read until the line they expect, and use the PING
barrier (``sync``) to know the server has handled everything sent before it.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import logging
import socket
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trustme
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from hubbub.server import Server
from hubbub.settings import Listen
from hubbub.wire import numerics as n
from hubbub.wire.message import Message
from tests.helpers import running_server
from tests.integration.conftest import Clients
from tests.integration.test_plain import PlainPeer
from tests.integration.web import APP, INDEX, WsClient, get, http, web_port, web_settings

ROOM = "#lobby"


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    async with running_server(web_settings(tmp_path)) as server:
        yield server


class WebClients:
    """Opens :class:`WsClient` connections and closes them all at teardown."""

    def __init__(self) -> None:
        self.opened: list[WsClient] = []

    async def open(self, server: Server, **options: object) -> WsClient:
        client = await WsClient.open(web_port(server), **options)  # type: ignore[arg-type]
        self.opened.append(client)
        return client

    async def connect(self, server: Server, nick: str, *channels: str) -> WsClient:
        client = await self.open(server)
        await client.register(nick)
        for channel in channels:
            await client.send(f"JOIN {channel}")
            await client.read_until(n.RPL_ENDOFNAMES)
        await client.sync()
        return client

    async def close_all(self) -> None:
        for client in self.opened:
            with contextlib.suppress(Exception):
                await client.close()


@pytest.fixture
async def web() -> AsyncIterator[WebClients]:
    opened = WebClients()
    try:
        yield opened
    finally:
        await opened.close_all()


def as_bytes(message: str | bytes | None) -> bytes:
    assert message is not None
    return message.encode() if isinstance(message, str) else message


def privmsgs(messages: list[Message]) -> list[tuple[str, tuple[str, ...]]]:
    return [
        ((m.source or "").partition("!")[0], m.params) for m in messages if m.command == "PRIVMSG"
    ]


# -- one chat, three doors ---------------------------------------------------------------


async def test_websocket_tcp_and_plain_users_chat_in_one_room(
    server: Server, clients: Clients, web: WebClients
) -> None:
    anna = await web.connect(server, "anna", ROOM)
    boris = await clients.connect(server, "boris", ROOM)
    carol = await PlainPeer.open(server)
    try:
        await carol.login("carol")
        await anna.sync()
        await boris.sync()

        await anna.send(f"PRIVMSG {ROOM} :hello from the browser")
        assert privmsgs(await boris.sync()) == [("anna", (ROOM, "hello from the browser"))]
        assert "anna: hello from the browser" in await carol.sync()

        await boris.send(f"PRIVMSG {ROOM} :hello from irssi")
        assert privmsgs(await anna.sync()) == [("boris", (ROOM, "hello from irssi"))]

        await carol.send("hello from nc")
        await carol.sync()
        assert privmsgs(await anna.sync()) == [("carol", (ROOM, "hello from nc"))]
        assert privmsgs(await boris.sync()) == [("carol", (ROOM, "hello from nc"))]
    finally:
        await carol.close()


async def test_a_private_message_between_websocket_and_tcp(
    server: Server, clients: Clients, web: WebClients
) -> None:
    anna = await web.connect(server, "anna")
    boris = await clients.connect(server, "boris")
    await boris.send("PRIVMSG anna :psst")
    assert privmsgs(await anna.sync()) == [("boris", ("anna", "psst"))]
    await anna.send("PRIVMSG boris :yes?")
    assert privmsgs(await boris.sync()) == [("anna", ("boris", "yes?"))]


@pytest.mark.parametrize(
    ("offered", "chosen", "kind"),
    [
        (("binary.ircv3.net",), "binary.ircv3.net", bytes),
        (("text.ircv3.net",), "text.ircv3.net", str),
        (("binary.ircv3.net", "text.ircv3.net"), "binary.ircv3.net", bytes),
        (("text.ircv3.net", "binary.ircv3.net"), "text.ircv3.net", str),
        (None, None, str),
    ],
    ids=["binary", "text", "binary-first", "text-first", "none"],
)
async def test_each_subprotocol_registers_and_chats_in_its_message_type(
    server: Server,
    clients: Clients,
    web: WebClients,
    offered: tuple[str, ...] | None,
    chosen: str | None,
    kind: type,
) -> None:
    anna = await web.open(server, subprotocols=offered)
    assert anna.subprotocol == chosen
    if kind is bytes:
        await anna.send(b"NICK anna", b"USER anna 0 * :Anna")
    else:
        await anna.send("NICK anna", "USER anna 0 * :Anna")
    first = await anna.receive()
    assert type(first) is kind
    assert as_bytes(first).startswith(b":irc.test 001 ")
    await anna.read_until("376")
    boris = await clients.connect(server, "boris")
    await boris.send("PRIVMSG anna :ça va?")
    said = await anna.receive()
    assert type(said) is kind
    assert as_bytes(said).endswith(" :ça va?".encode())


async def test_binary_and_text_websocket_members_of_one_room_each_get_their_message_type(
    server: Server, clients: Clients, web: WebClients
) -> None:
    # Framed once per framing: a room's members on each subprotocol share a rendering,
    # and neither gets the other's frames.
    members: list[tuple[WsClient, type]] = []
    framings: list[tuple[str, type]] = [("binary.ircv3.net", bytes), ("text.ircv3.net", str)]
    for number, (subprotocol, framed_as) in enumerate(framings * 2):
        member = await web.open(server, subprotocols=(subprotocol,))
        await member.register(f"w{number}")
        await member.send(f"JOIN {ROOM}")
        await member.read_until(n.RPL_ENDOFNAMES)
        members.append((member, framed_as))
    boris = await clients.connect(server, "boris", ROOM)
    for member, _ in members:
        await member.sync()
    await boris.send(f"PRIVMSG {ROOM} :to every framing")
    for member, kind in members:
        said = await member.receive()
        assert type(said) is kind
        assert as_bytes(said).endswith(f" PRIVMSG {ROOM} :to every framing".encode())
        assert await member.sync() == []


async def test_the_root_path_is_a_door_for_clients_given_only_a_host(
    server: Server, web: WebClients
) -> None:
    anna = await web.open(server, path="/")
    welcome = await anna.register("anna")
    assert welcome[0].command == n.RPL_WELCOME


# -- the same limits as TCP --------------------------------------------------------------


async def test_a_message_with_cr_or_lf_inside_is_refused_and_nothing_is_smuggled(
    server: Server, clients: Clients, web: WebClients
) -> None:
    boris = await clients.connect(server, "boris", ROOM)
    anna = await web.connect(server, "anna", ROOM)
    await anna.send(f"PRIVMSG {ROOM} :one\r\nPRIVMSG {ROOM} :two")
    replies = await anna.sync()
    assert [(m.command, m.params[-1]) for m in replies] == [
        (n.ERR_UNKNOWNERROR, "Malformed message: NUL, CR or LF inside a line")
    ]
    assert privmsgs(await boris.sync()) == []


async def test_an_over_long_message_is_answered_as_an_over_long_tcp_line(
    server: Server, clients: Clients, web: WebClients
) -> None:
    boris = await clients.connect(server, "boris", ROOM)
    anna = await web.connect(server, "anna", ROOM)
    await boris.sync()
    long = f"PRIVMSG {ROOM} :" + "x" * 600

    await boris.send(long)
    tcp = await boris.sync()
    await anna.send(long)
    ws = await anna.sync()
    assert [(m.command, m.params[1:]) for m in ws] == [(m.command, m.params[1:]) for m in tcp]
    assert [m.command for m in ws] == [n.ERR_INPUTTOOLONG]
    # Both go on chatting.
    await anna.send(f"PRIVMSG {ROOM} :short")
    assert privmsgs(await boris.sync()) == [("anna", (ROOM, "short"))]


async def test_a_frame_past_four_lines_closes_the_connection_and_others_go_on(
    server: Server, clients: Clients, web: WebClients
) -> None:
    anna = await web.connect(server, "anna", ROOM)
    boris = await clients.connect(server, "boris", ROOM)
    await anna.send("PRIVMSG #lobby :" + "x" * 20_000)
    assert await anna.closed()
    assert anna.connection.close_code == 1009
    quits = [m for m in await boris.read_until("QUIT") if m.command == "QUIT"]
    assert quits[0].params == ("WebSocket protocol error",)
    carol = await web.connect(server, "carol", ROOM)
    await carol.send(f"PRIVMSG {ROOM} :still here")
    assert privmsgs(await boris.sync()) == [("carol", (ROOM, "still here"))]


async def test_a_websocket_client_that_stops_reading_is_cut_at_its_sendq(
    tmp_path: Path, clients: Clients, web: WebClients
) -> None:
    settings = web_settings(tmp_path, sendq=65_536, flood_rate=0)
    async with running_server(settings) as server:
        alice = await clients.connect(server, "alice", ROOM)
        bob = await clients.connect(server, "bob", ROOM)
        # A small receive window, and a client that reads nothing once registered.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", web_port(server)))
        hog = WsClient(await connect(f"ws://127.0.0.1:{web_port(server)}/irc", sock=sock))
        web.opened.append(hog)
        await hog.register("hog")
        # From now on it reads nothing at all.
        hog.connection.transport.pause_reading()
        await hog.send(f"JOIN {ROOM}")
        await alice.read_until(lambda m: m.command == "JOIN")

        heard: list[Message] = []
        for batch in range(1000):
            with contextlib.suppress(ConnectionClosed):
                # About 120 KB of replies a round: the kernel's socket buffers (megabytes
                # here) fill first, then the SendQ.
                await hog.send(*(["VERSION"] * 200))
            await alice.send(f"PRIVMSG {ROOM} :batch {batch}")
            heard += await bob.sync()
            if any(m.command == "QUIT" for m in heard):
                break
        quits = [(m.source or "", m.params) for m in heard if m.command == "QUIT"]
        assert [(s.partition("!")[0], p) for s, p in quits] == [("hog", ("SendQ exceeded",))]
        # Nobody else lost a line.
        assert len(privmsgs(heard)) == batch + 1
        await bob.send(f"PRIVMSG {ROOM} :after")
        assert privmsgs(await alice.sync())[-1] == ("bob", (ROOM, "after"))
        # It reads nothing, so it would wait out its close timeout for a close frame.
        hog.connection.transport.abort()


async def test_flood_control_slows_a_websocket_client_and_not_the_others(
    tmp_path: Path, clients: Clients, web: WebClients
) -> None:
    settings = web_settings(tmp_path, flood_burst=5, flood_rate=20.0)
    async with running_server(settings) as server:
        loop = asyncio.get_running_loop()
        flooder = await web.connect(server, "flooder")
        alice = await clients.connect(server, "alice")
        started = loop.time()
        await flooder.send(*[f"PING f{i:03d}" for i in range(25)])
        # Meanwhile alice is answered at once.
        await alice.sync()
        assert loop.time() - started < 20 / 20.0
        pongs = [
            m.params[-1]
            for m in await flooder.read_until(lambda m: m.params[-1:] == ("f024",))
            if m.command == "PONG"
        ]
        assert pongs == [f"f{i:03d}" for i in range(25)]
        # 20 lines past the burst, at 20 a second.
        assert loop.time() - started >= 20 / 20.0 - 0.1


async def test_the_connections_per_address_count_websockets(
    tmp_path: Path, clients: Clients, web: WebClients
) -> None:
    async with running_server(web_settings(tmp_path, connections_per_ip=2)) as server:
        await web.connect(server, "anna")
        await clients.connect(server, "boris")
        with pytest.raises(InvalidStatus) as refused:
            await web.open(server)
        assert refused.value.response.status_code == 503


# -- origins and proxies -----------------------------------------------------------------


async def test_a_page_of_another_origin_is_refused_with_403_and_the_server_is_unharmed(
    server: Server, web: WebClients
) -> None:
    with pytest.raises(InvalidStatus) as refused:
        await web.open(server, origin="https://evil.example")
    assert refused.value.response.status_code == 403
    port = web_port(server)
    anna = await web.open(server, origin=f"http://127.0.0.1:{port}")
    assert (await anna.register("anna"))[0].command == n.RPL_WELCOME


def upgrade(host: str, origin: str) -> bytes:
    return get(
        "/irc",
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version: 13",
        f"Origin: {origin}",
    ).replace(b"Host: 127.0.0.1", f"Host: {host}".encode())


async def test_a_page_of_a_name_rebound_to_the_server_is_refused_421(
    tmp_path: Path, clients: Clients
) -> None:
    # Probe 13: the page's own origin was built from whatever Host it named, so a page
    # at http://evil.example:PORT, its name resolved to this server (DNS rebinding),
    # opened the door from a visitor's browser, past the origin check.
    settings = web_settings(tmp_path).replace(
        server_name="irc.example.org", web_hosts=("chat.example.org",)
    )
    async with running_server(settings) as server:
        port = web_port(server)
        for host in (f"evil.example:{port}", "rebind.attacker.test", "evil.example."):
            status, _, body = await http(port, upgrade(host, f"http://{host}"))
            assert (status, body) == (421, REBOUND)
            status, _, _ = await http(port, get("/").replace(b"127.0.0.1", host.encode()))
            assert status == 421
        # Its own names and any address are answered.
        for host in (
            f"127.0.0.1:{port}",
            f"[::1]:{port}",
            f"localhost:{port}",
            "irc.example.org",
            "Chat.Example.Org.",
        ):
            assert await status_line(port, upgrade(host, f"http://{host}")) == 101, host
        # The server is unharmed.
        assert (await clients.connect(server, "anna")) is not None


async def test_a_misdirected_request_logs_its_host_cut_short_and_a_flood_of_them_little(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Probe 14: each 421 logged the whole Host (up to 8 KiB of anything), with no bound
    # on how many from one address.
    async with running_server(web_settings(tmp_path)) as server:
        port = web_port(server)
        huge = "x" * 7000 + ".evil.example"
        with caplog.at_level(logging.INFO):
            for _ in range(60):
                status, _, _ = await http(port, get("/").replace(b"127.0.0.1", huge.encode()))
                assert status == 421
        refused = [r.getMessage() for r in caplog.records if "refused a request" in r.message]
        assert 1 <= len(refused) <= 20
        assert all(len(line) < 300 for line in refused)
        assert "refused a request for 'xxxx" in refused[0]
        assert "x...'" in refused[0]
        assert any("go unlogged" in r.getMessage() for r in caplog.records)


async def status_line(port: int, request: bytes) -> int:
    """The status of the answer to ``request`` (a WebSocket accepted stays open)."""
    async with asyncio.timeout(5):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(request)
            return int((await reader.readline()).split()[1])
        finally:
            writer.close()


REBOUND = b"Misdirected request: this server does not answer to that name\n"


async def test_a_configured_origin_is_let_in(tmp_path: Path, web: WebClients) -> None:
    settings = web_settings(tmp_path).replace(web_origins=("https://chat.example.org",))
    async with running_server(settings) as server:
        anna = await web.open(server, origin="https://chat.example.org")
        assert (await anna.register("anna"))[0].command == n.RPL_WELCOME


async def whois_host(clients: Clients, server: Server, nick: str) -> str:
    asker = await clients.connect(server, f"ask{nick}")
    await asker.send(f"WHOIS {nick}")
    (user,) = [m for m in await asker.sync() if m.command == n.RPL_WHOISUSER]
    return user.params[3]


async def test_x_forwarded_for_is_believed_from_a_trusted_proxy(
    tmp_path: Path, clients: Clients, web: WebClients
) -> None:
    settings = web_settings(tmp_path).replace(trusted=("127.0.0.0/8",))
    async with running_server(settings) as server:
        anna = await web.open(server, additional_headers={"X-Forwarded-For": "203.0.113.9"})
        await anna.register("anna")
        assert await whois_host(clients, server, "anna") == "203.0.113.9"


async def test_x_forwarded_for_is_ignored_from_anyone_else(
    server: Server, clients: Clients, web: WebClients
) -> None:
    anna = await web.open(server, additional_headers={"X-Forwarded-For": "203.0.113.9"})
    await anna.register("anna")
    assert await whois_host(clients, server, "anna") == "127.0.0.1"


# -- the web client's files --------------------------------------------------------------


async def test_index_html_is_served_at_the_root_with_the_security_headers(
    server: Server,
) -> None:
    status, fields, body = await http(web_port(server), get("/"))
    assert (status, body) == (200, INDEX)
    assert fields["content-type"] == "text/html; charset=utf-8"
    assert fields["cache-control"] == "no-cache"
    csp = fields["content-security-policy"]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "img-src 'self' https: data:" in csp
    assert "unsafe-inline" not in csp
    assert fields["x-content-type-options"] == "nosniff"
    assert fields["referrer-policy"] == "no-referrer"


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/app.js", "text/javascript; charset=utf-8"),
        ("/style.0a1b2c3d4e.css", "text/css; charset=utf-8"),
        ("/logo.png", "image/png"),
        ("/lib/irc.js", "text/javascript; charset=utf-8"),
    ],
)
async def test_files_are_served_with_their_content_type(
    server: Server, path: str, content_type: str
) -> None:
    status, fields, _ = await http(web_port(server), get(path))
    assert (status, fields["content-type"]) == (200, content_type)


async def test_an_unchanged_file_is_revalidated_with_304(server: Server) -> None:
    port = web_port(server)
    _, fields, body = await http(port, get("/app.js"))
    assert body == APP
    status, again, body = await http(port, get("/app.js", f"If-None-Match: {fields['etag']}"))
    assert (status, body) == (304, b"")
    assert again["etag"] == fields["etag"]


async def test_a_hashed_asset_is_immutable(server: Server) -> None:
    _, fields, _ = await http(web_port(server), get("/style.0a1b2c3d4e.css"))
    assert fields["cache-control"] == "public, max-age=31536000, immutable"


async def test_text_is_gzipped_when_the_browser_accepts_it(server: Server) -> None:
    port = web_port(server)
    _, fields, body = await http(port, get("/app.js", "Accept-Encoding: gzip, deflate, br"))
    assert fields["content-encoding"] == "gzip"
    assert fields["vary"] == "Accept-Encoding"
    assert int(fields["content-length"]) == len(body) < len(APP)
    assert gzip.decompress(body) == APP


@pytest.mark.parametrize(
    "path",
    [
        "/../pyproject.toml",
        "/%2e%2e/%2e%2e/pyproject.toml",
        "/..%2f..%2fREADME.md",
        "/notes.py",
        "/.hidden.js",
        "/lib/",
        "/missing.html",
    ],
)
async def test_traversal_hidden_and_unknown_files_are_404(server: Server, path: str) -> None:
    status, fields, body = await http(web_port(server), get(path))
    assert status == 404
    assert fields["x-content-type-options"] == "nosniff"
    assert b"secret" not in body


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "TRACE"])
async def test_other_methods_are_405(server: Server, method: str) -> None:
    status, fields, _ = await http(web_port(server), get("/", method=method))
    assert status == 405
    assert fields["allow"] == "GET, HEAD"


async def test_head_gives_the_fields_without_the_body(server: Server) -> None:
    status, fields, body = await http(web_port(server), get("/app.js", method="HEAD"))
    assert (status, body) == (200, b"")
    assert fields["content-length"] == str(len(APP))


async def test_a_slow_request_is_cut_and_the_listener_goes_on(tmp_path: Path) -> None:
    async with running_server(web_settings(tmp_path, web_request_timeout=0.2)) as server:
        port = web_port(server)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET / HTTP/1.1\r\n")
        async with asyncio.timeout(5):
            assert await reader.read() == b""
        writer.close()
        assert (await http(port, get("/")))[0] == 200


async def test_an_oversized_request_head_is_refused(server: Server) -> None:
    padding = [f"X-Padding-{i}: {'a' * 1000}" for i in range(40)]
    status, _, _ = await http(web_port(server), get("/", *padding))
    assert status == 431


# -- TLS ---------------------------------------------------------------------------------


@pytest.mark.both_loops
async def test_with_a_certificate_the_web_listener_speaks_https_and_wss(
    tmp_path: Path, clients: Clients, web: WebClients
) -> None:
    ca = trustme.CA()
    leaf = ca.issue_cert("127.0.0.1", "localhost")
    cert, key = tmp_path / "server.pem", tmp_path / "server.key"
    cert.write_bytes(b"".join(blob.bytes() for blob in leaf.cert_chain_pems))
    leaf.private_key_pem.write_to_path(str(key))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ca.configure_trust(context)
    settings = web_settings(tmp_path, tls_handshake_timeout=0.5).replace(
        listen=(Listen("127.0.0.1", 0), Listen("127.0.0.1", 0, tls=True)),
        tls_cert=cert,
        tls_key=key,
    )
    async with running_server(settings) as server:
        port = web_port(server)
        # A connection that never begins its handshake is cut off after its timeout.
        stalled_reader, stalled = await asyncio.open_connection("127.0.0.1", port)
        async with asyncio.timeout(10):
            assert await stalled_reader.read() == b""
        stalled.close()
        # Plain HTTP sent with the connect (as the ClientHello is) is never answered in
        # plain text; nor does a client that closes its side at once leave its count.
        for _ in range(60):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(get("/"))
            writer.write_eof()
            async with asyncio.timeout(10):
                assert not (await reader.read()).startswith(b"HTTP/")
            writer.close()
        assert server.gate.open == 0
        status, _, body = await http(port, get("/"), tls=context)
        assert (status, body) == (200, INDEX)
        anna = WsClient(
            await connect(f"wss://localhost:{port}/irc", ssl=context, subprotocols=None)
        )
        web.opened.append(anna)
        await anna.register("anna")
        boris = await clients.connect(server, "boris")
        await boris.send("WHOIS anna")
        replies = await boris.sync()
        assert n.RPL_WHOISSECURE in [m.command for m in replies]
