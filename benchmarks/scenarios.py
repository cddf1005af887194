"""The scenario runners: one run of one scenario against one server."""

from __future__ import annotations

import asyncio
import shlex
import signal
import socket
import subprocess
import time
from collections.abc import Sequence

from benchmarks.clients import Client, Tally, irc_hello, open_client
from benchmarks.common import (
    CHANNEL,
    JOINED,
    MARK,
    PAD,
    PONGED,
    REGISTERED,
    SATURATED,
    Kind,
    Reply,
    Result,
    Scenario,
    Target,
)
from benchmarks.measure import ServerProcess, free_port, machine_busy_s, sample_tree
from benchmarks.pacing import Poller, Pump, Sender

# -- the run ----------------------------------------------------------------------------


class Bench:
    """One run of one scenario against one server."""

    def __init__(self, target: Target, scenario: Scenario, during: str | None = None) -> None:
        self.target = target
        self.scenario = scenario
        self.during = during
        self.tally = Tally()
        self.clients: list[Client] = []  # registered, in nick order
        self.opened: list[Client] = []  # every connection made, to close at the end
        self.port = free_port()
        self.plain_port = free_port()
        self.web_port = free_port()
        self.server = ServerProcess(
            target.command, self.port, self.plain_port, target.files, self.web_port
        )
        self.result = Result(target.name, scenario.kind, scenario.clients)
        self.burst_ns = 0  # burst: when its one write was made

    async def run(self) -> Result:
        scenario = self.scenario
        door = {"plain": self.plain_port, "web": self.web_port}.get(scenario.kind, self.port)
        self.server.start()
        try:
            await self.server.wait_for_port(door)
            budget = scenario.setup_timeout + scenario.duration * 2 + scenario.drain_timeout
            async with asyncio.timeout(budget + 30):
                if scenario.kind == "idle":
                    await self._idle()
                else:
                    await self._traffic()
            self.server.check_alive()
        finally:
            await self.server.stop()
            await self._close_clients()
        return self.result

    async def _close_clients(self) -> None:
        for client in self.opened:
            if client.transport is not None:
                client.transport.abort()
        pending = [client.lost for client in self.opened if not client.lost.done()]
        if pending:
            await asyncio.wait(pending, timeout=10)

    # -- setup -------------------------------------------------------------------------

    async def _connect_all(self, nicks: Sequence[bytes], probes: set[int]) -> None:
        """Connect and register everyone, keeping ``self.clients`` in nick order."""
        setup = asyncio.Semaphore(self.target.setup_concurrency)
        slots: list[Client | None] = [None] * len(nicks)

        async def one(index: int) -> None:
            nick = nicks[index]
            kind = self.scenario.kind
            if kind == "plain":
                port, hello = self.plain_port, nick + b"\n"
                done = Reply(text=b"Welcome, " + nick + b"!")
            else:
                port = self.web_port if kind == "web" else self.port
                hello, done = irc_hello(nick), REGISTERED
            slots[index] = await open_client(
                self.tally, port, hello, done, setup, self.opened, index in probes, kind == "web"
            )

        async with asyncio.TaskGroup() as group:
            for index in range(len(nicks)):
                group.create_task(one(index))
        self.clients.extend(client for client in slots if client is not None)

    async def _join(self, client: Client, nick: bytes, channel: bytes) -> None:
        lines = b""
        if self.target.oper is not None:
            name, password = self.target.oper
            lines += b"OPER %s %s\r\n" % (name.encode(), password.encode())
            if self.target.umode:
                lines += b"MODE %s %s\r\n" % (nick, self.target.umode.encode())
        lines += b"JOIN %s\r\n" % channel
        await client.request(lines, JOINED, self.scenario.setup_timeout)

    async def _barrier(self, clients: Sequence[Client]) -> None:
        """PING every client and wait for each PONG: the server has handled all before."""
        timeout = self.scenario.setup_timeout
        async with asyncio.TaskGroup() as group:
            for client in clients:
                group.create_task(client.request(b"PING :bmsync\r\n", PONGED, timeout))

    # -- idle ----------------------------------------------------------------------------

    async def _idle(self) -> None:
        scenario = self.scenario
        loop = asyncio.get_running_loop()
        setup = asyncio.Semaphore(self.target.setup_concurrency)
        # A warm-up user first: the baseline then includes everything a first
        # registration loads, and the slope is the cost of one more connection.
        warm = await open_client(
            self.tally, self.port, irc_hello(b"w0"), REGISTERED, setup, self.opened
        )
        await self._barrier([warm])
        base = sample_tree(self.server.pid)
        busy0 = machine_busy_s()
        gen0 = time.process_time()
        # Not loop.time(): uvloop's is in milliseconds, read once per loop pass, and a
        # short burst can be over within one reading (a window of 0).
        start = time.perf_counter()
        companion = self._start_companion()
        await self._connect_all([b"b%d" % i for i in range(scenario.clients)], set())
        register_s = loop.time() - start
        if companion is not None:
            await _wait_process(companion, scenario.duration + 30)
        gen_cpu = time.process_time() - gen0
        machine = machine_busy_s()
        busy = machine.busy_s - busy0.busy_s
        softirq = machine.softirq_s - busy0.softirq_s
        # The last few to have registered answer a PING: the server is done with all.
        await self._barrier(self.clients[-10:])
        after = sample_tree(self.server.pid)
        result = self.result
        result.register_s = round(register_s, 3)
        result.server_cpu_s = round(after.cpu_s - base.cpu_s, 3)
        result.server_cpu_pct = round(100 * (after.cpu_s - base.cpu_s) / register_s, 1)
        result.rss_per_conn_kib = round((after.rss_kib - base.rss_kib) / scenario.clients, 2)
        result.peak_rss_kib = after.hwm_kib
        result.gen_cpu_s = round(gen_cpu, 3)
        result.gen_cpu_pct = round(100 * gen_cpu / register_s, 1)
        result.gen_saturated = gen_cpu / register_s >= SATURATED
        cpu = after.cpu_s - base.cpu_s
        result.softirq_pct = round(100 * softirq / register_s, 1)
        result.other_cpu_pct = round(
            100 * max(0.0, busy - softirq - cpu - gen_cpu) / register_s, 1
        )
        result.mss = _mss(warm)
        result.extra["base_rss_kib"] = base.rss_kib
        result.extra["rss_kib"] = after.rss_kib

    # -- traffic -------------------------------------------------------------------------

    async def _traffic(self) -> None:
        scenario = self.scenario
        count = scenario.clients
        if scenario.kind == "rooms":
            size = scenario.room_size
            channels = [b"#r%d" % (i // size) for i in range(count)]
            sender_ids = list(range(count))
            # The middle member of rooms spread over all of them.
            rooms = spread(range(count // size), scenario.probes)
            probes = {room * size + size // 2 for room in rooms}
        else:
            channels = [CHANNEL] * count
            sending = 1 if scenario.kind == "burst" else scenario.senders
            sender_ids = list(range(min(sending, count)))
            # Receivers spread over the join order: servers fan out in some order, and
            # the first and the last recipient of a line see different latencies.
            probes = set(spread(range(len(sender_ids), count), scenario.probes))
        nicks = [b"b%d" % i for i in range(count)]
        base = sample_tree(self.server.pid)
        await self._connect_all(nicks, probes)
        if scenario.kind != "plain":
            async with asyncio.TaskGroup() as group:
                for client, nick, channel in zip(self.clients, nicks, channels, strict=True):
                    group.create_task(self._join(client, nick, channel))
            await self._barrier(self.clients)
        # What a user costs the server once connected and in its room (the web door's
        # budget compares this over WebSocket and over TCP).
        joined = sample_tree(self.server.pid)
        self.result.rss_per_conn_kib = round((joined.rss_kib - base.rss_kib) / count, 2)
        members: dict[bytes, int] = {}
        for channel in channels:
            members[channel] = members.get(channel, 0) + 1
        senders = [
            _sender(self.clients[i], channels[i], members[channels[i]] - 1, scenario.kind)
            for i in sender_ids
        ]
        for client in self.clients:
            client.counting = True
        await self._measure(senders)

    async def _measure(self, senders: list[Sender]) -> None:
        scenario = self.scenario
        loop = asyncio.get_running_loop()
        tally = self.tally
        before = sample_tree(self.server.pid)
        busy0 = machine_busy_s()
        gen0 = time.process_time()
        # Not loop.time(): uvloop's is in milliseconds, read once per loop pass, and a
        # short burst can be over within one reading (a window of 0).
        start = time.perf_counter()
        companion = self._start_companion()
        poller = None
        if _polled(scenario):
            poller = Poller([c for c in self.clients if not c.probe], scenario.poll_ms / 1000)
        try:
            if scenario.kind == "closed":
                sent, expected = await self._closed_loop(senders)
            elif scenario.kind == "burst":
                sent, expected = self._burst(senders[0])
            else:
                sent, expected = await self._open_loop(senders)
            tally.target = expected
            if tally.received < expected:
                tally.done = loop.create_future()
                try:
                    async with asyncio.timeout(scenario.drain_timeout):
                        await tally.done
                except TimeoutError:
                    pass  # what is missing now is loss
        finally:
            if poller is not None:
                poller.stop()
        window = time.perf_counter() - start
        gen_cpu = time.process_time() - gen0
        after = sample_tree(self.server.pid)
        machine = machine_busy_s()
        busy = machine.busy_s - busy0.busy_s
        softirq = machine.softirq_s - busy0.softirq_s
        if companion is not None:
            await _wait_process(companion, scenario.duration + 30)
        self.server.check_alive()
        received = tally.received
        cpu = after.cpu_s - before.cpu_s
        writes = after.syscw - before.syscw
        result = self.result
        result.senders = len(senders)
        result.rate = None if scenario.kind in ("closed", "burst") else scenario.rate
        result.duration = None if scenario.kind == "burst" else scenario.duration
        result.window = scenario.window if scenario.kind == "closed" else None
        result.sent = sent
        result.expected = expected
        result.deliveries = received
        result.loss = round(1 - received / expected, 6) if expected else None
        result.deliveries_per_s = round(received / window, 1)
        result.window_s = round(window, 3)
        result.server_cpu_s = round(cpu, 3)
        result.server_cpu_pct = round(100 * cpu / window, 1)
        result.cpu_s_per_m = round(cpu / received * 1e6, 3) if received else None
        result.writes = writes
        result.writes_per_delivery = round(writes / received, 4) if received else None
        result.peak_rss_kib = after.hwm_kib
        result.gen_cpu_s = round(gen_cpu, 3)
        result.gen_cpu_pct = round(100 * gen_cpu / window, 1)
        result.gen_saturated = gen_cpu / window >= SATURATED
        result.softirq_pct = round(100 * softirq / window, 1)
        result.other_cpu_pct = round(100 * max(0.0, busy - softirq - cpu - gen_cpu) / window, 1)
        if _polled(scenario):
            result.poll_ms = scenario.poll_ms
        result.disconnects = tally.disconnects
        result.mss = _mss(self.clients[0])
        if scenario.kind == "burst" and tally.completed_ns:
            result.burst_s = round((tally.completed_ns - self.burst_ns) / 1e9, 6)
        if tally.samples:
            ordered = sorted(tally.samples)
            result.p50_ms = round(ordered[len(ordered) // 2] / 1e6, 3)
            result.p99_ms = round(
                ordered[min(len(ordered) - 1, len(ordered) * 99 // 100)] / 1e6, 3
            )
            result.extra["latency_samples"] = len(ordered)

    def _start_companion(self) -> subprocess.Popen[bytes] | None:
        """Start the ``during`` command (a profiler) on the server for the sending time."""
        if self.during is None:
            return None
        command = self.during.replace("{pid}", str(self.server.pid))
        command = command.replace("{seconds}", str(max(1, round(self.scenario.duration))))
        return subprocess.Popen(shlex.split(command), stdin=subprocess.DEVNULL)

    async def _open_loop(self, senders: list[Sender]) -> tuple[int, int]:
        """Sender i sends its k-th message at (k + i/S)/R seconds: an even, open load."""
        scenario = self.scenario
        loop = asyncio.get_running_loop()
        interval = 1 / scenario.rate
        per_sender = max(1, round(scenario.rate * scenario.duration))
        phase = interval / len(senders)
        start = loop.time()
        sent = expected = 0
        for k in range(per_sender):
            for i, sender in enumerate(senders):
                delay = start + k * interval + i * phase - loop.time()
                if delay > 0.001:
                    await asyncio.sleep(delay)
                if sender.client.lost.done():
                    continue
                sender.client.write(
                    b"%s%d%s" % (sender.prefix, time.monotonic_ns(), sender.suffix)
                )
                sent += 1
                expected += sender.fanout
        return sent, expected

    def _burst(self, sender: Sender) -> tuple[int, int]:
        """Hand ``messages`` lines to the sender's socket in one write, as fast as it takes them.

        One time stamp for all: a line's latency is then the time from the start of the
        burst to its arrival, and the last arrival is the burst time. The lines wait in
        the generator's transport until the kernel takes them, as a client's would.
        """
        count = self.scenario.messages
        self.burst_ns = time.monotonic_ns()
        sender.client.write((sender.prefix + b"%d" % self.burst_ns + sender.suffix) * count)
        return count, count * sender.fanout

    async def _closed_loop(self, senders: list[Sender]) -> tuple[int, int]:
        """Keep ``window`` messages in flight for ``duration`` seconds."""
        scenario = self.scenario
        pump = Pump(senders, scenario.window, self.tally)
        self.tally.wake = pump.wake
        pump.pump()
        await asyncio.sleep(scenario.duration)
        pump.running = False
        self.tally.wake = None
        return pump.sent, pump.expected


async def _wait_process(proc: subprocess.Popen[bytes], seconds: float) -> None:
    """Let a helper process finish; stop it if it overstays ``seconds``."""
    for _ in range(int(seconds / 0.05)):
        if proc.poll() is not None:
            return
        await asyncio.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    proc.wait()


def _polled(scenario: Scenario) -> bool:
    """Whether the receivers other than the probes are read on a timer.

    Not in the closed loop (it refills on deliveries) nor in a burst (its time ends at
    the last arrival, which a timer would round up to its next tick).
    """
    return scenario.poll_ms > 0 and scenario.kind not in ("closed", "burst")


def spread(items: Sequence[int], count: int) -> list[int]:
    """``count`` items evenly spaced over ``items`` (all of them if there are fewer)."""
    if count >= len(items):
        return list(items)
    step = len(items) / count
    return [items[int(step * j + step / 2)] for j in range(count)]


def _sender(client: Client, channel: bytes, fanout: int, kind: Kind) -> Sender:
    if kind == "plain":
        return Sender(client, MARK, b" " + PAD + b"\n", fanout)
    return Sender(client, b"PRIVMSG " + channel + b" :" + MARK, b" " + PAD + b"\r\n", fanout)


def _mss(client: Client) -> int | None:
    transport = client.transport
    sock = transport.get_extra_info("socket") if transport is not None else None
    if sock is None:
        return None
    return int(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG))
