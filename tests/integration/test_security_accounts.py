"""Security issue 20, accounts and logins, through real sockets: look-alike account names
and nicks (finding 5), the throttle on wrong OPER passwords (11), failed logins
throttled per (account, address) pair rather than locking the account (12), and
account registrations throttled per address (the sixth probe's).

A second address is 127.0.0.2, loopback too: clients bind to it, and the server sees
another address. Throttle waits pass on injected clocks, never in real time.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import sqlite3
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trustme

from hubbub.accounts.errors import AccountError
from hubbub.accounts.throttle import LoginThrottle
from hubbub.doors.irc.commands.accounts import registration_throttle
from hubbub.doors.irc.commands.server import oper_throttle
from hubbub.server import Server
from hubbub.settings import Oper
from hubbub.wire import numerics as n
from hubbub.wire.message import Message
from tests.helpers import Clock, LineClient, running_server
from tests.integration.conftest import logged_in, make_settings, port_of, tls_settings
from tests.integration.test_account_admin import account, hubbub_account
from tests.integration.test_sasl import scram_login

PASSWORD = "correct-horse-battery"
ELSEWHERE = "127.0.0.2"
# "coco" in Cyrillic letters (es, o): drawn as the Latin name is, and another string.
CYRILLIC_COCO = "\u0441\u043e\u0441\u043e"
FULLWIDTH_COCO = "\uff43\uff4f\uff43\uff4f"
LOOKS_TAKEN = "already exists, or one whose name looks the same"
OPER_REPLIES = (n.ERR_PASSWDMISMATCH, n.RPL_TRYAGAIN, n.RPL_YOUREOPER)


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


async def open_from(server: Server, source: str = "127.0.0.1", port: int = 0) -> LineClient:
    """A connection to the server's first listener (or ``port``) from ``source``."""
    reader, writer = await asyncio.open_connection(
        "127.0.0.1", port or port_of(server), local_addr=(source, 0), limit=1 << 20
    )
    return LineClient(reader, writer)


async def connect(server: Server, nick: str, source: str = "127.0.0.1") -> LineClient:
    """A registered client, its welcome read."""
    client = await open_from(server, source)
    await client.send(f"NICK {nick}", "USER u 0 * :Real name")
    await client.read_until(n.RPL_ENDOFMOTD)
    return client


async def warned_holder(server: Server, nick: str) -> LineClient:
    """A new client that registered as ``nick``, an account's name it is not logged in
    to, once it is warned that the nick is registered."""
    client = await open_from(server)
    await client.send(f"NICK {nick}", f"USER s 0 * :Holder of {nick}")
    await client.read_until(lambda m: m.command == "NOTICE" and "registered" in m.params[-1])
    return client


async def refused_nicks(client: LineClient) -> list[Message]:
    """The 433s the server sent ``client`` for what it sent so far."""
    return [m for m in await client.sync() if m.command == n.ERR_NICKNAMEINUSE]


async def make_account(server: Server, name: str) -> None:
    """Register ``name`` with NickServ, and leave (the nick is free again)."""
    owner = await connect(server, name)
    await owner.send(f"NS REGISTER {PASSWORD}")
    await owner.read_until(n.RPL_LOGGEDIN)
    await owner.send("QUIT")
    await owner.closed()
    await owner.close()


async def plain(server: Server, name: str, password: str, source: str) -> Message:
    """A SASL PLAIN login on a new connection from ``source``; the 903 or 904 ending it."""
    client = await open_from(server, source)
    try:
        await client.send("CAP REQ :sasl", "NICK someone", "USER u 0 * :someone")
        await client.read_until("CAP")
        await client.send("AUTHENTICATE PLAIN")
        await client.read_until("AUTHENTICATE")
        payload = b64(f"{name}\0{name}\0{password}")
        chunks = [payload[i : i + 400] for i in range(0, len(payload), 400)]
        if len(payload) % 400 == 0:
            chunks.append("+")
        await client.send(*(f"AUTHENTICATE {chunk}" for chunk in chunks))
        got = await client.read_until(lambda m: m.command in (n.RPL_SASLSUCCESS, n.ERR_SASLFAIL))
        return got[-1]
    finally:
        await client.close()


async def plain_says(server: Server, name: str, password: str, source: str) -> str:
    """How a SASL PLAIN login ends: "logged in", or the reason it failed."""
    ended = await plain(server, name, password, source)
    return "logged in" if ended.command == n.RPL_SASLSUCCESS else ended.params[-1]


def notices(lines: list[Message]) -> list[str]:
    return [m.params[-1] for m in lines if m.command == "NOTICE"]


@pytest.fixture
def clock() -> Clock:
    return Clock(1000.0)


