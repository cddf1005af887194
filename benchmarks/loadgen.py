"""A load generator for IRC servers: starts a server, drives one scenario, prints one row.

The server is any command line with a ``{port}`` placeholder (and ``{plain_port}`` for
hubbub's plain-text door). The generator starts it, waits for its port, connects the
clients, measures, and stops it. Scenarios (see the README next to this file):

- ``fanout``: C users in one channel, S of them sending R messages/s each;
- ``closed``: the same channel, sending as fast as the receivers drain: at most ``window``
  messages in flight (sent but not yet received by every member);
- ``rooms``: C users in rooms of ``room_size``, every user sending R messages/s;
- ``idle``: N users connect and register, nothing else;
- ``plain``: the fan-out over hubbub's plain-text door;
- ``web``: the fan-out with every user on hubbub's WebSocket door (``{web_port}``), to
  compare with ``fanout``: a user's memory, and the CPU per delivery;
- ``burst``: one sender writes ``messages`` lines at once to a channel of C users; the
  burst time runs from that write until every receiver has every line.

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
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, fields
from pathlib import Path
from typing import cast

if __package__ in (None, ""):
    # Run as a script: make ``benchmarks`` importable from the repository root.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import KINDS, MSS, BenchError, Result, Scenario, Target
from benchmarks.measure import machine_busy_s, raise_open_file_limit
from benchmarks.scenarios import Bench

__all__ = [
    "COLUMNS",
    "KINDS",
    "MSS",
    "Bench",
    "BenchError",
    "Result",
    "Scenario",
    "Target",
    "cell",
    "machine_busy_s",
    "main",
    "markdown_header",
    "markdown_row",
    "parse_args",
    "raise_open_file_limit",
    "result_from_json",
    "run",
]


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
    ("burst_s", "burst s", "{:.3f}"),
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
        "--server",
        required=True,
        help="server command line with {port} (and {plain_port}, {web_port})",
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
    parser.add_argument(
        "--clients", "-C", type=int, help="users connected (1000; burst: 2, one sender)"
    )
    parser.add_argument("--senders", "-S", type=int, default=10)
    parser.add_argument("--rate", "-R", type=float, default=10.0, help="msg/s per sender")
    parser.add_argument("--duration", "-D", type=float, default=10.0, help="seconds sending")
    parser.add_argument("--room-size", type=int, default=10)
    parser.add_argument("--window", type=int, default=64, help="closed loop: msgs in flight")
    parser.add_argument("--messages", type=int, default=2000, help="burst: lines sent at once")
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
        clients=args.clients
        if args.clients is not None
        else (2 if args.kind == "burst" else 1000),
        senders=args.senders,
        rate=args.rate,
        duration=args.duration,
        room_size=args.room_size,
        window=args.window,
        messages=args.messages,
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
