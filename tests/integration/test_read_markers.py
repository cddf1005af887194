"""draft/read-marker for accounts: markers are shared by an account's connections, kept
across a restart, and bounded."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

from hubbub.wire import numerics as n
from tests.helpers import LineClient, running_server
from tests.integration.conftest import make_settings, port_of

PASSWORD = "correct-horse-battery"
EARLY = "2026-01-02T03:04:05.678Z"
LATER = "2026-03-04T05:06:07.890Z"


async def logged_in_client(port: int, nick: str, account: str = "alice") -> LineClient:
    client = await LineClient.open(port)
    await client.log_in(account, PASSWORD, nick, "draft/read-marker")
    return client


async def marker(client: LineClient, target: str) -> str:
    await client.send(f"MARKREAD {target}")
    return (await client.read_until("MARKREAD"))[-1].params[1]


async def make_account(port: int) -> None:
    owner = await LineClient.open(port)
    await owner.register("alice")
    await owner.send(f"NS REGISTER {PASSWORD}")
    await owner.read_until(n.RPL_LOGGEDIN)
    await owner.close()


async def test_an_accounts_marker_reaches_its_other_connections_and_survives_a_restart(
    tmp_path: Path,
) -> None:
    settings = make_settings(tmp_path)
    async with running_server(settings) as server:
        await make_account(port_of(server))
        phone = await logged_in_client(port_of(server), "alice")
        laptop = await logged_in_client(port_of(server), "alice_")
        assert await marker(phone, "#Chan") == "*"
        await phone.send(f"MARKREAD #Chan timestamp={LATER}")
        assert (await phone.read_until("MARKREAD"))[-1].params == ("#Chan", f"timestamp={LATER}")
        assert (await laptop.read_until("MARKREAD"))[-1].params == ("#Chan", f"timestamp={LATER}")
        # Markers never move back, and an unmoved marker is not broadcast again.
        await laptop.send(f"MARKREAD #chan timestamp={EARLY}")
        assert (await laptop.read_until("MARKREAD"))[-1].params[1] == f"timestamp={LATER}"
        assert not [m for m in await phone.sync() if m.command == "MARKREAD"]
        await phone.close()
        await laptop.close()
    async with running_server(settings) as server:
        again = await logged_in_client(port_of(server), "alice")
        assert await marker(again, "#chan") == f"timestamp={LATER}"
        await again.close()


async def test_a_guests_markers_are_its_own_and_move_to_the_account_it_logs_in_to(
    tmp_path: Path,
) -> None:
    async with running_server(make_settings(tmp_path)) as server:
        await make_account(port_of(server))
        guest = await LineClient.open(port_of(server))
        await guest.send("CAP REQ :draft/read-marker", "CAP END")
        await guest.register("guest")
        await guest.send(f"MARKREAD bob timestamp={EARLY}")
        await guest.read_until("MARKREAD")
        other = await logged_in_client(port_of(server), "alice")
        assert await marker(other, "bob") == "*"
        await guest.send(f"NS IDENTIFY alice {PASSWORD}")
        await guest.read_until(n.RPL_LOGGEDIN)
        assert await marker(other, "bob") == f"timestamp={EARLY}"
        await guest.close()
        await other.close()


async def test_the_number_of_markers_is_bounded_and_the_oldest_read_goes(
    tmp_path: Path,
) -> None:
    async with running_server(make_settings(tmp_path, read_markers=3)) as server:
        client = await LineClient.open(port_of(server))
        await client.send("CAP REQ :draft/read-marker", "CAP END")
        await client.register("guest")
        for number, target in enumerate(("#a", "#b", "#c", "#d")):
            await client.send(f"MARKREAD {target} timestamp=2026-01-0{number + 1}T00:00:00.000Z")
            await client.read_until("MARKREAD")
        assert await marker(client, "#a") == "*"
        assert await marker(client, "#d") == "timestamp=2026-01-04T00:00:00.000Z"
        await client.close()


async def test_an_accounts_stored_markers_are_bounded_too(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, read_markers=2)
    async with running_server(settings) as server:
        await make_account(port_of(server))
        client = await logged_in_client(port_of(server), "alice")
        for number, target in enumerate(("#a", "#b", "#c")):
            await client.send(f"MARKREAD {target} timestamp=2026-01-0{number + 1}T00:00:00.000Z")
            await client.read_until("MARKREAD")
        await client.close()
    async with running_server(settings) as server:
        again = await logged_in_client(port_of(server), "alice")
        assert await marker(again, "#a") == "*"
        assert await marker(again, "#c") == "timestamp=2026-01-03T00:00:00.000Z"
        await again.close()
    with contextlib.closing(sqlite3.connect(tmp_path / "hubbub.sqlite3")) as db:
        (rows,) = db.execute("SELECT COUNT(*) FROM read_markers").fetchone()
    assert rows == 2


async def test_a_dropped_accounts_markers_do_not_pass_to_the_next_owner(
    tmp_path: Path,
) -> None:
    async with running_server(make_settings(tmp_path)) as server:
        await make_account(port_of(server))
        phone = await logged_in_client(port_of(server), "alice")
        laptop = await logged_in_client(port_of(server), "alice_")
        await phone.send(f"MARKREAD #secret timestamp={LATER}")
        await phone.read_until("MARKREAD")
        await phone.send(f"NS DROP {PASSWORD}")
        assert "dropped" in (await phone.read_until("NOTICE"))[-1].params[-1]
        # Every connection of the account is logged out.
        await laptop.send("WHOIS alice_")
        whois = await laptop.read_until(n.RPL_ENDOFWHOIS)
        assert not [m for m in whois if m.command == n.RPL_WHOISACCOUNT]
        await phone.close()
        await laptop.close()
        await make_account(port_of(server))
        heir = await logged_in_client(port_of(server), "alice")
        assert await marker(heir, "#secret") == "*"
        await heir.close()
