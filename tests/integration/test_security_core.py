"""Issue 20's authorization holes in the chat's rules, each tried through a real socket as
an ordinary user would, and refused: registered channels that are empty, history that
outlives its channel, rights left to a dropped account's name or to a nick, and INVITE
relaying text that is not a channel name."""

from __future__ import annotations

import base64
import json
import logging
import os
import sqlite3
import stat
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from hubbub.server import Server
from hubbub.settings import Oper
from hubbub.storage.backends import SQLITE_FILE
from hubbub.wire import numerics as n
from hubbub.wire.message import Message
from tests.helpers import LineClient, running_server
from tests.integration.conftest import Clients, make_settings
from tests.integration.test_account_admin import hubbub_account

CAPS = (
    "batch",
    "draft/chathistory",
    "draft/channel-rename",
    "draft/message-redaction",
    "echo-message",
    "message-tags",
    "server-time",
)
PASSWORD = "correct-horse-battery"


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    async with running_server(make_settings(tmp_path, flood_rate=0.0)) as server:
        yield server


@pytest.fixture
async def clients() -> AsyncIterator[Clients]:
    opened = Clients()
    try:
        yield opened
    finally:
        await opened.close_all()


async def connect(
    clients: Clients, server: Server, nick: str, *channels: str, caps: Sequence[str] = CAPS
) -> LineClient:
    client = await clients.open(server)
    await client.send("CAP LS 302", f"CAP REQ :{' '.join(caps)}", "CAP END")
    await client.register(nick)
    for channel in channels:
        await client.send(f"JOIN {channel}")
        await client.read_until(n.RPL_ENDOFNAMES)
    await client.sync()
    return client


async def register_account(client: LineClient, password: str = PASSWORD) -> None:
    await client.send(f"NS REGISTER {password}")
    await client.read_until(n.RPL_LOGGEDIN)
    await client.sync()


async def register_channel(client: LineClient, channel: str) -> None:
    await client.send(f"CS REGISTER {channel}")
    await client.read_until(lambda m: m.command == "NOTICE" and "registered to" in m.params[-1])


async def answer(client: LineClient, *lines: str) -> list[Message]:
    """What the server answered to ``lines`` (earlier output set aside first)."""
    await client.sync()
    await client.send(*lines)
    return await client.sync()


def texts(lines: list[Message], command: str = "PRIVMSG") -> list[str]:
    return [m.params[-1] for m in lines if m.command == command]


def numerics(lines: list[Message]) -> list[str]:
    return [m.command for m in lines if m.command.isdigit()]


def everything(lines: list[Message]) -> str:
    return "\n".join(" ".join(m.params) for m in lines)


async def said(client: LineClient, target: str, text: str) -> str:
    """Say ``text``; its msgid, from the echo."""
    lines = await answer(client, f"PRIVMSG {target} :{text}")
    (echo,) = [m for m in lines if m.command == "PRIVMSG" and m.params[-1] == text]
    return echo.tags["msgid"]


# -- 1. an empty registered channel keeps its rules -----------------------------------


async def test_an_empty_registered_channel_keeps_its_key_and_invite_only(
    server: Server, clients: Clients
) -> None:
    alice = await connect(clients, server, "alice", "#official")
    await register_account(alice)
    await register_channel(alice, "#official")
    await answer(alice, "MODE #official +sik offkey")
    await said(alice, "#official", "the secret plan")
    await answer(alice, "PART #official")

    mallory = await connect(clients, server, "mallory")
    assert n.ERR_INVITEONLYCHAN in numerics(await answer(mallory, "JOIN #official"))
    assert n.ERR_INVITEONLYCHAN in numerics(await answer(mallory, "JOIN #official offkey"))
    probe = await answer(
        mallory, "MODE #official", "CHATHISTORY LATEST #official * 10", "NAMES #official"
    )
    assert "offkey" not in everything(probe)
    assert "the secret plan" not in everything(probe)
    assert any(m.command == "FAIL" for m in probe)

    # Its founder comes back in past its modes, with op and its history.
    back = await answer(alice, "JOIN #official")
    assert n.RPL_ENDOFNAMES in numerics(back)
    assert any(m.command == "MODE" and m.params[1:] == ("+o", "alice") for m in back)
    history = await answer(alice, "CHATHISTORY LATEST #official * 10")
    assert texts(history) == ["the secret plan"]

    # With the key alone, the key is asked for.
    await answer(alice, "MODE #official -i", "PART #official")
    assert n.ERR_BADCHANNELKEY in numerics(await answer(mallory, "JOIN #official"))
    assert n.ERR_BADCHANNELKEY in numerics(await answer(mallory, "JOIN #official wrong"))
    assert n.RPL_ENDOFNAMES in numerics(await answer(mallory, "JOIN #official offkey"))


