"""Wiring: the hub, the IRC door and its listeners, signals and a graceful shutdown."""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Callable, Coroutine
from pathlib import Path

from hubbub.accounts.service import Accounts
from hubbub.accounts.throttle import Shared
from hubbub.certificates import tls_context
from hubbub.cluster.local import LocalBus, LocalRegistry
from hubbub.clustering import ClusterLink, OwnWrites
from hubbub.core.hub import Hub
from hubbub.core.keepers import store_keepers
from hubbub.core.ports import Kinds, Subscriber
from hubbub.core.registered import from_json
from hubbub.core.server_bans import ServerBans
from hubbub.doors.connection import LineConnection
from hubbub.doors.gate import Gate, connection_ceiling
from hubbub.doors.irc.commands.accounts import NICKSERV, registration_throttle
from hubbub.doors.irc.commands.chanserv import CHANSERV
from hubbub.doors.irc.commands.server import oper_throttle, pass_throttle
from hubbub.doors.irc.context import IrcContext
from hubbub.doors.irc.session import IrcSession
from hubbub.doors.output import Durability, OutputBatcher
from hubbub.doors.plain.context import PlainContext
from hubbub.doors.plain.session import PlainSession
from hubbub.doors.ports import Peer
from hubbub.doors.registry import Connections
from hubbub.doors.tls import Door, TlsListener
from hubbub.doors.web.connection import WebConnection
from hubbub.doors.web.context import WebContext
from hubbub.doors.web.files import StaticFiles
from hubbub.keeping import Keepers, detach_keepers, presence_policy, restore_presences
from hubbub.metrics import Metrics
from hubbub.readiness import Readiness, ways_to_connect
from hubbub.settings import (
    ConfigError,
    Listen,
    Settings,
    kept_for_restart,
    read_motd,
    restart_needed,
)
from hubbub.storage.backends import open_store
from hubbub.storage.files import private_folder
from hubbub.storage.history import HistoryWriter, ReadAfterWrite
from hubbub.storage.ports import Store
from hubbub.upkeep import (
    BanKeeper,
    carry_out_channel_orders,
    follow_channel_orders,
    notice_dropped_accounts,
    prune_history,
)
from hubbub.wire.casemap import Casemap

logger = logging.getLogger(__name__)

