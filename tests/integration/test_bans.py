"""Server bans (issue 17): KLINE, DLINE, bans of accounts, as an operator meets them on
a real server with a real SQLite file: set at once, kept across a restart, ended on
time, refused to anyone but operators, and bad forms answered in words."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from hubbub.core.server_bans import BanKind, ServerBan, to_json
from hubbub.server import Server
from hubbub.settings import Oper, Settings
from hubbub.storage.backends import open_store
from hubbub.wire import numerics as n
from hubbub.wire.message import Message
from tests.helpers import Clock, LineClient, running_server
from tests.integration.conftest import make_settings, port_of
from tests.integration.test_security_accounts import ELSEWHERE, open_from

FAR = "127.0.1.5"  # outside 127.0.0.0/24, where the other clients are


def settings_for(tmp_path: Path) -> Settings:
    return make_settings(tmp_path).replace(opers=(Oper("boss", "operpass"),))


async def connect(server: Server, nick: str, source: str = "127.0.0.1") -> LineClient:
    """A registered client whose username is its nick (``~nick`` as shown), welcome read."""
    client = await open_from(server, source)
    await client.send(f"NICK {nick}", f"USER {nick} 0 * :Real name")
    await client.read_until(n.RPL_ENDOFMOTD)
    return client


async def oper(server: Server, nick: str = "boss") -> LineClient:
    client = await connect(server, nick)
    await client.send("OPER boss operpass")
    assert n.RPL_YOUREOPER in [m.command for m in await client.sync()]
    return client


async def notices(client: LineClient, line: str) -> list[str]:
    """The server notices ``line`` got (ban commands answer with notices)."""
    await client.send(line)
    return [m.params[-1] for m in await client.sync() if m.command == "NOTICE"]


async def refused(server: Server, nick: str, source: str = "127.0.0.1") -> list[Message]:
    """What a new client registering as ``nick`` gets, up to the server's close."""
    client = await open_from(server, source)
    try:
        await client.send(f"NICK {nick}", f"USER {nick} 0 * :Real")
        got = await client.read_until("ERROR")
        assert await client.closed()
        return got
    finally:
        await client.close()


async def test_a_kline_disconnects_whom_it_covers_at_once_and_refuses_them_after(
    tmp_path: Path,
) -> None:
    async with running_server(settings_for(tmp_path)) as server:
        boss = await oper(server)
        victim = await connect(server, "mallory")
        bystander = await connect(server, "alice")
        for client in (boss, victim, bystander):
            await client.send("JOIN #room")
            await client.sync()
        await bystander.sync()
        told = await notices(boss, "KLINE 60 ~mallory*@127.0.0.1 :spamming the lobby")
        assert any("K-line set: ~mallory*@127.0.0.1 (60 minutes left" in t for t in told)
        assert any("1 user disconnected" in t for t in told)
        got = await victim.read_until("ERROR")
        assert (got[-2].command, got[-2].params[-1]) == (
            n.ERR_YOUREBANNEDCREEP,
            "You are banned from this server: spamming the lobby",
        )
        assert await victim.closed()
        # The others see a quit that keeps the reason to the victim.
        quits = [m for m in await bystander.sync() if m.command == "QUIT"]
        assert [((m.source or "").split("!")[0], m.params) for m in quits] == [
            ("mallory", ("K-Lined",))
        ]
        again = await refused(server, "mallory2")
        assert [m.params[-1] for m in again if m.command == n.ERR_YOUREBANNEDCREEP] == [
            "You are banned from this server: spamming the lobby"
        ]
        assert server.hub.state.users.find("mallory2") is None
        # Another user of the same host is not covered.
        other = await connect(server, "carol")
        await other.send("PRIVMSG #room :still here")
        await other.sync()
        for client in (boss, victim, bystander, other):
            await client.close()


