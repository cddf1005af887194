"""Shared definitions of the load generator: constants, errors, what to run and results."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["fanout", "closed", "rooms", "idle", "plain", "burst", "web"]
KINDS: tuple[Kind, ...] = ("fanout", "closed", "rooms", "idle", "plain", "burst", "web")

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
        command: the command line, with ``{port}`` (and ``{plain_port}``, ``{web_port}``)
            placeholders.
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
        senders: users sending (S); ``rooms`` makes every user a sender, ``burst``
            has one.
        rate: messages per second per sender (R); unused by ``closed``, ``idle`` and
            ``burst``.
        duration: seconds of sending (unused by ``burst``).
        room_size: members per room (``rooms``).
        window: messages in flight (``closed``).
        messages: lines the one sender writes at once (``burst``).
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
    messages: int = 2000
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
    rss_per_conn_kib: float | None = None  # idle: registered; traffic: registered and joined
    register_s: float | None = None  # idle: time to register every user
    burst_s: float | None = None  # burst: first write until every receiver has every line
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
