"""A load generator for IRC servers: starts a server, drives one scenario, prints one row.

The server is any command line with a ``{port}`` placeholder (and ``{plain_port}`` for
hubbub's plain-text door). The generator starts it, waits for its port, connects the
clients, measures, and stops it. Scenarios (see the README next to this file):

- ``fanout``: C users in one channel, S of them sending R messages/s each;
- ``closed``: the same channel, sending as fast as the receivers drain: at most ``window``
  messages in flight (sent but not yet received by every member);
- ``rooms``: C users in rooms of ``room_size``, every user sending R messages/s;
- ``idle``: N users connect and register, nothing else;
- ``plain``: the fan-out over hubbub's plain-text door.

How it measures, and why (the issue's measurement notes):

- Every message carries ``~bm~<monotonic ns>`` in its text. Receivers count the marker in
  each chunk with ``bytes.count`` and a few probe receivers parse the stamps for latency;
  deliveries are counted on the receivers, never inferred from the senders.
- Client sockets set ``TCP_MAXSEG`` 1448, as on a real network: loopback's 64 KiB MSS
  plus a server without ``TCP_NODELAY`` stalls small writes on 40 ms delayed ACKs.
- At most ``setup_concurrency`` connections are being set up at once (a slot is held
  until the server first answers): ngircd listens with a backlog of 10, and more
  simultaneous connects would measure SYN retries instead of the server.
- Server CPU (``/proc/PID/stat``) and write system calls (``/proc/PID/io`` ``syscw``)
  are summed over the server's process tree between the start of sending and the end of
  the drain; the generator's own CPU is reported next to it, and a run where the
  generator was busy at least 90 % of the time is flagged as saturated.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import IO, Literal, cast

Kind = Literal["fanout", "closed", "rooms", "idle", "plain"]
KINDS: tuple[Kind, ...] = ("fanout", "closed", "rooms", "idle", "plain")

HOST = "127.0.0.1"
MSS = 1448  # a real Ethernet path's MSS (1500 - IP - TCP - timestamps)
MARK = b"~bm~"
_STAMP = re.compile(rb"~bm~(\d+)")
PAD = b"the quick brown fox jumps over the lazy dog"
CHANNEL = b"#bench"
NOFILE_WANTED = 65_536
TAIL_LIMIT = 64 * 1024  # a line longer than this is a broken server, not a slow one
SAMPLE_LIMIT = 2_000_000  # latency samples kept (bounded memory at millions of deliveries/s)
SATURATED = 0.90  # generator CPU share above which its figures are not the server's

# Replies (by command or numeric) that mean the server refused a step of the setup: nick,
# oper, user mode or join.
_FAILURES = frozenset(b"432 433 436 405 464 471 473 474 475 481 491 501 ERROR".split())
_FAILURE_HINTS = tuple(b" %s " % f if f.isdigit() else f for f in _FAILURES)


class BenchError(Exception):
    """A run could not be measured: the server refused, crashed or did not answer."""


@dataclass(frozen=True, slots=True)
class Reply:
    """What a setup step waits for: an IRC command or numeric, or (plain door) text."""

    commands: frozenset[bytes] = frozenset()
    text: bytes | None = None

    @property
    def hints(self) -> tuple[bytes, ...]:
        """Substrings without which a chunk cannot hold this reply, a refusal or a PING."""
        return (*(b" %s " % c for c in self.commands), *_FAILURE_HINTS, b"PING")


REGISTERED = Reply(frozenset({b"376", b"422"}))  # end of MOTD, or none: welcome complete
JOINED = Reply(frozenset({b"366"}))  # end of NAMES
PONGED = Reply(frozenset({b"PONG"}))


# -- what to run ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Target:
    """The server under test.

    Attributes:
        name: shown in the result rows.
        command: the command line, with ``{port}`` (and ``{plain_port}``) placeholders.
        oper: ``(name, password)`` every load client sends with OPER before joining.
        umode: the user mode each load client sets after OPER (ngircd: ``+F``, which
            exempts it from throttling).
        setup_concurrency: connections set up at once.
        files: ``(template, output)`` pairs written with the placeholders filled in
            before the server starts (servers that read their port from a file).
    """

    name: str
    command: str
    oper: tuple[str, str] | None = None
    umode: str | None = None
    setup_concurrency: int = 10
    files: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Scenario:
    """One measurement.

    Attributes:
        kind: which scenario (see the module docstring).
        clients: users connected (C, or N for ``idle``).
        senders: users sending (S); ``rooms`` makes every user a sender.
        rate: messages per second per sender (R); unused by ``closed`` and ``idle``.
        duration: seconds of sending.
        room_size: members per room (``rooms``).
        window: messages in flight (``closed``).
        drain_timeout: seconds to wait for the last deliveries after sending stops.
        probes: receivers that parse every time stamp (latency).
        setup_timeout: seconds allowed to connect, register and join everyone.
        poll_ms: open-loop scenarios: read the receivers other than the probes every
            this many milliseconds instead of as data arrives (0: as data arrives).
            Reading a socket per delivery is the generator's bottleneck; reading
            several deliveries at once keeps it off the server's latency figures.
    """

    kind: Kind
    clients: int
    senders: int = 10
    rate: float = 10.0
    duration: float = 10.0
    room_size: int = 10
    window: int = 64
    drain_timeout: float = 10.0
    probes: int = 8
    setup_timeout: float = 180.0
    poll_ms: float = 50.0


@dataclass(slots=True)
class Result:
    """One run's figures; ``None`` where a figure does not apply to the scenario."""

    server: str
    scenario: Kind
    clients: int
    senders: int | None = None
    rate: float | None = None
    duration: float | None = None
    window: int | None = None
    sent: int | None = None
    expected: int | None = None
    deliveries: int | None = None
    loss: float | None = None  # fraction of expected deliveries that never arrived
    deliveries_per_s: float | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    server_cpu_s: float | None = None
    server_cpu_pct: float | None = None  # of one core, over the measured window
    cpu_s_per_m: float | None = None  # server CPU-seconds per million deliveries
    writes: int | None = None  # write system calls of the server tree (syscw)
    writes_per_delivery: float | None = None
    peak_rss_kib: int | None = None  # VmHWM summed over the server tree
    rss_per_conn_kib: float | None = None
    register_s: float | None = None  # idle: time to register every user
    gen_cpu_s: float | None = None
    gen_cpu_pct: float | None = None
    gen_saturated: bool | None = None
    mss: int | None = None  # TCP_MAXSEG read back from a client socket
    softirq_pct: float | None = None  # machine softirq time (loopback TCP), % of a core
    other_cpu_pct: float | None = None  # CPU busy beyond server, generator and softirq
    poll_ms: float | None = None  # receivers read every poll_ms (None: as data arrived)
    disconnects: int = 0  # clients the server dropped while measuring
    window_s: float | None = None  # start of sending to end of drain
    extra: dict[str, float] = field(default_factory=dict)


