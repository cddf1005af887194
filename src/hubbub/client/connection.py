"""The client's one asyncio driver: connect (TCP or TLS), feed received bytes to the
session, write what it sends, notice a dead link, and reconnect with backoff.

The session (:class:`~hubbub.client.session.IrcSession` or
:class:`~hubbub.client.plain.PlainSession`) does no I/O; this module does nothing else.
Every update the session returns is handed to ``deliver`` (the app) at once, in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from hubbub.client.config import Network
from hubbub.client.state import SERVER, ChatState, LineKind, StatusChanged, Update
from hubbub.wire.casemap import Key
from hubbub.wire.redact import redact

logger = logging.getLogger(__name__)


class Dialect(Protocol):
    """What the driver needs of a session."""

    state: ChatState

    def connection_made(self, send: Callable[[bytes], None]) -> list[Update]: ...
    def connection_lost(self, reason: str) -> list[Update]: ...
    def receive_data(self, data: bytes) -> list[Update]: ...
    def submit(self, key: Key, text: str) -> list[Update]: ...
    def seen(self, key: Key) -> None: ...


@dataclass(frozen=True, slots=True)
class Timing:
    """How patient the driver is, in seconds.

    Attributes:
        first_retry: wait before the first reconnection; doubled after each failure.
        last_retry: the longest wait between attempts.
        idle: silence from the server after which the client sends PING (IRC only).
        dead: further silence after which the connection is given up.
        connect: the longest a TCP/TLS connection may take to open.
    """

    first_retry: float = 2.0
    last_retry: float = 60.0
    idle: float = 120.0
    dead: float = 60.0
    connect: float = 20.0


class Connection:
    """Keeps one network connected while :meth:`run` runs.

    Args:
        network: where to connect.
        session: the dialect; it keeps its state across reconnections.
        deliver: called with the updates of every event, in order.
        timing: retry and keep-alive delays.
    """

    def __init__(
        self,
        network: Network,
        session: Dialect,
        deliver: Callable[[list[Update]], None],
        timing: Timing | None = None,
    ) -> None:
        self.network = network
        self.session = session
        self.deliver = deliver
        self.timing = timing or Timing()
        self._writer: asyncio.StreamWriter | None = None
        self._stopping = False
        self.attempts = 0  # connection attempts so far, for status and tests

    @property
    def connected(self) -> bool:
        return self._writer is not None

    def send(self, data: bytes) -> None:
        writer = self._writer
        if writer is None or writer.is_closing():
            return
        logger.debug("> %r", redact(data))
        writer.write(data)

    def stop(self) -> None:
        """Close the connection and stop reconnecting."""
        self._stopping = True
        if self._writer is not None:
            self._writer.close()

    async def run(self) -> None:
        """Connect, read until the connection is lost, wait, and again, until stopped."""
        delay = self.timing.first_retry
        while not self._stopping:
            self.attempts += 1
            state = self.session.state
            state.note(f"Connecting to {self.network.address} …", SERVER)
            self.deliver([*state.take_updates(), StatusChanged()])
            try:
                reader, writer = await self._open()
            except (OSError, TimeoutError, ssl.SSLError, UnicodeError) as error:
                reason = getattr(error, "strerror", None) or str(error) or type(error).__name__
                state.note(f"Cannot connect: {reason}", SERVER, LineKind.ERROR)
                self.deliver(state.take_updates())
            else:
                registered = await self._serve(reader, writer)
                if registered:
                    delay = self.timing.first_retry
            if self._stopping:
                break
            # Jitter keeps many clients of one server from coming back at the same moment.
            wait = delay * random.uniform(0.8, 1.2)
            state.note(f"Reconnecting in {wait:.0f} s …", SERVER)
            self.deliver(state.take_updates())
            await asyncio.sleep(wait)
            delay = min(delay * 2, self.timing.last_retry)

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        context: ssl.SSLContext | None = None
        if self.network.tls:
            context = ssl.create_default_context(cafile=self.network.ca_file)
            if not self.network.verify_tls:
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
        async with asyncio.timeout(self.timing.connect):
            return await asyncio.open_connection(self.network.host, self.network.port, ssl=context)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Read from one connection until it ends; True if it got as far as registering."""
        self._writer = writer
        session = self.session
        registered = False
        reason = "connection closed"
        try:
            self.deliver(session.connection_made(self.send))
            pinged = False
            while not self._stopping:
                patience = self.timing.dead if pinged else self.timing.idle
                try:
                    async with asyncio.timeout(patience):
                        data = await reader.read(65536)
                except TimeoutError:
                    if pinged or self.network.plain:
                        if self.network.plain:
                            continue  # the plain dialect has no PING; silence is normal
                        reason = "no answer from the server"
                        break
                    self.send(b"PING :hubbub-keepalive\r\n")
                    pinged = True
                    continue
                pinged = False
                if not data:
                    break
                if logger.isEnabledFor(logging.DEBUG):
                    logger.debug("< %r", redact(data))
                try:
                    updates = session.receive_data(data)
                except Exception:
                    # The one catch-all: whatever a server sends, a bug in handling it
                    # costs that data, not the app (which would exit).
                    logger.exception("cannot handle data from the server")
                    session.state.note(
                        "Internal error handling the server's data (see the log)",
                        SERVER,
                        LineKind.ERROR,
                    )
                    updates = session.state.take_updates()
                self.deliver(updates)
                registered = registered or session.state.registered
        except (OSError, ssl.SSLError) as error:
            reason = error.strerror or str(error) or type(error).__name__
        finally:
            self._writer = None
            writer.close()
            with contextlib.suppress(OSError, ssl.SSLError):
                await writer.wait_closed()
        if self._stopping:
            reason = "closed"
        self.deliver(session.connection_lost(reason))
        return registered
