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


async def test_rehash_keeps_the_name_lengths_in_force_and_advertises_those(
    tmp_path: Path,
) -> None:
    # Probe 22: the casemap enforcing them is made at start (and every node of a
    # cluster folds names by it); advertising a new NICKLEN it did not enforce misled
    # clients.
    settings = make_settings(tmp_path).replace(opers=(Oper("boss", "operpass"),))
    reloaded = settings.replace(limits=Limits(nicklen=50, channellen=100, topiclen=42))
    server = Server(settings, reload=lambda: reloaded)
    task = asyncio.create_task(server.run())
    async with asyncio.timeout(10):
        await server.ready.wait()
    client = await LineClient.open(port_of(server))
    try:
        await client.register("boss")
        await client.send("OPER boss operpass", "REHASH")
        got = await client.sync()
        assert [m.params[-1] for m in got if m.command == "NOTICE"] == [
            "*** Reloaded; changed but kept until a restart: limits.nicklen, limits.channellen"
        ]
        late = await LineClient.open(port_of(server))
        lines = await late.register("late")
        isupport = " ".join(" ".join(m.params) for m in lines if m.command == n.RPL_ISUPPORT)
        assert "NICKLEN=30" in isupport.split()
        assert "CHANNELLEN=64" in isupport.split()
        assert "TOPICLEN=42" in isupport.split()  # what can change did
        await late.send("NICK " + "n" * 31, "JOIN #" + "c" * 64)
        refused = [m.command for m in await late.sync()]
        assert n.ERR_ERRONEUSNICKNAME in refused
        assert n.ERR_BADCHANMASK in refused
        await late.close()
    finally:
        await client.close()
        server.stop()
        async with asyncio.timeout(10):
            await task
