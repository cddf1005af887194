"""Wiring: the hub, the IRC door and its listeners, signals and a graceful shutdown."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from hubbub.core.hub import Hub, HubLimits
from hubbub.doors.connection import LineConnection, OutputBatcher
from hubbub.doors.irc.context import IrcContext
from hubbub.doors.irc.session import IrcSession
from hubbub.settings import ConfigError, Settings
from hubbub.wire.casemap import Casemap

logger = logging.getLogger(__name__)

DEFAULT_MOTD = [
    "Welcome to hubbub.",
    "Join a channel with /join #name; /help lists every command.",
]
_SHUTDOWN_GRACE = 5.0


def hub_limits(settings: Settings) -> HubLimits:
    limits = settings.limits
    return HubLimits(
        channels_per_user=limits.channels_per_user,
        topic_length=limits.topiclen,
        kick_length=limits.kicklen,
        away_length=limits.awaylen,
        list_length=limits.list_length,
        whowas_length=limits.whowas,
    )


def read_motd(settings: Settings) -> list[str]:
    """The MOTD lines: the configured file, or a short default."""
    if settings.motd_file is None:
        return list(DEFAULT_MOTD)
    try:
        text = settings.motd_file.read_text(encoding="utf-8", errors="replace")
    except OSError as error:
        logger.warning("cannot read MOTD file %s: %s", settings.motd_file, error.strerror)
        return []
    return [line.rstrip("\r")[:400] for line in text.splitlines()[:200]]


class Server:
    """One hubbub server process.

    Args:
        settings: what to run.
        reload: builds fresh settings for REHASH and SIGHUP (config file plus flags).
    """

    def __init__(self, settings: Settings, reload: Callable[[], Settings] | None = None) -> None:
        self.settings = settings
        self._reload = reload
        casemap = Casemap(
            settings.casemapping, settings.limits.nicklen, settings.limits.channellen
        )
        self.hub = Hub(casemap, hub_limits(settings))
        self.irc = IrcContext(self.hub, settings, read_motd(settings), self.rehash)
        self.connections: set[LineConnection] = set()
        self.addresses: list[tuple[str, int]] = []
        self.ready = asyncio.Event()
        self._stop = asyncio.Event()

    def stop(self) -> None:
        """Begin a graceful shutdown (SIGINT, SIGTERM)."""
        self._stop.set()

    def rehash(self) -> str | None:
        """Reload the config file; return an error message, or None when it worked.

        Listeners and the casemapping stay as they are until a restart; everything else
        (names, MOTD, operators, password, limits) takes effect for new commands at once.
        """
        if self._reload is None:
            return "no config file to reload"
        try:
            settings = self._reload()
        except ConfigError as error:
            logger.error("rehash failed: %s", error)
            return str(error)
        settings = settings.replace(
            listen=self.settings.listen,
            casemapping=self.settings.casemapping,
            server_name=self.settings.server_name,
        )
        self.settings = settings
        self.irc.settings = settings
        self.irc.motd = read_motd(settings)
        self.hub.limits = hub_limits(settings)
        logger.info("configuration reloaded from %s", settings.config_file)
        return None

    def _make_session(
        self,
        send: Callable[[bytes], None],
        close: Callable[[], None],
        host: str,
        log: logging.LoggerAdapter[logging.Logger],
    ) -> IrcSession:
        return IrcSession(self.irc, send, close, host, log)

    async def run(self) -> None:
        """Serve until :meth:`stop`; then stop accepting, say ERROR to everyone, and close."""
        loop = asyncio.get_running_loop()
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        batcher = OutputBatcher(loop)

        def protocol() -> LineConnection:
            return LineConnection(
                self._make_session, self.settings.limits, batcher, self.connections
            )

        listeners = []
        for listen in self.settings.listen:
            server = await loop.create_server(
                protocol, listen.host, listen.port, reuse_address=True, backlog=1024
            )
            listeners.append(server)
            for sock in server.sockets:
                address = sock.getsockname()
                self.addresses.append((address[0], address[1]))
                logger.info("IRC listening on %s port %d", address[0], address[1])
        self.ready.set()
        try:
            await self._stop.wait()
        finally:
            await self._shutdown(listeners)

    async def _shutdown(self, listeners: list[asyncio.Server]) -> None:
        logger.info("shutting down: %d connections", len(self.connections))
        for server in listeners:
            server.close()
        waiting = [c.closed for c in self.connections]
        for connection in list(self.connections):
            connection.shutdown("Server shutting down")
        if waiting:
            await asyncio.wait(waiting, timeout=_SHUTDOWN_GRACE)
            for connection in list(self.connections):
                connection.abort()
        for server in listeners:
            await server.wait_closed()
        logger.info("stopped")
