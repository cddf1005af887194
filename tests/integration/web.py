"""Peers of the web listener for integration tests: a WebSocket IRC client (the
``websockets`` library's), a raw HTTP exchange, and a server with a web client folder."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from hubbub.server import Server
from hubbub.settings import Listen, Settings
from hubbub.wire.message import Message, parse
from tests.integration.conftest import make_settings

INDEX = b"<!doctype html><title>hubbub</title><script src=app.js></script>\n" * 8
APP = b"// the client\nconsole.log('hello');\n" * 40


def site(folder: Path) -> Path:
    """A web client folder: a page, a script, a hashed asset, an image."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "index.html").write_bytes(INDEX)
    (folder / "app.js").write_bytes(APP)
    (folder / "style.0a1b2c3d4e.css").write_bytes(b"body { color: black; }\n" * 20)
    (folder / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    (folder / "lib").mkdir(exist_ok=True)
    (folder / "lib" / "irc.js").write_bytes(b"export const irc = 1;\n")
    (folder / "notes.py").write_bytes(b"secret = 1\n")
    (folder / ".hidden.js").write_bytes(b"secret\n")
    return folder


def web_settings(tmp_path: Path, **limits: Any) -> Settings:
    """Settings for a server with every door on 127.0.0.1, port 0, serving :func:`site`."""
    return make_settings(tmp_path, **limits).replace(
        web=Listen("127.0.0.1", 0), web_root=site(tmp_path / "site")
    )


def web_port(server: Server) -> int:
    return server.web_addresses[0][1]


class WsClient:
    """An IRC client over WebSocket, with the reading helpers of ``LineClient``."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self._token = 0

    @classmethod
    async def open(
        cls,
        port: int,
        subprotocols: Sequence[str] | None = ("text.ircv3.net",),
        path: str = "/irc",
        scheme: str = "ws",
        **options: Any,
    ) -> WsClient:
        connection = await connect(
            f"{scheme}://127.0.0.1:{port}{path}",
            subprotocols=[Subprotocol(s) for s in subprotocols] if subprotocols else None,
            **options,
        )
        return cls(connection)

    @property
    def subprotocol(self) -> str | None:
        return self.connection.subprotocol

    async def send(self, *lines: str | bytes) -> None:
        for line in lines:
            await self.connection.send(line)

    async def receive(self, seconds: float = 5.0) -> str | bytes | None:
        """The next message as it came (text or binary), or None once closed."""
        try:
            async with asyncio.timeout(seconds):
                return await self.connection.recv()
        except ConnectionClosed:
            return None

    async def read(self, seconds: float = 5.0) -> Message | None:
        raw = await self.receive(seconds)
        if raw is None:
            return None
        return parse(raw.encode() if isinstance(raw, str) else raw)

    async def read_until(
        self, match: Callable[[Message], bool] | str, seconds: float = 5.0
    ) -> list[Message]:
        check = (lambda m: m.command == match) if isinstance(match, str) else match
        seen: list[Message] = []
        async with asyncio.timeout(seconds):
            while True:
                message = await self.read(seconds)
                if message is None:
                    raise EOFError(f"closed; saw {seen}")
                seen.append(message)
                if check(message):
                    return seen

    async def sync(self) -> list[Message]:
        self._token += 1
        token = f"sync{self._token}"
        await self.send(f"PING {token}")
        lines = await self.read_until(lambda m: m.command == "PONG" and token in m.params)
        return lines[:-1]

    async def register(self, nick: str) -> list[Message]:
        await self.send(f"NICK {nick}", f"USER {nick[:8]} 0 * :Real {nick}")
        return await self.read_until("376")

    async def closed(self, seconds: float = 5.0) -> bool:
        async with asyncio.timeout(seconds):
            with contextlib.suppress(ConnectionClosed):
                while True:
                    await self.connection.recv()
        return True

    async def close(self) -> None:
        await self.connection.close()


async def http(
    port: int, request: bytes, tls: ssl.SSLContext | None = None, seconds: float = 5.0
) -> tuple[int, dict[str, str], bytes]:
    """Send raw request bytes; the answer's status, fields (lower-case names) and body,
    read to the end of the stream (the listener answers one request per connection)."""
    async with asyncio.timeout(seconds):
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", port, ssl=tls, server_hostname="localhost" if tls else None
        )
        try:
            writer.write(request)
            await writer.drain()
            data = await reader.read()
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError, ssl.SSLError):
                await writer.wait_closed()
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    fields: dict[str, str] = {}
    for line in lines:
        name, _, value = line.partition(":")
        fields[name.strip().lower()] = value.strip()
    return int(status_line.split(" ")[1]), fields, body


def get(path: str, *fields: str, method: str = "GET") -> bytes:
    """A request for ``path`` with ``fields`` (``Name: value``) besides Host."""
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", *fields, "", ""]
    return "\r\n".join(lines).encode()
