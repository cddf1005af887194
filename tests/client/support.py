"""Helpers for the client's tests: settings for an in-process server, waiting on the app."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

from hubbub.client.app import ChatApp
from hubbub.client.config import Network
from hubbub.client.connection import Timing
from hubbub.client.widgets.messages import MessageView
from hubbub.server import Server
from hubbub.settings import Listen, Settings

WAIT = 10.0
# Reconnect at once in tests; the keep-alive never fires in a test's lifetime.
FAST = Timing(first_retry=0.05, last_retry=0.2, connect=5.0)


def server_settings(tmp_path: Path, port: int = 0, plain_port: int = 0) -> Settings:
    return Settings(
        server_name="irc.test",
        listen=(Listen("127.0.0.1", port),),
        plain=Listen("127.0.0.1", plain_port),
        web=None,
        data_dir=tmp_path,
    )


def irc_port(server: Server) -> int:
    return server.addresses[0][1]


def plain_port(server: Server) -> int:
    return server.plain_addresses[0][1]


def make_app(port: int, nick: str = "anna", join: tuple[str, ...] = (), **kw: object) -> ChatApp:
    network = Network("test", host="127.0.0.1", port=port, nick=nick, join=join, **kw)  # type: ignore[arg-type]
    return ChatApp(network, FAST)


async def until(app: ChatApp, check: Callable[[], bool], seconds: float = WAIT) -> None:
    """Wait until ``check()`` holds, re-checking each time the app draws updates."""
    async with asyncio.timeout(seconds):
        while not check():
            app.updated.clear()
            await app.updated.wait()


def shown(app: ChatApp) -> list[str]:
    """The message view's lines as text."""
    return app.query_one(MessageView).plain_lines


def showing(app: ChatApp, text: str) -> Callable[[], bool]:
    return lambda: any(text in line for line in shown(app))


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@contextlib.asynccontextmanager
async def serving(handle: Handler) -> AsyncIterator[int]:
    """A TCP server on 127.0.0.1 port 0 running ``handle`` per connection; yields the port.
    On exit every connection is closed and every handler has finished."""
    writers: list[asyncio.StreamWriter] = []
    tasks: list[asyncio.Task[None]] = []

    async def run(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        task = asyncio.current_task()
        assert task is not None
        tasks.append(task)
        with contextlib.suppress(ConnectionError):
            await handle(reader, writer)

    server = await asyncio.start_server(run, "127.0.0.1", 0, limit=1 << 20)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        for writer in writers:
            writer.close()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for writer in writers:
            with contextlib.suppress(OSError):
                await writer.wait_closed()
        await server.wait_closed()


@contextlib.asynccontextmanager
async def scripted_server(*lines: bytes) -> AsyncIterator[int]:
    """A server that sends ``lines`` in one write to whoever connects, then reads until
    the client leaves; yields its port."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"".join(line + b"\r\n" for line in lines))
        while await reader.readline():
            pass

    async with serving(handle) as port:
        yield port
