"""``hubbub account``: the real command, beside a running server on the same data folder,
and what bad names, passwords and places get."""

from __future__ import annotations

import asyncio
import base64
import io
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from hubbub.cli import main
from hubbub.server import Server
from hubbub.wire import numerics as n
from tests.helpers import LineClient, running_server
from tests.integration.conftest import logged_in, make_settings, port_of

# 592 characters: "\0alice\0" and this make exactly two 400-byte SASL chunks.
LONG_PASSWORD = "x" * 590 + "yz"


async def hubbub_account(data_dir: Path, *args: str, password: str = "") -> tuple[int, str]:
    """Run ``python -m hubbub account ...`` on ``data_dir``; its status and output."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hubbub",
        "account",
        *args,
        "--data-dir",
        str(data_dir),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    async with asyncio.timeout(60):
        out, _ = await process.communicate(f"{password}\n".encode())
    return await process.wait(), out.decode()


async def plain_login(port: int, name: str, password: str) -> str:
    """A SASL PLAIN exchange in 400-byte chunks; the numeric that ends it."""
    client = await LineClient.open(port)
    await client.send("CAP REQ :sasl", "NICK someone", "USER someone 0 * :someone")
    await client.read_until("CAP")
    await client.send("AUTHENTICATE PLAIN")
    await client.read_until("AUTHENTICATE")
    payload = base64.b64encode(f"{name}\0{name}\0{password}".encode()).decode()
    chunks = [payload[i : i + 400] for i in range(0, len(payload), 400)]
    if len(payload) % 400 == 0:
        chunks.append("+")
    await client.send(*(f"AUTHENTICATE {chunk}" for chunk in chunks))
    got = await client.read_until(lambda m: m.command in (n.RPL_SASLSUCCESS, n.ERR_SASLFAIL))
    await client.close()
    return got[-1].command


async def test_an_account_made_beside_the_running_server_logs_in_at_once(
    server: Server, tmp_path: Path
) -> None:
    status, out = await hubbub_account(tmp_path, "create", "Alice", password=LONG_PASSWORD)
    assert (status, out.strip()) == (0, "account Alice created")
    assert await plain_login(port_of(server), "alice", LONG_PASSWORD) == n.RPL_SASLSUCCESS
    assert await plain_login(port_of(server), "alice", "x" * 592) == n.ERR_SASLFAIL

    # Known to the server since that login: the nick is now guarded.
    squatter = await LineClient.open(port_of(server))
    got = await squatter.register("alice")
    got += await squatter.read_until(lambda m: "registered nick" in m.params[-1])
    assert got[-1].source is not None
    assert got[-1].source.startswith("NickServ")
    await squatter.close()


async def test_a_password_reset_and_a_drop_take_effect_on_the_running_server(
    server: Server, tmp_path: Path
) -> None:
    assert (await hubbub_account(tmp_path, "create", "bob", password="first-password"))[0] == 0
    status, out = await hubbub_account(tmp_path, "password", "BOB", password="second-password")
    assert (status, out.strip()) == (0, "password of bob changed")
    assert await plain_login(port_of(server), "bob", "first-password") == n.ERR_SASLFAIL
    assert await plain_login(port_of(server), "bob", "second-password") == n.RPL_SASLSUCCESS

    status, out = await hubbub_account(tmp_path, "list")
    assert status == 0
    assert out.splitlines()[0].startswith("bob\t")
    assert out.splitlines()[-1] == "1 account"

    assert (await hubbub_account(tmp_path, "drop", "bob"))[0] == 0
    assert await plain_login(port_of(server), "bob", "second-password") == n.ERR_SASLFAIL
    assert (await hubbub_account(tmp_path, "list"))[1].strip() == "0 accounts"


# -- bad input ------------------------------------------------------------------------------


def account(monkeypatch: pytest.MonkeyPatch, data_dir: Path, *args: str, stdin: str = "") -> int:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return main(["account", *args, "--data-dir", str(data_dir)])


@pytest.mark.parametrize(
    ("name", "stdin", "complaint"),
    [
        ("carol", "short\n", "Passwords have 8 to 1024 characters"),
        ("carol", "p" * 1025 + "\n", "Passwords have 8 to 1024 characters"),
        ("carol", "", "no password given"),
        ("carol", "\n", "no password given"),
        ("'; DROP TABLE accounts; --", "long-enough\n", "Invalid account name"),
        ("bad\0name", "long-enough\n", "Invalid account name"),
        ("n" * 500, "long-enough\n", "Invalid account name"),
        ("#channel", "long-enough\n", "Invalid account name"),
    ],
)
def test_create_refuses_bad_names_and_passwords_with_a_reason(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    name: str,
    stdin: str,
    complaint: str,
) -> None:
    assert account(monkeypatch, tmp_path, "create", name, stdin=stdin) == 1
    err = capsys.readouterr().err
    assert err.startswith("hubbub account: ")
    assert complaint in err
    database = tmp_path / "hubbub.sqlite3"
    if database.exists():
        with sqlite3.connect(database) as db:
            assert db.execute("SELECT count(*) FROM accounts").fetchone() == (0,)


def test_an_existing_account_is_not_overwritten(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert account(monkeypatch, tmp_path, "create", "dave", stdin="first-password\n") == 0
    assert account(monkeypatch, tmp_path, "create", "DAVE", stdin="other-password\n") == 1
    assert "already exists" in capsys.readouterr().err
    with sqlite3.connect(tmp_path / "hubbub.sqlite3") as db:
        assert db.execute("SELECT name FROM accounts").fetchall() == [("dave",)]


@pytest.mark.parametrize("action", [("password", "nobody"), ("drop", "nobody")])
def test_changing_an_account_that_does_not_exist_says_so(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    action: tuple[str, str],
) -> None:
    assert account(monkeypatch, tmp_path, "create", "erin", stdin="long-enough\n") == 0
    assert account(monkeypatch, tmp_path, *action, stdin="long-enough\n") == 1
    assert "there is no account nobody" in capsys.readouterr().err


def test_only_create_makes_a_database(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    missing = tmp_path / "never-served"
    assert account(monkeypatch, missing, "list") == 1
    assert "there is no database at" in capsys.readouterr().err
    assert not missing.exists()
    assert account(monkeypatch, missing, "create", "frank", stdin="long-enough\n") == 0
    assert (missing / "hubbub.sqlite3").exists()


def test_a_file_that_is_not_a_database_is_refused_untouched(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    garbage = b"this is not an SQLite file\n" * 100
    (tmp_path / "hubbub.sqlite3").write_bytes(garbage)
    assert account(monkeypatch, tmp_path, "list") == 1
    assert "cannot open the database" in capsys.readouterr().err
    assert (tmp_path / "hubbub.sqlite3").read_bytes() == garbage


def test_a_server_without_a_database_has_no_accounts_to_manage(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = tmp_path / "hubbub.toml"
    config.write_text(f'[server]\nhistory = false\ndata_dir = "{tmp_path}"\n')
    monkeypatch.setattr(sys, "stdin", io.StringIO("long-enough\n"))
    assert main(["account", "create", "gina", "--config", str(config)]) == 1
    assert "no database" in capsys.readouterr().err
    assert not (tmp_path / "hubbub.sqlite3").exists()


async def test_accounts_are_managed_in_postgresql_given_by_the_environment(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUBBUB_DATABASE_URL", postgres_url)
    status, out = await hubbub_account(tmp_path, "create", "Heidi", password="long-enough")
    assert (status, out.strip()) == (0, "account Heidi created")
    settings = make_settings(tmp_path).replace(database_url=postgres_url)
    async with running_server(settings) as server:
        assert await plain_login(port_of(server), "heidi", "long-enough") == n.RPL_SASLSUCCESS
    status, out = await hubbub_account(tmp_path, "list")
    assert (status, out.splitlines()[-1]) == (0, "1 account")
    assert not (tmp_path / "hubbub.sqlite3").exists()


async def test_a_shell_drop_takes_the_accounts_entries_out_before_its_name_is_free(
    server: Server, tmp_path: Path
) -> None:
    """Probe 29: the shell deleted the account, and the running server took its
    ``a:name`` entries out up to two seconds later: a newcomer registering the name
    meanwhile was let in by them."""
    assert (await hubbub_account(tmp_path, "create", "bob", password=LONG_PASSWORD))[0] == 0
    op = await LineClient.open(port_of(server))
    await op.register("op")
    await op.send("JOIN #c", "MODE #c +i", "MODE #c +I a:bob")
    await op.read_until(lambda m: m.command == "MODE" and m.params[1:] == ("+I", "a:bob"))
    watcher = await LineClient.open(port_of(server))
    await watcher.register("watcher")
    dropping = asyncio.create_task(hubbub_account(tmp_path, "drop", "bob"))
    for _ in range(200):  # bounded: the drop takes a few seconds at most
        await watcher.send("NS INFO bob")
        got = await watcher.read_until("NOTICE")
        if "No such account" in got[-1].params[-1]:
            break
    else:
        raise AssertionError("the account was never dropped")
    # The name is free: the entry that named it is gone already.
    seen = await op.sync()
    assert ("-I", "a:bob") in [m.params[1:] for m in seen if m.command == "MODE"]
    assert (await dropping)[0] == 0
    for client in (op, watcher):
        await client.close()


async def test_a_connection_logged_in_to_an_account_dropped_from_the_shell_is_told(
    server: Server, tmp_path: Path
) -> None:
    """Probe 30: its channels' members saw ACCOUNT *, the connection itself nothing."""
    password = "correct-horse-battery"
    assert (await hubbub_account(tmp_path, "create", "bob", password=password))[0] == 0
    bob = await logged_in(server, password, "bob", "bob")
    assert (await hubbub_account(tmp_path, "drop", "bob"))[0] == 0
    told = await bob.read_until(n.RPL_LOGGEDOUT)
    assert told[-1].params[-1] == "You are now logged out"
    await bob.send("WHOIS bob")
    whois = await bob.read_until(n.RPL_ENDOFWHOIS)
    assert not [m for m in whois if m.command == n.RPL_WHOISACCOUNT]
    await bob.close()
