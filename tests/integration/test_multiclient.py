"""One account on many devices: connections that share one user (multiclient), a user
that stays while none is open (always-on), and the replay of what a device missed."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path

from hubbub.core.presence import Choice
from hubbub.server import Server
from hubbub.settings import Oper
from hubbub.wire import numerics as n
from hubbub.wire.message import Message
from tests.helpers import LineClient, running_server
from tests.integration.conftest import make_settings, port_of
from tests.integration.test_account_admin import hubbub_account
from tests.integration.test_admin import hubbub_admin

PASSWORD = "correct-horse-battery"


def _sasl(name: str, password: str = PASSWORD) -> str:
    return base64.b64encode(f"\0{name}\0{password}".encode()).decode()


async def device(
    server: Server,
    login: str = "alice",
    nick: str = "alice",
    caps: str = "",
    *,
    until: str = "376",
    source: str = "127.0.0.1",
) -> tuple[LineClient, list[Message]]:
    """A connection from ``source`` logged in with SASL as ``login`` (``account@device``
    names its device), asking for ``nick``; what it got up to ``until``."""
    reader, writer = await asyncio.open_connection(
        "127.0.0.1", port_of(server), local_addr=(source, 0), limit=1 << 20
    )
    client = LineClient(reader, writer)
    return client, await client.log_in(login, PASSWORD, nick, caps, until)


async def make_account(server: Server, name: str = "alice") -> None:
    owner = await LineClient.open(port_of(server))
    await owner.register(name)
    await owner.send(f"NS REGISTER {PASSWORD}")
    await owner.read_until(n.RPL_LOGGEDIN)
    await leave(owner)


async def leave(client: LineClient) -> None:
    """QUIT, and wait for the server to close the connection."""
    await client.send("QUIT")
    await client.closed()
    await client.close()


def said(lines: list[Message], command: str = "PRIVMSG") -> list[tuple[str, ...]]:
    return [m.params for m in lines if m.command == command]


async def test_two_connections_of_one_account_share_one_user(tmp_path: Path) -> None:
    async with running_server(make_settings(tmp_path)) as server:
        await make_account(server)
        laptop, _ = await device(server)
        await laptop.send("JOIN #rust")
        await laptop.read_until("366")
        bob = await LineClient.open(port_of(server))
        await bob.register("bob")
        await bob.send("JOIN #rust")
        await bob.read_until("366")
        await laptop.read_until("JOIN")

        phone, burst = await device(server, "alice@phone", until="366")
        # Welcomed as the user that is there, and shown its channel and who is in it.
        assert [m.params[0] for m in burst if m.command == n.RPL_WELCOME] == ["alice"]
        assert [m.params for m in burst if m.command == "JOIN"] == [("#rust",)]
        names = [m.params[-1] for m in burst if m.command == n.RPL_NAMREPLY]
        assert sorted(names[0].split()) == ["@alice", "bob"]
        # Bob saw nothing of it: one alice, still.
        assert not [m for m in await bob.sync() if m.command in ("JOIN", "NICK", "QUIT")]
        await bob.send("NAMES #rust")
        reply = await bob.read_until(n.RPL_NAMREPLY)
        assert sorted(reply[-1].params[-1].split()) == ["@alice", "bob"]

        # Both devices get what bob says.
        await bob.send("PRIVMSG #rust :hello")
        assert said(await laptop.read_until("PRIVMSG")) == [("#rust", "hello")]
        assert said(await phone.read_until("PRIVMSG")) == [("#rust", "hello")]
        # What one device says, the other shows; bob gets it once; no echo-message,
        # so the speaker does not get it back.
        await phone.send("PRIVMSG #rust :from my phone", "PRIVMSG bob :psst")
        assert said(await laptop.read_until(lambda m: m.params[-1:] == ("psst",))) == [
            ("#rust", "from my phone"),
            ("bob", "psst"),
        ]
        got = await bob.read_until(lambda m: m.params[-1:] == ("psst",))
        assert said(got) == [("#rust", "from my phone"), ("bob", "psst")]
        assert not said(await phone.sync())

        # A nick change is the user's: both devices and bob see it once.
        await laptop.send("NICK alys")
        assert [m.params for m in await phone.read_until("NICK")][-1] == ("alys",)
        assert [m.params for m in await bob.read_until("NICK")][-1] == ("alys",)
        assert [m.params for m in await laptop.read_until("NICK")][-1] == ("alys",)

        # One device leaving leaves the user: nobody sees a QUIT but the device itself.
        await phone.send("QUIT :bye phone")
        left = await phone.read_until("ERROR")
        assert [m.params for m in left if m.command == "QUIT"] == [("Quit: bye phone",)]
        await bob.send("PRIVMSG #rust :still there?")
        assert said(await laptop.read_until("PRIVMSG")) == [("#rust", "still there?")]
        assert not [m for m in await bob.sync() if m.command == "QUIT"]
        # The last one leaving is the user quitting.
        await laptop.send("QUIT :bye")
        quits = await bob.read_until("QUIT")
        assert quits[-1].source is not None
        assert quits[-1].source.startswith("alys!")
        for client in (laptop, phone, bob):
            await client.close()


async def test_echo_message_goes_to_the_speaker_and_the_message_to_the_other_devices(
    tmp_path: Path,
) -> None:
    async with running_server(make_settings(tmp_path)) as server:
        await make_account(server)
        laptop, _ = await device(server, caps="echo-message message-tags")
        phone, _ = await device(server, "alice@phone", caps="message-tags")
        bob = await LineClient.open(port_of(server))
        await bob.register("bob")
        await laptop.send("@label=x1 PRIVMSG bob :hi bob")
        echoed = (await laptop.read_until("PRIVMSG"))[-1]
        shown = (await phone.read_until("PRIVMSG"))[-1]
        got = (await bob.read_until("PRIVMSG"))[-1]
        assert echoed.params == shown.params == got.params == ("bob", "hi bob")
        assert echoed.tags["msgid"] == shown.tags["msgid"]
        for client in (laptop, phone, bob):
            await client.close()


async def test_an_account_that_turns_multiclient_off_gets_433(tmp_path: Path) -> None:
    async with running_server(make_settings(tmp_path)) as server:
        await make_account(server)
        await make_account(server, "bob")
        laptop, _ = await device(server)
        await laptop.send("NS SET MULTICLIENT OFF")
        answer = await laptop.read_until("NOTICE")
        assert answer[-1].params[-1] == "Done: MULTICLIENT is off (your choice)."
        # Another's setting cannot be changed by naming it.
        await laptop.send("NS SET bob MULTICLIENT ON")
        assert (
            "only the account you are logged in to"
            in (await laptop.read_until("NOTICE"))[-1].params[-1]
        )
        await laptop.send("NS SET MULTICLIENT maybe")
        assert (await laptop.read_until("NOTICE"))[-1].params[-1].startswith("Usage: SET")

        phone = await LineClient.open(port_of(server))
        await phone.send("CAP LS 302", "CAP REQ :sasl", "AUTHENTICATE PLAIN")
        await phone.read_until("AUTHENTICATE")
        await phone.send(f"AUTHENTICATE {_sasl('alice')}")
        await phone.read_until(n.RPL_SASLSUCCESS)
        await phone.send("NICK alice", "USER a 0 * :a", "CAP END")
        refused = await phone.read_until(n.ERR_NICKNAMEINUSE)
        assert not [m for m in refused if m.command == n.RPL_WELCOME]
        await laptop.send("NS SET")
        shown = [m.params[-1] for m in await laptop.read_until(lambda m: "ALWAYS" in m.params[-1])]
        assert shown[-2:] == [
            "MULTICLIENT is off (your choice).",
            "ALWAYS-ON is off (the server's default).",
        ]
        for client in (laptop, phone):
            await client.close()


async def test_no_account_attaches_more_connections_than_its_limit(tmp_path: Path) -> None:
    async with running_server(make_settings(tmp_path, clients_per_account=2)) as server:
        await make_account(server)
        first, _ = await device(server)
        second, _ = await device(server, "alice@two")
        # Closed with the reason: a 433 would have the client take its next nick, and
        # the account be a second person in its channels.
        third, lines = await device(server, "alice@three", until="ERROR")
        assert "has 2 connections already" in lines[-1].params[-1]
        assert not [m for m in lines if m.command == n.RPL_WELCOME]
        assert await third.closed()
        # The two attached are unharmed.
        await first.send("PRIVMSG alice :note to self")
        assert said(await second.read_until("PRIVMSG")) == [("alice", "note to self")]
        # Once on each device: as its recipient, not again as said on another device.
        assert not said(await second.sync())
        assert said(await first.sync()) == [("alice", "note to self")]
        for client in (first, second, third):
            await client.close()


async def test_devices_behind_one_address_logging_in_at_once_are_one_user(
    tmp_path: Path,
) -> None:
    """Probe 25: the fourth of six devices logging in together from one address was
    refused as a failed login, took the nick unauthenticated, and the others got 433."""
    async with running_server(make_settings(tmp_path)) as server:
        await make_account(server)
        logins = [
            device(server, f"alice@dev{i}", source="127.0.0.5", until=n.RPL_ENDOFMOTD)
            for i in range(6)
        ]
        devices = await asyncio.gather(*logins)
        for _, lines in devices:
            assert [m for m in lines if m.command == n.RPL_SASLSUCCESS], lines
            assert not [m for m in lines if m.command == n.ERR_NICKNAMEINUSE], lines
            assert [m.params[0] for m in lines if m.command == n.RPL_WELCOME] == ["alice"]
        first, second = devices[0][0], devices[5][0]
        await first.send("PRIVMSG alice :all here")
        assert said(await second.read_until("PRIVMSG")) == [("alice", "all here")]
        for client, _ in devices:
            await client.close()


async def test_a_malformed_device_name_fails_sasl_with_a_reason(tmp_path: Path) -> None:
    async with running_server(make_settings(tmp_path)) as server:
        await make_account(server)
        for login in ("alice@", "alice@" + "x" * 33, "alice@bad/name", "alice@a b"):
            client = await LineClient.open(port_of(server))
            await client.send("CAP REQ :sasl", "AUTHENTICATE PLAIN")
            await client.read_until("AUTHENTICATE")
            await client.send(f"AUTHENTICATE {_sasl(login)}")
            failed = await client.read_until(n.ERR_SASLFAIL)
            assert any("device" in m.params[-1] for m in failed), failed
            await client.close()
        # The server is unharmed: a good name still logs in.
        good, _ = await device(server, "alice@laptop-2.home")
        await good.close()


async def test_an_always_on_user_stays_through_a_restart_and_is_replayed_what_it_missed(
    tmp_path: Path,
) -> None:
    settings = make_settings(tmp_path)
    async with running_server(settings) as server:
        await make_account(server)
        alice, _ = await device(server, "alice@laptop")
        await alice.send("NS SET ALWAYS-ON ON", "JOIN #rust")
        await alice.read_until("366")
        bob = await LineClient.open(port_of(server))
        await bob.send("CAP REQ :away-notify", "CAP END")
        await bob.register("bob")
        await bob.send("JOIN #rust")
        await bob.read_until("366")
        await alice.send("QUIT :closing the laptop")
        await alice.closed()
        await alice.close()
        # Still there, away while no device is attached.
        away = await bob.read_until("AWAY")
        assert away[-1].source is not None
        assert away[-1].source.startswith("alice!")
        assert not [m for m in away if m.command == "QUIT"]
        await bob.send("PRIVMSG #rust :one", "PRIVMSG #rust :two", "PRIVMSG alice :private")
        # The private message is answered that alice is away (301).
        assert [m.command for m in await bob.sync()] == [n.RPL_AWAY]
        await bob.send("WHOIS alice")
        whois = await bob.read_until(n.RPL_ENDOFWHOIS)
        assert [m.command for m in whois if m.command == n.RPL_AWAY] == [n.RPL_AWAY]
        await bob.close()
    async with running_server(settings) as server:
        bob = await LineClient.open(port_of(server))
        await bob.register("bob")
        await bob.send("NAMES #rust")
        names = await bob.read_until(n.RPL_NAMREPLY)
        assert names[-1].params[-1].split() == ["@alice"]
        await bob.send("JOIN #rust")
        await bob.read_until("366")
        await bob.send("PRIVMSG #rust :three")
        await bob.sync()

        alice, lines = await device(server, "alice@laptop", caps="server-time batch")
        lines += await alice.sync()
        assert [m.params for m in lines if m.command == "JOIN"] == [("#rust",)]
        replayed = [(m.params, "time" in m.tags) for m in lines if m.command == "PRIVMSG"]
        assert replayed == [
            (("#rust", "one"), True),
            (("#rust", "two"), True),
            (("#rust", "three"), True),
            (("alice", "private"), True),
        ]
        # Attached again: away no more, and what was missed is not replayed twice.
        await alice.send("WHOIS alice")
        whois = await alice.read_until(n.RPL_ENDOFWHOIS)
        assert not [m for m in whois if m.command == n.RPL_AWAY]
        await leave(alice)
        again, lines = await device(server, "alice@laptop")
        lines += await again.sync()
        assert not said(lines)
        for client in (again, bob):
            await client.close()


async def test_a_user_is_not_always_on_unless_its_account_or_the_server_says_so(
    tmp_path: Path,
) -> None:
    async with running_server(make_settings(tmp_path)) as server:
        await make_account(server)
        alice, _ = await device(server)
        await alice.send("JOIN #rust")
        await alice.read_until("366")
        bob = await LineClient.open(port_of(server))
        await bob.register("bob")
        await bob.send("JOIN #rust")
        await bob.read_until("366")
        await alice.send("QUIT :gone")
        assert (await bob.read_until("QUIT"))[-1].params == ("Quit: gone",)
        for client in (alice, bob):
            await client.close()
    settings = make_settings(tmp_path).replace(always_on=Choice.OFF)
    async with running_server(settings) as server:
        alice, _ = await device(server)
        await alice.send("NS SET ALWAYS-ON ON")
        assert (await alice.read_until("NOTICE"))[-1].params[
            -1
        ] == "ALWAYS-ON is off on this server."
        await alice.close()


async def test_the_servers_always_on_users_are_bounded(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, always_on_users=1).replace(always_on=Choice.OPT_OUT)
    async with running_server(settings) as server:
        await make_account(server)
        await make_account(server, "carol")
        bob = await LineClient.open(port_of(server))
        await bob.register("bob")
        await bob.send("MONITOR + alice,carol")
        await bob.read_until(n.RPL_MONOFFLINE)
        alice, _ = await device(server)
        carol, _ = await device(server, "carol", "carol")
        await leave(alice)
        await leave(carol)
        # Alice stays (the one allowed); carol, past the limit, is gone.
        offline = await bob.read_until(lambda m: m.command == n.RPL_MONOFFLINE)
        assert offline[-1].params[-1] == "carol"
        assert not [
            m for m in offline if m.command == n.RPL_MONOFFLINE and "alice" in m.params[-1]
        ]
        assert "alice" in {u.nick for u in server.hub.state.users}
        await bob.close()


async def test_a_dropped_account_ends_its_always_on_user(tmp_path: Path) -> None:
    settings = make_settings(tmp_path).replace(always_on=Choice.OPT_OUT)
    async with running_server(settings) as server:
        await make_account(server)
        alice, _ = await device(server)
        await alice.send("JOIN #rust")
        await alice.read_until("366")
        bob = await LineClient.open(port_of(server))
        await bob.send("CAP REQ :away-notify", "CAP END")
        await bob.register("bob")
        await bob.send("JOIN #rust")
        await bob.read_until("366")
        await leave(alice)
        await bob.read_until("AWAY")
        account = next(iter(server.hub.state.account_users))
        server.hub.drop_account(account, "alice")
        assert (await bob.read_until("QUIT"))[-1].params == ("Account dropped",)
        await bob.close()
    async with running_server(settings) as server:
        assert "alice" not in {u.nick for u in server.hub.state.users}


async def test_a_read_marker_moved_on_one_device_is_sent_to_the_others_once(
    tmp_path: Path,
) -> None:
    async with running_server(make_settings(tmp_path)) as server:
        await make_account(server)
        laptop, _ = await device(server, caps="draft/read-marker")
        phone, _ = await device(server, "alice@phone", caps="draft/read-marker")
        stamp = "timestamp=2026-03-04T05:06:07.890Z"
        await phone.send(f"MARKREAD #rust {stamp}")
        assert (await phone.read_until("MARKREAD"))[-1].params == ("#rust", stamp)
        assert (await laptop.read_until("MARKREAD"))[-1].params == ("#rust", stamp)
        # Marked again where it is: the phone is answered, the laptop told nothing.
        await phone.send(f"MARKREAD #rust {stamp}")
        await phone.read_until("MARKREAD")
        assert not [m for m in await laptop.sync() if m.command == "MARKREAD"]
        for client in (laptop, phone):
            await client.close()


async def test_a_kline_on_one_devices_address_closes_that_device_only(tmp_path: Path) -> None:
    settings = make_settings(tmp_path).replace(opers=(Oper("boss", "operpass"),))
    async with running_server(settings) as server:
        await make_account(server)
        laptop, _ = await device(server)
        phone, _ = await device(server, "alice@phone", source="127.0.0.2")
        await laptop.send("JOIN #rust")
        await laptop.read_until("366")
        boss = await LineClient.open(port_of(server))
        await boss.register("boss")
        await boss.send("OPER boss operpass", "JOIN #rust")
        await boss.read_until("366")
        await boss.send("KLINE 60 *@127.0.0.2 :not from there")
        told = await boss.read_until("NOTICE")
        assert told[-1].params[-1].endswith("1 user disconnected"), told[-1]
        closed = await phone.read_until("ERROR")
        assert n.ERR_YOUREBANNEDCREEP in [m.command for m in closed]
        # The user and its other device stay; nobody saw it quit.
        await boss.send("PRIVMSG #rust :still here?")
        assert said(await laptop.read_until("PRIVMSG")) == [("#rust", "still here?")]
        assert not [m for m in await boss.sync() if m.command == "QUIT"]
        for client in (laptop, phone, boss):
            await client.close()


async def test_an_account_has_one_always_on_user_whatever_nicks_it_connects_with(
    tmp_path: Path,
) -> None:
    settings = make_settings(tmp_path).replace(always_on=Choice.OPT_OUT)
    async with running_server(settings) as server:
        await make_account(server)
        bob = await LineClient.open(port_of(server))
        await bob.register("bob")
        await bob.send("MONITOR + alice,alice2")
        await bob.read_until(n.RPL_MONOFFLINE)
        first, _ = await device(server)
        await first.send("NS SET MULTICLIENT OFF")
        await first.read_until("NOTICE")
        second, _ = await device(server, "alice@two", "alice2")
        for client in (first, second):
            await leave(client)
        # The first stays (the account's always-on user); the second, another nick of
        # the same account, leaves (probe 24: each stayed, until the server was full).
        offline = await bob.read_until(n.RPL_MONOFFLINE)
        assert offline[-1].params[-1] == "alice2"
        assert {u.nick for u in server.hub.state.users} == {"alice", "bob"}
        await bob.close()


async def test_an_always_on_user_banned_while_no_server_ran_is_not_brought_back(
    tmp_path: Path,
) -> None:
    settings = make_settings(tmp_path).replace(always_on=Choice.OPT_OUT)
    async with running_server(settings) as server:
        await make_account(server)
        alice, _ = await device(server)
        await alice.send("JOIN #rust", "QUIT")
        await alice.closed()
        await alice.close()
    status, out = await hubbub_admin(tmp_path, "bans", "add", "$a:alice", "--reason", "spam")
    assert status == 0, out
    async with running_server(settings) as server:
        assert "alice" not in {u.nick for u in server.hub.state.users}


async def test_a_replay_gives_the_latest_lines_within_the_chathistory_limit(
    tmp_path: Path,
) -> None:
    settings = make_settings(tmp_path, chathistory=5, flood_rate=0.0).replace(
        always_on=Choice.OPT_OUT
    )
    async with running_server(settings) as server:
        await make_account(server)
        alice, _ = await device(server, "alice@laptop")
        await alice.send("JOIN #rust")
        await alice.read_until("366")
        bob = await LineClient.open(port_of(server))
        await bob.register("bob")
        await bob.send("JOIN #rust")
        await bob.read_until("366")
        await leave(alice)
        await bob.send(*(f"PRIVMSG #rust :line {k}" for k in range(12)))
        await bob.sync()
        again, lines = await device(server, "alice@laptop", caps="batch server-time")
        lines += await again.sync()
        # The newest five, oldest first: a page of CHATHISTORY, not the oldest missed.
        assert [m.params[-1] for m in lines if m.command == "PRIVMSG"] == [
            f"line {k}" for k in range(7, 12)
        ]
        for client in (again, bob):
            await client.close()


async def _troll_takes_victims_nick_and_leaves(server: Server) -> LineClient:
    """``troll``, always-on, in #c with bob, takes the nick of the account ``victim``
    and closes its only device; bob, who sees it all, is returned."""
    await make_account(server, "victim")
    await make_account(server, "troll")
    troll, _ = await device(server, "troll", "troll")
    await troll.send("NS SET ALWAYS-ON ON", "JOIN #c")
    await troll.read_until("366")
    bob = await LineClient.open(port_of(server))
    await bob.register("bob")
    await bob.send("JOIN #c")
    await bob.read_until("366")
    await troll.send("NICK victim")
    warned = await troll.read_until("NOTICE")
    assert "victim is a registered nick" in warned[-1].params[-1]
    await leave(troll)
    return bob


async def test_a_nick_taken_by_a_device_now_gone_is_taken_back_from_its_always_on_user(
    tmp_path: Path,
) -> None:
    """Probe 26: the take-back followed the device that sent NICK; with it gone, the
    always-on user kept another account's nick for good."""
    async with running_server(make_settings(tmp_path, nick_grace=0.5)) as server:
        bob = await _troll_takes_victims_nick_and_leaves(server)
        renamed = await bob.read_until(
            lambda m: m.command == "NICK" and str(m.source).startswith("victim!")
        )
        assert renamed[-1].params[0].startswith("Guest")
        victim, lines = await device(server, "victim", "victim")
        assert [m.params[0] for m in lines if m.command == n.RPL_WELCOME] == ["victim"]
        # A device of the troll attaches to its Guest, not to the victim's name.
        again, lines = await device(server, "troll", "troll")
        assert not [m for m in lines if m.command == n.ERR_NICKNAMEINUSE]
        assert [m.params[0] for m in lines if m.command == n.RPL_WELCOME] == [
            renamed[-1].params[0]
        ]
        for client in (bob, victim, again):
            await client.close()


