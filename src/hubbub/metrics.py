"""Wiring: the server's Prometheus metrics, read at scrape time from the plain counts the
rings keep where things happen (the doors' tally, the hub, the accounts, the history
writer, the store), the event loop's lag, and the listener of their own they may have.

Nothing here runs per message: the hot path adds to integers, and this module turns
them into Prometheus's text only when ``/metrics`` is asked. The registry is this
server's own (never prometheus_client's global one), so that two servers in one
process each answer with their own counts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)

from hubbub.clustering import ClusterFigures
from hubbub.core.hub import Hub
from hubbub.core.presence import ELSEWHERE
from hubbub.doors.gate import Gate
from hubbub.doors.irc.context import IrcContext
from hubbub.doors.irc.session import IrcSession
from hubbub.doors.output import OutputBatcher
from hubbub.doors.plain.session import PlainSession
from hubbub.doors.ports import Peer, Session
from hubbub.doors.registry import Connections
from hubbub.doors.tally import irc_door
from hubbub.doors.web.connection import WebConnection
from hubbub.doors.web.context import WebContext
from hubbub.doors.web.files import StaticFiles
from hubbub.settings import Settings
from hubbub.storage.history import HistoryWriter
from hubbub.storage.ports import Store
from hubbub.storage.timing import Latency

logger = logging.getLogger(__name__)

DOORS = ("irc", "web", "plain")
# Seconds between two measurements of the event loop's lag.
LAG_EVERY = 0.5
# The metrics' own listener serves no files: their folder is never read.
_NO_FILES = Path("/nonexistent")
F = TypeVar("F", CounterMetricFamily, GaugeMetricFamily)


def _histogram(name: str, documentation: str, latency: Latency) -> HistogramMetricFamily:
    family = HistogramMetricFamily(name, documentation)
    buckets = [
        ("+Inf" if bound == float("inf") else repr(bound), n) for bound, n in latency.cumulative()
    ]
    family.add_metric([], buckets, latency.sum)
    return family


def _no_sessions(send: Callable[[bytes], None], peer: Peer) -> Session:
    """The metrics' listener takes no WebSocket (it answers 404 first)."""
    raise RuntimeError("the metrics listener makes no sessions")


