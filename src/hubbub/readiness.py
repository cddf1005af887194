"""Whether the server should be sent new clients: what ``/readyz`` answers, for a load
balancer or an orchestrator in front of one server or of a cluster's nodes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from hubbub.storage.errors import StorageError
from hubbub.storage.ports import Store

logger = logging.getLogger(__name__)

# How often the database is asked, and how long an answer may take.
_STORAGE_EVERY = 2.0
_STORAGE_WAIT = 2.0


class Readiness:
    """The server's readiness: its listeners open, its database answering (asked every
    two seconds, so that a flood of ``/readyz`` costs the database nothing), and, in a
    cluster, NATS reachable.

    Args:
        opened: set once the listeners are open (and the cluster joined).
        closing: set once the server is shutting down.
        network: whether the cluster's NATS is reachable (None: not in a cluster).
    """

    def __init__(
        self,
        opened: asyncio.Event,
        closing: asyncio.Event,
        network: Callable[[], bool] | None = None,
    ) -> None:
        self._opened = opened
        self._closing = closing
        self._network = network
        self._storage: str | None = None

    def problem(self) -> str | None:
        """Why new clients should go elsewhere now; None when they may come."""
        if self._closing.is_set():
            return "shutting down"
        if not self._opened.is_set():
            return "starting"
        if self._network is not None and not self._network():
            return "the cluster's NATS is unreachable"
        return self._storage

    async def watch(self, store: Store) -> None:
        """Ask the database, over and over, until cancelled."""
        while True:
            try:
                async with asyncio.timeout(_STORAGE_WAIT):
                    await store.ping()
            except (StorageError, TimeoutError) as error:
                if self._storage is None:
                    logger.warning("not ready: the database does not answer (%s)", error)
                self._storage = "the database does not answer"
            else:
                if self._storage is not None:
                    logger.warning("ready again: the database answers")
                self._storage = None
            await asyncio.sleep(_STORAGE_EVERY)


def ways_to_connect(
    irc: list[tuple[str, int]], plain: list[tuple[str, int]], web: list[tuple[str, int]]
) -> str:
    """What the server logs once it is ready: one line a newcomer can act on, the
    commands that reach its listeners (IRC, plain and web, by their addresses)."""
    ways = []
    if irc:
        host, port = irc[0]
        shown = f"[{host}]" if ":" in host else host
        local = host == "127.0.0.1" and port == 6667  # hubbub chat's own default
        ways.append("hubbub chat" if local else f"hubbub chat {shown}:{port}")
        ways.append(f"irssi -c {host} -p {port}")
    if plain:
        host, port = plain[0]
        ways.append(f"nc {host} {port}")
    if web:
        ways.append("a browser (the address above)")
    return ", or ".join(ways)