async def test_a_device_attaching_to_a_user_on_another_accounts_nick_is_warned(
    tmp_path: Path,
) -> None:
    async with running_server(make_settings(tmp_path, nick_grace=30.0)) as server:
        bob = await _troll_takes_victims_nick_and_leaves(server)
        again, lines = await device(server, "troll@phone", "victim")
        lines += await again.sync()
        assert [m.params[0] for m in lines if m.command == n.RPL_WELCOME] == ["victim"]
        warned = [m.params[-1] for m in lines if m.command == "NOTICE"]
        assert any("victim is a registered nick" in text for text in warned), warned
        for client in (bob, again):
            await client.close()


async def test_an_always_on_user_is_not_restored_on_another_accounts_nick(
    tmp_path: Path,
) -> None:
    settings = make_settings(tmp_path, nick_grace=30.0)
    async with running_server(settings) as server:
        bob = await _troll_takes_victims_nick_and_leaves(server)
        await bob.close()
    async with running_server(settings) as server:
        bob = await LineClient.open(port_of(server))
        await bob.register("bob")
        await bob.send("NAMES #c")
        names = await bob.read_until(n.RPL_NAMREPLY)
        assert names[-1].params[-1].split() == ["@troll"]
        victim, lines = await device(server, "victim", "victim")
        assert [m.params[0] for m in lines if m.command == n.RPL_WELCOME] == ["victim"]
        for client in (bob, victim):
            await client.close()


