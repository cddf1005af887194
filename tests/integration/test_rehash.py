"""REHASH as an operator meets it: what changes at once, and what it says needs a
restart (issue 17)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from hubbub.server import Server
from hubbub.settings import Limits, Listen, Oper
from hubbub.wire import numerics as n
from hubbub.wire.casemap import Casemapping
from tests.helpers import LineClient
from tests.integration.conftest import make_settings, port_of


async def test_rehash_applies_what_it_can_and_names_what_needs_a_restart(
    tmp_path: Path,
) -> None:
    settings = make_settings(tmp_path).replace(opers=(Oper("boss", "operpass"),))
    reloaded = settings.replace(
        network_name="NewNet",
        casemapping=Casemapping.ASCII,
        listen=(Listen("127.0.0.1", 0), Listen("127.0.0.1", 0)),
        limits=Limits(topiclen=42),
    )
    server = Server(settings, reload=lambda: reloaded)
    task = asyncio.create_task(server.run())
    async with asyncio.timeout(10):
        await server.ready.wait()
    client = await LineClient.open(port_of(server))
    try:
        await client.register("boss")
        await client.send("OPER boss operpass", "REHASH")
        got = await client.sync()
        assert n.RPL_REHASHING in [m.command for m in got]
        assert [m.params[-1] for m in got if m.command == "NOTICE"] == [
            "*** Reloaded; changed but kept until a restart: listen, casemapping"
        ]
        # What can change did, for the next to register.
        late = await LineClient.open(port_of(server))
        lines = await late.register("late")
        isupport = " ".join(" ".join(m.params) for m in lines if m.command == n.RPL_ISUPPORT)
        assert "NETWORK=NewNet" in isupport
        assert "TOPICLEN=42" in isupport
        assert "CASEMAPPING=rfc8265" in isupport
        assert len(server.addresses) == 1
        await late.close()
    finally:
        await client.close()
        server.stop()
        async with asyncio.timeout(10):
            await task