async def test_an_empty_registered_channel_keeps_its_bans(
    server: Server, clients: Clients
) -> None:
    alice = await connect(clients, server, "alice", "#official")
    await register_account(alice)
    await register_channel(alice, "#official")
    await answer(alice, "MODE #official +b mallory!*@*", "PART #official")
    mallory = await connect(clients, server, "mallory")
    assert n.ERR_BANNEDFROMCHAN in numerics(await answer(mallory, "JOIN #official"))


# -- 2. RENAME onto a registered channel ------------------------------------------------


async def test_rename_onto_an_empty_registered_channel_is_refused(
    server: Server, clients: Clients
) -> None:
    alice = await connect(clients, server, "alice", "#official")
    await register_account(alice)
    await register_channel(alice, "#official")
    await answer(alice, "TOPIC #official :the founder's topic", "MODE #official +si")
    await said(alice, "#official", "old line")
    await answer(alice, "PART #official")

    mallory = await connect(clients, server, "mallory", "#mine2")
    refused = await answer(mallory, "RENAME #mine2 #official :mine now")
    assert [m.params[:2] for m in refused if m.command == "FAIL"] == [
        ("RENAME", "CHANNEL_NAME_IN_USE")
    ]
    # The channel is not there to change: nothing reaches its registration.
    assert numerics(
        await answer(mallory, "TOPIC #official :hijacked", "MODE #official +b alice!*@*")
    ) == [n.ERR_NOSUCHCHANNEL, n.ERR_NOSUCHCHANNEL]

    back = await answer(alice, "JOIN #official", "MODE #official")
    assert any(m.command == n.RPL_TOPIC and m.params[-1] == "the founder's topic" for m in back)
    (modes,) = [m for m in back if m.command == n.RPL_CHANNELMODEIS]
    assert {"s", "i"} <= set(modes.params[2])


async def test_only_the_founder_renames_a_registered_channel_and_its_registration_follows(
    server: Server, clients: Clients
) -> None:
    alice = await connect(clients, server, "alice", "#official")
    await register_account(alice)
    await register_channel(alice, "#official")
    bob = await connect(clients, server, "bob")
    await register_account(bob)
    await answer(alice, "CS ACCESS #official ADD bob op")
    await answer(bob, "JOIN #official")

    refused = await answer(bob, "RENAME #official #bobs")
    assert [m.params[:2] for m in refused if m.command == "FAIL"] == [("RENAME", "CANNOT_RENAME")]

    await said(alice, "#official", "before the rename")
    await answer(alice, "MODE #official +k key")
    await said(alice, "#official", "closed, before the rename")
    renamed = await answer(alice, "RENAME #official #official2")
    assert any(m.command == "RENAME" for m in renamed)
    info = texts(await answer(alice, "CS INFO #official2", "CS INFO #official"), "NOTICE")
    assert info[0].startswith("#official2: founder alice")
    assert info[1] == "#official is not registered."
    history = await answer(alice, "CHATHISTORY LATEST #official2 * 10")
    assert "closed, before the rename" in texts(history)


# -- 3. history belongs to the channel's incarnation ------------------------------------


async def test_a_new_channel_of_the_same_name_does_not_read_a_closed_ones_history(
    server: Server, clients: Clients
) -> None:
    alice = await connect(clients, server, "alice", "#priv", "#pub")
    await said(alice, "#priv", "said while open")
    await answer(alice, "MODE #priv +sk sesame")
    await said(alice, "#priv", "secret")
    await said(alice, "#pub", "hello all")
    await answer(alice, "PART #priv", "PART #pub")

    stranger = await connect(clients, server, "stranger", "#priv", "#pub")
    history = await answer(stranger, "CHATHISTORY LATEST #priv * 10")
    assert "secret" not in everything(history)
    # Said while anyone could walk in: whoever walks in later reads it too.
    assert texts(history) == ["said while open"]
    assert texts(await answer(stranger, "CHATHISTORY LATEST #pub * 10")) == ["hello all"]
    targets = await answer(
        stranger,
        "CHATHISTORY TARGETS timestamp=2020-01-01T00:00:00.000Z "
        "timestamp=2262-01-01T00:00:00.000Z 10",
    )
    assert "secret" not in everything(targets)