# -- the server process -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TreeSample:
    """Counters summed over a process tree at one moment."""

    cpu_s: float
    syscw: int
    hwm_kib: int
    rss_kib: int


_TICK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True, slots=True)
class MachineSample:
    """CPU-seconds all cores have spent since boot (``/proc/stat``)."""

    busy_s: float  # everything but idle and iowait, steal included
    softirq_s: float  # part of busy_s: interrupt-time work, such as loopback TCP


def machine_busy_s() -> MachineSample:
    """How busy the whole machine has been.

    The machine may be shared: whatever was busy during a run beyond the server and the
    generator is reported, so a run disturbed by other work can be told apart. Loopback
    TCP is partly processed in softirq time, which the kernel may count to no process:
    it is reported on its own.
    """
    with open("/proc/stat") as stat:
        numbers = [int(n) for n in stat.readline().split()[1:]]
    idle = numbers[3] + numbers[4]  # idle, iowait
    guest = sum(numbers[8:10])  # guest time is already counted in user time
    return MachineSample((sum(numbers) - idle - guest) / _TICK, numbers[6] / _TICK)


def process_tree(root: int) -> list[int]:
    """``root`` and its live descendants (children are found by their parent id)."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            text = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(text[text.rindex(")") + 2 :].split()[1])
        parents.setdefault(ppid, []).append(int(entry))
    tree: list[int] = []
    stack = [root]
    while stack and len(tree) < 10_000:
        pid = stack.pop()
        if pid in tree:
            continue
        tree.append(pid)
        stack.extend(parents.get(pid, ()))
    return tree


def sample_tree(root: int) -> TreeSample:
    """CPU seconds (with reaped children's), write calls and memory of a process tree."""
    cpu = 0
    syscw = hwm = rss = 0
    for pid in process_tree(root):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            io = Path(f"/proc/{pid}/io").read_text()
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue  # it exited between the listing and the reading
        numbers = stat[stat.rindex(")") + 2 :].split()
        # utime, stime, cutime, cstime: a reaped child's time moves into its parent's
        # cutime/cstime, so the sum over live processes counts everything once.
        cpu += sum(int(numbers[i]) for i in (11, 12, 13, 14))
        syscw += _field(io, "syscw:")
        hwm += _field(status, "VmHWM:")
        rss += _field(status, "VmRSS:")
    return TreeSample(cpu / _TICK, syscw, hwm, rss)


def _field(text: str, name: str) -> int:
    start = text.find(name)
    if start < 0:
        return 0
    return int(text[start + len(name) :].split()[0])


def free_port() -> int:
    """A port nobody listens on now (the server binds it a moment later)."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def raise_open_file_limit(wanted: int = NOFILE_WANTED) -> int:
    """Raise the soft open-file limit toward ``wanted`` (the server inherits it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    ceiling = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < ceiling:
        resource.setrlimit(resource.RLIMIT_NOFILE, (ceiling, hard))
        soft = ceiling
    return int(soft)


class ServerProcess:
    """The server under test, started from a command template and stopped at the end."""

    def __init__(
        self, command: str, port: int, plain_port: int, files: tuple[tuple[str, str], ...] = ()
    ) -> None:
        self.port = port
        self.plain_port = plain_port
        self.argv = shlex.split(self.fill(command))
        self.files = files
        # Open as long as the server runs; closed by stop().
        self._log: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115
        self.proc: subprocess.Popen[bytes] | None = None

    def fill(self, text: str) -> str:
        """``text`` with the ``{port}`` and ``{plain_port}`` placeholders filled in."""
        return text.replace("{port}", str(self.port)).replace("{plain_port}", str(self.plain_port))

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> None:
        for template, output in self.files:
            Path(output).write_text(self.fill(Path(template).read_text()))
        # A session of its own: a ^C meant for the generator does not reach the server
        # before the generator has stopped it properly.
        self.proc = subprocess.Popen(
            self.argv,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def log_tail(self, size: int = 2000) -> str:
        self._log.flush()
        self._log.seek(0, os.SEEK_END)
        end = self._log.tell()
        self._log.seek(max(0, end - size))
        return self._log.read().decode("utf-8", "replace")

    def check_alive(self) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            raise BenchError(
                f"{self.argv[0]} exited with {self.proc.returncode}:\n{self.log_tail()}"
            )

    async def wait_for_port(self, port: int, seconds: float = 30.0) -> None:
        """Poll until the port accepts a connection (each try is an event, not a guess)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        for _ in range(int(seconds / 0.02) + 1):
            self.check_alive()
            with socket.socket() as probe:
                probe.setblocking(False)
                try:
                    await loop.sock_connect(probe, (HOST, port))
                except OSError:
                    pass
                else:
                    return
            if loop.time() > deadline:
                break
            await asyncio.sleep(0.02)
        raise BenchError(f"{self.argv[0]} did not listen on {port}:\n{self.log_tail()}")

    async def stop(self, seconds: float = 10.0) -> None:
        """SIGTERM, then SIGKILL if it has not exited within ``seconds``."""
        proc = self.proc
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            for _ in range(int(seconds / 0.05)):
                if proc.poll() is not None:
                    break
                await asyncio.sleep(0.05)
            else:
                proc.kill()
            proc.wait()
        self._log.close()


# -- the clients ------------------------------------------------------------------------


class Tally:
    """Deliveries counted by every receiver, and who waits for a total."""

    __slots__ = ("disconnects", "done", "received", "samples", "target", "wake")

    def __init__(self) -> None:
        self.received = 0
        self.target = sys.maxsize  # the total that completes ``done``
        self.done: asyncio.Future[None] | None = None
        self.samples: list[int] = []  # latencies in ns, from the probes
        self.disconnects = 0
        self.wake: Callable[[], None] | None = None  # the closed loop's pump

    def add(self, count: int) -> None:
        self.received += count
        if self.received >= self.target and self.done is not None and not self.done.done():
            self.done.set_result(None)
        if self.wake is not None:
            self.wake()


# One receive buffer for every client: the event loop calls ``get_buffer``, reads into it
# and calls ``buffer_updated`` back to back, so no two reads can share it at a time.
_BUFFER = bytearray(256 * 1024)
_NEWLINE = ord("\n")


class Client(asyncio.BufferedProtocol):
    """One connection: a line watcher during setup, a marker counter while measuring.

    Receiving is the generator's own bottleneck (each separately arriving line costs a
    wake-up, a read and a Python call), so the counting path reads into a shared buffer
    and counts markers there without making a ``bytes`` object.
    """

    __slots__ = (
        "counting",
        "expect",
        "first",
        "hints",
        "lost",
        "polled",
        "probe",
        "tail",
        "tally",
        "transport",
        "waiter",
    )

    def __init__(self, tally: Tally, probe: bool) -> None:
        loop = asyncio.get_running_loop()
        self.tally = tally
        self.probe = probe
        self.tail = b""
        self.counting = False
        self.polled = False  # read by the Poller's ticks, not as data arrives
        self.transport: asyncio.Transport | None = None
        self.first: asyncio.Future[None] | None = loop.create_future()
        self.lost: asyncio.Future[None] = loop.create_future()
        self.waiter: asyncio.Future[None] | None = None
        self.expect = Reply()
        self.hints: tuple[bytes, ...] = ()

    # -- asyncio.BufferedProtocol ------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast("asyncio.Transport", transport)

    def get_buffer(self, sizehint: int) -> bytearray:
        return _BUFFER

    def buffer_updated(self, nbytes: int) -> None:
        if self.polled:
            assert self.transport is not None
            self.transport.pause_reading()
        buffer = _BUFFER
        if self.tail or not self.counting or self.probe or buffer[nbytes - 1] != _NEWLINE:
            self.receive(bytes(buffer[:nbytes]))
            return
        # The hot path: whole lines, counted where they were read, in one C-speed scan.
        count = buffer.count(MARK, 0, nbytes)
        if count:
            self.tally.add(count)
        if buffer.find(b"PING ", 0, nbytes) >= 0:
            self._pong_all(bytes(buffer[:nbytes]))

    def receive(self, data: bytes) -> None:
        """Handle received bytes: the general path (setup, probes, split lines)."""
        if self.first is not None:
            if not self.first.done():
                self.first.set_result(None)
            self.first = None
        if self.tail:
            data = self.tail + data
        cut = data.rfind(b"\n") + 1
        if not cut:
            if len(data) > TAIL_LIMIT:
                self._fail(BenchError(f"a line of over {TAIL_LIMIT} bytes"))
                data = b""
            self.tail = data
            return
        self.tail = data[cut:]
        if self.counting:
            count = data.count(MARK, 0, cut)
            if count:
                if self.probe:
                    self._stamp(data, cut)
                self.tally.add(count)
            if data.find(b"PING ", 0, cut) >= 0:
                self._pong_all(data[:cut])
            return
        self._watch(data[:cut])

    def connection_lost(self, exc: Exception | None) -> None:
        if self.counting:
            self.tally.disconnects += 1
        self._fail(BenchError(f"connection lost: {exc or 'closed by the server'}"))
        if self.first is not None and not self.first.done():
            _reject(self.first, BenchError("closed before the server answered"))
        if not self.lost.done():
            self.lost.set_result(None)

    # -- setup -------------------------------------------------------------------------

    def arm(self, reply: Reply) -> asyncio.Future[None]:
        """Wait for ``reply`` (armed before sending what it answers)."""
        self.waiter = asyncio.get_running_loop().create_future()
        self.expect = reply
        self.hints = reply.hints
        return self.waiter

    async def request(self, data: bytes, reply: Reply, seconds: float) -> None:
        """Send ``data`` and wait for ``reply``."""
        waiter = self.arm(reply)
        self.write(data)
        async with asyncio.timeout(seconds):
            await waiter

    def write(self, data: bytes) -> None:
        assert self.transport is not None
        self.transport.write(data)

    def _watch(self, chunk: bytes) -> None:
        waiter = self.waiter
        expect = self.expect
        if expect.text is not None:
            if waiter is not None and not waiter.done() and expect.text in chunk:
                waiter.set_result(None)
            return
        # Most setup chunks are welcome lines and other users' JOINs: skip them unparsed.
        if not any(hint in chunk for hint in self.hints):
            return
        for raw in chunk.split(b"\n"):
            line = raw.rstrip(b"\r")
            words = line.split(b" ", 2)
            command = words[1] if line.startswith(b":") and len(words) > 1 else words[0]
            if command == b"PING":
                self._pong(line)
            if waiter is None or waiter.done():
                continue
            if command in _FAILURES:
                self._fail(BenchError(f"refused: {line.decode('utf-8', 'replace')}"))
            elif command in expect.commands:
                waiter.set_result(None)

    def _fail(self, error: BenchError) -> None:
        if self.waiter is not None and not self.waiter.done():
            _reject(self.waiter, error)

    # -- measuring ---------------------------------------------------------------------

    def _stamp(self, data: bytes, cut: int) -> None:
        now = time.monotonic_ns()
        samples = self.tally.samples
        if len(samples) < SAMPLE_LIMIT:
            samples.extend(now - int(m) for m in _STAMP.findall(data, 0, cut))

    def _pong_all(self, chunk: bytes) -> None:
        for line in chunk.split(b"\n"):
            self._pong(line.rstrip(b"\r"))

    def _pong(self, line: bytes) -> None:
        if line.startswith(b":"):
            line = line.partition(b" ")[2]
        if line.startswith(b"PING "):
            self.write(b"PONG " + line[5:] + b"\r\n")


def _reject(future: asyncio.Future[None], error: BenchError) -> None:
    future.set_exception(error)
    # Marked as seen: when one setup fails the others are cancelled, and their futures'
    # errors are consequences, not news. Whoever still awaits one gets the error.
    future.exception()


async def open_client(
    tally: Tally,
    port: int,
    hello: bytes,
    done: Reply,
    setup: asyncio.Semaphore,
    registry: list[Client],
    probe: bool = False,
) -> Client:
    """Connect with the benchmark's socket options, send ``hello``, await ``done``.

    (No time limit of its own: the whole run has one.)

    The setup slot is held until the server first answers, so no more than the
    semaphore's count of connections wait in the server's accept queue; registration
    itself then completes outside the slot. ``registry`` gets the client as soon as it
    exists, so that a failed setup still closes it.
    """
    loop = asyncio.get_running_loop()
    async with setup:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, MSS)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.setblocking(False)
            await loop.sock_connect(sock, (HOST, port))
            _, client = await loop.create_connection(lambda: Client(tally, probe), sock=sock)
        except BaseException:
            sock.close()
            raise
        registry.append(client)
        # Armed before sending: the whole welcome may arrive in one chunk.
        waiter = client.arm(done)
        client.write(hello)
        first = client.first
        if first is not None:
            await first
    await waiter
    return client


def irc_hello(nick: bytes) -> bytes:
    # CAP LS first: every server answers it at once, which releases the setup slot even
    # where registration itself waits for a timer (InspIRCd registers once a second).
    return b"CAP LS 302\r\nNICK %s\r\nUSER %s 0 * :%s\r\nCAP END\r\n" % (nick, nick, nick)


# -- the run ----------------------------------------------------------------------------


@dataclass(slots=True)
class Sender:
    """A client that sends, with its line template and how many receive each line."""

    client: Client
    prefix: bytes  # the line up to the time stamp
    suffix: bytes  # the rest of the line after the stamp
    fanout: int


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
        self.server = ServerProcess(target.command, self.port, self.plain_port, target.files)
        self.result = Result(target.name, scenario.kind, scenario.clients)

    async def run(self) -> Result:
        scenario = self.scenario
        plain = scenario.kind == "plain"
        self.server.start()
        try:
            await self.server.wait_for_port(self.plain_port if plain else self.port)
            async with asyncio.timeout(scenario.setup_timeout + scenario.duration * 2 + 30):
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
            if self.scenario.kind == "plain":
                port, hello = self.plain_port, nick + b"\n"
                done = Reply(text=b"Welcome, " + nick + b"!")
            else:
                port, hello, done = self.port, irc_hello(nick), REGISTERED
            slots[index] = await open_client(
                self.tally, port, hello, done, setup, self.opened, index in probes
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
        start = loop.time()
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
            sender_ids = list(range(min(scenario.senders, count)))
            # Receivers spread over the join order: servers fan out in some order, and
            # the first and the last recipient of a line see different latencies.
            probes = set(spread(range(len(sender_ids), count), scenario.probes))
        nicks = [b"b%d" % i for i in range(count)]
        await self._connect_all(nicks, probes)
        if scenario.kind != "plain":
            async with asyncio.TaskGroup() as group:
                for client, nick, channel in zip(self.clients, nicks, channels, strict=True):
                    group.create_task(self._join(client, nick, channel))
            await self._barrier(self.clients)
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
        start = loop.time()
        companion = self._start_companion()
        poller = None
        if scenario.poll_ms > 0 and scenario.kind != "closed":
            poller = Poller([c for c in self.clients if not c.probe], scenario.poll_ms / 1000)
        try:
            if scenario.kind == "closed":
                sent, expected = await self._closed_loop(senders)
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
        window = loop.time() - start
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
        result.rate = None if scenario.kind == "closed" else scenario.rate
        result.duration = scenario.duration
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
        if scenario.poll_ms > 0 and scenario.kind != "closed":
            result.poll_ms = scenario.poll_ms
        result.disconnects = tally.disconnects
        result.mss = _mss(self.clients[0])
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


async def _wait_process(proc: subprocess.Popen[bytes], seconds: float) -> None:
    """Let a helper process finish; stop it if it overstays ``seconds``."""
    for _ in range(int(seconds / 0.05)):
        if proc.poll() is not None:
            return
        await asyncio.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    proc.wait()


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


# -- entry points -------------------------------------------------------------------------


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


def run(target: Target, scenario: Scenario, during: str | None = None) -> Result:
    """Start the server, measure one scenario, stop the server, return the row.

    Args:
        target: the server.
        scenario: what to measure.
        during: a command run while sending (``{pid}`` is the server's, ``{seconds}``
            the sending time), such as a sampling profiler.
    """
    raise_open_file_limit()
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        return runner.run(Bench(target, scenario, during).run())


# (key, heading, format) of the Markdown row; a missing figure shows as a dash.
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("server", "server", "{}"),
    ("scenario", "scenario", "{}"),
    ("clients", "C", "{}"),
    ("senders", "S", "{}"),
    ("rate", "R msg/s", "{:g}"),
    ("deliveries_per_s", "deliveries/s", "{:,.0f}"),
    ("loss", "loss %", "{:.3%}"),
    ("p50_ms", "p50 ms", "{:.2f}"),
    ("p99_ms", "p99 ms", "{:.2f}"),
    ("cpu_s_per_m", "CPU-s/M", "{:.2f}"),
    ("server_cpu_pct", "server CPU %", "{:.0f}"),
    ("writes_per_delivery", "writes/delivery", "{:.3f}"),
    ("peak_rss_kib", "peak RSS MiB", "{}"),
    ("register_s", "register s", "{:.2f}"),
    ("rss_per_conn_kib", "KiB/conn", "{:.2f}"),
    ("gen_cpu_pct", "gen CPU %", "{:.0f}"),
    ("gen_saturated", "gen saturated", "{}"),
    ("softirq_pct", "softirq %", "{:.0f}"),
    ("other_cpu_pct", "other CPU %", "{:.0f}"),
    ("mss", "MSS", "{}"),
)


def cell(key: str, value: object, form: str) -> str:
    """One Markdown cell: the figure formatted, or a dash when it does not apply."""
    if value is None:
        return "n/a"
    if key == "peak_rss_kib" and isinstance(value, int):
        return f"{value / 1024:.1f}"
    if key == "loss" and isinstance(value, float):
        return f"{value * 100:.3f}"
    if isinstance(value, bool):
        return "**yes**" if value else "no"
    return form.format(value)


def markdown_header() -> str:
    headings = [heading for _, heading, _ in COLUMNS]
    return "| " + " | ".join(headings) + " |\n|" + "---|" * len(COLUMNS)


def markdown_row(result: Result) -> str:
    values = asdict(result)
    return "| " + " | ".join(cell(k, values[k], f) for k, _, f in COLUMNS) + " |"


def result_from_json(text: str) -> Result:
    """The inverse of the JSON row this module prints."""
    data = json.loads(text)
    known = {f.name for f in fields(Result)}
    return Result(**{k: v for k, v in data.items() if k in known})


def parse_args(
    argv: Sequence[str] | None = None,
) -> tuple[Target, Scenario, bool, str | None]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("kind", choices=KINDS, help="the scenario")
    parser.add_argument(
        "--server", required=True, help="server command line with {port} (and {plain_port})"
    )
    parser.add_argument("--name", default="server", help="server name in the row")
    parser.add_argument("--oper", help="NAME:PASSWORD sent with OPER by every load client")
    parser.add_argument("--umode", help="user mode each load client sets after OPER (+F)")
    parser.add_argument("--setup-concurrency", type=int, default=10)
    parser.add_argument(
        "--render",
        action="append",
        default=[],
        metavar="TEMPLATE:OUTPUT",
        help="write TEMPLATE to OUTPUT with {port} filled in before starting the server",
    )
    parser.add_argument("--clients", "-C", type=int, default=1000)
    parser.add_argument("--senders", "-S", type=int, default=10)
    parser.add_argument("--rate", "-R", type=float, default=10.0, help="msg/s per sender")
    parser.add_argument("--duration", "-D", type=float, default=10.0, help="seconds sending")
    parser.add_argument("--room-size", type=int, default=10)
    parser.add_argument("--window", type=int, default=64, help="closed loop: msgs in flight")
    parser.add_argument("--drain-timeout", type=float, default=10.0)
    parser.add_argument("--probes", type=int, default=8, help="receivers timing every line")
    parser.add_argument("--setup-timeout", type=float, default=180.0)
    parser.add_argument(
        "--poll-ms",
        type=float,
        default=50.0,
        help="open loop: read non-probe receivers every N ms (0: as data arrives)",
    )
    parser.add_argument("--header", action="store_true", help="print the Markdown header")
    parser.add_argument(
        "--during", help="command run while sending, with {pid} and {seconds} (a profiler)"
    )
    args = parser.parse_args(argv)
    oper = None
    if args.oper:
        name, _, password = args.oper.partition(":")
        oper = (name, password)
    files = tuple(cast("tuple[str, str]", tuple(f.split(":", 1))) for f in args.render)
    target = Target(args.name, args.server, oper, args.umode, args.setup_concurrency, files)
    scenario = Scenario(
        kind=args.kind,
        clients=args.clients,
        senders=args.senders,
        rate=args.rate,
        duration=args.duration,
        room_size=args.room_size,
        window=args.window,
        drain_timeout=args.drain_timeout,
        probes=args.probes,
        setup_timeout=args.setup_timeout,
        poll_ms=args.poll_ms,
    )
    return target, scenario, bool(args.header), args.during


def main(argv: Sequence[str] | None = None) -> int:
    target, scenario, header, during = parse_args(argv)
    try:
        result = run(target, scenario, during)
    except (BenchError, OSError, TimeoutError) as error:
        print(f"loadgen: {target.name} {scenario.kind}: {error}", file=sys.stderr)
        return 1
    print(json.dumps(asdict(result)))
    if header:
        print(markdown_header())
    print(markdown_row(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
