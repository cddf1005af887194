"""TLS listeners over real sockets: certificate chains from trustme, 671, reloading.

The server listens twice on 127.0.0.1 (plaintext and TLS, both on port 0) with a
certificate issued by a throwaway trustme CA; clients trust that CA only.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme

from hubbub.doors.irc.session import IrcSession
from hubbub.server import Server
from hubbub.settings import Listen, Settings
from hubbub.wire import numerics as n
from hubbub.wire.message import Message
from tests.helpers import LineClient
from tests.integration.conftest import Clients, make_settings

CHANNEL = "#room"

# uvloop is the loop of `hubbub serve`: TLS begun by the server behaves differently on it
# (probe 12 found the ClientHello lost there only).
pytestmark = pytest.mark.both_loops


def source_nick(message: Message) -> str:
    return (message.source or "").partition("!")[0]


def is_privmsg_from(nick: str) -> Callable[[Message], bool]:
    return lambda m: m.command == "PRIVMSG" and source_nick(m) == nick


@dataclass
class Certificates:
    """Where the server's certificate and key live, and what they currently hold."""

    cert: Path
    key: Path
    leaf: trustme.LeafCert | None = None

    def install(self, ca: trustme.CA) -> trustme.LeafCert:
        """Issue a certificate for 127.0.0.1 and localhost and write it over the files."""
        leaf = ca.issue_cert("127.0.0.1", "localhost")
        self.cert.write_bytes(b"".join(blob.bytes() for blob in leaf.cert_chain_pems))
        leaf.private_key_pem.write_to_path(str(self.key))
        self.leaf = leaf
        return leaf


def der_of(leaf: trustme.LeafCert) -> bytes:
    return ssl.PEM_cert_to_DER_cert(leaf.cert_chain_pems[0].bytes().decode())


def trusting(ca: trustme.CA) -> ssl.SSLContext:
    """A client context that verifies the chain and host name against ``ca`` only."""
    # PROTOCOL_TLS_CLIENT: CERT_REQUIRED and check_hostname, and no system CAs.
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ca.configure_trust(context)
    return context


@contextlib.asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[Server]:
    """A real server whose REHASH re-reads ``settings`` (the same certificate paths)."""
    server = Server(settings, reload=lambda: settings)
    task = asyncio.create_task(server.run())
    async with asyncio.timeout(10):
        await server.ready.wait()
    try:
        yield server
    finally:
        server.stop()
        async with asyncio.timeout(10):
            await task


@pytest.fixture
def first_ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def certificates(tmp_path: Path, first_ca: trustme.CA) -> Certificates:
    certificates = Certificates(tmp_path / "server.pem", tmp_path / "server.key")
    certificates.install(first_ca)
    return certificates


@pytest.fixture
async def server(tmp_path: Path, certificates: Certificates) -> AsyncIterator[Server]:
    settings = make_settings(tmp_path).replace(
        listen=(Listen("127.0.0.1", 0), Listen("127.0.0.1", 0, tls=True)),
        tls_cert=certificates.cert,
        tls_key=certificates.key,
    )
    async with serving(settings) as server:
        yield server


class TlsClients:
    """Opens TLS :class:`LineClient` connections and closes them at teardown."""

    def __init__(self) -> None:
        self.opened: list[LineClient] = []

    async def open(self, server: Server, context: ssl.SSLContext) -> LineClient:
        reader, writer = await asyncio.open_connection(
            "127.0.0.1",
            server.tls_addresses[0][1],
            ssl=context,
            server_hostname="127.0.0.1",
            limit=1 << 20,
        )
        client = LineClient(reader, writer)
        self.opened.append(client)
        return client

    async def connect(
        self, server: Server, context: ssl.SSLContext, nick: str, *channels: str
    ) -> LineClient:
        client = await self.open(server, context)
        await client.register(nick)
        for channel in channels:
            await client.send(f"JOIN {channel}")
            await client.read_until(n.RPL_ENDOFNAMES)
        await client.sync()
        return client

    async def close_all(self) -> None:
        for client in self.opened:
            client.writer.close()
            # The server may still be sending (another client's QUIT) when our
            # close_notify goes out; OpenSSL then reports data after close_notify.
            with contextlib.suppress(ConnectionError, ssl.SSLError):
                await client.writer.wait_closed()


@pytest.fixture
async def tls_clients() -> AsyncIterator[TlsClients]:
    opened = TlsClients()
    try:
        yield opened
    finally:
        await opened.close_all()


