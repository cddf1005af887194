"""``hubbub admin`` (issue 17): the real command on a real data folder, beside a running
server and without one: accounts, registered channels and bans round-trip, and bad
requests get a clear refusal and change nothing."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from hubbub.account_admin import Refused
from hubbub.accounts.service import Accounts
from hubbub.admin import Admin, carried_out
from hubbub.server import Server
from hubbub.storage.backends import open_store
from hubbub.wire import numerics as n
from tests.helpers import LineClient, running_server
from tests.integration.conftest import make_settings, port_of

PASSWORD = "a-long-enough-password"


async def run_hubbub(*args: str, stdin: str = "") -> tuple[int, str]:
    """Run ``python -m hubbub ...``; its status and output (errors included)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hubbub",
        *args,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    async with asyncio.timeout(60):
        out, _ = await process.communicate(stdin.encode())
    return await process.wait(), out.decode()


async def hubbub_admin(data_dir: Path, *args: str, stdin: str = "") -> tuple[int, str]:
    """Run ``python -m hubbub admin ...`` on ``data_dir``; its status and output."""
    return await run_hubbub("admin", *args, "--data-dir", str(data_dir), stdin=stdin)


async def logged_in(server: Server, nick: str, account: str) -> LineClient:
    client = await LineClient.open(port_of(server))
    await client.send(f"NICK {nick}", f"USER {nick} 0 * :{nick}")
    await client.read_until(n.RPL_ENDOFMOTD)
    await client.send(f"PRIVMSG NickServ :IDENTIFY {account} {PASSWORD}")
    await client.read_until(n.RPL_LOGGEDIN)
    return client


async def founder_of(server: Server, channel: str, nick: str, account: str) -> LineClient:
    """A user logged in to ``account`` who has registered ``channel`` with ChanServ."""
    client = await logged_in(server, nick, account)
    await client.send(f"JOIN {channel}", f"CS REGISTER {channel}")
    await client.read_until(lambda m: m.command == "NOTICE" and "registered" in m.params[-1])
    return client


async def test_accounts_round_trip_and_a_suspension_reaches_the_running_server(
    tmp_path: Path,
) -> None:
    status, out = await hubbub_admin(tmp_path, "accounts", "create", "Shady", stdin=PASSWORD)
    assert (status, out.strip()) == (0, "account Shady created")
    status, out = await hubbub_admin(tmp_path, "accounts", "list")
    assert status == 0
    assert out.splitlines()[0].startswith("Shady\t")
    assert out.splitlines()[-1] == "1 account"
    async with running_server(make_settings(tmp_path)) as server:
        shady = await logged_in(server, "shady", "Shady")
        status, out = await hubbub_admin(
            tmp_path, "accounts", "suspend", "shady", "--minutes", "60", "--reason", "puppets"
        )
        assert status == 0, out
        assert out.startswith("banned: Shady (60 minutes left")
        got = await shady.read_until("ERROR", seconds=15)
        assert "You are banned from this server: puppets" in got[-2].params[-1]
        await shady.close()
        status, out = await hubbub_admin(tmp_path, "accounts", "show", "SHADY")
        assert status == 0
        shown = dict(line.split(": ", 1) for line in out.strip().splitlines())
        assert shown["account"] == "Shady"
        assert shown["suspended"].startswith("Shady (60 minutes left")
        # Listed as `bans remove` takes it.
        status, out = await hubbub_admin(tmp_path, "bans", "list")
        assert out.splitlines()[0].startswith("account\t$a:Shady (60 minutes left")
        status, out = await hubbub_admin(tmp_path, "accounts", "unsuspend", "Shady")
        assert (status, out.strip()) == (0, "ban on Shady lifted")
        # The server forgets it within its next look: a login works again.
        async with asyncio.timeout(15):
            while len(server.bans):
                await server.ban_keeper.refresh()
        back = await logged_in(server, "shady", "Shady")
        await back.close()
    status, out = await hubbub_admin(tmp_path, "accounts", "show", "Shady")
    assert "suspended: no" in out.splitlines()