def freeze_logins(server: Server, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> LoginThrottle:
    """Run the server's login throttle on ``clock``."""
    accounts = server.irc.accounts
    assert accounts is not None
    monkeypatch.setattr(accounts.throttle, "clock", clock)
    return accounts.throttle


# -- 5: look-alike names ----------------------------------------------------------------------


@pytest.mark.parametrize("look_alike", [CYRILLIC_COCO, "c0c0", "C0CO"])
async def test_a_look_alike_of_an_account_name_is_warned_and_renamed(
    tmp_path: Path, look_alike: str
) -> None:
    async with running_server(make_settings(tmp_path, nick_grace=0.2)) as server:
        await make_account(server, "coco")
        squatter = await open_from(server)
        await squatter.send(f"NICK {look_alike}", "USER s 0 * :Squatter")
        warned = await squatter.read_until(
            lambda m: m.command == "NOTICE" and "registered nick" in m.params[-1]
        )
        assert warned[-1].params[-1].startswith(f"{look_alike} is a registered nick.")
        renamed = await squatter.read_until("NICK")
        assert renamed[-1].params[0].startswith("Guest")
        await squatter.close()


async def test_a_change_of_case_does_not_begin_the_grace_again(tmp_path: Path) -> None:
    # Probe 13: the take-back compared nicks exactly, so "ownr" then "Ownr" before the
    # deadline made each timer miss, and a nick was held for good.
    async with running_server(make_settings(tmp_path, nick_grace=2.0)) as server:
        await make_account(server, "ownr")
        squatter = await warned_holder(server, "ownr")
        # The grace itself is what is tested: most of it passes (bounded, 1.2 s).
        await asyncio.sleep(1.2)
        await squatter.send("NICK Ownr")
        warned = await squatter.read_until("NOTICE")
        assert "within 1 seconds" in warned[-1].params[-1]  # what is left, not 2 again
        # Renamed at the first deadline, 0.8 s away; a grace begun again would be 2 s.
        renamed = await squatter.read_until(
            lambda m: m.command == "NICK" and m.params[0].startswith("Guest"), seconds=1.5
        )
        assert (renamed[-1].source or "").startswith("Ownr!")
        # Taking it (or a look-alike) back at once is refused while the hold lasts.
        await squatter.send("NICK ownr", "NICK 0wnr")
        held = await refused_nicks(squatter)
        assert [m.params[1] for m in held] == ["ownr", "0wnr"]
        assert "held" in held[0].params[-1]
        await squatter.close()


async def test_the_grace_and_the_hold_are_the_accounts_across_connections(
    tmp_path: Path,
) -> None:
    # Probe 14: the grace was the connection's, so reconnecting began it again and a
    # nick could be held for good by reconnecting before each take-back.
    async with running_server(make_settings(tmp_path, nick_grace=2.0)) as server:
        await make_account(server, "ownr")
        first = await warned_holder(server, "ownr")
        # The grace itself is what is tested: most of it passes (bounded, 1.2 s).
        await asyncio.sleep(1.2)
        await first.send("QUIT")
        await first.closed()
        await first.close()
        second = await open_from(server)
        await second.send("NICK OWNR", "USER s 0 * :Squatter")  # a name of it: one grace
        warned = await second.read_until("NOTICE")
        assert "within 1 seconds" in warned[-1].params[-1]  # what is left, not 2 again
        renamed = await second.read_until(
            lambda m: m.command == "NICK" and m.params[0].startswith("Guest"), seconds=1.5
        )
        assert (renamed[-1].source or "").startswith("OWNR!")
        # Held now from everyone not logged in to it: a new connection has no grace, and
        # no line said as the held nick (probe 16: it was welcomed, then renamed).
        third = await open_from(server)
        await third.send("NICK ownr", "USER s 0 * :Squatter", "PRIVMSG OWNR :hi")
        refused = await third.read_until(n.ERR_NICKNAMEINUSE)
        assert "held" in refused[-1].params[-1]
        assert n.RPL_WELCOME not in [m.command for m in refused]
        await third.send("NICK squatter3")
        await third.read_until(n.RPL_ENDOFMOTD)
        await third.send("NICK Ownr")
        held = await refused_nicks(third)
        assert [m.params[1] for m in held] == ["Ownr"]
        # Its owner is not held from it.
        owner = await open_from(server)
        await owner.send("NICK someone", "USER o 0 * :Owner")
        await owner.read_until(n.RPL_ENDOFMOTD)
        await owner.send(f"NS IDENTIFY ownr {PASSWORD}", "NICK ownr")
        taken = await owner.read_until("NICK")
        assert taken[-1].params == ("ownr",)
        for client in (second, third, owner):
            await client.close()


async def test_a_look_alike_account_is_refused_beside_the_real_one(server: Server) -> None:
    await make_account(server, "coco")
    bob = await connect(server, "bob")
    await bob.send(
        *(
            f"REGISTER {name} * {PASSWORD}"
            for name in (CYRILLIC_COCO, "c0c0", "COCO", FULLWIDTH_COCO, "chanserv", "NickServ")
        )
    )
    fails = [m for m in await bob.sync() if m.command == "FAIL"]
    assert [m.params[:2] for m in fails] == [("REGISTER", "ACCOUNT_EXISTS")] * 6
    assert LOOKS_TAKEN in fails[0].params[-1]
    # NickServ REGISTER of a look-alike nick held: refused as well.
    squatter = await connect(server, "c0c0")
    await squatter.send(f"NS REGISTER {PASSWORD}")
    assert any(LOOKS_TAKEN in text for text in notices(await squatter.sync()))
    await squatter.send("NS INFO c0c0")
    assert notices(await squatter.sync())[-1] == "No such account."
    # And no look-alike logs in to the real account with its password.
    for name in (CYRILLIC_COCO, "c0c0"):
        assert await plain_says(server, name, PASSWORD, "127.0.0.1") == (
            "SASL authentication failed: Invalid account name or password"
        )
    await bob.close()
    await squatter.close()


async def test_registering_the_name_of_a_look_alike_nick_in_use_is_refused(
    server: Server,
) -> None:
    holder = await connect(server, "coco")  # no account: only a nick in use
    grabber = await connect(server, "grabber")
    await grabber.send(f"REGISTER {CYRILLIC_COCO} * {PASSWORD}", f"REGISTER c0c0 * {PASSWORD}")
    fails = [m.params[:2] for m in await grabber.sync() if m.command == "FAIL"]
    assert fails == [("REGISTER", "ACCOUNT_EXISTS")] * 2
    # The holder, never warned, may still register its own nick.
    await holder.send(f"REGISTER * * {PASSWORD}")
    assert (await holder.read_until("REGISTER"))[-1].params[:2] == ("SUCCESS", "coco")
    await holder.close()
    await grabber.close()


@pytest.mark.parametrize("ghost", [CYRILLIC_COCO, "coco"])
async def test_the_owner_ghosts_a_look_alike_holder_and_takes_the_nick(
    server: Server, ghost: str
) -> None:
    await make_account(server, "coco")
    await make_account(server, "bob")
    squatter = await connect(server, CYRILLIC_COCO)
    owner = await connect(server, "owner")
    await owner.send(f"NS IDENTIFY coco {PASSWORD}")
    await owner.read_until(n.RPL_LOGGEDIN)
    await owner.send("NICK coco")
    assert [m.command for m in await owner.sync()] == [n.ERR_NICKNAMEINUSE]
    # Another account's owner may not.
    bob = await connect(server, "bob")
    await bob.send(f"NS IDENTIFY {PASSWORD}")
    await bob.read_until(n.RPL_LOGGEDIN)
    await bob.send(f"NS GHOST {CYRILLIC_COCO}")
    assert notices(await bob.sync()) == [f"{CYRILLIC_COCO} does not belong to your account."]
    # The owner may, by the look-alike or by the account's own name.
    await owner.send(f"NS GHOST {ghost}")
    assert notices(await owner.sync()) == [f"{CYRILLIC_COCO} has been disconnected."]
    assert await squatter.closed()
    await owner.send("NICK coco")
    assert (await owner.read_until("NICK"))[-1].params == ("coco",)
    await squatter.close()
    await owner.close()
    await bob.close()


async def test_the_owner_may_hold_a_look_alike_of_their_account_name(tmp_path: Path) -> None:
    async with running_server(make_settings(tmp_path, nick_grace=0.2)) as server:
        await make_account(server, "coco")
        await make_account(server, "dede")
        owner = await warned_holder(server, "c0c0")
        # IDENTIFY without an account name: the look-alike nick names coco.
        await owner.send(f"NS IDENTIFY {PASSWORD}")
        logged = await owner.read_until(n.RPL_LOGGEDIN)
        assert logged[-1].params[2] == "coco"
        # A barrier: a squatter warned after the owner is renamed after the owner's
        # own grace period has run out.
        squatter = await open_from(server)
        await squatter.send("NICK dede", "USER s 0 * :Squatter")
        assert (await squatter.read_until("NICK"))[-1].params[0].startswith("Guest")
        assert [m for m in await owner.sync() if m.command == "NICK"] == []
        # Nor is the owner warned for moving to another look-alike.
        await owner.send(f"NICK {CYRILLIC_COCO}")
        changed = await owner.sync()
        assert [m.params for m in changed if m.command == "NICK"] == [(CYRILLIC_COCO,)]
        assert notices(changed) == []
        await squatter.close()
        await owner.close()


def test_hubbub_account_create_refuses_look_alikes_and_service_names(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert account(monkeypatch, tmp_path, "create", "coco", stdin=f"{PASSWORD}\n") == 0
    capsys.readouterr()
    for name in (CYRILLIC_COCO, "c0c0", FULLWIDTH_COCO):
        assert account(monkeypatch, tmp_path, "create", name, stdin=f"{PASSWORD}\n") == 1
        assert LOOKS_TAKEN in capsys.readouterr().err
    for name in ("ChanServ", "nickserv"):
        assert account(monkeypatch, tmp_path, "create", name, stdin=f"{PASSWORD}\n") == 1
        assert "reserved for a service" in capsys.readouterr().err
    with sqlite3.connect(tmp_path / "hubbub.sqlite3") as db:
        assert db.execute("SELECT key FROM accounts").fetchall() == [("coco",)]


async def test_look_alikes_are_refused_across_the_cli_and_the_running_server(
    server: Server, tmp_path: Path
) -> None:
    await make_account(server, "coco")
    status, out = await hubbub_account(tmp_path, "create", "c0c0", password=PASSWORD)
    assert status == 1
    assert LOOKS_TAKEN in out
    status, out = await hubbub_account(tmp_path, "create", "dodo", password=PASSWORD)
    assert (status, out.strip()) == (0, "account dodo created")
    # The server never looked dodo up, and still refuses its look-alike.
    bob = await connect(server, "bob")
    await bob.send(f"REGISTER d0d0 * {PASSWORD}")
    fail = (await bob.read_until("FAIL"))[-1]
    assert fail.params[:2] == ("REGISTER", "ACCOUNT_EXISTS")
    await bob.close()


async def test_odd_and_oversized_names_fail_cleanly_and_the_server_goes_on(
    server: Server,
) -> None:
    await make_account(server, "coco")
    client = await connect(server, "client")
    odd = (
        "x" * 31,  # past NICKLEN
        "co\u200dco",  # a zero-width joiner
        "\u202ecoco",  # a right-to-left override
        "\u0441oco",  # Cyrillic es, then Latin
        "\U0001f600coco",
        "#coco",
    )
    await client.send(*(f"REGISTER {name} * {PASSWORD}" for name in odd))
    fails = [m.params[:2] for m in await client.sync() if m.command == "FAIL"]
    assert fails == [("REGISTER", "BAD_ACCOUNT_NAME")] * len(odd)
    await client.send(f"NS IDENTIFY {'y' * 400} {PASSWORD}", f"NS IDENTIFY {odd[1]} {PASSWORD}")
    assert notices(await client.sync()) == ["Invalid account name or password"] * 2
    for name in ("z" * 1500, odd[2], odd[4]):
        assert await plain_says(server, name, PASSWORD, "127.0.0.1") == (
            "SASL authentication failed: Invalid account name or password"
        )
    assert await plain_says(server, "COCO", PASSWORD, "127.0.0.1") == "logged in"
    await client.close()


# -- 12: failed logins, per (account, address) --------------------------------------------------


async def test_wrong_passwords_from_one_address_do_not_lock_the_owner_out_from_another(
    server: Server, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    await make_account(server, "alice")
    await make_account(server, "mallory")
    freeze_logins(server, clock, monkeypatch)
    said = [await plain_says(server, "alice", "a wrong guess", ELSEWHERE) for _ in range(5)]
    assert said[:3] == ["SASL authentication failed: Invalid account name or password"] * 3
    assert (
        said[3:]
        == ["SASL authentication failed: Too many failed logins; try again in 2 seconds"] * 2
    )
    # The owner, from another address, is not kept out, by SASL or by NickServ.
    assert await plain_says(server, "alice", PASSWORD, "127.0.0.1") == "logged in"
    owner = await connect(server, "owner")
    await owner.send(f"NS IDENTIFY alice {PASSWORD}")
    assert (await owner.read_until(n.RPL_LOGGEDIN))[-1].params[2] == "alice"
    # Nor is another account from the attacker's own address.
    assert await plain_says(server, "mallory", PASSWORD, ELSEWHERE) == "logged in"
    # NickServ IDENTIFY from the attacker's address meets the same wait.
    guesser = await connect(server, "guesser", ELSEWHERE)
    await guesser.send(f"NS IDENTIFY alice {PASSWORD}")
    assert notices(await guesser.sync()) == ["Too many failed logins; try again in 2 seconds"]
    await owner.close()
    await guesser.close()


async def test_the_wait_doubles_with_each_failure_and_a_login_clears_it(
    server: Server, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    await make_account(server, "alice")
    freeze_logins(server, clock, monkeypatch)
    invalid = "SASL authentication failed: Invalid account name or password"
    for _ in range(3):
        assert await plain_says(server, "alice", "wrong", ELSEWHERE) == invalid
    assert (await plain_says(server, "alice", PASSWORD, ELSEWHERE)).endswith("in 2 seconds")
    clock.now += 2
    assert await plain_says(server, "alice", "wrong", ELSEWHERE) == invalid
    assert (await plain_says(server, "alice", "wrong", ELSEWHERE)).endswith("in 4 seconds")
    clock.now += 3
    assert (await plain_says(server, "alice", "wrong", ELSEWHERE)).endswith("in 1 second")
    clock.now += 1
    assert await plain_says(server, "alice", PASSWORD, ELSEWHERE) == "logged in"
    for _ in range(3):
        assert await plain_says(server, "alice", "wrong", ELSEWHERE) == invalid


async def test_an_address_trying_many_accounts_is_stopped_but_not_its_known_users(
    server: Server, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("regular", "newcomer", "latecomer"):
        await make_account(server, name)
    throttle = freeze_logins(server, clock, monkeypatch)
    monkeypatch.setattr(throttle, "accounts_per_address", 4)  # 20 by default
    invalid = "SASL authentication failed: Invalid account name or password"
    assert await plain_says(server, "regular", PASSWORD, ELSEWHERE) == "logged in"
    # Two users behind the shared address mistype; a third still logs in.
    assert await plain_says(server, "typist1", "wrong", ELSEWHERE) == invalid
    assert await plain_says(server, "typist2", "wrong", ELSEWHERE) == invalid
    assert await plain_says(server, "newcomer", PASSWORD, ELSEWHERE) == "logged in"
    # One password sprayed over many names: two more, then no further account.
    assert await plain_says(server, "victim1", "Summer2024", ELSEWHERE) == invalid
    assert await plain_says(server, "victim2", "Summer2024", ELSEWHERE) == invalid
    refused = await plain_says(server, "victim3", "Summer2024", ELSEWHERE)
    assert "Too many failed logins to different accounts" in refused
    assert await plain_says(server, "latecomer", PASSWORD, ELSEWHERE) == refused
    # Who has logged in from there before is not kept out, nor is anyone elsewhere.
    assert await plain_says(server, "regular", PASSWORD, ELSEWHERE) == "logged in"
    assert await plain_says(server, "newcomer", PASSWORD, ELSEWHERE) == "logged in"
    assert await plain_says(server, "latecomer", PASSWORD, "127.0.0.1") == "logged in"
    # The accounts already tried keep their own backoff, not the bound's refusal.
    assert await plain_says(server, "victim1", "Autumn2024", ELSEWHERE) == invalid
    clock.now += 3600
    assert await plain_says(server, "latecomer", PASSWORD, ELSEWHERE) == "logged in"


async def test_scram_failures_count_per_pair_and_the_owner_logs_in_elsewhere(
    server: Server, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    await make_account(server, "alice")
    freeze_logins(server, clock, monkeypatch)
    reasons = []
    for _ in range(4):
        guesser = await open_from(server, ELSEWHERE)
        reasons.append((await scram_login(guesser, "alice", "wrong password"))[-1].params[-1])
        await guesser.close()
    assert all("invalid credentials" in reason for reason in reasons[:3])
    assert "Too many failed logins" in reasons[3]
    owner = await open_from(server)
    assert (await scram_login(owner, "alice", PASSWORD))[-1].command == n.RPL_SASLSUCCESS
    await owner.close()


@pytest.fixture
async def tls_server(tmp_path: Path) -> AsyncIterator[tuple[Server, trustme.CA]]:
    ca = trustme.CA()
    async with running_server(tls_settings(tmp_path, ca)) as server:
        yield server, ca


async def external(server: Server, ca: trustme.CA, cert: trustme.LeafCert, source: str) -> str:
    """A SASL EXTERNAL login with ``cert`` from ``source``; how it ends, as plain_says."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ca.configure_trust(context)
    cert.configure_cert(context)
    reader, writer = await asyncio.open_connection(
        "127.0.0.1",
        server.tls_addresses[0][1],
        ssl=context,
        server_hostname="127.0.0.1",
        local_addr=(source, 0),
    )
    client = LineClient(reader, writer)
    try:
        await client.send("CAP REQ :sasl", "NICK someone", "USER u 0 * :someone")
        await client.read_until("CAP")
        await client.send("AUTHENTICATE EXTERNAL")
        await client.read_until("AUTHENTICATE")
        await client.send("AUTHENTICATE +")
        got = await client.read_until(lambda m: m.command in (n.RPL_SASLSUCCESS, n.ERR_SASLFAIL))
        return "logged in" if got[-1].command == n.RPL_SASLSUCCESS else got[-1].params[-1]
    finally:
        await client.close()


async def test_external_meets_the_same_throttle_and_works_from_another_address(
    tls_server: tuple[Server, trustme.CA], clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    server, ca = tls_server
    cert = ca.issue_cert("alice@example.org")
    await make_account(server, "alice")
    # The certificate is added over TLS, from a connection that shows it.
    assert await external(server, ca, cert, "127.0.0.1") == (
        "SASL authentication failed: the certificate belongs to no account"
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ca.configure_trust(context)
    cert.configure_cert(context)
    reader, writer = await asyncio.open_connection(
        "127.0.0.1", server.tls_addresses[0][1], ssl=context, server_hostname="127.0.0.1"
    )
    adder = LineClient(reader, writer)
    await adder.send("NICK adder", "USER u 0 * :Adder", f"NS IDENTIFY alice {PASSWORD}")
    await adder.read_until(n.RPL_LOGGEDIN)
    await adder.send("NS CERT ADD")
    assert "Certificate added" in notices(await adder.sync())[-1]
    await adder.close()

    freeze_logins(server, clock, monkeypatch)
    for _ in range(3):
        await plain(server, "alice", "wrong", ELSEWHERE)
    assert await external(server, ca, cert, ELSEWHERE) == (
        "SASL authentication failed: Too many failed logins; try again in 2 seconds"
    )
    assert await external(server, ca, cert, "127.0.0.1") == "logged in"


def test_the_login_throttle_stays_bounded_under_endless_names_and_addresses() -> None:
    clock = Clock(0.0)
    throttle = LoginThrottle(clock, size=100, accounts_per_address=5)
    for i in range(20_000):
        clock.now += 0.01
        with contextlib.suppress(AccountError):
            throttle.begin(f"name{i % 3000}", f"10.{i % 7}.{i % 251}.{i % 13}")
        if i % 5 == 0:
            throttle.succeed(f"name{i % 3000}", f"10.{i % 7}.{i % 251}.{i % 13}")
    assert throttle.entries() <= 100 * (2 + 5)


def test_an_ipv6_network_counts_as_one_address() -> None:
    throttle = LoginThrottle(Clock(0.0), accounts_per_address=5)
    for i in range(5):
        throttle.begin(f"name{i}", f"2001:db8:1:2::{i + 1:x}")
    with pytest.raises(AccountError, match="different accounts"):
        throttle.begin("name5", "2001:db8:1:2:ffff::1")
    for address in ("2001:db8:1:3::1", "::ffff:192.0.2.1", "192.0.2.1", "192.0.2.1"):
        # Another /64; then IPv4 written as IPv6, counted with IPv4.
        throttle.begin("name5", address)
        throttle.failed("name5", address)
    with pytest.raises(AccountError, match="try again in 2 seconds"):
        throttle.begin("name5", "192.0.2.1")


# -- 11: OPER -------------------------------------------------------------------------------


async def test_wrong_oper_passwords_are_throttled_per_address_and_close_the_connection(
    tmp_path: Path,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="hubbub")
    settings = make_settings(tmp_path).replace(opers=(Oper("boss", "operpass"),))
    async with running_server(settings) as server:
        monkeypatch.setattr(oper_throttle(server.hub), "clock", clock)
        guesser = await connect(server, "guesser", ELSEWHERE)
        await guesser.send(
            "OPER boss guess-one", "OPER boss guess-two", "OPER hunter2-as-name guess-three"
        )
        got = await guesser.read_until("ERROR")
        assert [m.command for m in got if m.command in OPER_REPLIES] == [n.ERR_PASSWDMISMATCH] * 3
        assert "Too many failed OPER attempts" in got[-1].params[-1]
        assert await guesser.closed()
        # Its address waits, and even the right password is not checked meanwhile.
        again = await connect(server, "again", ELSEWHERE)
        await again.send("OPER boss operpass")
        refused = await again.sync()
        assert [(m.command, m.params[1:]) for m in refused] == [
            (n.RPL_TRYAGAIN, ("OPER", "Too many failed OPER attempts; try again in 2 seconds"))
        ]
        # Another address is not held up.
        boss = await connect(server, "boss")
        await boss.send("OPER boss operpass")
        assert n.RPL_YOUREOPER in [m.command for m in await boss.sync()]
        clock.now += 2
        await again.send("OPER boss operpass")
        assert n.RPL_YOUREOPER in [m.command for m in await again.sync()]
        await guesser.close()
        await again.close()
        await boss.close()
    failures = [r.getMessage() for r in caplog.records if "failed OPER" in r.getMessage()]
    assert len(failures) == 3
    assert "an unknown name" in failures[2]
    assert not any(secret in caplog.text for secret in ("guess-", "hunter2", "operpass"))


async def test_a_connection_refused_while_throttled_is_closed_at_its_third_try(
    tmp_path: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(tmp_path).replace(opers=(Oper("boss", "operpass"),))
    async with running_server(settings) as server:
        monkeypatch.setattr(oper_throttle(server.hub), "clock", clock)
        for nick in ("one", "two", "three"):
            guesser = await connect(server, nick, ELSEWHERE)
            await guesser.send("OPER boss wrong")
            assert [m.command for m in await guesser.sync()] == [n.ERR_PASSWDMISMATCH]
            await guesser.close()
        patient = await connect(server, "patient", ELSEWHERE)
        await patient.send(*["OPER boss operpass"] * 3)
        got = await patient.read_until("ERROR")
        assert [m.command for m in got if m.command in OPER_REPLIES] == [n.RPL_TRYAGAIN] * 3
        assert await patient.closed()
        await patient.close()


async def test_wrong_server_passwords_are_throttled_per_address(tmp_path: Path) -> None:
    settings = make_settings(tmp_path).replace(password="the-right-one")

    async def tries(password: str, source: str) -> str:
        client = await open_from(server, source)
        try:
            await client.send(f"PASS {password}", "NICK guesser", "USER u 0 * :Real")
            got = await client.read_until(
                lambda m: m.command in (n.RPL_WELCOME, n.ERR_PASSWDMISMATCH)
            )
            return got[-1].command
        finally:
            await client.close()

    async with running_server(settings) as server:
        for attempt in range(3):
            assert await tries(f"guess{attempt}", "127.0.0.2") == n.ERR_PASSWDMISMATCH
        # A fourth guess at once: past the free ones, so not even the right password
        # is checked from that address for now.
        assert await tries("guess3", "127.0.0.2") == n.ERR_PASSWDMISMATCH
        assert await tries("the-right-one", "127.0.0.2") == n.ERR_PASSWDMISMATCH
        # Nobody else is kept out.
        assert await tries("the-right-one", "127.0.0.3") == n.RPL_WELCOME


# -- sixth probe: account registrations per address ------------------------------------------

TOO_MANY = "Too many accounts registered from your address; wait {} before registering another"


def freeze_registrations(server: Server, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run the server's registration throttle on ``clock``."""
    throttle = registration_throttle(server.hub, server.settings.limits)
    monkeypatch.setattr(throttle, "clock", clock)


async def register_says(server: Server, nick: str, source: str, password: str = PASSWORD) -> str:
    """How ``REGISTER * * password`` ends on a new connection from ``source``: "SUCCESS",
    or the FAIL's code and text."""
    client = await connect(server, nick, source)
    try:
        await client.send(f"REGISTER * * {password}")
        got = await client.read_until(lambda m: m.command in ("REGISTER", "FAIL"))
        answer = got[-1]
        return answer.params[0] if answer.command == "REGISTER" else " ".join(answer.params[1:])
    finally:
        await client.close()


async def test_registering_past_the_limit_from_one_address_is_refused_before_hashing(
    server: Server, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    freeze_registrations(server, clock, monkeypatch)
    bystander = await connect(server, "bystander")
    friend = await connect(server, "friend")
    await bystander.send("JOIN #chat")
    await friend.send("JOIN #chat")
    # Refusals count too: eight passwords too short, then two accounts made.
    flooder = await connect(server, "flooder", ELSEWHERE)
    await flooder.send(*(f"REGISTER flood{i} * short" for i in range(8)))
    fails = [m.params[:2] for m in await flooder.sync() if m.command == "FAIL"]
    assert fails == [("REGISTER", "WEAK_PASSWORD")] * 8
    assert await register_says(server, "flood8", ELSEWHERE) == "SUCCESS"
    clock.now += 600
    assert await register_says(server, "flood9", ELSEWHERE) == "SUCCESS"

    # The eleventh, by either command, waits for the first to be an hour old.
    assert await register_says(server, "flood10", ELSEWHERE) == (
        "TEMPORARILY_UNAVAILABLE flood10 " + TOO_MANY.format("3000 seconds")
    )
    late = await connect(server, "latecomer", ELSEWHERE)
    await late.send(f"NS REGISTER {PASSWORD}", "NS INFO latecomer")
    assert notices(await late.sync()) == [TOO_MANY.format("3000 seconds"), "No such account."]

    # Others are unharmed: another address registers, and the chat goes on.
    assert await register_says(server, "newcomer", "127.0.0.1") == "SUCCESS"
    await bystander.send("PRIVMSG #chat :still here")
    heard = await friend.sync()
    assert [m.params[-1] for m in heard if m.command == "PRIVMSG"] == ["still here"]

    clock.now += 3000
    await late.send(f"NS REGISTER {PASSWORD}")
    assert n.RPL_LOGGEDIN in [m.command for m in await late.sync()]
    for client in (bystander, friend, flooder, late):
        await client.close()


@pytest.mark.parametrize(("per_address", "allowed"), [(2, 2), (0, 12)])
async def test_the_register_limit_is_a_setting_and_zero_is_no_limit(
    tmp_path: Path,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
    per_address: int,
    allowed: int,
) -> None:
    settings = make_settings(tmp_path, register_per_address=per_address, register_window=60.0)
    async with running_server(settings) as server:
        freeze_registrations(server, clock, monkeypatch)
        client = await connect(server, "client", ELSEWHERE)
        await client.send(*(f"REGISTER name{i} * short" for i in range(12)))
        fails = [m.params[1] for m in await client.sync() if m.command == "FAIL"]
        assert fails == ["WEAK_PASSWORD"] * allowed + ["TEMPORARILY_UNAVAILABLE"] * (12 - allowed)
        clock.now += 60
        assert await register_says(server, "later", ELSEWHERE) == "SUCCESS"
        await client.close()


async def test_stepping_off_a_registered_nick_before_the_deadline_does_not_begin_it_again(
    tmp_path: Path,
) -> None:
    # Probe 15: NICK alice, NICK other just before the deadline, NICK alice just after:
    # a new grace each time, never renamed, the nick kept for good.
    async with running_server(make_settings(tmp_path, nick_grace=1.0)) as server:
        await make_account(server, "ownr")
        squatter = await warned_holder(server, "ownr")
        await squatter.send("NICK elsewhere")
        await squatter.read_until("NICK")
        # The deadline itself is what is tested: let it pass (bounded, 1.3 s).
        await asyncio.sleep(1.3)
        await squatter.send("NICK ownr")
        held = await refused_nicks(squatter)
        assert [m.params[1] for m in held] == ["ownr"]
        assert "held" in held[0].params[-1]
        await squatter.close()


async def test_cl_written_with_a_capital_i_is_the_same_name(server: Server) -> None:
    # Probe 15: "cl" became "d" before I was an l, so "cIaire" escaped "claire" as a
    # nick, an account and a channel name.
    await make_account(server, "claire")
    owner = await connect(server, "claire")
    await owner.send(f"NS IDENTIFY {PASSWORD}", "JOIN #club")
    await owner.read_until(n.RPL_ENDOFNAMES)
    squatter = await connect(server, "squatter")
    await squatter.send("NICK cIaire", f"REGISTER cIaire * {PASSWORD}", "JOIN #cIub")
    answers = await squatter.sync()
    assert [m.params[1] for m in answers if m.command == n.ERR_NICKNAMEINUSE] == ["cIaire"]
    assert [m.params[:2] for m in answers if m.command == "FAIL"] == [
        ("REGISTER", "ACCOUNT_EXISTS")
    ]
    assert not [m for m in answers if m.command == "JOIN"]
    await squatter.close()
    await owner.close()


async def test_a_look_alike_made_first_keeps_out_the_name_it_looks_like(
    server: Server,
) -> None:
    # Probe 16: the spelling's look was checked one way only, so a "cIaire" made first
    # let "claire" be made beside it; and the digit one was not read as an l at all.
    squatter = await connect(server, "squatter")
    await squatter.send(f"REGISTER cIaire * {PASSWORD}", "NICK c1aire", "JOIN #cIub")
    answers = await squatter.sync()
    assert [m.command for m in answers if m.command in ("REGISTER", "FAIL")] == ["REGISTER"]
    assert [m.params[0] for m in answers if m.command == "JOIN"] == ["#cIub"]
    newcomer = await connect(server, "newcomer")
    await newcomer.send("NICK claire", f"REGISTER claire * {PASSWORD}", "JOIN #club")
    answers = await newcomer.sync()
    assert [m.params[1] for m in answers if m.command == n.ERR_NICKNAMEINUSE] == ["claire"]
    assert [m.params[:2] for m in answers if m.command == "FAIL"] == [
        ("REGISTER", "ACCOUNT_EXISTS")
    ]
    assert not [m for m in answers if m.command == "JOIN"]
    await squatter.send("NICK other")
    await squatter.read_until("NICK")
    # The look is let go with the nick: "claire" is free as a nick, but the account
    # "cIaire" still owns it.
    await newcomer.send("NICK claire")
    answers = await newcomer.read_until("NOTICE")
    assert [m.params for m in answers if m.command == "NICK"] == [("claire",)]
    assert answers[-1].params[-1].startswith("claire is a registered nick.")
    await squatter.close()
    await newcomer.close()


async def test_an_account_spelt_like_another_in_capitals_does_not_own_that_spelling(
    server: Server,
) -> None:
    # Probe 17: the owner of an account "ciaire" took the nick "cIaire" (its own name in
    # capitals, drawn as "claire"), was never renamed, and kept claire's owner out
    # (433), GHOST finding nobody.
    await make_account(server, "claire")
    squatter = await connect(server, "squatter")
    await squatter.send(f"REGISTER ciaire * {PASSWORD}", "NICK cIaire")
    warned = await squatter.read_until(lambda m: m.command == "NOTICE")
    assert warned[-1].params[-1].startswith("cIaire is a registered nick.")
    owner = await connect(server, "other")
    await owner.send("NICK claire")
    assert [m.params[1] for m in await refused_nicks(owner)] == ["claire"]
    await owner.send(f"NS IDENTIFY claire {PASSWORD}")
    await owner.read_until(n.RPL_LOGGEDIN)
    await owner.send("NS GHOST claire")
    told = await owner.read_until("NOTICE")
    assert told[-1].params[-1] == "cIaire has been disconnected."
    assert await squatter.closed()
    await owner.send("NICK claire")
    assert (await owner.read_until("NICK"))[-1].params == ("claire",)
    await squatter.close()
    await owner.close()


async def test_a_name_some_spelling_of_an_account_is_drawn_as_is_not_registered_beside_it(
    server: Server,
) -> None:
    # Probe 18: "mdntyre", registered after "mcintyre", is how "McIntyre" is drawn; it
    # owned that spelling and ghosted the owner off it. Probe 19: but that drawn key owns
    # no nick: an account "cian" took the nick "dan" from everyone.
    await make_account(server, "mcintyre")
    owner = await connect(server, "other")
    await owner.send(f"NS IDENTIFY mcintyre {PASSWORD}", "NICK McIntyre")
    answers = await owner.sync()
    assert [m.params for m in answers if m.command == "NICK"] == [("McIntyre",)]
    assert not [m for m in answers if m.command == "NOTICE" and "registered nick" in m.params[-1]]
    squatter = await connect(server, "squatter")
    await squatter.send(f"REGISTER mdntyre * {PASSWORD}")
    answers = await squatter.sync()
    assert [m.params[:2] for m in answers if m.command == "FAIL"] == [
        ("REGISTER", "ACCOUNT_EXISTS")
    ]
    await make_account(server, "cian")
    dan = await connect(server, "dan")
    answers = await dan.sync()
    assert not [m for m in answers if m.command == "NOTICE" and "registered nick" in m.params[-1]]
    await squatter.close()
    await owner.close()
    await dan.close()


async def test_a_nick_in_capitals_is_the_same_nick(server: Server) -> None:
    # Probe 16: "FELICIA" was held beside "felicia" (a skeleton made from the spelling),
    # took her messages, and left the server unable to remove either.
    await make_account(server, "lucia")
    felicia = await connect(server, "felicia")
    other = await connect(server, "other")
    await other.send("NICK FELICIA", "NICK CICERO")
    refused = await refused_nicks(other)
    assert [m.params[1] for m in refused] == ["FELICIA"]
    await other.send("NICK LUCIA")
    warned = await other.read_until("NOTICE")
    assert warned[-1].params[-1].startswith("LUCIA is a registered nick.")
    await felicia.send("QUIT")
    assert await felicia.closed()
    await felicia.close()
    await other.send("NICK felicia")
    assert (await other.read_until("NICK"))[-1].params == ("felicia",)
    await other.close()


async def test_an_owner_who_logs_in_during_the_grace_begins_no_hold(tmp_path: Path) -> None:
    # Probe 16: the owner's own grace, ended by logging in, still held the names at its
    # deadline, from the owner's next connection, longer each time.
    async with running_server(make_settings(tmp_path, nick_grace=0.5)) as server:
        await make_account(server, "ownr")
        owner = await warned_holder(server, "ownr")
        await owner.send(f"NS IDENTIFY {PASSWORD}")
        await owner.read_until(n.RPL_LOGGEDIN)
        await asyncio.sleep(0.8)  # the deadline itself is what is tested (bounded)
        await owner.send("QUIT")
        await owner.closed()
        await owner.close()
        again = await open_from(server)
        await again.send("NICK ownr", "USER o 0 * :Owner")
        welcome = await again.read_until(lambda m: m.command in (n.RPL_WELCOME, "433"))
        assert welcome[-1].command == n.RPL_WELCOME
        await again.close()


# -- probe 27: masks that name a person, not a nick --------------------------------------


async def test_an_account_mask_names_whoever_is_logged_in_to_it_not_the_nick(
    tmp_path: Path,
) -> None:
    """A nick mask in +I let a squatter in, in the grace of the account it took the
    nick of (probe 27); ``a:account`` names the person."""
    async with running_server(make_settings(tmp_path, nick_grace=30.0)) as server:
        await make_account(server, "alic1")
        await make_account(server, "troll")
        op = await connect(server, "op")
        await op.send("JOIN #invc", "MODE #invc +i", "MODE #invc +I a:alic1", "JOIN #open")
        await op.send("MODE #open +b a:TROLL", "MODE #open +e a:")
        got = await op.read_until(lambda m: m.command == "MODE" and m.params[1] == "+e")
        modes = [m.params[1:] for m in got if m.command == "MODE"]
        assert ("+I", "a:alic1") in modes
        assert ("+b", "a:TROLL") in modes
        assert ("+e", "a:*") in modes  # a: alone: anyone logged in
        await op.send("MODE #open -e a:*")
        await op.read_until("MODE")
        squatter = await warned_holder(server, "alic1")
        await squatter.send("JOIN #invc")
        assert n.ERR_INVITEONLYCHAN in [m.command for m in await squatter.sync()]
        # The account's owner, under another nick, is let in; the banned account is
        # kept out of #open under any nick.
        owner = await logged_in(server, PASSWORD, "alic1", "elsewhere")
        await owner.send("JOIN #invc")
        assert "JOIN" in [m.command for m in await owner.sync()]
        troll = await logged_in(server, PASSWORD, "troll", "innocent")
        await troll.send("JOIN #open")
        assert n.ERR_BANNEDFROMCHAN in [m.command for m in await troll.sync()]
        for client in (op, squatter, owner, troll):
            await client.close()


async def test_a_dropped_accounts_mask_entries_do_not_pass_to_the_next_owner_of_its_name(
    tmp_path: Path,
) -> None:
    """Probe 28: ``+I a:name`` and ``+e a:name`` let whoever registered the name after
    its drop in."""
    async with running_server(make_settings(tmp_path)) as server:
        await make_account(server, "alicea1")
        op = await connect(server, "op")
        await op.send("JOIN #invc", "MODE #invc +i", "MODE #invc +I a:alicea1")
        await op.send("MODE #invc +e m:a:alicea1", "MODE #invc +I *!*@keep.example")
        await op.read_until(lambda m: m.command == "MODE" and m.params[-1] == "*!*@keep.example")
        alice = await logged_in(server, PASSWORD, "alicea1", "alicea1")
        await alice.send(f"NS DROP {PASSWORD}")
        await alice.read_until(lambda m: m.command == "NOTICE" and "dropped" in m.params[-1])
        # ChanServ takes out the entries that named the account, and only those.
        removed = await op.read_until("MODE")
        assert str(removed[-1].source).startswith("ChanServ!")
        assert removed[-1].params[1:] == ("-eI", "m:a:alicea1", "a:alicea1")
        await op.send("MODE #invc I")
        got = await op.read_until(n.RPL_ENDOFINVEXLIST)
        assert [m.params[2] for m in got if m.command == n.RPL_INVEXLIST] == ["*!*@keep.example"]
        await alice.close()
        newcomer = await open_from(server, "127.0.0.5")
        await newcomer.send("NICK alicea1", "USER n 0 * :Newcomer")
        await newcomer.read_until(n.RPL_ENDOFMOTD)
        await newcomer.send(f"NS REGISTER {PASSWORD}")
        await newcomer.read_until(n.RPL_LOGGEDIN)
        await newcomer.send("JOIN #invc")
        assert n.ERR_INVITEONLYCHAN in [m.command for m in await newcomer.sync()]
        for client in (op, newcomer):
            await client.close()