def peer_certificate(client: LineClient) -> bytes:
    ssl_object = client.writer.get_extra_info("ssl_object")
    assert isinstance(ssl_object, ssl.SSLObject)
    certificate = ssl_object.getpeercert(binary_form=True)
    assert certificate is not None
    return certificate


def is_text(nick: str, text: str) -> Callable[[Message], bool]:
    return lambda m: is_privmsg_from(nick)(m) and m.params[-1] == text


async def chat(
    one: LineClient, one_nick: str, other: LineClient, other_nick: str, text: str
) -> None:
    """One message each way in #room, each checked on arrival."""
    await one.send(f"PRIVMSG {CHANNEL} :{text} from {one_nick}")
    await other.read_until(is_text(one_nick, f"{text} from {one_nick}"))
    await other.send(f"PRIVMSG {CHANNEL} :{text} from {other_nick}")
    await one.read_until(is_text(other_nick, f"{text} from {other_nick}"))


# -- connecting ------------------------------------------------------------------------


async def test_tls_client_verifies_the_chain_and_chats_with_a_plaintext_client(
    server: Server,
    clients: Clients,
    tls_clients: TlsClients,
    first_ca: trustme.CA,
    certificates: Certificates,
) -> None:
    secure = await tls_clients.connect(server, trusting(first_ca), "secure", CHANNEL)
    assert certificates.leaf is not None
    assert peer_certificate(secure) == der_of(certificates.leaf)
    plain = await clients.connect(server, "plain", CHANNEL)
    await secure.read_until(lambda m: m.command == "JOIN" and source_nick(m) == "plain")
    await chat(secure, "secure", plain, "plain", "hello")
    await chat(plain, "plain", secure, "secure", "unicode ✓ ok")


async def test_client_that_does_not_trust_the_ca_refuses_the_certificate(
    server: Server, clients: Clients
) -> None:
    stranger = trusting(trustme.CA())
    with pytest.raises(ssl.SSLCertVerificationError):
        await asyncio.open_connection(
            "127.0.0.1", server.tls_addresses[0][1], ssl=stranger, server_hostname="127.0.0.1"
        )
    # The server keeps serving.
    plain = await clients.connect(server, "plain")
    assert await plain.sync() == []


async def test_whois_shows_671_for_the_tls_user_and_not_for_the_plaintext_one(
    server: Server, clients: Clients, tls_clients: TlsClients, first_ca: trustme.CA
) -> None:
    await tls_clients.connect(server, trusting(first_ca), "secure")
    plain = await clients.connect(server, "plain")
    await plain.send("WHOIS secure")
    whois = await plain.read_until(n.RPL_ENDOFWHOIS)
    secure_lines = [m for m in whois if m.command == n.RPL_WHOISSECURE]
    assert len(secure_lines) == 1
    assert secure_lines[0].params[:2] == ("plain", "secure")
    await plain.send("WHOIS plain")
    whois = await plain.read_until(n.RPL_ENDOFWHOIS)
    assert n.RPL_WHOISSECURE not in [m.command for m in whois]


async def test_client_certificate_is_not_requested_so_the_server_records_no_fingerprint(
    server: Server, tls_clients: TlsClients, first_ca: trustme.CA, clients: Clients
) -> None:
    # Python's ssl can only ask for a client certificate (CERT_OPTIONAL) if it also
    # verifies it against loaded CAs; the server's context loads none and asks for none.
    assert server.tls is not None
    assert server.tls.verify_mode == ssl.CERT_NONE
    context = trusting(first_ca)
    first_ca.issue_cert("certy@example.org").configure_cert(context)
    certy = await tls_clients.connect(server, context, "certy", CHANNEL)
    plain = await clients.connect(server, "plain", CHANNEL)
    await certy.read_until(lambda m: m.command == "JOIN" and source_nick(m) == "plain")
    await chat(certy, "certy", plain, "plain", "with a client certificate")
    sessions = [
        c._session
        for c in server.connections
        if isinstance(c._session, IrcSession) and c._session.client == "certy"
    ]
    assert len(sessions) == 1
    assert sessions[0].peer.secure
    assert sessions[0].peer.certfp is None


# -- reloading -------------------------------------------------------------------------


