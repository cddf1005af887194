"""How traffic is paced: who sends what, the open loop's poller and the closed loop's pump."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from benchmarks.clients import Client, Tally


@dataclass(slots=True)
class Sender:
    """A client that sends, with its line template and how many receive each line."""

    client: Client
    prefix: bytes  # the line up to the time stamp
    suffix: bytes  # the rest of the line after the stamp
    fanout: int


class Poller:
    """Reads its clients every ``interval`` seconds, each in one read, until stopped.

    A paused client is resumed on each tick; its next read pauses it again
    (:meth:`Client.buffer_updated`). The server's side is unchanged: the kernel
    receives and acknowledges every segment as it arrives, the lines just wait in the
    socket until the tick.
    """

    __slots__ = ("clients", "handle", "interval", "loop")

    def __init__(self, clients: list[Client], interval: float) -> None:
        self.clients = clients
        self.interval = interval
        self.loop = asyncio.get_running_loop()
        for client in clients:
            client.polled = True
            if client.transport is not None and not client.lost.done():
                client.transport.pause_reading()
        self.handle: asyncio.TimerHandle | None = self.loop.call_later(interval, self.tick)

    def tick(self) -> None:
        for client in self.clients:
            if client.transport is not None and not client.lost.done():
                client.transport.resume_reading()
        self.handle = self.loop.call_later(self.interval, self.tick)

    def stop(self) -> None:
        if self.handle is not None:
            self.handle.cancel()
            self.handle = None
        for client in self.clients:
            client.polled = False
            if client.transport is not None and not client.lost.done():
                client.transport.resume_reading()


class Pump:
    """The closed loop: whenever deliveries arrive, top the messages in flight back up.

    In flight means sent but not yet received by every member, estimated from the
    receivers' total. Bounding it bounds every receiver's backlog (ngircd cuts a client
    off past 32 KiB of unsent output) while keeping the server busy.
    """

    __slots__ = (
        "expected",
        "fanout",
        "loop",
        "next",
        "running",
        "scheduled",
        "senders",
        "sent",
        "tally",
        "window",
    )

    def __init__(self, senders: list[Sender], window: int, tally: Tally) -> None:
        self.senders = senders
        self.window = window
        self.tally = tally
        self.fanout = senders[0].fanout
        self.loop = asyncio.get_running_loop()
        self.sent = self.expected = 0
        self.next = 0
        self.running = True
        self.scheduled = False

    def wake(self) -> None:
        # Once per loop pass, after every chunk of the pass has been counted.
        if not self.scheduled and self.running:
            self.scheduled = True
            self.loop.call_soon(self.pump)

    def pump(self) -> None:
        self.scheduled = False
        if not self.running or self.fanout <= 0:
            return
        in_flight = self.sent - self.tally.received / self.fanout
        count = int(self.window - in_flight)
        if count <= 0:
            return
        senders = self.senders
        each, extra = divmod(count, len(senders))
        stamp = b"%d" % time.monotonic_ns()
        for j in range(len(senders)):
            sender = senders[(self.next + j) % len(senders)]
            lines = each + (1 if j < extra else 0)
            if lines and not sender.client.lost.done():
                sender.client.write((sender.prefix + stamp + sender.suffix) * lines)
        self.next = (self.next + extra) % len(senders)
        self.sent += count
        self.expected += count * self.fanout