async def test_a_kline_that_covers_no_one_says_so_and_names_the_unidented_form(
    tmp_path: Path,
) -> None:
    async with running_server(settings_for(tmp_path)) as server:
        boss = await oper(server)
        mallory = await connect(server, "mallory")
        told = await notices(boss, "KLINE mallory@127.0.0.1 :forgot the tilde")
        assert any("0 users disconnected" in t for t in told)
        assert any(
            "Unidented users' names start with ~: *mallory@127.0.0.1 would cover some" in t
            for t in told
        )
        told = await notices(boss, "KLINE nobody@203.0.113.9 :absent")
        assert "*** It covers no one online now." in told
        # Warned, not refused: the ban is kept, and mallory is still here.
        await mallory.send("PING still")
        assert any(m.command == "PONG" for m in await mallory.sync())
        for client in (boss, mallory):
            await client.close()


async def test_a_kline_is_kept_across_a_restart_and_unkline_lifts_it(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    async with running_server(settings) as server:
        boss = await oper(server)
        await notices(boss, "KLINE *mallory@127.0.0.1 :kept")
        await boss.close()
    async with running_server(settings) as server:
        got = await refused(server, "mallory")
        assert n.ERR_YOUREBANNEDCREEP in [m.command for m in got]
        boss = await oper(server)
        await boss.send("STATS K")
        listed = await boss.sync()
        assert [(m.command, m.params[1:5]) for m in listed if m.command == n.RPL_STATSKLINE] == [
            (n.RPL_STATSKLINE, ("K", "127.0.0.1", "*", "*mallory"))
        ]
        assert "permanent" in listed[0].params[-1]
        assert listed[-1].command == n.RPL_ENDOFSTATS
        assert await notices(boss, "UNKLINE *MALLORY@127.0.0.1") == [
            "*** K-line on *mallory@127.0.0.1 lifted."
        ]
        assert await notices(boss, "UNKLINE *mallory@127.0.0.1") == [
            "*** There is no K-line on *mallory@127.0.0.1."
        ]
        back = await connect(server, "mallory")
        await back.close()
        await boss.close()
    async with running_server(settings) as server:
        back = await connect(server, "mallory")  # lifted for good
        await back.close()


async def test_a_timed_kline_ends_on_time(tmp_path: Path) -> None:
    clock = Clock()
    async with running_server(settings_for(tmp_path)) as server:
        server.bans.clock = clock
        boss = await oper(server)
        await notices(boss, "KLINE 5 *mallory@127.0.0.1 :five minutes")
        clock.now += 299
        assert n.ERR_YOUREBANNEDCREEP in [m.command for m in await refused(server, "mallory")]
        clock.now += 1
        back = await connect(server, "mallory")
        await boss.send("STATS K")
        assert n.RPL_STATSKLINE not in [m.command for m in await boss.sync()]
        # The store forgets it at the next look.
        await server.ban_keeper.refresh()
        store = await open_store(tmp_path, None, 5.0)
        try:
            assert await store.load_bans() == []
        finally:
            await store.close()
        await back.close()
        await boss.close()


async def test_a_dline_refuses_an_address_at_the_door_and_disconnects_it(
    tmp_path: Path,
) -> None:
    async with running_server(settings_for(tmp_path)) as server:
        boss = await oper(server)
        there = await connect(server, "faraway", FAR)
        told = await notices(boss, "DLINE 10 127.0.1.9/24 :that network")
        assert any("D-line set: 127.0.1.0/24" in t for t in told)
        got = await there.read_until("ERROR")
        assert n.ERR_YOUREBANNEDCREEP in [m.command for m in got]
        assert await there.closed()
        door = await open_from(server, FAR)
        line = await door.read()
        assert line is not None
        assert (line.command, line.params) == (
            "ERROR",
            ("You are banned from this server: that network",),
        )
        assert await door.closed()
        await door.close()
        near = await connect(server, "nearby", ELSEWHERE)  # not in it
        assert await notices(boss, "UNDLINE 127.0.1.0/24") == [
            "*** D-line on 127.0.1.0/24 lifted."
        ]
        back = await connect(server, "faraway", FAR)
        for client in (boss, there, near, back):
            await client.close()


@pytest.mark.parametrize(
    "line",
    [
        "KLINE *@127.0.0.1 :x",
        "UNKLINE *@127.0.0.1",
        "DLINE 127.0.0.2 :x",
        "UNDLINE 127.0.0.2",
    ],
)
async def test_only_operators_may_ban(tmp_path: Path, line: str) -> None:
    async with running_server(settings_for(tmp_path)) as server:
        user = await connect(server, "user")
        await user.send(line)
        assert [m.command for m in await user.sync()] == [n.ERR_NOPRIVILEGES]
        await user.send("STATS K")
        assert [m.command for m in await user.sync()] == [n.ERR_NOPRIVILEGES]
        assert len(server.bans) == 0
        await user.close()


@pytest.mark.parametrize(
    ("line", "said"),
    [
        ("KLINE *@* :everyone", "too broad"),
        ("KLINE *@*.* :everyone", "too broad"),
        ("KLINE nobody :x", "no user 'nobody' is online"),
        ("KLINE 0 *@203.0.113.7 :x", "1 to 5256000 minutes"),
        ("KLINE 99999999999 *@203.0.113.7 :x", "1 to 5256000 minutes"),
        ("KLINE *@*.example.org :names", "no host names are looked up"),
        ("KLINE *@localhost :names", "no host names are looked up"),
        ("KLINE *@203.0.113.999 :x", "is not an address"),
        ("DLINE 0::ffff:0.0.0.0/96 :every IPv4 client", "too wide: /16"),
        ("KLINE 10", "no user '10' is online"),
        ("KLINE a@b@c.example.org :x", "user@host"),
        ("KLINE *!*@203.0.113.7 :x", "user@host"),
        ("KLINE a\x1b[2Jb@203.0.113.7 :x", "user@host"),
        ("KLINE *@10.0.0.0/8 :x", "too wide"),
        ("KLINE *@" + "a" * 300 + " :x", "longer than 200"),
        ("KLINE $a:nobody :x", "no account 'nobody'"),
        ("DLINE 10.0.0.0/8 :x", "too wide: /16"),
        ("DLINE 2001:db8::/32 :x", "too wide: /48"),
        ("DLINE not-an-address :x", "not an address"),
        ("UNDLINE 999.1.1.1", "not an address"),
        ("UNKLINE $a:nobody", "no account ban"),
        ("DLINE 127.0.0.0/24 :oops", "would cover you"),
        ("KLINE *boss@127.0.0.* :oops", "would cover you"),
    ],
)
async def test_bad_bans_are_answered_in_words_and_change_nothing(
    tmp_path: Path, line: str, said: str
) -> None:
    async with running_server(settings_for(tmp_path)) as server:
        boss = await oper(server)
        other = await connect(server, "other")
        told = await notices(boss, line)
        assert len(told) == 1
        assert said in told[0]
        assert len(server.bans) == 0
        await other.send("PING still")
        assert [m.command for m in await other.sync()] == ["PONG"]
        await boss.close()
        await other.close()


async def test_an_account_ban_logs_nobody_in_and_disconnects_who_is(tmp_path: Path) -> None:
    async with running_server(settings_for(tmp_path)) as server:
        accounts = server.irc.accounts
        assert accounts is not None
        await accounts.register("Shady", "long-enough-password")
        boss = await oper(server)
        shady = await connect(server, "shady")
        await shady.send("PRIVMSG NickServ :IDENTIFY Shady long-enough-password")
        assert n.RPL_LOGGEDIN in [m.command for m in await shady.sync()]
        told = await notices(boss, "KLINE 30 $a:shady :sock puppets")
        assert any("Account ban set: Shady" in t and "1 user disconnected" in t for t in told)
        got = await shady.read_until("ERROR")
        assert "sock puppets" in got[-2].params[-1]
        # A login to it, from anywhere, ends the connection that tried.
        again = await connect(server, "again", ELSEWHERE)
        await again.send("PRIVMSG NickServ :IDENTIFY Shady long-enough-password")
        got = await again.read_until("ERROR")
        assert [m.command for m in got if m.command.isdigit()] == [n.ERR_YOUREBANNEDCREEP]
        assert await again.closed()
        # A name is not the account: another account may log in.
        await accounts.register("Honest", "long-enough-password")
        honest = await connect(server, "honest")
        await honest.send("PRIVMSG NickServ :IDENTIFY Honest long-enough-password")
        assert n.RPL_LOGGEDIN in [m.command for m in await honest.sync()]
        assert await notices(boss, "UNKLINE $a:SHADY") == ["*** Account ban on Shady lifted."]
        for client in (boss, shady, again, honest):
            await client.close()


async def test_a_plain_door_user_a_kline_covers_is_refused(tmp_path: Path) -> None:
    async with running_server(settings_for(tmp_path)) as server:
        boss = await oper(server)
        await notices(boss, "KLINE ~lurker@127.0.0.1 :no")
        host, port = server.plain_addresses[0]
        reader, writer = await asyncio.open_connection(host, port)
        try:
            writer.write(b"lurker\n")
            async with asyncio.timeout(5):
                said = await reader.read()  # to the close
            assert b"You are banned from this server: no" in said
            assert server.hub.state.users.find("lurker") is None
        finally:
            writer.close()
        await boss.close()


async def test_a_ban_stored_from_the_shell_is_enforced_by_the_running_server(
    tmp_path: Path,
) -> None:
    async with running_server(settings_for(tmp_path)) as server:
        victim = await connect(server, "mallory")
        store = await open_store(tmp_path, None, 5.0)
        try:
            ban = ServerBan(
                BanKind.MASK,
                "~mallory@127.0.0.1",
                "~mallory@127.0.0.1",
                "from the shell",
                "hubbub admin",
                server.bans.clock(),
            )
            await store.save_ban(ban.kind.value, ban.mask, ban.set_at, to_json(ban))
        finally:
            await store.close()
        got = await victim.read_until("ERROR", seconds=15)
        assert "from the shell" in got[-2].params[-1]
        assert port_of(server)
        await victim.close()


async def test_a_kline_lifted_from_the_shell_at_once_is_lifted_here(tmp_path: Path) -> None:
    async with running_server(settings_for(tmp_path)) as server:
        boss = await oper(server)
        told = await notices(boss, "KLINE ~ghost0@203.0.113.* :set then lifted")
        assert any("K-line set" in t for t in told)
        store = await open_store(tmp_path, None, 5.0)
        try:
            # As `hubbub admin bans remove` does, before the server's next look.
            assert await store.delete_ban("K", "~ghost0@203.0.113.*")
        finally:
            await store.close()
        await server.ban_keeper.refresh()
        assert len(server.bans) == 0
        assert server.bans.user_ban("~ghost0", "203.0.113.5", None) is None
        await boss.close()


async def test_unkline_of_a_ban_this_server_has_not_read_yet_lifts_it(tmp_path: Path) -> None:
    async with running_server(settings_for(tmp_path)) as server:
        boss = await oper(server)
        store = await open_store(tmp_path, None, 5.0)
        try:
            ban = ServerBan(BanKind.MASK, "*@203.0.113.8", "*@203.0.113.8", "r", "shell", 1.0)
            await store.save_ban(ban.kind.value, ban.mask, ban.set_at, to_json(ban))
        finally:
            await store.close()
        # Set elsewhere (the shell, another node) since this server last looked.
        told = await notices(boss, "UNKLINE *@203.0.113.8")
        assert told == ["*** K-line on *@203.0.113.8 lifted."]
        await server.ban_keeper.refresh()
        assert len(server.bans) == 0
        await boss.close()


async def test_a_ban_renewed_from_the_shell_as_it_ends_outlives_the_old_ones_clean_up(
    tmp_path: Path,
) -> None:
    clock = Clock()
    async with running_server(settings_for(tmp_path)) as server:
        server.bans.clock = clock
        boss = await oper(server)
        await notices(boss, "KLINE 1 ~renewed@127.0.0.1 :short")
        clock.now += 61
        # `hubbub admin bans add` sets it again before the server's next look.
        renewed = ServerBan(
            BanKind.MASK,
            "~renewed@127.0.0.1",
            "~renewed@127.0.0.1",
            "renewed",
            "hubbub admin",
            clock.now,
            clock.now + 3600,
        )
        store = await open_store(tmp_path, None, 5.0)
        try:
            await store.save_ban("K", renewed.mask, renewed.set_at, to_json(renewed))
            await server.ban_keeper.refresh()
            assert await store.load_bans() == [to_json(renewed)]
        finally:
            await store.close()
        assert server.bans.get(BanKind.MASK, renewed.mask) == renewed
        assert n.ERR_YOUREBANNEDCREEP in [m.command for m in await refused(server, "renewed")]
        await boss.close()
