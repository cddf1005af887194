"""Bans before registration completes (probe 22): a client a K-line covers is refused
at its account registration (REGISTER) or SASL attempt, as its registration would be,
instead of creating accounts or guessing passwords until CAP END."""

from __future__ import annotations

from pathlib import Path

from hubbub.server import Server
from hubbub.wire import numerics as n
from hubbub.wire.message import Message
from tests.helpers import LineClient, running_server
from tests.integration.conftest import port_of
from tests.integration.test_bans import FAR, notices, oper, settings_for
from tests.integration.test_sasl import PASSWORD, b64, registered_account
from tests.integration.test_security_accounts import open_from


async def refusal(client: LineClient) -> list[tuple[str, tuple[str, ...]]]:
    """What the client got up to its ERROR, once the server has closed it."""
    got = await client.read_until("ERROR")
    assert await client.closed()
    await client.close()
    return [(m.command, m.params[1:]) for m in got if m.command != "CAP"]


def banned(reason: str) -> list[tuple[str, tuple[str, ...]]]:
    return [(n.ERR_YOUREBANNEDCREEP, (f"You are banned from this server: {reason}",))]


async def may_register(server: Server, name: str) -> Message:
    """The answer an unbanned client gets to registering ``name``."""
    client = await open_from(server)
    await client.register(f"free{name[:6]}")
    await client.send(f"REGISTER {name} * {PASSWORD}")
    got = await client.read_until(lambda m: m.command in ("REGISTER", "FAIL"))
    await client.close()
    return got[-1]


async def test_a_klined_client_cannot_register_an_account_before_connecting(
    tmp_path: Path,
) -> None:
    async with running_server(settings_for(tmp_path)) as server:
        boss = await oper(server)
        told = await notices(boss, "KLINE 10 ~kreg*@127.0.0.1 :no accounts for you")
        assert any("K-line set: ~kreg*@127.0.0.1" in t for t in told)
        told = await notices(boss, "KLINE 10 *@127.0.1.0/24 :nor from there")
        assert any("K-line set: *@127.0.1.0/24" in t for t in told)
        client = await open_from(server)
        await client.send(
            "CAP LS 302", "NICK kreg", "USER kreg 0 * :k", "CAP REQ :draft/account-registration"
        )
        await client.send(f"REGISTER kregacct * {PASSWORD}")
        got = await refusal(client)
        assert got[:1] == banned("no accounts for you")
        assert "REGISTER" not in [command for command, _ in got]
        # Before USER the username is not known, and a K-line of the whole host holds.
        early = await open_from(server, FAR)
        await early.send("CAP LS 302", "NICK early", f"REGISTER earlyacct * {PASSWORD}")
        assert (await refusal(early))[:1] == banned("nor from there")
        # Neither account was made: the names are free for anyone else.
        for name in ("kregacct", "earlyacct"):
            answer = await may_register(server, name)
            assert (answer.command, answer.params[:2]) == ("REGISTER", ("SUCCESS", name))
        await boss.close()


async def test_a_klined_client_cannot_try_a_password_with_sasl(tmp_path: Path) -> None:
    async with running_server(settings_for(tmp_path)) as server:
        await registered_account(port_of(server), "ksasl")
        boss = await oper(server)
        await notices(boss, "KLINE 10 ~kguess*@127.0.0.1 :no guessing")
        await notices(boss, "KLINE 10 *@127.0.1.0/24 :nor from there")
        plain = b64(f"ksasl\0ksasl\0{PASSWORD}")
        client = await open_from(server)
        await client.send("CAP LS 302", "NICK kguess", "USER kguess 0 * :k", "CAP REQ :sasl")
        await client.send("AUTHENTICATE PLAIN", f"AUTHENTICATE {plain}")
        got = await refusal(client)
        assert got[:1] == banned("no guessing")
        commands = [command for command, _ in got]
        for answer in ("AUTHENTICATE", n.RPL_LOGGEDIN, n.RPL_SASLSUCCESS, n.ERR_SASLFAIL):
            assert answer not in commands
        early = await open_from(server, FAR)
        await early.send("CAP LS 302", "CAP REQ :sasl", "AUTHENTICATE PLAIN")
        assert (await refusal(early))[:1] == banned("nor from there")
        # Someone the K-lines do not cover logs in as before.
        other = await open_from(server)
        await other.send("CAP LS 302", "NICK kother", "USER kother 0 * :k", "CAP REQ :sasl")
        await other.send("AUTHENTICATE PLAIN", f"AUTHENTICATE {plain}")
        assert (await other.read_until(n.RPL_SASLSUCCESS))[-1].command == n.RPL_SASLSUCCESS
        await other.close()
        await boss.close()