async def test_a_closed_channel_keeps_its_history_while_it_lives(
    server: Server, clients: Clients
) -> None:
    alice = await connect(clients, server, "alice", "#priv")
    bob = await connect(clients, server, "bob", "#priv")
    await answer(alice, "MODE #priv +i")
    await said(alice, "#priv", "members only")
    await answer(alice, "PART #priv")
    # Bob stayed: the channel lives on, and its members read what it said.
    assert texts(await answer(bob, "CHATHISTORY LATEST #priv * 10")) == ["members only"]


async def test_history_of_a_closed_channel_does_not_come_back_after_a_restart(
    tmp_path: Path,
) -> None:
    settings = make_settings(tmp_path, flood_rate=0.0)
    async with running_server(settings) as server:
        first = Clients()
        try:
            alice = await connect(first, server, "alice", "#priv")
            await answer(alice, "MODE #priv +k sesame")
            await said(alice, "#priv", "secret")
        finally:
            await first.close_all()
    async with running_server(settings) as server:
        second = Clients()
        try:
            stranger = await connect(second, server, "stranger", "#priv")
            history = await answer(stranger, "CHATHISTORY LATEST #priv * 10")
            assert "secret" not in everything(history)
        finally:
            await second.close_all()


# -- 4. a dropped account's name, registered again, inherits nothing ----------------------


async def test_a_name_registered_again_after_a_drop_inherits_nothing(
    server: Server, clients: Clients
) -> None:
    bob = await connect(clients, server, "bob")
    carol = await connect(clients, server, "carol", "#carols")
    await register_account(carol)
    await register_channel(carol, "#carols")
    await said(carol, "bob", "carol's secret")
    await said(bob, "carol", "bob's answer")
    dropped = texts(await answer(carol, f"NS DROP {PASSWORD}"), "NOTICE")
    assert dropped == ["Account carol dropped."]
    await carol.send("QUIT")
    assert await carol.closed()

    mallory = await connect(clients, server, "carol")
    await register_account(mallory, "another-long-password")
    history = await answer(mallory, "CHATHISTORY LATEST bob * 10")
    assert "carol's secret" not in everything(history)
    assert "bob's answer" not in everything(history)
    replies = texts(
        await answer(mallory, "CS INFO #carols", "CS ACCESS #carols ADD carol op"), "NOTICE"
    )
    assert replies[0] == "#carols is not registered."
    assert "not registered" in replies[1] or "no such channel" in replies[1]
    # Bob's side of the conversation is his own, and stays.
    assert "carol's secret" in texts(await answer(bob, "CHATHISTORY LATEST carol * 10"))


async def test_access_given_to_a_dropped_account_does_not_pass_to_its_name(
    server: Server, clients: Clients
) -> None:
    alice = await connect(clients, server, "alice", "#official")
    await register_account(alice)
    await register_channel(alice, "#official")
    dave = await connect(clients, server, "dave")
    await register_account(dave)
    await answer(alice, "CS ACCESS #official ADD dave op")
    await answer(dave, f"NS DROP {PASSWORD}")
    await dave.send("QUIT")
    assert await dave.closed()
    listed = texts(await answer(alice, "CS ACCESS #official LIST"), "NOTICE")
    assert listed == ["#official: founder alice"]

    mallory = await connect(clients, server, "dave")
    await register_account(mallory, "another-long-password")
    joined = await answer(mallory, "JOIN #official")
    assert not any(m.command == "MODE" and "+o" in m.params for m in joined)


# -- 6. rights follow the person, not the nick ---------------------------------------------


async def test_whoever_takes_a_nick_later_cannot_redact_its_messages(
    server: Server, clients: Clients
) -> None:
    owner = await connect(clients, server, "owner", "#c")
    alice = await connect(clients, server, "alice", "#c")
    in_channel = await said(alice, "#c", "alice's words")
    in_private = await said(alice, "owner", "a private word")
    await alice.send("QUIT")
    assert await alice.closed()

    mallory = await connect(clients, server, "alice", "#c")
    refused = await answer(
        mallory, f"REDACT #c {in_channel} :gone", f"REDACT owner {in_private} :gone"
    )
    fails = [m.params[:2] for m in refused if m.command == "FAIL"]
    assert fails == [("REDACT", "REDACT_FORBIDDEN"), ("REDACT", "UNKNOWN_MSGID")]
    assert not [m for m in await owner.sync() if m.command == "REDACT"]


