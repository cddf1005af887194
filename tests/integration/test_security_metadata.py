"""draft/metadata-3 against hostile use, over real sockets (probe 23): what a channel's
SYNC shows an outsider, and how many keys an account keeps in the store."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

from hubbub.wire import numerics as n
from tests.helpers import LineClient, running_server
from tests.integration.conftest import make_settings, port_of
from tests.integration.test_metadata import (
    CAPS,
    PASSWORD,
    make_account,
    metadata_client,
    values,
)


async def test_a_channel_sync_hides_invisible_members_from_outsiders_as_names_does(
    tmp_path: Path,
) -> None:
    async with running_server(make_settings(tmp_path)) as server:
        port = port_of(server)
        hidden = await metadata_client(port, "hiddenone")
        shown = await metadata_client(port, "shownone")
        await hidden.send("MODE hiddenone +i", "JOIN #pubmd", "METADATA * SET status :meeting")
        await shown.send("JOIN #pubmd", "METADATA * SET status :here")
        await hidden.sync()
        await shown.sync()
        outsider = await metadata_client(port, "outsider")
        await outsider.send("NAMES #pubmd")
        names = [m.params[-1] for m in await outsider.sync() if m.command == n.RPL_NAMREPLY]
        assert names == ["shownone"]
        await outsider.send("METADATA * SUB status", "METADATA #pubmd SYNC")
        assert values(await outsider.sync()) == {("shownone", "status"): "here"}
        # A member sees every member, as in NAMES.
        await shown.send("METADATA * SUB status", "METADATA #pubmd SYNC")
        assert values(await shown.sync()) == {("hiddenone", "status"): "meeting"}
        for client in (hidden, shown, outsider):
            await client.close()


async def test_an_accounts_kept_keys_stay_within_the_limit_across_logins(
    tmp_path: Path,
) -> None:
    settings = make_settings(tmp_path, metadata_keys=5)
    async with running_server(settings) as server:
        port = port_of(server)
        await make_account(port, "grower")
        for round_ in range(4):
            client = await LineClient.open(port)
            # Keys set while registering, then again once logged in (probe 23: each
            # round stored a whole new set of keys, and none was ever removed).
            keys = [f"r{round_}k{i}" for i in range(5)]
            await client.send("CAP LS 302", f"CAP REQ :{CAPS}", "NICK grower")
            await client.send(*[f"METADATA * SET {key} :early" for key in keys])
            await client.send("USER grower 0 * :g", "CAP END")
            await client.read_until(n.RPL_ENDOFMOTD)
            await client.send(f"NS IDENTIFY grower {PASSWORD}")
            await client.read_until(n.RPL_LOGGEDIN)
            await client.send(*[f"METADATA * SET {key} :late" for key in keys])
            await client.sync()
            await client.close()
        last = await metadata_client(port, "grower", login=True)
        await last.send("METADATA * LIST")
        listed = values(await last.sync())
        assert len(listed) == 5
        await last.close()
    with contextlib.closing(sqlite3.connect(tmp_path / "hubbub.sqlite3")) as db:
        rows = db.execute("SELECT key, value FROM account_metadata").fetchall()
    assert len(rows) <= 5
    assert {("grower", key): value for key, value in rows} == listed
