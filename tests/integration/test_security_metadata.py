"""draft/metadata-3 against hostile use, over real sockets (probe 23): what a channel's
SYNC shows an outsider, and how many keys an account keeps in the store."""

from __future__ import annotations

from pathlib import Path

from hubbub.wire import numerics as n
from tests.helpers import running_server
from tests.integration.conftest import make_settings, port_of
from tests.integration.test_metadata import metadata_client, values


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