async def test_bans_added_from_the_shell_disconnect_at_once_and_list_and_lift(
    tmp_path: Path,
) -> None:
    async with running_server(make_settings(tmp_path)) as server:
        victim = await LineClient.open(port_of(server))
        await victim.send("NICK mallory", "USER mallory 0 * :m")
        await victim.read_until(n.RPL_ENDOFMOTD)
        status, out = await hubbub_admin(
            tmp_path, "bans", "add", "*mallory@127.0.0.1", "--reason", "from the shell"
        )
        assert status == 0, out
        got = await victim.read_until("ERROR", seconds=15)
        assert got[-2].command == n.ERR_YOUREBANNEDCREEP
        await victim.close()
        status, out = await hubbub_admin(tmp_path, "bans", "add", "198.51.100.7/24")
        assert status == 0, out
        status, out = await hubbub_admin(tmp_path, "bans", "list")
        lines = out.strip().splitlines()
        assert lines[0].startswith("K-line\t*mallory@127.0.0.1 (permanent, by ")
        assert lines[0].endswith("(hubbub admin)): from the shell")
        assert lines[1].startswith("D-line\t198.51.100.0/24 (permanent")
        assert lines[-1] == "2 bans"
        status, out = await hubbub_admin(tmp_path, "bans", "remove", "*MALLORY@127.0.0.1")
        assert (status, out.strip()) == (0, "ban on *MALLORY@127.0.0.1 lifted")
        async with asyncio.timeout(15):
            while server.bans.user_ban("~mallory", "127.0.0.1", None) is not None:
                await server.ban_keeper.refresh()
        back = await LineClient.open(port_of(server))
        await back.register("mallory")
        await back.close()


async def test_channels_are_transferred_and_dropped_by_the_running_server(
    tmp_path: Path,
) -> None:
    for name in ("Alice", "Bob"):
        assert (await hubbub_admin(tmp_path, "accounts", "create", name, stdin=PASSWORD))[0] == 0
    async with running_server(make_settings(tmp_path)) as server:
        alice = await founder_of(server, "#rust", "alice", "Alice")
        await alice.close()
    # Kept by the first server's stop; the second carries the orders out.
    async with running_server(make_settings(tmp_path)) as server:
        registered = server.hub.state.channels.registered
        status, out = await hubbub_admin(tmp_path, "channels", "list")
        assert out.splitlines()[0].startswith("#rust\tAlice\t")
        status, out = await hubbub_admin(tmp_path, "channels", "transfer", "#RUST", "bob")
        assert (status, out.strip()) == (
            0,
            "#rust now belongs to Bob (carried out by the running server)",
        )
        record = registered[server.hub.casemap.fold("#rust")]
        assert record.name_of(record.founder) == "Bob"
        status, out = await hubbub_admin(tmp_path, "channels", "transfer", "#rust", "Bob")
        assert (status, out.strip()) == (1, "hubbub admin: Bob is the founder of #rust already")
        status, out = await hubbub_admin(tmp_path, "channels", "drop", "#rust")
        assert (status, out.strip()) == (
            0,
            "#rust is no longer registered (carried out by the running server)",
        )
        assert server.hub.casemap.fold("#rust") not in registered


async def test_a_channel_order_given_while_no_server_runs_is_carried_out_at_start(
    tmp_path: Path,
) -> None:
    assert (await hubbub_admin(tmp_path, "accounts", "create", "Alice", stdin=PASSWORD))[0] == 0
    async with running_server(make_settings(tmp_path)) as server:
        alice = await founder_of(server, "#go", "alice", "Alice")
        await alice.close()
    status, out = await hubbub_admin(tmp_path, "channels", "drop", "#go")
    assert (status, out.strip()) == (
        0,
        "#go is no longer registered once the server starts (no running server took the order"
        " yet)",
    )
    status, out = await hubbub_admin(tmp_path, "channels", "list")
    assert "(waiting for the server: #go" in out
    async with running_server(make_settings(tmp_path)) as server:
        # Carried out as the server starts, before it is ready.
        assert server.hub.casemap.fold("#go") not in server.hub.state.channels.registered
    status, out = await hubbub_admin(tmp_path, "channels", "list")
    assert out.strip().splitlines() == ["0 registered channels"]


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("bans", "add", "*@*"), "too broad"),
        (("bans", "add", "10.0.0.0/8"), "too wide"),
        (("bans", "add", "nonsense"), "give user@host, an address or network"),
        (("bans", "add", "*@203.0.113.7", "--minutes", "0"), "1 to 5256000 minutes"),
        (("bans", "add", "*@*.example.org"), "no host names are looked up"),
        (("bans", "remove", "203.0.113.9"), "there is no ban on 203.0.113.9/32"),
        (("accounts", "suspend", "nobody"), "there is no account nobody"),
        (("accounts", "show", "nobody"), "there is no account nobody"),
        (("channels", "transfer", "#nowhere", "Alice"), "#nowhere is not registered"),
        (("channels", "drop", "#nowhere"), "#nowhere is not registered"),
    ],
)
async def test_bad_requests_are_refused_in_words(
    tmp_path: Path, args: tuple[str, ...], said: str
) -> None:
    assert (await hubbub_admin(tmp_path, "accounts", "create", "Alice", stdin=PASSWORD))[0] == 0
    status, out = await hubbub_admin(tmp_path, *args)
    assert status == 1
    assert out.startswith("hubbub admin: ")
    assert said in out
    assert "Traceback" not in out
    status, out = await hubbub_admin(tmp_path, "bans", "list")
    assert out.strip() == "0 bans"