async def test_the_same_account_redacts_its_messages_from_a_new_connection(
    server: Server, clients: Clients
) -> None:
    first = await connect(clients, server, "alice", "#c")
    await register_account(first)
    msgid = await said(first, "#c", "oops")
    witness = await connect(clients, server, "witness", "#c")
    await first.send("QUIT")
    assert await first.closed()

    again = await connect(clients, server, "alice2")
    await answer(again, f"NS IDENTIFY alice {PASSWORD}", "JOIN #c")
    redacted = await answer(again, f"REDACT #c {msgid} :typo")
    assert not [m for m in redacted if m.command == "FAIL"]
    assert [m.params[1] for m in await witness.read_until("REDACT") if m.command == "REDACT"] == [
        msgid
    ]


async def test_an_invite_is_for_the_user_invited_not_the_next_holder_of_the_nick(
    server: Server, clients: Clients
) -> None:
    alice = await connect(clients, server, "alice", "#club")
    await answer(alice, "MODE #club +ilb 2 dave!*@*")
    dave = await connect(clients, server, "dave")
    await answer(alice, "INVITE dave #club")
    await dave.read_until("INVITE")
    await dave.send("QUIT")
    assert await dave.closed()

    mallory = await connect(clients, server, "dave")
    assert n.ERR_INVITEONLYCHAN in numerics(await answer(mallory, "JOIN #club"))

    # An invite follows its user through a nick change.
    erin = await connect(clients, server, "erin")
    await answer(alice, "INVITE erin #club")
    await answer(erin, "NICK erin2")
    assert n.RPL_ENDOFNAMES in numerics(await answer(erin, "JOIN #club"))


# -- 8. INVITE relays only a channel name ------------------------------------------------


async def test_invite_to_no_channel_relays_only_a_valid_channel_name(
    server: Server, clients: Clients
) -> None:
    alice = await connect(clients, server, "alice")
    bob = await connect(clients, server, "bob")
    forged = await answer(
        alice,
        "INVITE bob :#nochan :you have been granted op by NickServ",
        "INVITE bob #\x1b]0;PWNED\x07\x1b[2Jx",
    )
    assert numerics(forged) == [n.ERR_BADCHANMASK, n.ERR_BADCHANMASK]
    assert not [m for m in await bob.sync() if m.command == "INVITE"]
    # A channel that does not exist yet, by a valid name, is still relayed.
    await answer(alice, "INVITE bob #nochan")
    (invite,) = [m for m in await bob.read_until("INVITE") if m.command == "INVITE"]
    assert invite.params == ("bob", "#nochan")


# -- 13. the data folder and database are the owner's alone -----------------------------------


async def test_the_data_folder_and_database_files_are_for_their_owner_alone(
    tmp_path: Path, clients: Clients
) -> None:
    data = tmp_path / "new" / "data"
    async with running_server(make_settings(data)) as server:
        alice = await connect(clients, server, "alice", "#c")
        await said(alice, "#c", "kept")
        await answer(alice, "CHATHISTORY LATEST #c 1")
        files = [data / SQLITE_FILE, data / f"{SQLITE_FILE}-wal", data / f"{SQLITE_FILE}-shm"]
        assert stat.S_IMODE(data.stat().st_mode) == 0o700
        assert [stat.S_IMODE(path.stat().st_mode) for path in files] == [0o600] * 3
        await clients.close_all()


async def test_the_data_folder_and_database_are_private_even_with_an_open_umask(
    tmp_path: Path,
) -> None:
    data = tmp_path / "open" / "data"
    previous = os.umask(0)
    try:
        async with running_server(make_settings(data)):
            pass
    finally:
        os.umask(previous)
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert stat.S_IMODE((data / SQLITE_FILE).stat().st_mode) == 0o600


