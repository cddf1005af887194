"""The whole server on PostgreSQL: an account, a registered channel and a channel's
history written by one server are there for the next, and no SQLite file is made; a
database that cannot be reached stops ``hubbub serve`` with one clear line."""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import sys
from pathlib import Path

import pytest

from hubbub.storage.backends import SQLITE_FILE
from hubbub.wire import numerics as n
from hubbub.wire.message import Message
from tests.helpers import LineClient, running_server
from tests.integration.conftest import make_settings, port_of

PASSWORD = "correct-horse-battery"
SECRET = "db-secret-never-shown"
CHAN = "#pg"
CAPS = "batch draft/chathistory echo-message message-tags sasl server-time"


async def connect(port: int, nick: str, *, login: bool = False) -> LineClient:
    """A registered client with the history capabilities, logged in with SASL PLAIN
    when told."""
    client = await LineClient.open(port)
    await client.send(f"CAP REQ :{CAPS}", f"NICK {nick}", f"USER {nick} 0 * :{nick}")
    await client.read_until("CAP")
    if login:
        await client.send("AUTHENTICATE PLAIN")
        await client.read_until("AUTHENTICATE")
        payload = base64.b64encode(f"\0{nick}\0{PASSWORD}".encode()).decode()
        await client.send(f"AUTHENTICATE {payload}")
        await client.read_until(lambda m: m.command in (n.RPL_SASLSUCCESS, n.ERR_SASLFAIL))
    await client.send("CAP END")
    await client.read_until(n.RPL_ENDOFMOTD)
    return client


def texts(lines: list[Message]) -> list[str]:
    return [m.params[-1] for m in lines if m.command == "PRIVMSG"]


async def test_accounts_channels_and_history_survive_a_restart_on_postgresql(
    tmp_path: Path, postgres_url: str
) -> None:
    settings = make_settings(tmp_path, flood_rate=0.0).replace(database_url=postgres_url)
    async with running_server(settings) as server:
        alice = await connect(port_of(server), "alice")
        await alice.send(f"PRIVMSG NickServ :REGISTER {PASSWORD}")
        await alice.read_until(n.RPL_LOGGEDIN)
        await alice.send(f"JOIN {CHAN}")
        await alice.read_until(n.RPL_ENDOFNAMES)
        await alice.send(f"CS REGISTER {CHAN}", f"TOPIC {CHAN} :kept in PostgreSQL")
        for number in range(3):
            await alice.send(f"PRIVMSG {CHAN} :message {number}")
        said = await alice.sync()
        assert texts(said) == ["message 0", "message 1", "message 2"]
        await alice.close()
    # A graceful stop has stored every message; nothing went to the data folder.
    assert not (tmp_path / SQLITE_FILE).exists()

    async with running_server(settings) as server:
        alice = await connect(port_of(server), "alice", login=True)
        await alice.send("WHOIS alice")
        whois = await alice.read_until(n.RPL_ENDOFWHOIS)
        assert [m.params[2] for m in whois if m.command == n.RPL_WHOISACCOUNT] == ["alice"]
        await alice.send(f"JOIN {CHAN}")
        burst = await alice.read_until(n.RPL_ENDOFNAMES)
        assert [m.params[-1] for m in burst if m.command == n.RPL_TOPIC] == ["kept in PostgreSQL"]
        await alice.sync()
        await alice.send(f"CHATHISTORY LATEST {CHAN} * 10")
        replayed = await alice.sync()
        assert texts(replayed) == ["message 0", "message 1", "message 2"]
        await alice.close()


@pytest.mark.parametrize("given_by", ["flag", "environment"])
async def test_an_unreachable_database_stops_serve_with_a_clear_error(
    tmp_path: Path, given_by: str
) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        url = f"postgresql://hubbub:{SECRET}@127.0.0.1:{port}/chat"
        flags = ["--database-url", url] if given_by == "flag" else []
        environment = {**os.environ, "HUBBUB_DATABASE_URL": url} if flags == [] else None
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            *("-m", "hubbub", "serve", "--port", "0", "--no-plain", "--no-web"),
            *("--data-dir", str(tmp_path), "--server-name", "irc.proc.test", *flags),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            env=environment,
        )
        async with asyncio.timeout(30):
            _, stderr = await process.communicate()

    log = stderr.decode()
    assert process.returncode == 1, log
    assert "Traceback" not in log
    assert SECRET not in log
    (error,) = [line for line in log.splitlines() if line.startswith("hubbub: ")]
    assert error.startswith("hubbub: cannot open the database: ")
    assert f"postgresql://hubbub@127.0.0.1:{port}/chat: cannot connect" in error
    assert not (tmp_path / SQLITE_FILE).exists()