class Metrics:
    """One server's metrics, and the listener of their own they may have.

    Made with the server; :meth:`run` is a task of the server's, and :meth:`listen`
    opens the listener (``metrics_port``) with the server's others.

    Args:
        gate: admission, whose tally every door counts into.
        connections: the server's live connections (the listener's join them, so that
            its timers and its shutdown reach them).
        irc: the IRC door's context: the chat (messages, users, channels), and the
            accounts once the store is open.
        settings: where the listener of the metrics is, if they have one.
        stop: set when the server shuts down.
    """

    def __init__(
        self,
        gate: Gate,
        connections: Connections,
        irc: IrcContext,
        settings: Settings,
        stop: asyncio.Event,
    ) -> None:
        self._hub: Hub = irc.hub
        self._gate = gate
        self._connections = connections
        self._irc = irc
        self._settings = settings
        self._stop = stop
        self._store: Store | None = None
        self._writer: HistoryWriter | None = None
        self.lag = Latency()
        self.addresses: list[tuple[str, int]] = []
        # The node's link to its cluster, when it is one (set by the server).
        self.cluster: Callable[[], ClusterFigures] | None = None
        self.registry = CollectorRegistry()
        self.registry.register(self)

    def text(self) -> tuple[bytes, str]:
        """The metrics as Prometheus's text format, and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST

    # -- what a scrape reads -------------------------------------------------------------

    def collect(self) -> Iterator[Metric]:
        tally = self._gate.tally
        yield _by_door(
            CounterMetricFamily(
                "hubbub_connections",
                "Connections that got a session, by door (irc: TCP and TLS; web: WebSocket).",
                labels=["door"],
            ),
            tally.connections,
        )
        yield _by_door(
            CounterMetricFamily(
                "hubbub_registrations",
                "Connections that completed registration and became users, by door.",
                labels=["door"],
            ),
            tally.registrations,
        )
        yield _by_door(
            GaugeMetricFamily(
                "hubbub_sessions",
                "Sessions open now, by door (irc: TCP and TLS; web: WebSocket), registered "
                "or not.",
                labels=["door"],
            ),
            tally.sessions,
        )
        yield GaugeMetricFamily(
            "hubbub_open_connections",
            "Connections open on every door, web requests being answered included.",
            value=self._gate.open,
        )
        yield from self._people()
        hub = self._hub
        yield CounterMetricFamily(
            "hubbub_messages_in",
            "Chat messages (PRIVMSG, NOTICE, TAGMSG, plain door lines) said by this "
            "server's users.",
            value=hub.said,
        )
        yield CounterMetricFamily(
            "hubbub_messages_out",
            "Chat messages delivered from this server: said here or, in a cluster, on "
            "another node.",
            value=hub.applier.messages,
        )
        yield CounterMetricFamily(
            "hubbub_deliveries",
            "Copies of chat messages handed to this server's recipients (the sender's "
            "echo not included).",
            value=hub.applier.delivered,
        )
        yield CounterMetricFamily(
            "hubbub_sendq_exceeded",
            "Clients cut off for not reading their output (the SendQ).",
            value=tally.sendq_exceeded,
        )
        yield CounterMetricFamily(
            "hubbub_flood_throttled",
            "Times a client's lines were held back by flood control.",
            value=tally.flood_throttled,
        )
        failures = CounterMetricFamily(
            "hubbub_login_failures",
            "Logins refused: for their credentials (a password, SCRAM proof or "
            "certificate), or unchecked by a throttle.",
            labels=["reason"],
        )
        accounts = self._irc.accounts
        failures.add_metric(["credentials"], accounts.login_failures if accounts else 0)
        failures.add_metric(["throttled"], accounts.logins_throttled if accounts else 0)
        yield failures
        yield CounterMetricFamily(
            "hubbub_oper_failures",
            "OPER refused: a wrong name or password, or unchecked while the address waits "
            "out its failures.",
            value=tally.oper_failures,
        )
        yield CounterMetricFamily(
            "hubbub_server_password_failures",
            "Registrations refused for the server password (PASS): wrong, missing, or "
            "unchecked while the address waits.",
            value=tally.password_failures,
        )
        yield from self._storage()
        if self.cluster is not None:
            yield from _cluster(self.cluster())
        yield _histogram(
            "hubbub_event_loop_lag_seconds",
            f"How late a timer due every {LAG_EVERY} s ran: time the loop spent elsewhere.",
            self.lag,
        )

    def _people(self) -> Iterator[Metric]:
        users = _by_door(
            GaugeMetricFamily(
                "hubbub_users",
                "Users on this server, by the door they came through.",
                labels=["door"],
            ),
            self._local_users(),
        )
        yield users
        yield GaugeMetricFamily(
            "hubbub_network_users",
            "Users of the whole network (in a cluster, other nodes' too).",
            value=len(self._hub.users),
        )
        yield GaugeMetricFamily(
            "hubbub_channels", "Channels with members.", value=len(self._hub.channels)
        )

    def _local_users(self) -> dict[str, int]:
        counts = dict.fromkeys(DOORS, 0)
        for user in self._hub.users.values():
            listener = user.listener
            if listener is ELSEWHERE:
                continue
            if isinstance(listener, IrcSession):
                counts[irc_door(listener.peer)] += 1
            elif isinstance(listener, PlainSession):
                counts["plain"] += 1
        return counts

    def _storage(self) -> Iterator[Metric]:
        writer, store = self._writer, self._store
        if writer is not None:
            yield GaugeMetricFamily(
                "hubbub_history_queue_depth",
                "Messages waiting for the history writer, its commit under way included.",
                value=writer.pending,
            )
            yield CounterMetricFamily(
                "hubbub_history_written",
                "Messages the history writer stored (a private one once for each side).",
                value=writer.written,
            )
            yield CounterMetricFamily(
                "hubbub_history_dropped",
                "Messages not stored: the history writer's queue was full.",
                value=writer.dropped,
            )
            yield _histogram(
                "hubbub_history_commit_seconds",
                "How long the history writer's commits took, failed ones too.",
                writer.commit_latency,
            )
        if store is not None:
            yield _histogram(
                "hubbub_storage_seconds",
                "How long each call to the database took, waiting for it included.",
                store.latency,
            )

    # -- what runs -----------------------------------------------------------------------

    async def run(self, store: Store | None, writer: HistoryWriter | None) -> None:
        """Read ``store`` and ``writer`` (None: no history kept), and measure the event
        loop's lag until the server stops."""
        self._store, self._writer = store, writer
        loop = asyncio.get_running_loop()
        while not self._stop.is_set():
            due = loop.time() + LAG_EVERY
            # The callback is due with the wait's end, so it runs in the same pass of the
            # loop: however late that pass is, is the lag.
            handle = loop.call_at(due, self._observe_lag, due)
            try:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout_at(due):
                        await self._stop.wait()
            finally:
                handle.cancel()

    def _observe_lag(self, due: float) -> None:
        self.lag.observe(max(0.0, asyncio.get_running_loop().time() - due))

    async def listen(self) -> asyncio.Server:
        """The metrics' own listener (``metrics_port``): ``/metrics`` and nothing else, in
        plain HTTP (it is meant for a private address). Its connections are the server's,
        whose timers bound their requests and whose shutdown closes them."""
        settings = self._settings
        host = settings.metrics_host or "127.0.0.1"
        loop = asyncio.get_running_loop()
        ctx = WebContext(
            StaticFiles(_NO_FILES),
            hosts=settings.web_names() | {host.lower()},
            metrics=self.text,
            only_metrics=True,
        )
        batcher = OutputBatcher(loop)

        def protocol() -> WebConnection:
            return WebConnection(
                ctx, _no_sessions, settings.limits, batcher, self._connections, self._gate
            )

        port = settings.metrics_port
        server = await loop.create_server(protocol, host, port, reuse_address=True)
        for sock in server.sockets:
            address = sock.getsockname()
            self.addresses.append((address[0], address[1]))
            logger.info("metrics on http://%s:%d/metrics", address[0], address[1])
        return server


def _by_door(family: F, counts: dict[str, int]) -> F:
    for door in DOORS:
        family.add_metric([door], counts.get(door, 0))
    return family


def _cluster(figures: ClusterFigures) -> Iterator[Metric]:
    info = GaugeMetricFamily(
        "hubbub_cluster_node", "This node of a cluster, by its name.", labels=["node"]
    )
    info.add_metric([figures.node], 1)
    yield info
    yield GaugeMetricFamily(
        "hubbub_cluster_reachable",
        "1 while NATS is reachable and takes what this node publishes, else 0.",
        value=int(figures.reachable),
    )
    yield GaugeMetricFamily(
        "hubbub_cluster_waiting_facts",
        "Changes published by this node that the network's log has not acknowledged yet.",
        value=figures.waiting,
    )
    yield GaugeMetricFamily(
        "hubbub_cluster_applied_sequence",
        "How far this node has applied the network's log (a stream sequence).",
        value=figures.applied,
    )
    yield GaugeMetricFamily(
        "hubbub_cluster_nodes_heard",
        "Other nodes whose heartbeat this node heard within the node timeout.",
        value=figures.heard,
    )