async def test_an_invite_only_channel_comes_back_after_a_restart_with_its_operator(
    tmp_path: Path,
) -> None:
    settings = make_settings(tmp_path)
    async with running_server(settings) as server:
        for name in ("boss", "m1", "m2", "m3"):
            await make_account(server, name)
        boss, _ = await device(server, "boss", "boss")
        await boss.send("NS SET ALWAYS-ON ON", "JOIN #inner", "MODE #inner +ikl sekrit 10")
        await boss.read_until("MODE")
        # Its lists come back too (probe 27: a restart forgot them, and the limit).
        await boss.send("MODE #inner +bI *!*@192.0.2.66 *!*@198.51.100.7")
        await boss.read_until("MODE")
        for name in ("m1", "m2", "m3"):
            member, _ = await device(server, name, name)
            await boss.send(f"INVITE {name} #inner")
            await member.read_until("INVITE")
            await member.send("NS SET ALWAYS-ON ON", "JOIN #inner sekrit")
            await member.read_until("366")
            await leave(member)
        await leave(boss)
    async with running_server(settings) as server:
        stranger = await LineClient.open(port_of(server))
        await stranger.register("stranger")
        await stranger.send("JOIN #inner", "NAMES #inner")
        got = await stranger.read_until(n.RPL_ENDOFNAMES)
        assert [m.command for m in got if m.command == n.ERR_INVITEONLYCHAN]
        assert not [m for m in got if m.command == "JOIN"]
        boss, _ = await device(server, "boss", "boss")
        await boss.send("NAMES #inner", "MODE #inner")
        got = await boss.read_until(n.RPL_CHANNELMODEIS)
        names = [m.params[-1] for m in got if m.command == n.RPL_NAMREPLY]
        assert sorted(names[-1].split()) == ["@boss", "m1", "m2", "m3"]
        assert got[-1].params[2:] == ("+intkl", "sekrit", "10")
        await boss.send("MODE #inner b", "MODE #inner I")
        got = await boss.read_until(n.RPL_ENDOFINVEXLIST)
        assert [m.params[2] for m in got if m.command == n.RPL_BANLIST] == ["*!*@192.0.2.66"]
        assert [m.params[2] for m in got if m.command == n.RPL_INVEXLIST] == ["*!*@198.51.100.7"]
        for client in (stranger, boss):
            await client.close()


