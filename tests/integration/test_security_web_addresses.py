"""The web listener and the client's address (probe 22): an IPv4 client a dual-stack
proxy forwards as ``::ffff:a.b.c.d`` is banned as ``a.b.c.d``; a D-lined address is
served nothing over plain HTTP; the public listener's ``/metrics`` is for this machine
and trusted networks only."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from pathlib import Path

import pytest
from websockets.exceptions import InvalidStatus

from hubbub.settings import Listen, Oper, Settings
from hubbub.wire import numerics as n
from tests.helpers import running_server
from tests.integration.test_bans import FAR, notices, oper
from tests.integration.web import WsClient, get, web_port, web_settings

PROXY = "127.0.0.1"  # the only trusted address: the others of 127/8 come straight


def settings_for(tmp_path: Path, trusted: tuple[str, ...] = ()) -> Settings:
    return web_settings(tmp_path).replace(opers=(Oper("boss", "operpass"),), trusted=trusted)


async def answer(
    port: int, request: bytes | None, source: str = "127.0.0.1", host: str = "127.0.0.1"
) -> bytes:
    """Everything the web listener sends on a connection from ``source`` (to ``host``)
    that sends ``request`` (None: nothing), to its close."""
    async with asyncio.timeout(5):
        reader, writer = await asyncio.open_connection(host, port, local_addr=(source, 0))
        try:
            if request is not None:
                writer.write(request)
            return await reader.read()
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()


def status(data: bytes) -> int:
    return int(data.split(b" ", 2)[1])


async def test_a_mapped_address_forwarded_by_a_trusted_proxy_is_banned_as_ipv4(
    tmp_path: Path,
) -> None:
    async with running_server(settings_for(tmp_path, trusted=(PROXY,))) as server:
        boss = await oper(server)
        told = await notices(boss, "DLINE 10 203.0.113.0/24 :no proxies from there")
        assert any("D-line set: 203.0.113.0/24" in t for t in told)
        port = web_port(server)
        mapped = {"X-Forwarded-For": "::ffff:203.0.113.9"}
        with pytest.raises(InvalidStatus) as refused:
            await WsClient.open(port, additional_headers=mapped)
        assert refused.value.response.status_code == 403
        assert b"You are banned from this server: no proxies from there" in (
            refused.value.response.body or b""
        )
        page = await answer(port, get("/", "X-Forwarded-For: ::ffff:203.0.113.9"))
        assert status(page) == 403
        # Another mapped client is let in, and known by its IPv4 address.
        other = {"X-Forwarded-For": "::ffff:cb00:7207"}
        anna = await WsClient.open(port, additional_headers=other)
        assert (await anna.register("anna"))[0].command == n.RPL_WELCOME
        await boss.send("WHOIS anna")
        (user,) = [m for m in await boss.sync() if m.command == n.RPL_WHOISUSER]
        assert user.params[3] == "203.0.114.7"
        await anna.close()
        await boss.close()


async def test_a_dlined_address_is_served_nothing_over_plain_http(tmp_path: Path) -> None:
    async with running_server(settings_for(tmp_path)) as server:
        boss = await oper(server)
        port = web_port(server)
        assert status(await answer(port, get("/"), source=FAR)) == 200
        told = await notices(boss, "DLINE 10 127.0.1.0/24 :not from there")
        assert any("D-line set: 127.0.1.0/24" in t for t in told)
        # Refused as it connects, before any request: the files, the metrics, the
        # health check and the WebSocket door alike.
        refused = await answer(port, None, source=FAR)
        assert status(refused) == 403
        assert refused.endswith(b"You are banned from this server: not from there\n")
        for path in ("/", "/index.html", "/metrics", "/healthz"):
            assert status(await answer(port, get(path), source=FAR)) == 403
        with pytest.raises(InvalidStatus) as handshake:
            await WsClient.open(port, local_addr=(FAR, 0))
        assert handshake.value.response.status_code == 403
        assert server.gate.open == 1  # the operator's: none of the refused is held
        # Others are served as before.
        assert status(await answer(port, get("/metrics"))) == 200
        await boss.close()


def local_address() -> str | None:
    """An IPv4 address of this machine that is not a loopback one, if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.254", 9))  # routed, never sent to
        except OSError:
            return None
        address = str(probe.getsockname()[0])
    return None if address.startswith("127.") or address == "0.0.0.0" else address


async def test_metrics_on_the_public_listener_are_for_loopback_and_trusted_only(
    tmp_path: Path,
) -> None:
    settings = settings_for(tmp_path, trusted=(PROXY,))
    async with running_server(settings) as server:
        port = web_port(server)
        assert status(await answer(port, get("/metrics"))) == 200
        assert status(await answer(port, get("/metrics"), source=FAR)) == 200  # loopback
        outsider = await answer(port, get("/metrics", "X-Forwarded-For: 198.51.100.7"))
        assert status(outsider) == 404
        assert b"hubbub_" not in outsider
        head = await answer(port, get("/metrics", "X-Forwarded-For: 198.51.100.7", method="HEAD"))
        assert status(head) == 404
        # Through the trusted proxy from this machine, it is still this machine.
        assert status(await answer(port, get("/metrics", "X-Forwarded-For: 127.0.0.1"))) == 200
    address = local_address()
    if address is None:
        pytest.skip("this machine has no IPv4 address but loopback ones")
    wide = settings.replace(web=Listen("0.0.0.0", 0))
    async with running_server(wide) as server:
        port = web_port(server)
        direct = await answer(port, get("/metrics"), source=address, host=address)
        assert status(direct) == 404
        assert status(await answer(port, get("/healthz"), source=address, host=address)) == 200
    trusting = wide.replace(trusted=(PROXY, address))
    async with running_server(trusting) as server:
        port = web_port(server)
        assert status(await answer(port, get("/metrics"), source=address, host=address)) == 200
