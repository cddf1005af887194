"""The web listener in the real server on 127.0.0.1, port 0: IRC over WebSocket (the
``websockets`` client library as the peer) beside TCP IRC and plain-door users, and the
web client's files over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hubbub.server import Server
from hubbub.wire import numerics as n
from tests.helpers import running_server
from tests.integration.conftest import Clients
from tests.integration.web import APP, INDEX, WsClient, get, http, web_port, web_settings


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    async with running_server(web_settings(tmp_path)) as server:
        yield server


@pytest.fixture
async def web_clients() -> AsyncIterator[list[WsClient]]:
    opened: list[WsClient] = []
    try:
        yield opened
    finally:
        for client in opened:
            await client.close()


async def ws(server: Server, opened: list[WsClient], nick: str | None = None) -> WsClient:
    client = await WsClient.open(web_port(server))
    opened.append(client)
    if nick is not None:
        await client.register(nick)
    return client


# -- IRC over WebSocket ------------------------------------------------------------------


async def test_a_websocket_user_and_a_tcp_user_chat_in_one_room(
    server: Server, clients: Clients, web_clients: list[WsClient]
) -> None:
    anna = await ws(server, web_clients, "anna")
    boris = await clients.connect(server, "boris", "#rust")
    await anna.send("JOIN #rust")
    await anna.read_until(n.RPL_ENDOFNAMES)
    await boris.read_until("JOIN")

    await anna.send("PRIVMSG #rust :hello from the browser")
    (said,) = [m for m in await boris.sync() if m.command == "PRIVMSG"]
    assert str(said.source).startswith("anna!")
    assert said.params == ("#rust", "hello from the browser")

    await boris.send("PRIVMSG #rust :hello from irssi")
    (heard,) = [m for m in await anna.sync() if m.command == "PRIVMSG"]
    assert heard.params == ("#rust", "hello from irssi")


async def test_index_html_is_served_at_the_root(server: Server) -> None:
    status, fields, body = await http(web_port(server), get("/"))
    assert status == 200
    assert fields["content-type"] == "text/html; charset=utf-8"
    assert body == INDEX


async def test_a_script_is_served_with_its_content_type(server: Server) -> None:
    status, fields, body = await http(web_port(server), get("/app.js"))
    assert (status, fields["content-type"], body) == (200, "text/javascript; charset=utf-8", APP)


async def test_the_server_stays_up_for_others_after_a_websocket_user_leaves(
    server: Server, clients: Clients, web_clients: list[WsClient]
) -> None:
    anna = await ws(server, web_clients, "anna")
    await anna.send("QUIT :bye")
    assert await anna.closed()
    boris = await clients.connect(server, "boris")
    await boris.send("WHOIS anna")
    replies = await boris.sync()
    assert replies[0].command == n.ERR_NOSUCHNICK