async def test_rehash_serves_a_new_certificate_to_new_clients_while_old_ones_keep_talking(
    server: Server,
    clients: Clients,
    tls_clients: TlsClients,
    first_ca: trustme.CA,
    certificates: Certificates,
) -> None:
    old_leaf = certificates.leaf
    assert old_leaf is not None
    existing = await tls_clients.connect(server, trusting(first_ca), "existing", CHANNEL)
    plain = await clients.connect(server, "plain", CHANNEL)
    await existing.read_until(lambda m: m.command == "JOIN" and source_nick(m) == "plain")

    second_ca = trustme.CA()
    new_leaf = certificates.install(second_ca)
    assert server.rehash() is None

    newcomer = await tls_clients.connect(server, trusting(second_ca), "newcomer", CHANNEL)
    assert peer_certificate(newcomer) == der_of(new_leaf)
    assert peer_certificate(existing) == der_of(old_leaf)
    await existing.read_until(lambda m: m.command == "JOIN" and source_nick(m) == "newcomer")
    await plain.read_until(lambda m: m.command == "JOIN" and source_nick(m) == "newcomer")
    # The connection opened before the reload goes on in both directions.
    await chat(existing, "existing", plain, "plain", "after the reload")
    await chat(existing, "existing", newcomer, "newcomer", "old and new")
    # A client that trusts only the old CA can no longer connect.
    with pytest.raises(ssl.SSLCertVerificationError):
        await asyncio.open_connection(
            "127.0.0.1",
            server.tls_addresses[0][1],
            ssl=trusting(first_ca),
            server_hostname="127.0.0.1",
        )


async def test_rehash_with_a_broken_key_fails_and_the_old_certificate_keeps_serving(
    server: Server,
    tls_clients: TlsClients,
    first_ca: trustme.CA,
    certificates: Certificates,
) -> None:
    assert certificates.leaf is not None
    existing = await tls_clients.connect(server, trusting(first_ca), "existing", CHANNEL)
    certificates.key.write_text("-----BEGIN PRIVATE KEY-----\nbroken\n-----END PRIVATE KEY-----\n")
    error = server.rehash()
    assert isinstance(error, str)
    assert str(certificates.cert) in error

    newcomer = await tls_clients.connect(server, trusting(first_ca), "newcomer", CHANNEL)
    assert peer_certificate(newcomer) == der_of(certificates.leaf)
    await existing.read_until(lambda m: m.command == "JOIN" and source_nick(m) == "newcomer")
    await chat(existing, "existing", newcomer, "newcomer", "still secure")


async def test_rehash_with_a_new_certificate_but_a_broken_key_keeps_serving_the_old_pair(
    server: Server,
    tls_clients: TlsClients,
    first_ca: trustme.CA,
    certificates: Certificates,
) -> None:
    old_leaf = certificates.leaf
    assert old_leaf is not None
    existing = await tls_clients.connect(server, trusting(first_ca), "existing", CHANNEL)
    certificates.install(trustme.CA())
    certificates.key.write_text("not a key\n")
    error = server.rehash()
    assert isinstance(error, str)

    # A failed reload must leave the working certificate and key in place.
    newcomer = await tls_clients.connect(server, trusting(first_ca), "newcomer", CHANNEL)
    assert peer_certificate(newcomer) == der_of(old_leaf)
    await existing.read_until(lambda m: m.command == "JOIN" and source_nick(m) == "newcomer")
    await chat(existing, "existing", newcomer, "newcomer", "still secure")


# -- probe 11: connections are counted before their handshake, which is timed ----------


async def closed_by_server(reader: asyncio.StreamReader) -> bool:
    """Whether the server closes a connection that sends nothing (EOF or a reset)."""
    try:
        async with asyncio.timeout(10):
            return await reader.read(1024) == b""
    except ConnectionError:
        return True


@pytest.fixture
async def guarded(tmp_path: Path, certificates: Certificates) -> AsyncIterator[Server]:
    """A TLS server that admits 3 connections an address and gives a handshake 0.5 s."""
    settings = make_settings(tmp_path, connections_per_ip=3, tls_handshake_timeout=0.5).replace(
        listen=(Listen("127.0.0.1", 0), Listen("127.0.0.1", 0, tls=True)),
        tls_cert=certificates.cert,
        tls_key=certificates.key,
    )
    async with serving(settings) as server:
        yield server


@pytest.fixture
async def patient(tmp_path: Path, certificates: Certificates) -> AsyncIterator[Server]:
    """A TLS server that admits 3 connections an address and gives a handshake 60 s."""
    settings = make_settings(tmp_path, connections_per_ip=3, tls_handshake_timeout=60).replace(
        listen=(Listen("127.0.0.1", 0), Listen("127.0.0.1", 0, tls=True)),
        tls_cert=certificates.cert,
        tls_key=certificates.key,
    )
    async with serving(settings) as server:
        yield server