_SHUTDOWN_GRACE = 5.0
# The web client's files, shipped in the package.
WEB_ROOT = Path(__file__).resolve().parent / "web"


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
        ).loaded()
        # Several nodes as one network: the bus is NATS's, else this process's own.
        self.cluster = ClusterLink(settings) if settings.cluster is not None else None
        self.bus = self.cluster.bus if self.cluster is not None else LocalBus()
        self.hub = Hub(casemap, settings.limits, bus=self.bus, registry=LocalRegistry())
        self.hub.presences.policy = presence_policy(settings)
        # Subscribed to the bus while the store is open.
        self._keepers: list[tuple[Subscriber, Kinds]] = []
        self.irc = IrcContext(self.hub, settings, read_motd(settings), self.rehash)
        self.plain = PlainContext(
            self.hub,
            settings.plain_room,
            settings.language,
            backlog=settings.limits.plain_backlog,
            line_length=settings.limits.line_length,
            password=settings.password,
        )
        self.ready = asyncio.Event()
        self._stop = asyncio.Event()
        network = None if self.cluster is None else self.cluster.reachable
        self.readiness = Readiness(self.ready, self._stop, network)
        self.web = WebContext(
            StaticFiles(settings.web_root or WEB_ROOT),
            settings.web_origins,
            settings.web_names(),
            readiness=self.readiness.problem,
        )
        self.connections = Connections()
        limits = settings.limits
        self.gate = Gate(
            settings.trusted,
            limits.connections_per_ip,
            connection_ceiling(limits.max_connections),
        )
        self.irc.tally = self.plain.tally = self.gate.tally  # what every door counts
        self.metrics = Metrics(self.gate, self.connections, self.irc, settings, self._stop)
        self.metrics.cluster = self.cluster.figures if self.cluster is not None else None
        self.web.metrics = None if settings.metrics_port is not None else self.metrics.text
        self.tls = tls_context(settings)
        # Server bans: asked by every door; kept in the store once it is open.
        self.bans = self.gate.bans = self.irc.bans = self.plain.bans = ServerBans()
        self.ban_keeper = BanKeeper(self.hub, self.bans, None)
        self.irc.ban_book = self.ban_keeper
        self.addresses: list[tuple[str, int]] = []
        self.tls_addresses: list[tuple[str, int]] = []
        self.plain_addresses: list[tuple[str, int]] = []
        self.web_addresses: list[tuple[str, int]] = []

    def stop(self) -> None:
        """Begin a graceful shutdown (SIGINT, SIGTERM)."""
        self._stop.set()

    def rehash(self) -> str | None:
        """Reload the config file; return an error message, or None when it worked.

        What only a restart applies (``RESTART_ONLY``: listeners, names, storage, the
        cluster, the log; ``RESTART_ONLY_LIMITS``) stays as it is, and is logged and
        told to the operator; everything else (MOTD, operators, password, other limits,
        TLS certificates, trusted networks, origins) takes effect for new commands and
        connections at once.
        """
        if self._reload is None:
            return "no config file to reload"
        try:
            settings = self._reload()
        except ConfigError as error:
            logger.error("rehash failed: %s", error)
            return str(error)
        restart = restart_needed(self.settings, settings)
        settings = kept_for_restart(self.settings, settings)
        if self.tls is not None and settings.tls_cert is not None:
            # A context made afresh: one cannot forget a client CA it has loaded. New
            # handshakes take it; connections made go on with theirs.
            try:
                self.tls = tls_context(settings)
            except ConfigError as error:
                logger.error("rehash failed: %s", error)
                return str(error)
        else:
            settings = settings.replace(
                tls_cert=self.settings.tls_cert,
                tls_key=self.settings.tls_key,
                tls_client_ca=self.settings.tls_client_ca,
            )
        limits = settings.limits
        self.gate.configure(
            settings.trusted, limits.connections_per_ip, connection_ceiling(limits.max_connections)
        )
        self.web.origins, self.web.hosts = settings.web_origins, settings.web_names()
        self.settings = settings
        self.irc.configure(settings)
        self.irc.motd = read_motd(settings)
        self.plain = PlainContext(
            self.hub,
            settings.plain_room,
            settings.language,
            history=self.plain.history,
            backlog=settings.limits.plain_backlog,
            accounts=self.plain.accounts,
            line_length=settings.limits.line_length,
            password=settings.password,
            bans=self.bans,
            tally=self.plain.tally,
        )
        self.hub.limits = settings.limits
        self.hub.presences.policy = presence_policy(settings)
        self.irc.restart_pending = tuple(restart)
        logger.info("configuration reloaded from %s", settings.config_file)
        if restart:
            logger.warning("kept until a restart: %s", ", ".join(restart))
        return None

    def _make_session(self, send: Callable[[bytes], None], peer: Peer) -> IrcSession:
        return IrcSession(self.irc, send, peer)

    def _make_plain_session(self, send: Callable[[bytes], None], peer: Peer) -> PlainSession:
        return PlainSession(self.plain, send, peer)

    async def run(self) -> None:
        """Serve until :meth:`stop`; then stop accepting, say ERROR to everyone, store
        the last messages, and close.

        Raises:
            StorageError: the database cannot be opened.
            OSError: a listener cannot be bound.
        """
        private_folder(self.settings.data_dir)
        store = None
        if self.settings.history:
            store = await open_store(
                self.settings.data_dir,
                self.settings.database_url,
                self.settings.limits.database_timeout,
            )
        writer = None
        if store is not None:
            sync = self.settings.history_sync
            flush = 0.0 if sync else self.settings.limits.history_flush
            writer = HistoryWriter(store, flush_interval=flush)
            keepers = Keepers(store)
        try:
            if store is not None and writer is not None:
                await self._attach_store(store, writer, keepers)
            if self.cluster is not None:
                run = self.hub.state.ids.prefix
                self.cluster.share_throttles(self._throttles(), run)
                self.cluster.share_gate(self.gate, run)
                await self.cluster.join(self.hub, self.stop)
            if store is not None:  # between nodes, on the replica caught up with the log
                await restore_presences(self.hub, self.irc, keepers.presences, self.cluster)
                await carry_out_channel_orders(self.hub, store)  # after: a drop cleans them
            # Bound before the task group, so that a busy port is a plain OSError.
            listeners = await self._listen(writer if self.settings.history_sync else None)
            async with asyncio.TaskGroup() as tasks:
                if writer is not None and store is not None:
                    tasks.create_task(writer.run(), name="history writer")
                    keepers.start(tasks)
                    pruning = tasks.create_task(self._prune(store), name="history pruning")
                    checking = tasks.create_task(self._notice_dropped(), name="dropped accounts")
                    polling = tasks.create_task(self.ban_keeper.poll(), name="server bans")
                    ordered = tasks.create_task(
                        follow_channel_orders(self.hub, store), name="orders"
                    )
                    asking = tasks.create_task(self.readiness.watch(store), name="readiness")
                tasks.create_task(self.metrics.run(store, writer), name="metrics")
                timers = tasks.create_task(
                    self.connections.keep_time(self._timer_interval), name="connection timers"
                )
                self.ready.set()
                try:
                    await self._stop.wait()
                finally:
                    await self._shutdown(listeners)
                    timers.cancel()
                    if writer is not None:
                        # Orders taken as it stopped are carried out, and kept (probe 31).
                        ordered.cancel()
                        await asyncio.gather(ordered, return_exceptions=True)
                        # Every message accepted before the stop is stored before exit.
                        for subscriber, _ in self._keepers:
                            self.bus.unsubscribe(subscriber)
                        detach_keepers(self.hub)
                        writer.close()
                        keepers.close()
                        pruning.cancel()
                        checking.cancel()
                        polling.cancel()
                        asking.cancel()
        finally:
            if self.cluster is not None:
                await self.cluster.leave()
            if store is not None:
                await store.close()
        logger.info("stopped")

    async def _attach_store(
        self,
        store: Store,
        writer: HistoryWriter,
        keepers: Keepers,
    ) -> None:
        """History, accounts and registered channels from the store, and the services."""
        others = self.cluster.bus if self.cluster is not None else None
        self.irc.history = self.plain.history = ReadAfterWrite(
            store, writer, self.settings.limits.history_read_wait, others
        )
        limits = self.settings.limits
        self.irc.accounts = self.plain.accounts = Accounts(
            store,
            self.hub.casemap,
            password_min=limits.password_min,
            markers=store,
            certificates=limits.certificates,
        )
        await self.irc.accounts.load()
        if self.cluster is not None:  # one node's accounts are its own already
            self.bus.subscribe(self.irc.accounts.follow)
        self.irc.call_later = asyncio.get_running_loop().call_later
        for service in (NICKSERV, CHANSERV):
            self.hub.reserve(service)
        records = []
        for key, data in await store.load_channels():
            try:
                records.append(from_json(key, data))
            except (ValueError, KeyError, TypeError, IndexError) as error:
                logger.error("registered channel %s is unreadable, skipped: %r", key, error)
        self.hub.state.channels.sink = (
            keepers.channels if self.cluster is None else OwnWrites(keepers.channels, self.bus)
        )
        self.hub.load_registrations(records)
        self.hub.marker_sink = keepers.markers
        self.hub.metadata_sink = keepers.metadata
        self.ban_keeper = BanKeeper(self.hub, self.bans, store, self.bus)
        self.irc.ban_book = self.ban_keeper
        await self.ban_keeper.load()
        self._keepers = store_keepers(
            writer, keepers.markers, keepers.metadata, lambda: self.hub.applier.stamps.restamped
        )
        for subscriber, kinds in self._keepers:
            # What the store keeps is written once, by the node it happened on.
            self.bus.subscribe(subscriber, own_only=True, kinds=kinds)

    def _throttles(self) -> dict[str, Shared]:
        """The throttles of guesses and costly work, and the nick guards, by name, for
        a cluster to share."""
        throttles: dict[str, Shared] = {
            "oper": oper_throttle(self.hub),
            "pass": pass_throttle(self.hub),
            "registration": registration_throttle(self.hub, self.settings.limits),
        }
        if self.irc.accounts is not None:
            throttles["login"] = self.irc.accounts.throttle
            throttles["hashing"] = self.irc.accounts.hashing
        self.irc.nick_guards.grace = self.settings.limits.nick_grace
        throttles["nick-guards"] = self.irc.nick_guards
        return throttles

    def _timer_interval(self) -> float:
        """How often connections' timers are checked: a quarter of the shortest, so
        timeouts are late by at most that, and at least every second."""
        limits = self.settings.limits
        shortest = min(limits.registration_timeout, limits.ping_interval, limits.ping_timeout)
        return min(1.0, max(0.05, shortest / 4))

    def _notice_dropped(self) -> Coroutine[None, None, None]:
        assert self.irc.accounts is not None
        return notice_dropped_accounts(
            self.hub, self.irc.accounts, lambda: self.settings.limits.dropped_account_check
        )

    def _prune(self, store: Store) -> Coroutine[None, None, None]:
        def limits() -> tuple[float, int]:
            limits = self.settings.limits
            return limits.history_days, limits.history_per_conversation

        return prune_history(store, self.hub.clock, limits)

    async def _listen(self, durability: Durability | None) -> list[asyncio.Server | TlsListener]:
        loop = asyncio.get_running_loop()
        batcher = OutputBatcher(loop, durability, self.settings.limits.history_sync_wait)
        self.irc.audiences.batcher = batcher
        # Bound once: each connection keeps its factory, and a bound method per
        # connection would cost every idle one 64 bytes.
        make_session, make_plain_session = self._make_session, self._make_plain_session

        def protocol() -> LineConnection:
            return LineConnection(
                make_session,
                self.settings.limits,
                batcher,
                self.connections,
                self.gate,
                nodelay=self.settings.tcp_nodelay,
            )

        listeners: list[asyncio.Server | TlsListener] = []
        for listen in self.settings.all_listeners():
            server = (
                await self._listen_tls(protocol, listen.host, listen.port)
                if listen.tls
                else await loop.create_server(
                    protocol, listen.host, listen.port, reuse_address=True, backlog=1024
                )
            )
            listeners.append(server)
            for sock in server.sockets:
                address = sock.getsockname()
                self.addresses.append((address[0], address[1]))
                if listen.tls:
                    self.tls_addresses.append((address[0], address[1]))
                    if self.irc.tls_port is None:
                        self.irc.tls_port = address[1]
                logger.info(
                    "IRC%s listening on %s port %d",
                    " (TLS)" if listen.tls else "",
                    address[0],
                    address[1],
                )
        if self.settings.plain is not None:
            plain = self.settings.plain

            def plain_protocol() -> LineConnection:
                limits = self.settings.limits
                return LineConnection(
                    make_plain_session,
                    limits,
                    batcher,
                    self.connections,
                    self.gate,
                    partial_after=limits.plain_pause,
                    nodelay=self.settings.tcp_nodelay,
                )

            server = await loop.create_server(
                plain_protocol, plain.host, plain.port, reuse_address=True, backlog=1024
            )
            listeners.append(server)
            for sock in server.sockets:
                address = sock.getsockname()
                self.plain_addresses.append((address[0], address[1]))
                logger.info("plain door listening on %s port %d", address[0], address[1])
        if self.settings.web is not None:
            listeners.append(await self._listen_web(self.settings.web, batcher))
        if self.settings.metrics_port is not None:
            listeners.append(await self.metrics.listen())
        logger.info(
            "ready: connect with %s",
            ways_to_connect(self.addresses, self.plain_addresses, self.web_addresses),
        )
        return listeners

    async def _listen_web(
        self, web: Listen, batcher: OutputBatcher
    ) -> asyncio.Server | TlsListener:
        """The web listener: the web client's files, and IRC over WebSocket."""
        make_session = self._make_session

        def web_protocol() -> WebConnection:
            return WebConnection(
                self.web,
                make_session,
                self.settings.limits,
                batcher,
                self.connections,
                self.gate,
                nodelay=self.settings.tcp_nodelay,
            )

        secure = self.settings.web_secure
        if not (self.web.files.root / "index.html").is_file():
            logger.warning("no web client in %s: every page is 404", self.web.files.root)
        server = (
            await self._listen_tls(web_protocol, web.host, web.port)
            if secure
            else await asyncio.get_running_loop().create_server(
                web_protocol, web.host, web.port, reuse_address=True, backlog=1024
            )
        )
        for sock in server.sockets:
            host, port = sock.getsockname()[:2]
            self.web_addresses.append((host, port))
            shown = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
            if ":" in shown:
                shown = f"[{shown}]"
            logger.info("web client on %s://%s:%d/", "https" if secure else "http", shown, port)
        return server

    def _current_tls(self) -> ssl.SSLContext:  # a rehash may replace it
        assert self.tls is not None
        return self.tls

    async def _listen_tls(self, door: Callable[[], Door], host: str, port: int) -> TlsListener:
        """A TLS listener: each connection counted at the gate before its handshake."""
        if self.tls is None:
            raise ConfigError("a TLS listener needs tls_cert and tls_key")
        listener = TlsListener(
            door,
            self.gate,
            self._current_tls,
            lambda: self.settings.limits.tls_handshake_timeout,
        )
        await listener.listen(host, port, backlog=1024)
        return listener

    async def _shutdown(self, listeners: list[asyncio.Server | TlsListener]) -> None:
        logger.info("shutting down: %d connections", len(self.connections))
        self.irc.shutting_down = True
        for server in listeners:
            server.close()
        for connection in self.connections:
            connection.shutdown("Server shutting down")
        try:
            async with asyncio.timeout(_SHUTDOWN_GRACE):
                await self.connections.wait_empty()
        except TimeoutError:
            for connection in self.connections:
                connection.abort()
        for server in listeners:
            await server.wait_closed()
