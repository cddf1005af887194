"""Which nodes are alive: heartbeats on NATS, and ``NodeLost`` for a node that stops.

Every node says, three times in each ``timeout``, that its hub's run is alive (the
prefix of its users' ids), on the plain NATS subject ``hubbub.nodes``: nothing is kept,
only the present matters. A beat is a small JSON object (:class:`Beat`): the run, and
for ``hubbub cluster status`` the node's name, its users and how far it has applied the
log. Each node notes when it last heard each run. A run that has
users in this node's replica and has not been heard for ``timeout`` (counted from this
node's start, for a run it never heard: the run before a restart, say; and from the
end of this node's own outage, for every run, since nobody was heard during it) is lost: the
node publishes :class:`~hubbub.core.events.NodeLost`, which takes its place in the log
like any fact and quits that run's users on every node (its always-on users move to
the run of the node whose report comes first). Several nodes may publish it; applied
again it changes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.errors import Error as NatsError

from hubbub.core.events import NodeLost
from hubbub.core.ports import Bus
from hubbub.core.state import State

logger = logging.getLogger(__name__)

SUBJECT = "hubbub.nodes"
# Beats in each timeout: one or two lost on the way lose no node.
_BEATS = 3
# A beat is a few dozen bytes; anything much longer is not one.
_MAX_BEAT = 1024


@dataclass(frozen=True)
class Beat:
    """What a node says of itself in each heartbeat."""

    run: str  # its hub's run: the prefix of its users' ids
    node: str = ""  # its name
    users: int = 0  # users connected to it
    applied: int = 0  # the log's sequence it has applied up to

    def encode(self) -> bytes:
        return json.dumps(asdict(self), separators=(",", ":")).encode()


def parse_beat(data: bytes) -> Beat | None:
    """A beat as :meth:`Beat.encode` writes it, or None for anything else (anyone who
    can publish on NATS can send anything here)."""
    if len(data) > _MAX_BEAT:
        return None
    try:
        fields = json.loads(data)
    except (ValueError, RecursionError):  # RecursionError: arrays nested past the limit
        return None
    if not isinstance(fields, dict):
        return None
    run, node, users, applied = (fields.get(k) for k in ("run", "node", "users", "applied"))
    if not isinstance(run, str) or not run or not isinstance(node, str):
        return None
    if type(users) is not int or type(applied) is not int or users < 0 or applied < 0:
        return None
    return Beat(run, node, users, applied)


class Liveness:
    """Heartbeats of this node's run, and the watch on every other run.

    Args:
        client: a connected NATS client.
        bus: where ``NodeLost`` goes.
        state: this node's replica (whose users say which runs to watch).
        run: this node's run (its hub's id prefix), never reported lost by itself.
        timeout: seconds of silence after which a run is lost.
        node: this node's name, said in its beats.
        applied: how far this node has applied the log (a stream sequence).
    """

    def __init__(
        self,
        client: Client,
        bus: Bus,
        state: State,
        run: str,
        timeout: float,
        node: str = "",
        applied: Callable[[], int] = lambda: 0,
    ) -> None:
        self._client = client
        self._bus = bus
        self._state = state
        self.run = run
        self.timeout = timeout
        self.node = node
        self._applied = applied
        self._heard: dict[str, float] = {}
        self._names: dict[str, float] = {}  # when each node name was last heard
        self._reported: dict[str, float] = {}  # when NodeLost was published, by run
        self._started = 0.0
        self._checked = 0.0  # when check last ran
        self._offline = False
        self._subscription: Subscription | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._started = self._checked = loop.time()
        self._subscription = await self._client.subscribe(SUBJECT, cb=self._hear)
        self._task = loop.create_task(self._beat(), name="cluster heartbeat")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self._subscription is not None:
            with contextlib.suppress(NatsError):
                await self._subscription.unsubscribe()
            self._subscription = None

    async def _hear(self, message: Msg) -> None:
        beat = parse_beat(message.data)
        if beat is not None:
            now = asyncio.get_running_loop().time()
            self._heard[beat.run] = now
            if beat.node:
                self._names[beat.node] = now

    def heard(self) -> int:
        """How many other node runs beat within the last timeout."""
        now = asyncio.get_running_loop().time()
        return sum(
            1 for run, when in self._heard.items() if run != self.run and now - when < self.timeout
        )

    def names(self) -> set[str]:
        """The names of the other nodes heard within the last timeout."""
        now = asyncio.get_running_loop().time()
        return {
            name
            for name, when in self._names.items()
            if name != self.node and now - when < self.timeout
        }

    def beat(self) -> Beat:
        """What this node says of itself now."""
        home = self._state.spread.home
        users = sum(1 for user in self._state.users if home(user.id) == self.run)
        return Beat(self.run, self.node, users, self._applied())

    async def _beat(self) -> None:
        while True:
            # Published even while NATS is away: the client keeps it until it is back.
            with contextlib.suppress(NatsError):
                await self._client.publish(SUBJECT, self.beat().encode())
            self.check()
            await asyncio.sleep(self.timeout / _BEATS)

    def check(self) -> None:
        """Report every run gone silent for ``timeout`` that still has users here."""
        now = asyncio.get_running_loop().time()
        stalled, self._checked = now - self._checked > self.timeout, now
        if stalled:
            # This node itself stood still (stopped, swapped out, a long pause) for a
            # whole timeout: others' beats wait unread in its socket, and counting them
            # silent told the network every other node was lost (probe 18). Its own
            # outage: counted again from now.
            self._started = now
            self._heard.clear()
            return
        if not self._client.is_connected:
            # Everyone is silent to a node cut off from NATS, and nobody hears it: what
            # it would report now is its own outage. Counted again once it is back.
            self._offline = True
            return
        if self._offline:
            self._offline = False
            self._started = now
            self._heard.clear()
        # A user moved to another node (core/spread.py) lives there; a node holding a
        # device of a user of another is watched too, or its devices would outlive it.
        runs = self._state.spread.runs(self._state.users)
        runs.discard(self.run)
        for run in runs:
            silent = now - self._heard.get(run, self._started)
            reported = self._reported.get(run)
            if silent < self.timeout or (reported is not None and now - reported < self.timeout):
                continue
            logger.warning("cluster: no word from node run %s for %.1f s: lost", run, silent)
            self._reported[run] = now
            # Named as the reporter: the lost run's always-on users move here if this
            # report is the first in the log (core/spread.py).
            self._bus.publish(NodeLost(run, by=self.run))
        for gone in [run for run in self._reported if run not in runs]:
            del self._reported[gone]
