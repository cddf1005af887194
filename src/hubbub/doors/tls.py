"""TLS begun by the connection, after it was admitted.

A listener made with ``ssl=`` hands its protocol the connection only once the handshake
is over, and asyncio gives a handshake a minute: connections that never finish theirs
were counted nowhere meanwhile, and one address could hold every file descriptor of
the process with them. The TLS listeners therefore accept plain TCP; the connection
counts itself at its address's gate as it opens, like any other, and only then
upgrades itself (:func:`upgrade`), within ``tls_handshake_timeout``.
"""

from __future__ import annotations

import asyncio
import logging
import ssl

logger = logging.getLogger(__name__)


class Upgraded(asyncio.Protocol):
    """The TLS transport, and what the client sent over it before the connection took
    it over: the handshake's last bytes may carry its first lines, which asyncio hands
    on at once, before the coroutine that waited for the handshake goes on."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self._early: list[bytes] = []
        self._eof = False
        self._lost: tuple[Exception | None] | None = None

    def data_received(self, data: bytes) -> None:
        self._early.append(data)

    def eof_received(self) -> bool | None:
        self._eof = True
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self._lost = (exc,)

    def hand_over(self, protocol: asyncio.Protocol) -> None:
        """Make ``protocol`` the transport's, and give it what arrived meanwhile."""
        assert self.transport is not None
        self.transport.set_protocol(protocol)
        for data in self._early:
            protocol.data_received(data)
        self._early = []
        if self._eof:
            protocol.eof_received()
        if self._lost is not None:
            protocol.connection_lost(self._lost[0])


async def upgrade(
    transport: asyncio.Transport, context: ssl.SSLContext, handshake_timeout: float
) -> Upgraded | None:
    """TLS over ``transport`` once the client's handshake is done; None when it failed
    or took longer than ``handshake_timeout`` seconds (the connection is then aborted)."""
    loop = asyncio.get_running_loop()
    upgraded = Upgraded()
    try:
        upgraded.transport = await loop.start_tls(
            transport,
            upgraded,
            context,
            server_side=True,
            ssl_handshake_timeout=handshake_timeout,
        )
    except (OSError, TimeoutError, RuntimeError) as error:
        # OSError covers ssl.SSLError, a reset and asyncio's "handshake is taking
        # longer" abort; RuntimeError, a transport that was closing already.
        logger.debug("TLS handshake failed: %s", error or type(error).__name__)
        transport.abort()
        return None
    if upgraded.transport is None:  # pragma: no cover - start_tls returns or raises
        transport.abort()
        return None
    return upgraded
