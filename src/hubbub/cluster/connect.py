"""A node's connection to NATS: made once at start, then kept up by the client itself."""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Callable, Sequence
from pathlib import Path

import nats
from nats.aio.client import Client
from nats.errors import Error as NatsError

from hubbub.wire.redact import shown_url

logger = logging.getLogger(__name__)

# Seconds between attempts to reach NATS again after losing it (forever: a node keeps
# serving its users meanwhile).
_RECONNECT_WAIT = 0.5
# Seconds a starting node tries to reach NATS before it gives up, and says why.
_START_WAIT = 10.0


class Unreachable(Exception):
    """NATS could not be reached at start; the message says where and why."""


async def connect(
    urls: Sequence[str],
    node: str,
    credentials: Path | None = None,
    token: str | None = None,
    tls_ca: Path | None = None,
    on_change: Callable[[bool], None] | None = None,
) -> Client:
    """A NATS client for ``node``, connected to one of ``urls``; ``on_change`` is told
    when the connection is lost (False) and when it is back (True).

    Raises:
        Unreachable: none of them answered (or refused the node's credentials).
    """

    async def disconnected() -> None:
        logger.warning("cluster: lost NATS; serving local users, trying again")
        if on_change is not None:
            on_change(False)

    async def reconnected() -> None:
        logger.warning("cluster: NATS is back")
        if on_change is not None:
            on_change(True)

    problems: list[Exception] = []

    async def error(problem: Exception) -> None:
        problems[:] = [problem]
        logger.debug("cluster: NATS client: %r", problem)

    tls = ssl.create_default_context(cafile=str(tls_ca)) if tls_ca is not None else None
    try:
        async with asyncio.timeout(_START_WAIT):  # else it would try for good
            return await nats.connect(
                servers=list(urls),
                name=node,
                user_credentials=str(credentials) if credentials is not None else None,
                token=token,
                tls=tls,
                allow_reconnect=True,
                max_reconnect_attempts=-1,
                reconnect_time_wait=_RECONNECT_WAIT,
                disconnected_cb=disconnected,
                reconnected_cb=reconnected,
                error_cb=error,
            )
    except (OSError, TimeoutError, NatsError, ssl.SSLError) as problem:
        reason = problems[0] if problems else problem
        raise Unreachable(
            f"cannot reach NATS at {', '.join(shown_url(url) for url in urls)}: "
            f"{reason or type(reason).__name__}"
        ) from None