async def test_every_device_is_told_why_its_user_was_renamed(tmp_path: Path) -> None:
    """Probe 27: the devices that had not taken the nick saw the NICK, and no reason."""
    async with running_server(make_settings(tmp_path, nick_grace=0.5)) as server:
        await make_account(server, "victim")
        await make_account(server, "troll")
        laptop, _ = await device(server, "troll@laptop", "troll")
        phone, _ = await device(server, "troll@phone", "troll")
        await laptop.send("NICK victim")
        await laptop.read_until("NOTICE")
        renamed = await phone.read_until(
            lambda m: m.command == "NICK" and str(m.source).startswith("victim!")
        )
        assert renamed[-1].params[0].startswith("Guest")
        # Told with the rename, not at some later take-back of its own.
        told = [m.params[-1] for m in renamed + await phone.sync() if m.command == "NOTICE"]
        assert any("victim belongs to an account" in text for text in told), told
        for client in (laptop, phone):
            await client.close()


async def test_a_drop_while_no_server_ran_cleans_the_channels_kept_users_bring_back(
    tmp_path: Path,
) -> None:
    """Probe 29: the drop order was carried out before the always-on users came back,
    and their channels brought the dropped account's ``a:name`` entry back with them."""
    settings = make_settings(tmp_path)
    async with running_server(settings) as server:
        await make_account(server, "boss")
        await make_account(server, "gone")
        boss, _ = await device(server, "boss", "boss")
        await boss.send("NS SET ALWAYS-ON ON", "JOIN #inner", "MODE #inner +i")
        await boss.send("MODE #inner +I a:gone", "MODE #inner +I a:boss")
        await boss.read_until(lambda m: m.command == "MODE" and m.params[-1] == "a:boss")
        await leave(boss)
    assert (await hubbub_account(tmp_path, "drop", "gone"))[0] == 0
    async with running_server(settings) as server:
        boss, _ = await device(server, "boss", "boss")
        await boss.send("MODE #inner I")
        got = await boss.read_until(n.RPL_ENDOFINVEXLIST)
        assert [m.params[2] for m in got if m.command == n.RPL_INVEXLIST] == ["a:boss"]
        await boss.close()


