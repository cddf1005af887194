"""A node's link to the rest of its network (issue 16; ``--cluster``).

nats-py (the ``cluster`` extra) is imported here only when a cluster is configured: a
single server needs none of it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hubbub.accounts.throttle import Shared
from hubbub.core.events import AddressCounted, AttemptCounted, Fact, NodeLost
from hubbub.core.hub import Hub
from hubbub.core.ports import Bus, ChannelSink
from hubbub.core.registered import RegisteredChannel
from hubbub.core.snapshot import capture, restore
from hubbub.doors.gate import SHARED_AGAIN, Gate
from hubbub.settings import ConfigError, Settings
from hubbub.wire.redact import shown_url

if TYPE_CHECKING:
    from nats.aio.client import Client

    from hubbub.cluster.jetstream import NatsBus
    from hubbub.cluster.nodes import Liveness

logger = logging.getLogger(__name__)

# A count older than this, read from the log (a node starting), is not counted again.
_COUNTS_LAST = 60.0
# Seconds of failed publishing after which a node says it is not ready (/readyz).
_STUCK = 5.0


@dataclass(frozen=True, slots=True)
class ClusterFigures:
    """What ``/metrics`` tells of a node's link to its cluster."""

    node: str
    reachable: bool  # NATS reachable, and taking what this node publishes
    waiting: int  # facts published here that the stream has not acknowledged
    applied: int  # the stream sequence applied here
    heard: int  # other nodes heard within the node timeout


class ClusterUnreachable(Exception):
    """NATS could not be reached as the node started, or its log cannot be followed;
    the message says where and why."""


