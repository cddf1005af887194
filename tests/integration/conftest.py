"""Fixtures for integration tests: a real server on port 0 and socket clients closed after."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import trustme

from hubbub.server import Server
from hubbub.settings import Limits, Listen, Settings
from hubbub.wire import numerics as n
from tests.helpers import LineClient, running_server


def make_settings(tmp_path: Path, **limits: Any) -> Settings:
    """Settings for a server on 127.0.0.1, port 0, with ``limits`` overriding defaults."""
    return Settings(
        server_name="irc.test",
        listen=(Listen("127.0.0.1", 0),),
        plain=Listen("127.0.0.1", 0),
        web=None,
        data_dir=tmp_path,
        limits=Limits(**limits),
    )


def tls_settings(tmp_path: Path, ca: trustme.CA) -> Settings:
    """Settings with a plain and a TLS listener whose certificate ``ca`` issued, and
    ``ca`` trusted for client certificates (SASL EXTERNAL)."""
    ca.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(
        str(tmp_path / "server.pem")
    )
    ca.cert_pem.write_to_path(str(tmp_path / "clients-ca.pem"))
    return make_settings(tmp_path).replace(
        listen=(Listen("127.0.0.1", 0), Listen("127.0.0.1", 0, tls=True)),
        tls_cert=tmp_path / "server.pem",
        tls_key=tmp_path / "server.pem",
        tls_client_ca=tmp_path / "clients-ca.pem",
    )


def port_of(server: Server) -> int:
    return server.addresses[0][1]


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    async with running_server(make_settings(tmp_path)) as server:
        yield server


class Clients:
    """Opens :class:`LineClient` connections and closes all of them at teardown."""

    def __init__(self) -> None:
        self.opened: list[LineClient] = []

    async def open(self, server: Server) -> LineClient:
        client = await LineClient.open(port_of(server))
        self.opened.append(client)
        return client

    async def open_slow_reader(self, server: Server) -> LineClient:
        """A client with a tiny receive window, so unread output backs up at the server."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.setblocking(False)
        try:
            await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port_of(server)))
            reader, writer = await asyncio.open_connection(sock=sock, limit=1 << 16)
        except BaseException:
            sock.close()
            raise
        client = LineClient(reader, writer)
        self.opened.append(client)
        return client

    async def connect(self, server: Server, nick: str, *channels: str) -> LineClient:
        """A registered client that joined ``channels``, with everything so far read."""
        client = await self.open(server)
        await client.register(nick)
        for channel in channels:
            await client.send(f"JOIN {channel}")
            await client.read_until(n.RPL_ENDOFNAMES)
        await client.sync()
        return client

    async def close_all(self) -> None:
        for client in self.opened:
            await client.close()


@pytest.fixture
async def clients() -> AsyncIterator[Clients]:
    opened = Clients()
    try:
        yield opened
    finally:
        await opened.close_all()


async def logged_in(server: Server, password: str, account: str, nick: str) -> LineClient:
    """A client logged in to ``account`` with SASL PLAIN, registered as ``nick``."""
    client = await LineClient.open(port_of(server))
    await client.log_in(account, password, nick)
    return client
