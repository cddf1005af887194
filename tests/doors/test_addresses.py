"""A client's address in one form (probe 22): an IPv4 client that reached a dual-stack
socket as ``::ffff:a.b.c.d`` is ``a.b.c.d`` to the gate, the bans and the hostmask."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator

import pytest

from hubbub.core.server_bans import BanKind, ServerBan
from hubbub.doors.addresses import peer_host, plain_address
from hubbub.doors.connection import LineConnection
from tests.doors.support import Driver


@pytest.mark.parametrize(
    ("given", "plain"),
    [
        ("::ffff:203.0.113.9", "203.0.113.9"),
        ("::FFFF:203.0.113.9", "203.0.113.9"),
        ("::ffff:cb00:7109", "203.0.113.9"),
        ("0:0:0:0:0:ffff:cb00:7109", "203.0.113.9"),
        ("203.0.113.9", "203.0.113.9"),
        ("2001:db8::ffff:1", "2001:db8::ffff:1"),
        ("64:ff9b::203.0.113.9", "64:ff9b::203.0.113.9"),
        ("::1", "::1"),
        ("fe80::ffff:1%eth0", "fe80::ffff:1%eth0"),
        ("unknown", "unknown"),
    ],
)
def test_only_an_ipv4_mapped_address_is_rewritten(given: str, plain: str) -> None:
    assert plain_address(given) == plain


@contextlib.asynccontextmanager
async def dual_stack(driver: Driver) -> AsyncIterator[int]:
    """A listener on ``::`` that takes IPv4 clients too (IPV6_V6ONLY off, as a proxy's
    or a system's own dual-stack socket is), carrying the driver's line connections;
    yields its port."""
    sock = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    sock.bind(("::", 0))

    def protocol() -> LineConnection:
        return LineConnection(
            driver._make_session, driver.limits, driver.batcher, driver.connections, driver.gate
        )

    server = await asyncio.get_running_loop().create_server(protocol, sock=sock)
    try:
        yield sock.getsockname()[1]
    finally:
        server.close()
        for connection in list(driver.connections):
            connection.abort()
        async with asyncio.timeout(5):
            await driver.connections.wait_empty()
            await server.wait_closed()


async def test_an_ipv4_client_of_a_dual_stack_socket_is_seen_and_banned_as_ipv4() -> None:
    driver = Driver()
    async with dual_stack(driver) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"HELLO\r\n")
        async with asyncio.timeout(5):
            assert await reader.readline() == b"HELLO\r\n"  # the session echoes
        assert driver.sessions[0].peer.shown_host == "127.0.0.1"
        writer.close()
        driver.gate.bans.add(
            ServerBan(BanKind.ADDRESS, "127.0.0.0/24", "127.0.0.0/24", "go away", "boss", 0.0)
        )
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        async with asyncio.timeout(5):
            refusal = await reader.readline()
            assert refusal == b"ERROR :You are banned from this server: go away\r\n"
            assert await reader.read() == b""
        writer.close()
        assert len(driver.sessions) == 1


def test_a_peer_is_known_by_its_plain_address_one_string_for_all_its_connections() -> None:
    first = peer_host(("::ffff:192.0.2.7", 6667, 0, 0))
    assert first == "192.0.2.7"
    # Built anew for each connection, the same address is then one string: an idle
    # connection does not keep a copy of its own.
    again = peer_host(("::ffff:192.0.2.7".upper(), 6668, 0, 0))
    assert again is first
    assert peer_host(("2001:db8::1", 6667, 0, 0)) == "2001:db8::1"
    assert peer_host(None) == "unknown"
    assert peer_host("/run/hubbub.sock") == "unknown"