async def test_an_always_on_user_brought_back_by_a_restart_keeps_its_markers_and_keys(
    tmp_path: Path,
) -> None:
    # Probe 33: it came back without them: a device attaching found no read marker (and
    # a MARKREAD with an earlier time moved the kept one back) and no metadata keys.
    settings = make_settings(tmp_path)
    caps = "draft/read-marker draft/metadata-3 batch"
    later, early = "2026-03-04T05:06:07.890Z", "2026-01-02T03:04:05.678Z"
    async with running_server(settings) as server:
        await make_account(server)
        alice, _ = await device(server, "alice@laptop", caps=caps)
        await alice.send("NS SET ALWAYS-ON ON", "JOIN #rust")
        await alice.read_until("366")
        await alice.send(f"MARKREAD #rust timestamp={later}", "METADATA * SET display-name :Ally")
        await alice.sync()
        await leave(alice)
    async with running_server(settings) as server:
        alice, lines = await device(server, "alice@laptop", caps=caps)
        lines += await alice.sync()
        assert [m.params for m in lines if m.command == "MARKREAD"] == [
            ("#rust", f"timestamp={later}")
        ]
        await alice.send("METADATA alice GET display-name")
        got = await alice.read_until(lambda m: m.command in ("761", "766"))
        assert (got[-1].command, got[-1].params[-1]) == ("761", "Ally")
        await alice.send(f"MARKREAD #rust timestamp={early}")
        assert (await alice.read_until("MARKREAD"))[-1].params == ("#rust", f"timestamp={later}")
        await alice.close()
