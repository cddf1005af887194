"""TLS listeners that count a connection at the gate as they accept it.

A listener made with ``ssl=`` hands its protocol a connection only when the handshake is
over: until then nobody counts it, and one address could hold every file descriptor of
the process with handshakes it never finishes. Beginning TLS once the connection is
counted (``start_tls``) loses what arrived first under uvloop, which reads the
ClientHello before the protocol can pause it. So :class:`TlsListener` accepts sockets
itself, counts each at the gate before it reads a byte, and only then lets the event
loop take it over with TLS (``connect_accepted_socket``), within
``tls_handshake_timeout``. The door's connection owns the count from then on
(:meth:`Door.claim`), and lets it go when it is lost or its handshake fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import socket
import ssl
from collections.abc import Callable
from typing import Protocol, cast

from hubbub.doors.addresses import peer_host
from hubbub.doors.gate import Gate

logger = logging.getLogger(__name__)

# Seconds to wait when accept fails for want of resources (EMFILE, ENOBUFS), as asyncio.
_ACCEPT_RETRY = 1.0


class Door(Protocol):
    """What a TLS listener needs of a door's connection (an asyncio protocol)."""

    def claim(self, host: str) -> None:
        """Own the place at the gate that was taken for ``host`` when it was accepted."""

    @property
    def made(self) -> bool:
        """Whether the connection was made (its transport then tells it when it is lost)."""

    def release(self) -> None:
        """Let its place at the gate go."""


def certificate_fingerprint(transport: asyncio.BaseTransport) -> str | None:
    """The SHA-256 of the client's certificate (hex, as CertFP shows it), if it sent one."""
    ssl_object = transport.get_extra_info("ssl_object")
    certificate = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
    return hashlib.sha256(certificate).hexdigest() if certificate else None


class TlsListener:
    """Accepts TLS connections for a door, counted at ``gate`` from their first moment.

    Args:
        door: makes the door's connection for an accepted socket.
        gate: where connections are counted.
        context: the server's TLS as it is now (a rehash makes a new one).
        handshake_timeout: seconds a client has to finish its handshake; read at each
            connection (a rehash may change it).
    """

    def __init__(
        self,
        door: Callable[[], Door],
        gate: Gate,
        context: Callable[[], ssl.SSLContext],
        handshake_timeout: Callable[[], float],
    ) -> None:
        self._door = door
        self._gate = gate
        self._context = context
        self._handshake_timeout = handshake_timeout
        self.sockets: list[socket.socket] = []
        self._accepting: set[asyncio.Task[None]] = set()
        # Handshakes under way, with their sockets (shut down when the server stops).
        self._shaking: dict[asyncio.Task[None], socket.socket] = {}

    async def listen(self, host: str, port: int, backlog: int) -> None:
        """Bind ``host`` (every address it resolves to) and begin accepting."""
        loop = asyncio.get_running_loop()
        infos = await loop.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
        try:
            for family, kind, proto, _, address in dict.fromkeys(infos):
                sock = socket.socket(family, kind, proto)
                self.sockets.append(sock)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                if family == socket.AF_INET6:  # as asyncio: one family a socket
                    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                try:
                    sock.bind(address)
                except OSError as error:
                    raise OSError(
                        error.errno,
                        f"error while attempting to bind on address {address!r}: "
                        f"{(error.strerror or '').lower()}",
                    ) from None
                sock.listen(backlog)
                sock.setblocking(False)
        except BaseException:
            for sock in self.sockets:
                sock.close()
            raise
        loop = asyncio.get_running_loop()
        for sock in self.sockets:
            task = loop.create_task(self._accept(sock))
            self._accepting.add(task)
            task.add_done_callback(self._accepting.discard)

    def close(self) -> None:
        """Stop accepting, and end the handshakes under way."""
        for task in self._accepting:
            task.cancel()
        for sock in self._shaking.values():
            # Their event loop owns the sockets now: an end of file makes it end the
            # handshake and close them.
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    async def wait_closed(self) -> None:
        tasks = [*self._accepting, *self._shaking]
        if tasks:
            await asyncio.wait(tasks)

    async def _accept(self, listening: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        gate = self._gate
        try:
            await self._accept_from(loop, gate, listening)
        finally:
            # Not before: an event loop may not lose a socket it watches (uvloop: EBUSY).
            listening.close()

    async def _accept_from(
        self, loop: asyncio.AbstractEventLoop, gate: Gate, listening: socket.socket
    ) -> None:
        while True:
            try:
                sock, address = await loop.sock_accept(listening)
            except (ConnectionAbortedError, InterruptedError):
                continue  # the client gave up while queued
            except OSError as error:
                logger.error("cannot accept TLS connections: %s; trying again soon", error)
                await asyncio.sleep(_ACCEPT_RETRY)
                continue
            host = peer_host(address)
            if gate.banned(host) is not None:
                # Nothing to say, as below: refused before the handshake costs anything.
                gate.log_refusal(host, "D-lined")
                sock.close()
                continue
            if not gate.admit(host, gate.is_trusted(host)):
                # Nothing to say: a TLS client could not read a refusal in plain text.
                gate.log_refusal(host)
                sock.close()
                continue
            task = loop.create_task(self._shake(sock, host))
            self._shaking[task] = sock
            task.add_done_callback(self._shaking.pop)

    async def _shake(self, sock: socket.socket, host: str) -> None:
        connection = self._door()
        connection.claim(host)
        try:
            await asyncio.get_running_loop().connect_accepted_socket(
                lambda: cast(asyncio.Protocol, connection),
                sock,
                ssl=self._context(),
                ssl_handshake_timeout=self._handshake_timeout(),
            )
        except BaseException as error:  # the event loop closes the socket
            if not connection.made:  # else its transport tells it, and it lets go
                connection.release()
            if not isinstance(error, Exception):
                raise
            # ssl.SSLError, a reset, asyncio's "handshake is taking longer": routine.
            logger.debug("TLS handshake from %s failed: %r", host, error)