async def test_without_a_database_nothing_is_made(tmp_path: Path) -> None:
    status, out = await hubbub_admin(tmp_path / "none", "bans", "list")
    assert (status, out.strip()) == (
        1,
        f"hubbub admin: there is no database at {tmp_path / 'none' / 'hubbub.sqlite3'}",
    )
    assert not (tmp_path / "none").exists()


async def test_the_database_flags_go_before_the_group_or_after_the_action(
    tmp_path: Path,
) -> None:
    config = tmp_path / "hubbub.toml"
    config.write_text(f'[server]\ndata_dir = "{tmp_path / "data"}"\n')
    made = await run_hubbub(
        "admin", "--config", str(config), "accounts", "create", "Alice", stdin="12345"
    )
    # password_min from before the group and nicklen from after the action both count.
    assert made == (1, "hubbub admin: Passwords have 8 to 1024 characters\n")
    made = await run_hubbub(
        "admin",
        "--config",
        str(config),
        "--limit",
        "password_min=4",
        "accounts",
        "create",
        "Alice",
        "--limit",
        "nicklen=20",
        stdin="12345",
    )
    assert made == (0, "account Alice created\n")
    for args in (
        ("admin", "--config", str(config), "accounts", "list"),
        ("admin", "accounts", "list", "--config", str(config)),
        ("account", "--data-dir", str(tmp_path / "data"), "list"),
        ("account", "list", "--data-dir", str(tmp_path / "data")),
    ):
        status, out = await run_hubbub(*args)
        assert status == 0, out
        assert out.startswith("Alice\t")
        assert out.endswith("1 account\n")
    status, out = await run_hubbub("account", "drop", "Nobody", "--config", str(config))
    assert (status, out) == (1, "hubbub account: there is no account Nobody\n")


async def test_an_offline_founder_dropped_from_the_shell_leaves_no_registration_behind(
    tmp_path: Path,
) -> None:
    for name in ("Alice", "Helper"):
        assert (await hubbub_admin(tmp_path, "accounts", "create", name, stdin=PASSWORD))[0] == 0
    async with running_server(make_settings(tmp_path)) as server:
        alice = await founder_of(server, "#gone", "alice", "Alice")
        await alice.close()
        folded = server.hub.casemap.fold("#gone")
        assert folded in server.hub.state.channels.registered
        status, out = await hubbub_admin(tmp_path, "accounts", "drop", "alice")
        assert (status, out.strip()) == (
            0,
            "account Alice dropped (carried out by the running server)",
        )
        assert folded not in server.hub.state.channels.registered
        # A change to the channel now writes nothing back for the dropped founder.
        helper = await logged_in(server, "helper", "Helper")
        await helper.send("JOIN #gone", "TOPIC #gone :still here")
        await helper.read_until("TOPIC")
        await helper.send("CS INFO #gone")
        told = await helper.read_until(lambda m: m.command == "NOTICE")
        assert "not registered" in told[-1].params[-1]
        await helper.close()
    status, out = await hubbub_admin(tmp_path, "channels", "list")
    assert out.strip() == "0 registered channels"


async def test_a_reason_with_escape_sequences_is_kept_and_shown_without_them(
    tmp_path: Path,
) -> None:
    assert (await hubbub_admin(tmp_path, "accounts", "create", "Shady", stdin=PASSWORD))[0] == 0
    status, out = await hubbub_admin(
        tmp_path, "accounts", "suspend", "Shady", "--reason", "\x1b]0;PWNED\x07\x1b[2Jred"
    )
    assert status == 0
    assert out.startswith("banned: Shady (permanent, by ")
    assert out.rstrip().endswith("]0;PWNED[2Jred")
    status, out = await hubbub_admin(tmp_path, "accounts", "show", "Shady")
    assert "\x1b" not in out
    assert "\x07" not in out


async def test_an_order_the_server_could_not_carry_out_is_reported_so(tmp_path: Path) -> None:
    assert (await hubbub_admin(tmp_path, "accounts", "create", "Alice", stdin=PASSWORD))[0] == 0
    async with running_server(make_settings(tmp_path)) as server:
        alice = await founder_of(server, "#rnd", "alice", "Alice")
        store = await open_store(tmp_path, None, 5.0)
        try:
            casemap = server.hub.casemap
            admin = Admin(store, Accounts(store, casemap), casemap)
            # What the shell read of it (the server keeps it, and writes it behind).
            record = server.hub.state.channels.registered[casemap.fold("#rnd")]
            # The founder renames the channel after the shell read it, before the order.
            await alice.send("CAP REQ draft/channel-rename", "RENAME #rnd #rnd2 :moving")
            await alice.read_until("RENAME")
            with pytest.raises(Refused, match="took the order, but #rnd is not as ordered"):
                await carried_out(admin, record, {"drop": True}, "dropped")
        finally:
            await store.close()
        assert casemap.fold("#rnd2") in server.hub.state.channels.registered
        await alice.close()