async def test_a_data_folder_open_to_others_is_warned_about_at_start(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    data.chmod(0o755)
    with caplog.at_level(logging.WARNING):
        async with running_server(make_settings(data)):
            pass
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert [w for w in warnings if str(data) in w and "chmod 700" in w] == [
        f"{data} is open to other users (mode drwxr-xr-x); it holds password hashes and "
        f"private messages: chmod 700 {data}"
    ]


async def test_a_connection_left_logged_in_to_an_account_dropped_from_the_shell_owns_nothing(
    tmp_path: Path, clients: Clients
) -> None:
    async with running_server(make_settings(tmp_path, flood_rate=0.0)) as server:
        old = await connect(clients, server, "carol", "#carols")
        await register_account(old)
        await register_channel(old, "#carols")
        await answer(old, "PART #carols")
        # The shell drops carol and makes her again, for someone else, while the old
        # connection stays logged in (it is not told).
        status, _ = await hubbub_account(tmp_path, "drop", "carol")
        assert status == 0
        status, _ = await hubbub_account(tmp_path, "create", "carol", password=PASSWORD)
        assert status == 0

        replies = texts(
            await answer(
                old,
                "NS PASSWORD stolen-password-1",
                "NS CERT LIST",
                "CS ACCESS #carols ADD carol op",
            ),
            "NOTICE",
        )
        assert replies[:2] == ["Log in first.", "Log in first."]
        # Noticed as gone: logged out, and the channel it founded no longer registered.
        assert replies[2] == "Cannot do that on #carols: no such channel."

        new = await connect(clients, server, "newcarol")
        await answer(new, f"NS IDENTIFY carol {PASSWORD}")
        joined = await answer(new, "JOIN #carols")
        assert not any(m.command == "MODE" and "+o" in m.params for m in joined)
        refused = texts(await answer(new, "CS ACCESS #carols ADD carol op"), "NOTICE")
        assert refused == ["Cannot do that on #carols: no such channel."]


async def test_a_connection_left_logged_in_to_a_dropped_account_cannot_ghost_its_new_owner(
    tmp_path: Path, clients: Clients
) -> None:
    async with running_server(make_settings(tmp_path, flood_rate=0.0)) as server:
        old = await connect(clients, server, "sam")
        await register_account(old)
        await answer(old, "NICK oldsam")
        status, _ = await hubbub_account(tmp_path, "drop", "sam")
        assert status == 0
        status, _ = await hubbub_account(tmp_path, "create", "sam", password=PASSWORD)
        assert status == 0
        new = await connect(clients, server, "sam")
        await answer(new, f"NS IDENTIFY sam {PASSWORD}")
        refused = texts(await answer(old, "NS GHOST sam"), "NOTICE")
        assert refused == ["sam does not belong to your account."]
        assert "still here" in texts(await answer(new, "PRIVMSG sam :still here"))


# -- 9. a secret channel's refusals read as a missing channel's --------------------------


async def test_refusals_to_outsiders_do_not_tell_that_a_secret_channel_exists(
    server: Server, clients: Clients
) -> None:
    alice = await connect(clients, server, "alice", "#hidden")
    await answer(alice, "MODE #hidden +s")
    msgid = await said(alice, "#hidden", "inside")
    mallory = await connect(clients, server, "mallory")
    probes = (
        "PRIVMSG {} :hello",
        "INVITE alice {}",
        "REDACT {} " + msgid,
        "RENAME {} #mine",
    )
    for probe in probes:
        hidden = await answer(mallory, probe.format("#hidden"))
        missing = await answer(mallory, probe.format("#nowhere"))
        assert [(m.command, m.params[1:]) for m in hidden] == [
            (m.command, tuple(p.replace("#nowhere", "#hidden") for p in m.params[1:]))
            for m in missing
        ], probe
    # Alice is invited to "#hidden" as to "#nowhere", a channel that does not exist: it
    # gets nobody in.
    assert [m.params[1] for m in await alice.sync() if m.command == "INVITE"] == [
        "#hidden",
        "#nowhere",
    ]
    assert n.ERR_INVITEONLYCHAN not in numerics(await answer(mallory, "JOIN #hidden"))


# -- found by the second probe ------------------------------------------------------------


async def test_a_members_invite_does_not_undo_the_operators_ban_or_limit(
    server: Server, clients: Clients
) -> None:
    op = await connect(clients, server, "op", "#ban")
    friend = await connect(clients, server, "friend", "#ban")
    await answer(op, "MODE #ban +bl banned!*@* 3")
    banned = await connect(clients, server, "banned")
    assert n.ERR_BANNEDFROMCHAN in numerics(await answer(banned, "JOIN #ban"))
    # The invite is still passed on (the channel is not +i), but lets nobody in.
    assert n.RPL_INVITING in numerics(await answer(friend, "INVITE banned #ban"))
    await banned.read_until("INVITE")
    assert n.ERR_BANNEDFROMCHAN in numerics(await answer(banned, "JOIN #ban"))
    # An operator's does.
    await answer(op, "INVITE banned #ban")
    assert n.RPL_ENDOFNAMES in numerics(await answer(banned, "JOIN #ban"))


async def test_the_operator_of_a_later_channel_of_the_same_name_cannot_redact_the_earlier(
    server: Server, clients: Clients
) -> None:
    victim = await connect(clients, server, "victim", "#pub", "#r1")
    earlier = await said(victim, "#pub", "an important statement")
    renamed = await said(victim, "#r1", "said before a rename")
    await answer(victim, "PART #pub", "RENAME #r1 #r2")
    mallory = await connect(clients, server, "mallory", "#pub", "#r1")
    refused = await answer(mallory, f"REDACT #pub {earlier} :gone", f"REDACT #r1 {renamed} :gone")
    assert [m.params[:2] for m in refused if m.command == "FAIL"] == [
        ("REDACT", "UNKNOWN_MSGID"),
        ("REDACT", "UNKNOWN_MSGID"),
    ]
    # Still in the history of the open channel, which anyone may read.
    assert "an important statement" in texts(await answer(mallory, "CHATHISTORY LATEST #pub * 5"))


async def test_a_channel_key_with_terminal_escapes_is_refused(
    server: Server, clients: Clients
) -> None:
    alice = await connect(clients, server, "alice", "#kk")
    bob = await connect(clients, server, "bob", "#kk")
    refused = await answer(alice, "MODE #kk +k :\x1b[31m", "MODE #kk +k a\u202eb")
    assert numerics(refused) == [n.ERR_INVALIDMODEPARAM, n.ERR_INVALIDMODEPARAM]
    assert not [m for m in await bob.sync() if m.command == "MODE"]


async def test_chanserv_does_not_tell_outsiders_of_a_secret_registered_channel(
    server: Server, clients: Clients
) -> None:
    alice = await connect(clients, server, "alice", "#hidden9")
    await register_account(alice)
    await register_channel(alice, "#hidden9")
    await answer(alice, "MODE #hidden9 +s")
    mallory = await connect(clients, server, "mallory")
    replies = texts(await answer(mallory, "CS INFO #hidden9", "CS ACCESS #hidden9 LIST"), "NOTICE")
    assert replies == ["#hidden9 is not registered.", "#hidden9 is not registered."]
    # Its founder, away from it, still sees it.
    await answer(alice, "PART #hidden9")
    assert texts(await answer(alice, "CS INFO #hidden9"), "NOTICE")[0].startswith(
        "#hidden9: founder alice"
    )


# -- third probe ------------------------------------------------------------------------


async def test_a_login_under_way_when_its_account_is_dropped_does_not_take_effect(
    server: Server, clients: Clients
) -> None:
    quinn = await connect(clients, server, "quinn")
    await register_account(quinn)
    # A second connection logs in with SASL and holds registration open (no CAP END).
    waiting = await clients.open(server)
    await waiting.send("CAP LS 302", "CAP REQ :sasl", "NICK q2", "USER q2 0 * :q2")
    await waiting.read_until(lambda m: m.command == "CAP" and "ACK" in m.params)
    await waiting.send("AUTHENTICATE PLAIN")
    await waiting.read_until("AUTHENTICATE")
    payload = base64.b64encode(f"quinn\0quinn\0{PASSWORD}".encode()).decode()
    await waiting.send(f"AUTHENTICATE {payload}")
    await waiting.read_until(n.RPL_SASLSUCCESS)
    assert texts(await answer(quinn, f"NS DROP {PASSWORD}"), "NOTICE") == [
        "Account quinn dropped."
    ]
    await waiting.send("CAP END")
    await waiting.read_until(n.RPL_WELCOME)
    whois = await answer(waiting, "WHOIS q2")
    assert n.RPL_WHOISACCOUNT not in numerics(whois), everything(whois)
    # Whoever registers the name next owns it alone: the old login cannot GHOST them.
    await quinn.send("QUIT")
    assert await quinn.closed()
    newcomer = await connect(clients, server, "quinn")
    await register_account(newcomer, "another-long-password")
    refused = texts(await answer(waiting, "NS GHOST quinn", "CS REGISTER #squat"), "NOTICE")
    assert "quinn has been disconnected." not in refused
    assert not any("registered to" in line for line in refused), refused
    assert "still here" in texts(await answer(newcomer, "PRIVMSG quinn :still here"))


async def test_chanserv_drop_and_access_refuse_a_secret_channel_as_if_unregistered(
    server: Server, clients: Clients
) -> None:
    alice = await connect(clients, server, "alice", "#sekrit")
    await register_account(alice)
    await register_channel(alice, "#sekrit")
    await answer(alice, "MODE #sekrit +s")
    mallory = await connect(clients, server, "mallory")
    await register_account(mallory)
    secret = texts(
        await answer(
            mallory,
            "CS DROP #sekrit",
            "CS ACCESS #sekrit ADD mallory op",
            "CS ACCESS #sekrit DEL x",
        ),
        "NOTICE",
    )
    missing = texts(
        await answer(
            mallory,
            "CS DROP #nochan",
            "CS ACCESS #nochan ADD mallory op",
            "CS ACCESS #nochan DEL x",
        ),
        "NOTICE",
    )
    assert [line.replace("#sekrit", "#nochan") for line in secret] == missing
    assert "founder" not in everything(await answer(mallory, "CS INFO #sekrit"))
    # Nothing changed: the founder still holds it.
    assert texts(await answer(alice, "CS INFO #sekrit"), "NOTICE")[0].startswith(
        "#sekrit: founder alice"
    )


async def test_a_server_operator_drops_a_registration_its_founder_left_behind(
    tmp_path: Path, clients: Clients
) -> None:
    settings = make_settings(tmp_path, flood_rate=0.0).replace(
        opers=(Oper("operuser", "operpassword"),)
    )
    async with running_server(settings) as server:
        await _an_oper_drops_a_registration(server, clients)


async def _an_oper_drops_a_registration(server: Server, clients: Clients) -> None:
    alice = await connect(clients, server, "alice", "#left")
    await register_account(alice)
    await register_channel(alice, "#left")
    await answer(alice, "MODE #left +ik")
    mallory = await connect(clients, server, "mallory")
    refused = texts(await answer(mallory, "CS DROP #left"), "NOTICE")
    assert refused
    assert "only its founder" in refused[0]
    oper = await connect(clients, server, "oper")
    await answer(oper, "OPER operuser operpassword")
    await answer(oper, "CS DROP #left")
    assert texts(await answer(alice, "CS INFO #left"), "NOTICE") == ["#left is not registered."]


async def test_a_registration_kept_before_incarnations_keeps_its_closed_history_apart(
    tmp_path: Path,
) -> None:
    settings = make_settings(tmp_path, flood_rate=0.0)
    async with running_server(settings) as server:
        first = Clients()
        try:
            fiona = await connect(first, server, "fiona", "#legacy")
            await register_account(fiona)
            await register_channel(fiona, "#legacy")
            await answer(fiona, "MODE #legacy +sk sesame")
        finally:
            await first.close_all()
    # As a registration made before channels had incarnations was kept.
    with sqlite3.connect(tmp_path / SQLITE_FILE) as db:
        (data,) = db.execute("SELECT data FROM channels WHERE key = '#legacy'").fetchone()
        record = json.loads(data)
        del record["incarnation"]
        db.execute("UPDATE channels SET data = ? WHERE key = '#legacy'", (json.dumps(record),))
    async with running_server(settings) as server:
        second = Clients()
        try:
            fiona = await connect(second, server, "fiona")
            await answer(fiona, f"NS IDENTIFY {PASSWORD}")
            await answer(fiona, "JOIN #legacy sesame")
            await said(fiona, "#legacy", "said while +sk, after the upgrade")
            await answer(fiona, "CS DROP #legacy", "PART #legacy")
            stranger = await connect(second, server, "stranger", "#legacy")
            history = await answer(stranger, "CHATHISTORY LATEST #legacy * 10")
            assert "after the upgrade" not in everything(history)
        finally:
            await second.close_all()


async def test_a_secret_channel_without_n_does_not_exist_for_an_outsiders_message(
    server: Server, clients: Clients
) -> None:
    alice = await connect(clients, server, "alice", "#hid")
    await answer(alice, "MODE #hid +s-n")
    mallory = await connect(clients, server, "mallory")
    hidden = await answer(mallory, "PRIVMSG #hid :hello", "NOTICE #hid :hello", "TAGMSG #hid")
    missing = await answer(
        mallory, "PRIVMSG #nowhere :hello", "NOTICE #nowhere :hello", "TAGMSG #nowhere"
    )
    # NOTICE is never answered.
    assert numerics(hidden) == numerics(missing) == [n.ERR_NOSUCHCHANNEL] * 2
    assert everything(hidden).replace("#hid", "#nowhere") == everything(missing)
    assert texts(await answer(alice, "PING :x")) == []


async def test_a_ban_mask_with_terminal_escapes_is_refused_as_a_key_with_them_is(
    server: Server, clients: Clients
) -> None:
    alice = await connect(clients, server, "alice", "#pubb")
    refused = await answer(alice, "MODE #pubb +b \x1b]0;PWNED\x07\x1b[2J!*@*")
    assert numerics(refused) == [n.ERR_INVALIDMODEPARAM]
    listed = await answer(alice, "MODE #pubb b")
    assert "PWNED" not in everything(listed)


async def test_a_private_registered_channels_access_list_is_for_those_who_see_its_members(
    server: Server, clients: Clients
) -> None:
    founder = await connect(clients, server, "pfounder", "#privy")
    await register_account(founder)
    await register_channel(founder, "#privy")
    await answer(founder, "MODE #privy +p")
    mallory = await connect(clients, server, "mallory")
    assert texts(await answer(mallory, "CS ACCESS #privy LIST"), "NOTICE") == [
        "#privy is not registered."
    ]
    assert texts(await answer(founder, "CS ACCESS #privy LIST"), "NOTICE") == [
        "#privy: founder pfounder"
    ]


async def test_an_account_dropped_from_the_shell_loses_its_rights_without_being_asked(
    tmp_path: Path, clients: Clients
) -> None:
    settings = make_settings(tmp_path, flood_rate=0.0, dropped_account_check=0.05)
    async with running_server(settings) as server:
        dan = await connect(clients, server, "dan", "#dans")
        await register_account(dan)
        await register_channel(dan, "#dans")
        await answer(dan, "MODE #dans +ik k3y", "PART #dans")
        watcher = await connect(clients, server, "watcher", "#w", caps=(*CAPS, "account-notify"))
        await answer(dan, "JOIN #w")
        status, _ = await hubbub_account(tmp_path, "drop", "dan")
        assert status == 0
        # Noticed by the server on its own: dan is logged out where everyone sees it.
        await watcher.read_until(lambda m: m.command == "ACCOUNT" and m.params == ("*",))
        # Its channel is no longer registered: no founder's way past +ik, nothing to give.
        said = texts(
            await answer(dan, "CS INFO #dans", "CS ACCESS #dans ADD watcher op"), "NOTICE"
        )
        assert said == ["#dans is not registered.", "Cannot do that on #dans: no such channel."]


async def test_history_a_legacy_registration_kept_under_its_bare_name_moves_to_an_incarnation(
    tmp_path: Path,
) -> None:
    settings = make_settings(tmp_path, flood_rate=0.0)
    async with running_server(settings) as server:
        first = Clients()
        try:
            fiona = await connect(first, server, "fiona", "#legacy")
            await register_account(fiona)
            await register_channel(fiona, "#legacy")
            await answer(fiona, "MODE #legacy +sk sesame")
            await said(fiona, "#legacy", "TOP SECRET said while +sk before the upgrade")
            await answer(fiona, "CHATHISTORY LATEST #legacy * 1")
        finally:
            await first.close_all()
    # As a database from before incarnations: no incarnation, the lines under the name.
    with sqlite3.connect(tmp_path / SQLITE_FILE) as db:
        (data,) = db.execute("SELECT data FROM channels WHERE key = '#legacy'").fetchone()
        record = json.loads(data)
        db.execute("UPDATE messages SET conversation = '#legacy'")
        del record["incarnation"]
        db.execute("UPDATE channels SET data = ? WHERE key = '#legacy'", (json.dumps(record),))
        db.execute("PRAGMA user_version = 7")
    async with running_server(settings) as server:
        second = Clients()
        try:
            fiona = await connect(second, server, "fiona")
            await answer(fiona, f"NS IDENTIFY {PASSWORD}")
            joined = await answer(fiona, "JOIN #legacy sesame", "CHATHISTORY LATEST #legacy * 10")
            # Still the channel's while it is registered and closed...
            assert "TOP SECRET" in everything(joined)
            await answer(fiona, "CS DROP #legacy", "PART #legacy")
            # ...and nobody's who makes it again.
            stranger = await connect(second, server, "stranger", "#legacy")
            history = await answer(stranger, "CHATHISTORY LATEST #legacy * 10")
            assert "TOP SECRET" not in everything(history)
        finally:
            await second.close_all()


# -- sixth probe: names drawn like "#lobby" with a blank or separator ---------------------------

BLANK_DRAWN = ("\u2028", "\u2029", "\ufffc", "\U0001d159", "\u3000", "\ue000", "\u2800")


async def test_channel_names_and_nicks_holding_a_character_drawn_blank_are_refused(
    server: Server, clients: Clients
) -> None:
    owner = await connect(clients, server, "owner", "#lobby")
    mallory = await connect(clients, server, "mallory")

    for blank in BLANK_DRAWN:
        for name in (f"#lobby{blank}", f"#lob{blank}by"):
            replies = await answer(mallory, f"JOIN {name}")
            assert numerics(replies) == [n.ERR_BADCHANMASK], ascii(name)
        replies = await answer(mallory, f"NICK owner{blank}")
        assert numerics(replies) == [n.ERR_ERRONEUSNICKNAME], ascii(blank)

    # Nothing was made, and the real #lobby's owner heard nothing of it.
    replies = await answer(mallory, "LIST")
    assert [m.params[1] for m in replies if m.command == n.RPL_LIST] == ["#lobby"]
    assert await owner.sync() == []
