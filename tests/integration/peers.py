"""Real IRC client libraries from PyPI as peers: jaraco's ``irc`` and ``pydle``.

Both are wrapped so that what they see lands in one :class:`Recorder` as :class:`Seen`
values of the same shape, ``(kind, source nick, target, *arguments)``, whichever library
produced them; a test waits for a value instead of sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Any

import pydle
from irc.client_aio import AioConnection, AioReactor

WAIT = 5.0


@dataclass(frozen=True, slots=True)
class Seen:
    """One thing a client library reported."""

    kind: str
    args: tuple[str, ...]


class Recorder:
    """Collects :class:`Seen` values and lets a test wait for one."""

    def __init__(self) -> None:
        self.seen: list[Seen] = []
        self._changed = asyncio.Event()

    def record(self, kind: str, *args: str) -> None:
        self.seen.append(Seen(kind, args))
        self._changed.set()

    def find(self, kind: str, *args: str) -> Seen | None:
        """The first value of ``kind`` whose arguments start with ``args``."""
        for item in self.seen:
            if item.kind == kind and item.args[: len(args)] == args:
                return item
        return None

    async def wait_for(self, kind: str, *args: str, seconds: float = WAIT) -> Seen:
        """Wait until a value of ``kind`` whose arguments start with ``args`` is recorded."""
        async with asyncio.timeout(seconds):
            while True:
                found = self.find(kind, *args)
                if found is not None:
                    return found
                self._changed.clear()
                await self._changed.wait()


class JaracoPeer:
    """A client built on ``irc.client_aio.AioReactor`` (jaraco/irc)."""

    def __init__(self, nick: str) -> None:
        self.nick = nick
        self.log = Recorder()
        self.reactor = AioReactor(loop=asyncio.get_running_loop())
        self.connection: AioConnection = self.reactor.server()
        self.reactor.add_global_handler("all_events", self._on_event)

    def _on_event(self, connection: AioConnection, event: Any) -> None:
        source = getattr(event.source, "nick", None) or str(event.source or "")
        target = "" if event.target is None else str(event.target)
        self.log.record(event.type, source, target, *(str(a) for a in event.arguments))

    async def connect(self, port: int) -> None:
        """Connect and wait for the end of the welcome burst."""
        await self.connection.connect("127.0.0.1", port, self.nick, username="jaraco")
        await self.log.wait_for("endofmotd")

    async def join(self, channel: str) -> None:
        self.connection.join(channel)
        await self.log.wait_for("join", self.nick, channel)

    def say(self, target: str, text: str) -> None:
        self.connection.privmsg(target, text)

    def mode(self, target: str, *modes: str) -> None:
        self.connection.mode(target, " ".join(modes))

    def topic(self, channel: str, text: str) -> None:
        self.connection.topic(channel, text)

    def part(self, channel: str, reason: str) -> None:
        # irc's ``part`` sends its message as is; a trailing parameter needs its colon.
        self.connection.part(channel, ":" + reason)

    def change_nick(self, nick: str) -> None:
        self.connection.nick(nick)

    def quit(self, reason: str) -> None:
        self.connection.quit(reason)

    def close(self) -> None:
        if self.connection.is_connected():
            self.connection.disconnect("bye")


class PydleClient(pydle.Client):  # type: ignore[misc]
    """A pydle client whose callbacks record what it sees; it never reconnects."""

    RECONNECT_ON_ERROR = False

    def __init__(self, nick: str, log: Recorder) -> None:
        super().__init__(nick, username="pydle", realname=f"pydle {nick}")
        self.log = log

    async def on_raw(self, message: Any) -> None:
        # What really arrived: pydle fakes an echo of its own PRIVMSGs to its callbacks.
        source = str(message.source or "").partition("!")[0]
        self.log.record("raw", str(message.command), source, *(str(p) for p in message.params))
        await super().on_raw(message)

    async def on_connect(self) -> None:
        await super().on_connect()
        self.log.record("connect", self.nickname)

    async def on_join(self, channel: str, user: str) -> None:
        self.log.record("join", user, channel)

    async def on_channel_message(self, target: str, by: str, message: str) -> None:
        self.log.record("pubmsg", by, target, message)

    async def on_private_message(self, target: str, by: str, message: str) -> None:
        self.log.record("privmsg", by, target, message)

    async def on_topic_change(self, channel: str, message: str, by: str) -> None:
        self.log.record("topic", by, channel, message)

    async def on_part(self, channel: str, user: str, message: str | None = None) -> None:
        self.log.record("part", user, channel, message or "")

    async def on_quit(self, user: str, message: str | None = None) -> None:
        self.log.record("quit", user, "", message or "")

    async def on_nick_change(self, old: str, new: str) -> None:
        self.log.record("nick", old, new)

    async def on_disconnect(self, expected: bool) -> None:
        self.log.record("disconnect", str(expected))


class PydlePeer:
    """A client built on ``pydle.Client`` (asyncio)."""

    def __init__(self, nick: str) -> None:
        self.nick = nick
        self.log = Recorder()
        self.client = PydleClient(nick, self.log)

    async def connect(self, port: int) -> None:
        """Connect and wait until pydle is ready and knows its own nick.

        pydle reports the end of the MOTD before it learns its nick: that comes from a
        NICK it fakes to itself, handled after a WHOIS round trip.
        """
        await self.client.connect("127.0.0.1", port)
        await self.log.wait_for("connect")
        await self.log.wait_for("nick", pydle.client.DEFAULT_NICKNAME, self.nick)

    async def join(self, channel: str) -> None:
        await self.client.join(channel)
        await self.log.wait_for("join", self.nick, channel)

    async def say(self, target: str, text: str) -> None:
        await self.client.message(target, text)

    async def topic(self, channel: str, text: str) -> None:
        await self.client.set_topic(channel, text)

    async def part(self, channel: str, reason: str) -> None:
        await self.client.part(channel, reason)

    async def change_nick(self, nick: str) -> None:
        await self.client.set_nickname(nick)

    async def quit(self, reason: str) -> None:
        await self.client.quit(reason)

    async def close(self) -> None:
        with contextlib.suppress(ConnectionError):
            await self.client.disconnect(expected=True)