async def test_connections_that_never_begin_a_handshake_count_against_their_address(
    patient: Server,
) -> None:
    port = patient.tls_addresses[0][1]
    idle = [await asyncio.open_connection("127.0.0.1", port) for _ in range(3)]
    try:
        # Refused, with no ERROR line (a TLS client could not read one), long before the
        # handshake's minute is up; and on the plaintext port, with one.
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        assert await closed_by_server(reader)
        writer.close()
        reader, writer = await asyncio.open_connection("127.0.0.1", patient.addresses[0][1])
        async with asyncio.timeout(10):
            assert b"Too many connections" in await reader.read()
        writer.close()
        assert patient.gate.open == 3
    finally:
        for _, idle_writer in idle:
            idle_writer.close()


async def test_clients_that_close_their_side_at_once_leave_no_count_behind(
    guarded: Server, tls_clients: TlsClients, first_ca: trustme.CA
) -> None:
    # Probe 12: a FIN read before TLS took the connection over left its count for good
    # on uvloop; twenty of them, three allowed an address, would lock the address out.
    port = guarded.tls_addresses[0][1]
    for _ in range(20):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write_eof()
        assert await closed_by_server(reader)
        writer.close()
    alice = await tls_clients.connect(guarded, trusting(first_ca), "alice", CHANNEL)
    bob = await tls_clients.connect(guarded, trusting(first_ca), "bob", CHANNEL)
    await chat(alice, "alice", bob, "bob", "after the half-closed ones")
    assert guarded.gate.open == 2


async def test_a_client_hello_sent_with_the_connect_is_answered_at_once(
    patient: Server, first_ca: trustme.CA
) -> None:
    # On loopback the ClientHello arrives with the connection; with a minute allowed for
    # the handshake, a lost one would hold this client far past the 10 s timeout.
    port = patient.tls_addresses[0][1]
    for number in range(10):
        async with asyncio.timeout(10):
            reader, writer = await asyncio.open_connection(
                "127.0.0.1", port, ssl=trusting(first_ca), server_hostname="127.0.0.1"
            )
        client = LineClient(reader, writer)
        try:
            await client.register(f"quick{number}")
        finally:
            writer.close()


async def test_a_handshake_never_finished_is_cut_off_and_its_place_freed(
    guarded: Server, tls_clients: TlsClients, first_ca: trustme.CA
) -> None:
    port = guarded.tls_addresses[0][1]
    stalled = [await asyncio.open_connection("127.0.0.1", port) for _ in range(3)]
    for reader, writer in stalled:
        assert await closed_by_server(reader)
        writer.close()
    # The three places are free again: a real client gets in and chats.
    alice = await tls_clients.connect(guarded, trusting(first_ca), "alice", CHANNEL)
    bob = await tls_clients.connect(guarded, trusting(first_ca), "bob", CHANNEL)
    await chat(alice, "alice", bob, "bob", "after the stalled ones")


async def test_a_client_that_sends_its_first_lines_with_the_handshake_is_heard(
    server: Server, first_ca: trustme.CA
) -> None:
    # The lines may arrive in the same read as the handshake's end, before the
    # connection has taken over its TLS transport: none may be lost.
    port = server.tls_addresses[0][1]
    reader, writer = await asyncio.open_connection(
        "127.0.0.1", port, ssl=trusting(first_ca), server_hostname="127.0.0.1"
    )
    try:
        client = LineClient(reader, writer)
        writer.write(b"NICK early\r\nUSER early 0 * :Early\r\nPING :first\r\n")
        await client.read_until(n.RPL_WELCOME)
        await client.read_until(lambda m: m.command == "PONG" and m.params[-1] == "first")
    finally:
        writer.close()


async def test_past_max_connections_every_door_refuses_and_the_log_says_why(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(tmp_path, max_connections=3)
    async with serving(settings) as server:
        irc = server.addresses[0][1]
        plain = server.plain_addresses[0][1]
        held = [LineClient(*await asyncio.open_connection("127.0.0.1", irc)) for _ in range(3)]
        try:
            for nick, client in zip(("a", "b", "c"), held, strict=True):
                await client.register(nick)
            with caplog.at_level("WARNING", logger="hubbub.doors.gate"):
                for port in (irc, plain):
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                    async with asyncio.timeout(10):
                        refused = await reader.read()
                    writer.close()
                    # Not blamed on the address: the server as a whole is full.
                    assert b"The server is full" in refused
            assert "max_connections" in caplog.text
            # One leaves (the server lets its place go before it closes the socket): one
            # more may come.
            await held[0].send("QUIT")
            assert await held[0].closed()
            late = LineClient(*await asyncio.open_connection("127.0.0.1", irc))
            held.append(late)
            await late.register("late")
        finally:
            for client in held:
                client.writer.close()