class ClusterLink:
    """The bus of a node in a cluster, and the NATS connection under it.

    Raises:
        ConfigError: no cluster is configured, or nats-py is not installed.
    """

    def __init__(self, settings: Settings) -> None:
        if settings.cluster is None:
            raise ConfigError("no cluster is configured")
        try:
            from hubbub.cluster.jetstream import NatsBus
        except ImportError:
            raise ConfigError("a cluster needs nats-py: pip install 'hubbub[cluster]'") from None
        self.settings = settings.cluster
        self.node = settings.cluster.node_name(settings)
        self.bus: NatsBus = NatsBus(self.node)
        self._client: Client | None = None
        self._liveness: Liveness | None = None
        self._reachable = True
        self._gate_task: asyncio.Task[None] | None = None

    async def join(self, hub: Hub, lost_track: Callable[[], None] | None = None) -> None:
        """Reach NATS, follow the network's log (from the newest snapshot) and watch the
        other nodes (before the listeners open). ``lost_track`` is called if the log is
        later purged past what this node applied (cut off from NATS for that long).

        Raises:
            ClusterUnreachable: no NATS server answered, or the log cannot be followed.
        """
        from hubbub.cluster.connect import Unreachable, connect
        from hubbub.cluster.jetstream import LogGap, Snapshots
        from hubbub.cluster.nodes import Liveness

        cluster = self.settings
        # Each always-on user is kept by its home node only (core/homes.py).
        hub.presences.homes.between_nodes = True
        try:
            self._client = await connect(
                cluster.urls,
                self.node,
                cluster.credentials,
                cluster.token,
                cluster.tls_ca,
                lambda reachable: self._tell(hub, reachable),
            )
        except Unreachable as error:
            raise ClusterUnreachable(str(error)) from None
        bus = self.bus
        bus.lost_track = lost_track
        snapshots = Snapshots(
            lambda: capture(hub.state),
            lambda data: restore(hub.state, data),
            cluster.snapshot_every,
        )
        try:
            await bus.start(self._client, snapshots)
        except LogGap as error:
            raise ClusterUnreachable(f"cannot follow the network's log: {error}") from None
        self._liveness = Liveness(
            self._client,
            bus,
            hub.state,
            hub.state.ids.prefix,
            cluster.node_timeout,
            self.node,
            lambda: bus.position,
        )
        await self._liveness.start()
        urls = ", ".join(shown_url(url) for url in cluster.urls)
        logger.info("cluster: node %s joined through %s", self.node, urls)

    def share_throttles(self, throttles: Mapping[str, Shared], run: str) -> None:
        """Let every node count what each of these throttles counts on any node (see
        :class:`AttemptCounted`): an address gets one allowance from the network.
        ``run`` is this run of the node (the hub's id prefix): a node started again
        counts what its last run counted, as any other node does (probe 18)."""
        bus, node = self.bus, f"{self.node}.{run}"

        def sharer(name: str) -> Callable[[str, tuple[str, ...]], None]:
            return lambda step, keys: bus.publish(
                AttemptCounted(name, step, keys, node, time.time())
            )

        for name, throttle in throttles.items():
            throttle.share = sharer(name)

        def follow(fact: Fact) -> None:
            if type(fact) is not AttemptCounted or fact.node == node:
                return
            throttle = throttles.get(fact.throttle)
            if throttle is not None and time.time() - fact.time < _COUNTS_LAST:
                throttle.count_shared(fact.step, fact.keys)

        bus.subscribe(follow)

    def share_gate(self, gate: Gate, run: str) -> None:
        """Let every node count the connections each address has on any node (see
        :class:`AddressCounted`): ``connections_per_ip`` is the network's allowance.
        ``run`` is this run of the node (the hub's id prefix, as NodeLost names it)."""
        bus = self.bus
        gate.share = lambda block, count: bus.publish(
            AddressCounted(run, block, count, time.time())
        )

        def follow(fact: Fact) -> None:
            if type(fact) is AddressCounted and fact.node != run:
                gate.heard(fact.node, fact.block, fact.count, fact.time)
            elif type(fact) is NodeLost:
                gate.lost(fact.prefix)

        bus.subscribe(follow)

        async def again() -> None:
            # A count nobody hears again lapses (a node gone without NodeLost); a node
            # started since hears every count within this interval.
            while True:
                await asyncio.sleep(SHARED_AGAIN)
                for block, count in gate.shared_counts():
                    bus.publish(AddressCounted(run, block, count, time.time()))

        self._gate_task = asyncio.get_running_loop().create_task(again(), name="gate counts")

    def names_heard(self) -> set[str]:
        """The names of the other nodes heard within the last node timeout."""
        return self._liveness.names() if self._liveness is not None else set()

    def reachable(self) -> bool:
        """Whether NATS is reachable now (as the client last reported), and takes what
        this node publishes (a node whose publishing has failed for a few seconds has
        its users' every change held back: it must not be sent more, probe 21)."""
        failing = self.bus.failing_since
        return self._reachable and (failing is None or time.monotonic() - failing < _STUCK)

    def figures(self) -> ClusterFigures:
        liveness = self._liveness
        return ClusterFigures(
            self.node,
            self.reachable(),
            self.bus.waiting,
            self.bus.position,
            liveness.heard() if liveness is not None else 0,
        )

    def _tell(self, hub: Hub, reachable: bool) -> None:
        """Tell this node's users when the rest of the network goes and comes back (once
        each way: the client may report a loss again while it retries)."""
        if reachable == self._reachable:
            return
        self._reachable = reachable
        for user in list(hub.state.users):
            user.listener.network(reachable)

    async def leave(self) -> None:
        if self._gate_task is not None:
            self._gate_task.cancel()
        if self._liveness is not None:
            await self._liveness.close()
        await self.bus.close()
        if self._client is not None:
            await self._client.close()
            self._client = None


class OwnWrites:
    """A registered channels' sink that writes what this node's own facts changed only:
    every node applies every fact, and the nodes share one store."""

    def __init__(self, sink: ChannelSink, bus: Bus) -> None:
        self._sink = sink
        self._bus = bus

    def save(self, record: RegisteredChannel) -> None:
        if self._bus.applying_own:
            self._sink.save(record)

    def delete(self, key: str) -> None:
        if self._bus.applying_own:
            self._sink.delete(key)
