"""Accounts and registered channels through real sockets, across a restart."""

from __future__ import annotations

import asyncio
import base64
import re
from pathlib import Path

import pytest

from hubbub.wire import numerics as n
from hubbub.wire.message import Message
from tests.helpers import LineClient, running_server
from tests.integration.conftest import make_settings, port_of

PASSWORD = "correct-horse-battery"


def notices(lines: list[Message]) -> list[str]:
    return [m.params[-1] for m in lines if m.command == "NOTICE"]


async def connect(port: int, nick: str, *caps: str) -> LineClient:
    client = await LineClient.open(port)
    if caps:
        await client.send(f"CAP REQ :{' '.join(caps)}")
    await client.send(f"NICK {nick}", f"USER {nick} 0 * :Real {nick}")
    if caps:
        await client.send("CAP END")
    await client.read_until("376")
    return client


async def test_nickserv_register_then_sasl_plain_logs_in_after_a_restart(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    async with running_server(settings) as server:
        alice = await connect(port_of(server), "alice")
        await alice.send(f"PRIVMSG NickServ :REGISTER {PASSWORD}")
        got = await alice.read_until(n.RPL_LOGGEDIN)
        assert any("registered" in text for text in notices(got))
        await alice.close()
    async with running_server(settings) as server:
        client = await LineClient.open(port_of(server))
        await client.send("CAP REQ :sasl", "NICK alice", "USER alice 0 * :Alice")
        await client.read_until("CAP")
        await client.send("AUTHENTICATE PLAIN")
        assert (await client.read_until("AUTHENTICATE"))[-1].params == ("+",)
        payload = base64.b64encode(f"\0alice\0{PASSWORD}".encode()).decode()
        await client.send(f"AUTHENTICATE {payload}")
        logged = await client.read_until(n.RPL_SASLSUCCESS)
        assert next(m for m in logged if m.command == n.RPL_LOGGEDIN).params[2] == "alice"
        await client.send("CAP END")
        await client.read_until("376")
        await client.send("WHOIS alice")
        whois = await client.read_until(n.RPL_ENDOFWHOIS)
        assert [m.params[2] for m in whois if m.command == n.RPL_WHOISACCOUNT] == ["alice"]
        await client.close()


async def test_a_wrong_password_fails_sasl_and_the_client_can_still_register(
    tmp_path: Path,
) -> None:
    async with running_server(make_settings(tmp_path)) as server:
        owner = await connect(port_of(server), "owner")
        await owner.send(f"NS REGISTER {PASSWORD}")
        await owner.read_until(n.RPL_LOGGEDIN)
        client = await LineClient.open(port_of(server))
        await client.send("CAP REQ :sasl", "NICK guest", "USER guest 0 * :Guest")
        await client.read_until("CAP")
        await client.send("AUTHENTICATE PLAIN")
        await client.read_until("AUTHENTICATE")
        wrong = base64.b64encode(b"\0owner\0not the password").decode()
        await client.send(f"AUTHENTICATE {wrong}")
        assert (await client.read_until(n.ERR_SASLFAIL))[-1].command == n.ERR_SASLFAIL
        await client.send("AUTHENTICATE PLAIN")
        await client.read_until("AUTHENTICATE")
        await client.send("AUTHENTICATE !!!notbase64")
        assert (await client.read_until(n.ERR_SASLFAIL))[-1].command == n.ERR_SASLFAIL
        await client.send("CAP END")
        await client.read_until("376")
        await owner.close()
        await client.close()


async def test_a_taken_account_and_a_weak_password_are_refused(tmp_path: Path) -> None:
    async with running_server(make_settings(tmp_path)) as server:
        alice = await connect(port_of(server), "alice")
        await alice.send(f"REGISTER * * {PASSWORD}")
        success = await alice.read_until("REGISTER")
        assert success[-1].params[:2] == ("SUCCESS", "alice")
        bob = await connect(port_of(server), "bob")
        await bob.send(f"REGISTER alice * {PASSWORD}", "REGISTER * * short")
        fails = [m for m in await bob.sync() if m.command == "FAIL"]
        assert [m.params[:2] for m in fails] == [
            ("REGISTER", "ACCOUNT_EXISTS"),
            ("REGISTER", "WEAK_PASSWORD"),
        ]
        await alice.close()
        await bob.close()


async def test_a_registered_channel_keeps_topic_modes_and_gives_its_founder_op(
    tmp_path: Path,
) -> None:
    settings = make_settings(tmp_path)
    async with running_server(settings) as server:
        alice = await connect(port_of(server), "alice")
        await alice.send(f"NS REGISTER {PASSWORD}", "JOIN #keep")
        await alice.read_until(n.RPL_ENDOFNAMES)
        await alice.send("CS REGISTER #keep")
        assert any("registered" in t for t in notices(await alice.read_until("NOTICE")))
        await alice.send("TOPIC #keep :kept across restarts", "MODE #keep +mb spam!*@*")
        await alice.sync()
        await alice.close()
    async with running_server(settings) as server:
        bob = await connect(port_of(server), "bob")
        await bob.send("JOIN #keep")
        burst = await bob.read_until(n.RPL_ENDOFNAMES)
        assert [m.params[-1] for m in burst if m.command == n.RPL_TOPIC] == [
            "kept across restarts"
        ]
        names = [m.params[-1] for m in burst if m.command == n.RPL_NAMREPLY]
        assert names == ["bob"]  # a registered channel gives nobody op for being first
        await bob.send("MODE #keep", "MODE #keep b")
        modes = await bob.sync()
        assert "m" in next(m for m in modes if m.command == n.RPL_CHANNELMODEIS).params[2]
        assert [m.params[2] for m in modes if m.command == n.RPL_BANLIST] == ["spam!*@*"]
        alice = await LineClient.open(port_of(server))
        await alice.send("NICK alice", "USER alice 0 * :Alice", f"NS IDENTIFY {PASSWORD}")
        await alice.read_until(n.RPL_LOGGEDIN)
        await alice.send("JOIN #keep")
        granted = await bob.read_until(lambda m: m.command == "MODE")
        assert granted[-1].params == ("#keep", "+o", "alice")
        assert granted[-1].source is not None
        assert granted[-1].source.startswith("ChanServ!")
        await alice.close()
        await bob.close()


async def test_only_the_founder_manages_access_and_services_nicks_are_reserved(
    tmp_path: Path,
) -> None:
    async with running_server(make_settings(tmp_path)) as server:
        alice = await connect(port_of(server), "alice")
        await alice.send(f"NS REGISTER {PASSWORD}", "JOIN #own")
        await alice.read_until(n.RPL_ENDOFNAMES)
        await alice.send("CS REGISTER #own")
        await alice.read_until("NOTICE")
        bob = await connect(port_of(server), "bob")
        await bob.send("CS ACCESS #own ADD bob op")
        refused = notices(await bob.read_until("NOTICE"))
        assert "only its founder may" in refused[-1]
        # Rights go to accounts: a name nobody has registered yet gets none (whoever
        # registered it later would inherit them).
        await alice.send("CS ACCESS #own ADD bob voice")
        assert "bob is not a registered account." in notices(await alice.sync())
        await bob.send(f"NS REGISTER {PASSWORD}")
        await bob.read_until(n.RPL_LOGGEDIN)
        await alice.send("CS ACCESS #own ADD bob voice", "CS ACCESS #own LIST")
        listed = notices(await alice.sync())
        assert "  bob voice" in listed
        await bob.send("NICK NickServ", "NICK chanserv")
        assert [m.command for m in await bob.sync()] == [
            n.ERR_NICKNAMEINUSE,
            n.ERR_NICKNAMEINUSE,
        ]
        await alice.close()
        await bob.close()


async def test_a_registered_nick_is_taken_back_unless_its_owner_logs_in(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, nick_grace=0.5)
    async with running_server(settings) as server:
        owner = await connect(port_of(server), "owner")
        await owner.send(f"NS REGISTER {PASSWORD}")
        await owner.read_until(n.RPL_LOGGEDIN)
        await owner.send("QUIT")
        await owner.closed()
        await owner.close()
        squatter = await LineClient.open(port_of(server))
        await squatter.send("NICK owner", "USER s 0 * :Squatter")
        warned = await squatter.read_until(lambda m: m.command == "NOTICE")
        assert "registered nick" in warned[-1].params[-1]
        renamed = await squatter.read_until(lambda m: m.command == "NICK")
        assert renamed[-1].params[0].startswith("Guest")
        assert renamed[-1].source is not None
        assert renamed[-1].source.startswith("owner!")
        # Its owner, connecting without SASL while the nick is held, is refused it as
        # registration ends (433), and takes it by logging in.
        real = await LineClient.open(port_of(server))
        await real.send("NICK owner", "USER o 0 * :Owner")
        held = await real.read_until(n.ERR_NICKNAMEINUSE)
        assert "held" in held[-1].params[-1]
        await real.send("NICK owner_")
        await real.read_until(n.RPL_ENDOFMOTD)
        await real.send(f"NS IDENTIFY owner {PASSWORD}", "NICK owner")
        given = await real.read_until("NICK")
        assert given[-1].params == ("owner",)
        # A grace that ran out takes it from no one logged in (bounded, 1 s).
        await asyncio.sleep(1.0)
        await squatter.send("WHOIS owner")
        whois = await squatter.read_until(n.RPL_ENDOFWHOIS)
        assert [m.params[1] for m in whois if m.command == n.RPL_WHOISUSER] == ["owner"]
        await squatter.close()
        await real.close()


async def test_ircv3_register_creates_the_account_at_once_and_verify_says_so(
    tmp_path: Path,
) -> None:
    async with running_server(make_settings(tmp_path)) as server:
        client = await LineClient.open(port_of(server))
        await client.send("CAP REQ :draft/account-registration", "NICK carol", "USER c 0 * :C")
        await client.read_until("CAP")
        await client.send(f"REGISTER * carol@example.org {PASSWORD}")
        got = await client.read_until(lambda m: m.command in ("REGISTER", "FAIL"))
        assert got[-1].params[:2] == ("SUCCESS", "carol")
        await client.send("VERIFY carol 123456")
        fail = (await client.read_until("FAIL"))[-1]
        assert fail.params[:3] == ("VERIFY", "INVALID_CODE", "carol")
        await client.send(f"REGISTER * carol@example.org {PASSWORD}")
        again = (await client.read_until("FAIL"))[-1]
        assert again.params[:2] == ("REGISTER", "ALREADY_AUTHENTICATED")
        await client.send("VERIFY")
        assert (await client.read_until(n.ERR_NEEDMOREPARAMS))[-1].params[1] == "VERIFY"
        await client.send("CAP END")
        await client.read_until("376")
        await client.close()


async def test_registration_before_connecting_can_be_turned_off(tmp_path: Path) -> None:
    settings = make_settings(tmp_path).replace(register_before_connect=False)
    async with running_server(settings) as server:
        client = await LineClient.open(port_of(server))
        await client.send("CAP LS 302", "NICK dave", "USER d 0 * :D")
        ls = (await client.read_until("CAP"))[-1]
        assert "draft/account-registration=custom-account-name" in ls.params[-1].split()
        await client.send(f"REGISTER * * {PASSWORD}")
        fail = (await client.read_until("FAIL"))[-1]
        assert fail.params[:2] == ("REGISTER", "COMPLETE_CONNECTION_REQUIRED")
        await client.send("CAP END")
        await client.read_until("376")
        await client.send(f"REGISTER * * {PASSWORD}")
        done = (await client.read_until(lambda m: m.command in ("REGISTER", "FAIL")))[-1]
        assert done.params[:2] == ("SUCCESS", "dave")
        await client.close()


@pytest.mark.parametrize("email", ["*", "nobody", "@example.org", "a@localhost"])
async def test_an_email_can_be_required_and_a_missing_or_bad_one_is_refused(
    tmp_path: Path, email: str
) -> None:
    settings = make_settings(tmp_path).replace(register_email_required=True)
    async with running_server(settings) as server:
        client = await LineClient.open(port_of(server))
        await client.send("CAP LS 302")
        ls = (await client.read_until("CAP"))[-1]
        value = "draft/account-registration=before-connect,custom-account-name,email-required"
        assert value in ls.params[-1].split()
        await client.send("CAP END")
        await client.register("erin")
        await client.send(f"REGISTER * {email} {PASSWORD}")
        fail = (await client.read_until("FAIL"))[-1]
        assert fail.params[:2] == ("REGISTER", "INVALID_EMAIL")
        await client.send(f"NS REGISTER {PASSWORD}")
        assert "email address is required" in (await client.read_until("NOTICE"))[-1].params[-1]
        await client.send(f"REGISTER * erin@example.org {PASSWORD}")
        done = (await client.read_until(lambda m: m.command in ("REGISTER", "FAIL")))[-1]
        assert done.params[:2] == ("SUCCESS", "erin")
        await client.close()


async def test_nickserv_info_says_when_an_account_was_registered_in_words(
    tmp_path: Path,
) -> None:
    async with running_server(make_settings(tmp_path)) as server:
        alice = await connect(port_of(server), "alice")
        await alice.send(f"REGISTER * * {PASSWORD}")
        await alice.read_until("REGISTER")
        await alice.send("PRIVMSG NickServ :INFO", "PRIVMSG NickServ :INFO nobody")
        said = notices(await alice.sync())
        assert len(said) == 2
        assert re.fullmatch(
            r"Account alice, registered on \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC\.", said[0]
        ), said
        assert said[1] == "No such account."
        await alice.close()
