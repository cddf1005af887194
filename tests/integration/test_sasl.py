"""SASL SCRAM-SHA-256 (with scramp as the client) and EXTERNAL (with client certificates
from a trustme CA) over real sockets, and what malformed exchanges get."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import sqlite3
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import scramp
import trustme

from hubbub.server import Server
from hubbub.wire import numerics as n
from hubbub.wire.message import Message
from tests.helpers import LineClient, running_server
from tests.integration.conftest import make_settings, port_of, tls_settings
from tests.integration.test_tls import serving

PASSWORD = "correct-horse-battery"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def unb64(message: Message) -> str:
    return base64.b64decode(message.params[0]).decode()


async def start_sasl(client: LineClient, nick: str, mechanism: str) -> None:
    await client.send("CAP REQ :sasl", f"NICK {nick}", f"USER {nick} 0 * :{nick}")
    await client.read_until("CAP")
    await client.send(f"AUTHENTICATE {mechanism}")
    assert (await client.read_until("AUTHENTICATE"))[-1].params == ("+",)


async def scram_login(client: LineClient, name: str, password: str) -> list[Message]:
    """Run a SCRAM-SHA-256 exchange; the lines up to 903 or 904."""
    scram = scramp.ScramClient(["SCRAM-SHA-256"], name, password)
    await start_sasl(client, "someone", "SCRAM-SHA-256")
    await client.send(f"AUTHENTICATE {b64(scram.get_client_first())}")
    got = await client.read_until(lambda m: m.command in ("AUTHENTICATE", n.ERR_SASLFAIL))
    if got[-1].command != "AUTHENTICATE":
        return got
    scram.set_server_first(unb64(got[-1]))
    await client.send(f"AUTHENTICATE {b64(scram.get_client_final())}")
    got = await client.read_until(lambda m: m.command in ("AUTHENTICATE", n.ERR_SASLFAIL))
    if got[-1].command != "AUTHENTICATE":
        return got
    scram.set_server_final(unb64(got[-1]))  # raises if the server's signature is wrong
    await client.send("AUTHENTICATE +")
    return await client.read_until(lambda m: m.command in (n.RPL_SASLSUCCESS, n.ERR_SASLFAIL))


async def registered_account(port: int, nick: str = "alice") -> None:
    owner = await LineClient.open(port)
    await owner.register(nick)
    await owner.send(f"NS REGISTER {PASSWORD}")
    await owner.read_until(n.RPL_LOGGEDIN)
    await owner.close()


async def test_scram_sha_256_logs_in_and_the_server_proves_it_knows_the_password(
    server: Server,
) -> None:
    await registered_account(port_of(server))
    client = await LineClient.open(port_of(server))
    got = await scram_login(client, "ALICE", PASSWORD)
    assert got[-1].command == n.RPL_SASLSUCCESS
    assert next(m for m in got if m.command == n.RPL_LOGGEDIN).params[2] == "alice"
    await client.send("CAP END")
    await client.read_until("376")
    await client.close()


async def test_scram_with_a_wrong_password_or_unknown_account_fails_alike(
    server: Server,
) -> None:
    await registered_account(port_of(server))
    for name, password in (("alice", "wrong password"), ("nobody", PASSWORD)):
        client = await LineClient.open(port_of(server))
        got = await scram_login(client, name, password)
        assert got[-1].command == n.ERR_SASLFAIL
        assert "invalid credentials" in got[-1].params[-1]
        # The client may go on without an account.
        await client.send("CAP END")
        await client.read_until("376")
        await client.close()


async def test_scram_logins_as_a_device_are_not_counted_as_failures(server: Server) -> None:
    # Probe 24: each good login as account@device was counted failed, and the third
    # locked the account out of this address.
    await registered_account(port_of(server))
    for _ in range(6):
        client = await LineClient.open(port_of(server))
        got = await scram_login(client, "alice@laptop", PASSWORD)
        assert got[-1].command == n.RPL_SASLSUCCESS, got[-1]
        await client.close()


async def test_scram_attempts_are_throttled_after_repeated_failures(server: Server) -> None:
    await registered_account(port_of(server))
    client = await LineClient.open(port_of(server))
    reasons = []
    for _ in range(6):
        got = await scram_login(client, "alice", "wrong password")
        reasons.append(got[-1].params[-1])
    assert "invalid credentials" in reasons[0]
    assert "Too many failed logins" in reasons[-1]
    await client.close()


async def test_an_account_made_before_scram_learns_its_verifier_at_a_plain_login(
    tmp_path: Path,
) -> None:
    settings = make_settings(tmp_path)
    async with running_server(settings) as server:
        await registered_account(port_of(server))
    # An account from before migration 0005 has no verifier.
    with contextlib.closing(sqlite3.connect(tmp_path / "hubbub.sqlite3")) as db, db:
        db.execute("UPDATE accounts SET scram = ''")
    async with running_server(settings) as server:
        client = await LineClient.open(port_of(server))
        assert (await scram_login(client, "alice", PASSWORD))[-1].command == n.ERR_SASLFAIL
        await client.close()
        client = await LineClient.open(port_of(server))
        await start_sasl(client, "alice", "PLAIN")
        await client.send(f"AUTHENTICATE {b64(f'alice{chr(0)}alice{chr(0)}{PASSWORD}')}")
        assert (await client.read_until(n.RPL_SASLSUCCESS))[-1].command == n.RPL_SASLSUCCESS
        await client.close()
        client = await LineClient.open(port_of(server))
        assert (await scram_login(client, "alice", PASSWORD))[-1].command == n.RPL_SASLSUCCESS
        await client.close()


@pytest.mark.parametrize(
    "payloads",
    [
        ["!!!"],  # not base64
        [b64("y,,n=alice")],  # no nonce
        [b64("p=tls-server-end-point,,n=alice,r=abc")],  # channel binding
        [base64.b64encode(b"\xff\xfe").decode()],  # not UTF-8
        [b64("n,a=bob,n=alice,r=abc")],  # acting for another
        [b64("n,,n=alice,r=abc"), b64("c=biws,r=abc,p=AAAA")],  # nonce cut short
        [b64("n,,n=alice,r=abc"), "+"],  # an empty client-final
    ],
)
async def test_malformed_scram_messages_fail_with_904_and_the_client_goes_on(
    server: Server, payloads: list[str]
) -> None:
    await registered_account(port_of(server))
    client = await LineClient.open(port_of(server))
    await start_sasl(client, "mallory", "SCRAM-SHA-256")
    for payload in payloads:
        await client.send(f"AUTHENTICATE {payload}")
    got = await client.read_until(n.ERR_SASLFAIL)
    assert got[-1].params[-1].startswith("SASL authentication failed")
    await client.send("CAP END")
    assert (await client.read_until("376"))[-1].command == "376"
    await client.close()


async def test_an_unknown_mechanism_lists_the_ones_offered(server: Server) -> None:
    client = await LineClient.open(port_of(server))
    await client.send("CAP LS 302", "AUTHENTICATE DIGEST-MD5")
    got = await client.read_until(n.ERR_SASLFAIL)
    # CAP LS 302 may take several lines.
    offered = " ".join(m.params[-1] for m in got if m.command == "CAP").split()
    assert "sasl=PLAIN,SCRAM-SHA-256" in offered
    mechs = next(m for m in got if m.command == n.RPL_SASLMECHS)
    assert mechs.params[1] == "PLAIN,SCRAM-SHA-256"
    await client.close()


# -- EXTERNAL ----------------------------------------------------------------------------


@pytest.fixture
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
async def tls_server(tmp_path: Path, ca: trustme.CA) -> AsyncIterator[Server]:
    async with running_server(tls_settings(tmp_path, ca)) as server:
        yield server


async def tls_client(server: Server, ca: trustme.CA, cert: trustme.LeafCert | None) -> LineClient:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ca.configure_trust(context)
    if cert is not None:
        cert.configure_cert(context)
    reader, writer = await asyncio.open_connection(
        "127.0.0.1", server.tls_addresses[0][1], ssl=context, server_hostname="127.0.0.1"
    )
    return LineClient(reader, writer)


async def test_a_client_certificate_added_with_nickserv_logs_in_with_external(
    tls_server: Server, ca: trustme.CA
) -> None:
    cert = ca.issue_cert("alice@example.org")
    alice = await tls_client(tls_server, ca, cert)
    await alice.register("alice")
    await alice.send(f"NS REGISTER {PASSWORD}")
    await alice.read_until(n.RPL_LOGGEDIN)
    await alice.send("NS CERT ADD")
    assert "Certificate added" in (await alice.read_until("NOTICE"))[-1].params[-1]
    await alice.send("NS CERT LIST")
    listed = await alice.read_until(lambda m: "certificate(s)" in m.params[-1])
    assert len([m for m in listed if m.params[-1].startswith("Certificate ")]) == 1
    await alice.close()

    again = await tls_client(tls_server, ca, cert)
    await start_sasl(again, "alice", "EXTERNAL")
    await again.send("AUTHENTICATE +")
    got = await again.read_until(lambda m: m.command in (n.RPL_SASLSUCCESS, n.ERR_SASLFAIL))
    assert got[-1].command == n.RPL_SASLSUCCESS
    assert next(m for m in got if m.command == n.RPL_LOGGEDIN).params[2] == "alice"
    await again.close()


async def test_external_fails_clearly_without_a_certificate_or_with_an_unknown_one(
    tls_server: Server, ca: trustme.CA
) -> None:
    for cert in (None, ca.issue_cert("stranger@example.org")):
        client = await tls_client(tls_server, ca, cert)
        await start_sasl(client, "stranger", "EXTERNAL")
        await client.send("AUTHENTICATE +")
        got = await client.read_until(n.ERR_SASLFAIL)
        reason = got[-1].params[-1]
        assert "no TLS client certificate" in reason if cert is None else "no account" in reason
        await client.close()
    plain = await LineClient.open(port_of(tls_server))
    await start_sasl(plain, "plain", "EXTERNAL")
    await plain.send("AUTHENTICATE +")
    assert "no TLS client certificate" in (await plain.read_until(n.ERR_SASLFAIL))[-1].params[-1]
    await plain.close()


async def test_nickserv_cert_adds_only_the_connections_own_certificate(
    tls_server: Server, ca: trustme.CA
) -> None:
    await registered_account(port_of(tls_server), "bob")
    bob = await LineClient.open(port_of(tls_server))
    await bob.register("bob2")
    await bob.send("NS CERT ADD")
    assert (await bob.read_until("NOTICE"))[-1].params[-1] == "Log in first."
    await bob.send(f"NS IDENTIFY bob {PASSWORD}")
    await bob.read_until(n.RPL_LOGGEDIN)
    replies = {
        "NS CERT ADD": "Connect with the certificate",
        "NS CERT ADD " + "ab" * 32: "Connect with the certificate",
        "NS CERT DEL " + "cd" * 32: "not on the account",
        "NS CERT LIST": "0 certificate(s)",
        "NS CERT FROB": "Usage: CERT",
    }
    for command, reply in replies.items():
        await bob.send(command)
        assert reply in (await bob.read_until("NOTICE"))[-1].params[-1], command
    await bob.close()

    cert = ca.issue_cert("carol@example.org")
    own = hashlib.sha256(ssl.PEM_cert_to_DER_cert(cert.cert_chain_pems[0].bytes().decode()))
    carol = await tls_client(tls_server, ca, cert)
    await carol.register("carol")
    await carol.send(f"NS REGISTER {PASSWORD}")
    await carol.read_until(n.RPL_LOGGEDIN)
    replies = {
        "NS CERT ADD " + "ab" * 32: "Only the certificate of this connection",
        "NS CERT ADD " + own.hexdigest().upper(): "Certificate added",
        "NS CERT ADD": "already in use",
        "NS CERT DEL " + own.hexdigest(): "Certificate removed",
    }
    for command, reply in replies.items():
        await carol.send(command)
        assert reply in (await carol.read_until("NOTICE"))[-1].params[-1], command
    await carol.close()


@pytest.mark.both_loops
async def test_a_client_ca_removed_and_rehashed_is_trusted_no_more(
    tmp_path: Path, ca: trustme.CA
) -> None:
    # Probe 13: REHASH loaded a new certificate into the old TLS context, which kept
    # every client CA it had loaded: a CA the operator removed still logged people in.
    async with serving(tls_settings(tmp_path, ca)) as server:
        cert = ca.issue_cert("alice@example.org")
        alice = await tls_client(server, ca, cert)
        await alice.register("alice")
        await alice.send(f"NS REGISTER {PASSWORD}")
        await alice.read_until(n.RPL_LOGGEDIN)
        await alice.send("NS CERT ADD")
        await alice.read_until("NOTICE")
        # The operator trusts another CA for client certificates from now on.
        trustme.CA().cert_pem.write_to_path(str(tmp_path / "clients-ca.pem"))
        assert server.rehash() is None
        # Alice, connected before, goes on; a new connection with her certificate, from
        # a CA no longer trusted, fails its handshake (and never reaches EXTERNAL).
        await alice.send("PING still")
        await alice.read_until("PONG")
        try:
            again = await tls_client(server, ca, cert)
            await again.send("NICK alice2", "USER a 0 * :A")
            ended = await again.closed()
        except (ssl.SSLError, ConnectionError):
            ended = True
        assert ended
        await alice.close()
