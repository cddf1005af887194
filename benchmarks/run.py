"""Measure hubbub, ngircd and InspIRCd side by side and write ``benchmarks/RESULTS.md``.

Every scenario of :mod:`benchmarks.loadgen` runs against every server in one run,
alternating (the servers' order rotates with each repeat), each run in a fresh generator
process against a freshly started server. The tables hold the medians over the repeats.

``python benchmarks/run.py`` is the full set (about 20 minutes); ``--quick`` a short
version (one repeat, shorter runs, 2,000 idle users). The peers are the Debian packages
``ngircd`` and ``inspircd``; their configuration files are generated here with flood
limits raised, as the issue's measurement notes ask (see :func:`ngircd_config` and
:func:`inspircd_config`).
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

if __package__ in (None, ""):
    # Run as a script: make ``benchmarks`` importable from the repository root.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.loadgen import (
    COLUMNS,
    Result,
    Scenario,
    Target,
    cell,
    machine_busy_s,
    raise_open_file_limit,
    result_from_json,
)

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
LOADGEN = HERE / "loadgen.py"
SERVERS = ("hubbub", "ngircd", "inspircd")
OPER = ("bench", "bench")
DISTURBED = 25.0  # % of a core busy elsewhere during a run that makes it worth repeating
RETRIES = 2
ANALYSIS_START = "<!-- analysis -->"
ANALYSIS_END = "<!-- /analysis -->"


# -- the peers' configuration -----------------------------------------------------------


def ngircd_config() -> str:
    """ngircd with every limit that would throttle a load client raised or off.

    ngircd throttles a client unless it is an operator with user mode +F, so every load
    client OPERs and sets +F (``Target.oper``/``umode``); ``MaxPenaltyTime = 0`` also
    zeroes the per-command penalties. Its listen backlog is a fixed 10, which is why the
    generator sets up at most 10 connections at once.
    """
    name, password = OPER
    return f"""[Global]
\tName = bench.ngircd
\tInfo = hubbub benchmark peer
\tListen = 127.0.0.1
\tPorts = {{port}}
\tMotdPhrase = benchmark
[Limits]
\tMaxConnections = 0
\tMaxConnectionsIP = 0
\tMaxJoins = 0
\tMaxNickLength = 16
\tMaxPenaltyTime = 0
\tPingTimeout = 600
\tPongTimeout = 600
[Options]
\tDNS = no
\tIdent = no
\tPAM = no
\tOperCanUseMode = yes
[Operator]
\tName = {name}
\tPassword = {password}
"""


def inspircd_config(folder: Path, open_files: int) -> str:
    """InspIRCd with a connect class that neither throttles nor limits the load clients.

    ``threshold`` and ``commandrate`` far above the load, ``fakelag`` off, large SendQ
    and RecvQ, ``localmax``/``globalmax`` above any client count, no DNS (and no ident
    module), and ``<performance softlimit somaxconn>`` raised. It is run with
    ``--nofork --runasroot``.
    """
    return f"""<server name="bench.inspircd" description="hubbub benchmark peer" network="bench">
<admin name="bench" nick="bench" email="bench@localhost">
<bind address="127.0.0.1" port="{{port}}" type="clients">
<connect name="bench" allow="*" maxchans="100" timeout="120" pingfreq="600"
         hardsendq="104857600" softsendq="104857600" recvq="10485760"
         threshold="1000000" commandrate="100000000" fakelag="no"
         localmax="1000000" globalmax="1000000" maxconnwarn="no" limit="1000000"
         resolvehostnames="no" useident="no">
<module name="cap">
<performance softlimit="{max(1024, open_files - 64)}" somaxconn="4096" netbuffersize="10240"
             clonesonconnect="no" quietbursts="yes" timeskipwarn="0">
<log method="file" type="* -USERINPUT -USEROUTPUT" level="default"
     target="{folder / "inspircd.log"}">
<whowas groupsize="10" maxgroups="100000" maxkeep="3d">
"""


def find_program(name: str) -> str | None:
    """A program on PATH or in /usr/sbin (where Debian puts daemons, often off PATH)."""
    found = shutil.which(name)
    if found is None and Path("/usr/sbin", name).exists():
        found = str(Path("/usr/sbin", name))
    return found


def make_targets(folder: Path, servers: Sequence[str]) -> dict[str, Target]:
    """The servers to measure, with their generated configuration files."""
    python = sys.executable
    common = (
        f"{python} -m hubbub serve --host 127.0.0.1 --port {{port}} "
        # A fresh data folder per run ({port} differs): history must not pile up across runs.
        f"--data-dir {folder / 'hubbub-data'}-{{port}} --server-name bench.hubbub "
        "--trusted 127.0.0.0/8 --log-level warning"
    )
    targets: dict[str, Target] = {}
    if "hubbub" in servers:
        targets["hubbub"] = Target("hubbub", common + " --no-plain")
        targets["hubbub-plain"] = Target("hubbub", common + " --plain-port {plain_port}")
    open_files = raise_open_file_limit()
    if "ngircd" in servers:
        program = find_program("ngircd")
        assert program is not None
        template = folder / "ngircd.conf.in"
        template.write_text(ngircd_config())
        config = folder / "ngircd.conf"
        targets["ngircd"] = Target(
            "ngircd",
            f"{program} --nodaemon --passive --config {config}",
            oper=OPER,
            umode="+F",
            files=((str(template), str(config)),),
        )
    if "inspircd" in servers:
        program = find_program("inspircd")
        assert program is not None
        template = folder / "inspircd.conf.in"
        template.write_text(inspircd_config(folder, open_files))
        config = folder / "inspircd.conf"
        targets["inspircd"] = Target(
            "inspircd",
            f"{program} --config {config} --nofork --runasroot --nopid",
            files=((str(template), str(config)),),
        )
    return targets


# -- the plan -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Step:
    """One scenario of the plan, and which servers run it."""

    label: str  # the section in RESULTS.md
    scenario: Scenario
    servers: tuple[str, ...]


def make_plan(quick: bool, duration: float | None, servers: Sequence[str]) -> list[Step]:
    seconds = duration if duration is not None else (3.0 if quick else 10.0)
    idle = 2_000 if quick else 10_000
    everyone = tuple(servers)
    return [
        Step(
            "fan-out: C=1000, 10 senders at 10 msg/s",
            Scenario("fanout", 1000, senders=10, rate=10, duration=seconds),
            everyone,
        ),
        Step(
            "closed-loop maximum: C=500, 10 senders",
            Scenario("closed", 500, senders=10, duration=seconds, window=64),
            everyone,
        ),
        Step(
            "rooms: 1000 users in 100 rooms of 10, each 5 msg/s",
            Scenario("rooms", 1000, rate=5, room_size=10, duration=seconds),
            everyone,
        ),
        Step(f"idle: {idle:,} users register", Scenario("idle", idle), everyone),
        Step(
            "plain door fan-out: C=1000, 10 senders at 10 msg/s (hubbub only)",
            Scenario("plain", 1000, senders=10, rate=10, duration=seconds),
            ("hubbub",) if "hubbub" in servers else (),
        ),
    ]


def loadgen_argv(target: Target, scenario: Scenario, during: str | None = None) -> list[str]:
    argv = [sys.executable, str(LOADGEN), scenario.kind, "--server", target.command]
    argv += ["--name", target.name, "--setup-concurrency", str(target.setup_concurrency)]
    if target.oper is not None:
        argv += ["--oper", ":".join(target.oper)]
    if target.umode is not None:
        argv += ["--umode", target.umode]
    for template, output in target.files:
        argv += ["--render", f"{template}:{output}"]
    argv += ["--clients", str(scenario.clients), "--senders", str(scenario.senders)]
    argv += ["--rate", str(scenario.rate), "--duration", str(scenario.duration)]
    argv += ["--room-size", str(scenario.room_size), "--window", str(scenario.window)]
    argv += ["--drain-timeout", str(scenario.drain_timeout), "--probes", str(scenario.probes)]
    argv += ["--setup-timeout", str(scenario.setup_timeout), "--poll-ms", str(scenario.poll_ms)]
    if during is not None:
        argv += ["--during", during]
    return argv


def measure(target: Target, scenario: Scenario, during: str | None = None) -> Result | str:
    """One run in a fresh generator process: its row, or why it failed."""
    budget = scenario.setup_timeout + scenario.duration * 3 + 120
    try:
        done = subprocess.run(
            loadgen_argv(target, scenario, during),
            capture_output=True,
            text=True,
            timeout=budget,
            cwd=REPO,
        )
    except subprocess.TimeoutExpired:
        return f"no result within {budget:.0f} s"
    for line in done.stdout.splitlines():
        if line.startswith("{"):
            return result_from_json(line)
    return (done.stderr.strip() or done.stdout.strip() or f"exit {done.returncode}")[-800:]


def measure_undisturbed(
    target: Target, scenario: Scenario, clock: float, repeat: int, args: argparse.Namespace
) -> Result | str:
    """Measure once the machine is quiet; again (bounded) if other work disturbed the run.

    The machine may be shared, and other work is bursty: a run during which more than
    ``DISTURBED`` % of a core went to processes other than the server and the generator
    is repeated, up to ``RETRIES`` times (the last attempt is kept, and its
    ``other CPU %`` shows it).
    """
    outcome: Result | str = "not run"
    for attempt in range(RETRIES + 1):
        busy = wait_for_quiet()
        print(
            f"[{time.monotonic() - clock:6.0f} s] repeat {repeat + 1}/{args.repeats}"
            f" {scenario.kind:7} {target.name:9} (machine busy {busy:.2f} cores"
            + (f", attempt {attempt + 1})" if attempt else ")"),
            file=sys.stderr,
            flush=True,
        )
        outcome = measure(target, scenario)
        if isinstance(outcome, str) or (outcome.other_cpu_pct or 0) <= DISTURBED:
            break
        print(f"    disturbed: other CPU {outcome.other_cpu_pct} %", file=sys.stderr)
    return outcome


def wait_for_quiet(limit: float = 120.0, threshold: float = 0.15) -> float:
    """Wait (bounded) until the machine is nearly idle; return the busy cores seen last.

    The machine may be shared with other work, and a run's CPU figures are only the
    server's when nothing else competes for the two cores.
    """
    busy = 0.0
    for _ in range(int(limit)):
        before = machine_busy_s().busy_s
        time.sleep(1.0)
        busy = machine_busy_s().busy_s - before
        if busy < threshold:
            break
    return busy


# -- medians and tables -----------------------------------------------------------------


def median_result(results: Sequence[Result]) -> Result:
    """The per-field median of several runs (booleans: whether any run was flagged)."""
    first = results[0]
    merged = replace(first)
    for f in fields(Result):
        values = [getattr(r, f.name) for r in results]
        present = [v for v in values if v is not None]
        if f.name in ("server", "scenario", "extra") or not present:
            continue
        if isinstance(present[0], bool):
            setattr(merged, f.name, any(present))
        elif isinstance(present[0], int | float):
            middle = statistics.median(present)
            setattr(merged, f.name, type(present[0])(middle) if f.name != "loss" else middle)
    return merged


TRAFFIC_COLUMNS = (
    "deliveries_per_s",
    "loss",
    "p50_ms",
    "p99_ms",
    "cpu_s_per_m",
    "server_cpu_pct",
    "writes_per_delivery",
    "peak_rss_kib",
    "gen_cpu_pct",
    "gen_saturated",
    "softirq_pct",
    "other_cpu_pct",
)
IDLE_COLUMNS = (
    "register_s",
    "rss_per_conn_kib",
    "server_cpu_s",
    "peak_rss_kib",
    "gen_cpu_pct",
    "gen_saturated",
    "other_cpu_pct",
)
HEADINGS = {key: (heading, form) for key, heading, form in COLUMNS} | {
    "server_cpu_s": ("server CPU-s", "{:.2f}"),
    "runs": ("runs", "{}"),
}


def table(rows: Sequence[tuple[str, Result, int]], columns: Sequence[str]) -> str:
    heads = ["server", "runs", *(HEADINGS[c][0] for c in columns)]
    lines = ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
    for name, result, runs in rows:
        values = asdict(result)
        cells = [name, str(runs), *(cell(c, values[c], HEADINGS[c][1]) for c in columns)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


# -- targets ------------------------------------------------------------------------------


def target_lines(medians: dict[tuple[str, str], Result], quick: bool) -> list[str]:
    """The issue's targets, checked against this run's medians."""

    def get(kind: str, server: str) -> Result | None:
        return medians.get((kind, server))

    def verdict(ok: bool | None) -> str:
        return "n/a" if ok is None else ("**met**" if ok else "**missed**")

    lines = ["| target | hubbub | InspIRCd | ngircd | verdict |", "|---|---|---|---|---|"]
    hub, insp, ng = get("fanout", "hubbub"), get("fanout", "inspircd"), get("fanout", "ngircd")

    def fig(result: Result | None, key: str, form: str) -> str:
        value = getattr(result, key) if result is not None else None
        return "n/a" if value is None else form.format(value)

    if hub is not None:
        lines.append(
            f"| fan-out: no loss | {fig(hub, 'loss', '{:.4%}')} | {fig(insp, 'loss', '{:.4%}')}"
            f" | {fig(ng, 'loss', '{:.4%}')} | {verdict(hub.loss == 0)} |"
        )
        ok = None
        if insp is not None and hub.cpu_s_per_m is not None and insp.cpu_s_per_m is not None:
            ok = hub.cpu_s_per_m <= 1.1 * insp.cpu_s_per_m
        lines.append(
            f"| fan-out: CPU-s per M deliveries ≤ 1.1 times InspIRCd | "
            f"{fig(hub, 'cpu_s_per_m', '{:.2f}')} | {fig(insp, 'cpu_s_per_m', '{:.2f}')} | "
            f"{fig(ng, 'cpu_s_per_m', '{:.2f}')} | {verdict(ok)} |"
        )
        lines.append(
            f"| fan-out: p99 ≤ 15 ms | {fig(hub, 'p99_ms', '{:.1f} ms')} | "
            f"{fig(insp, 'p99_ms', '{:.1f} ms')} | {fig(ng, 'p99_ms', '{:.1f} ms')} | "
            f"{verdict(hub.p99_ms is not None and hub.p99_ms <= 15)} |"
        )
    hub, insp, ng = get("closed", "hubbub"), get("closed", "inspircd"), get("closed", "ngircd")
    if hub is not None:
        ok = None
        if insp is not None and hub.deliveries_per_s is not None and insp.deliveries_per_s:
            ok = hub.deliveries_per_s >= insp.deliveries_per_s
        lines.append(
            f"| closed loop C=500: deliveries/s ≥ InspIRCd | "
            f"{fig(hub, 'deliveries_per_s', '{:,.0f}')} | "
            f"{fig(insp, 'deliveries_per_s', '{:,.0f}')} | "
            f"{fig(ng, 'deliveries_per_s', '{:,.0f}')} | {verdict(ok)} |"
        )
    hub, insp, ng = get("rooms", "hubbub"), get("rooms", "inspircd"), get("rooms", "ngircd")
    if hub is not None:
        ok = None
        if insp is not None and hub.cpu_s_per_m is not None and insp.cpu_s_per_m is not None:
            ok = hub.cpu_s_per_m <= insp.cpu_s_per_m
        lines.append(
            f"| rooms: CPU-s per M deliveries ≤ InspIRCd | "
            f"{fig(hub, 'cpu_s_per_m', '{:.2f}')} | {fig(insp, 'cpu_s_per_m', '{:.2f}')} | "
            f"{fig(ng, 'cpu_s_per_m', '{:.2f}')} | {verdict(ok)} |"
        )
    hub, insp, ng = get("idle", "hubbub"), get("idle", "inspircd"), get("idle", "ngircd")
    if hub is not None:
        lines.append(
            f"| idle: {hub.clients:,} registered within 3 s | {fig(hub, 'register_s', '{:.2f} s')}"
            f" | {fig(insp, 'register_s', '{:.2f} s')} | {fig(ng, 'register_s', '{:.2f} s')} | "
            f"{verdict(hub.register_s is not None and hub.register_s <= 3)} |"
        )
        lines.append(
            f"| idle: ≤ 3 KiB server RSS per connection | "
            f"{fig(hub, 'rss_per_conn_kib', '{:.2f} KiB')} | "
            f"{fig(insp, 'rss_per_conn_kib', '{:.2f} KiB')} | "
            f"{fig(ng, 'rss_per_conn_kib', '{:.2f} KiB')} | "
            f"{verdict(hub.rss_per_conn_kib is not None and hub.rss_per_conn_kib <= 3)} |"
        )
    if quick:
        lines.append("")
        lines.append(
            "This was a `--quick` run: shorter runs, one repeat and fewer idle users than "
            "the targets name; only the full run decides them."
        )
    return lines


# -- profile ------------------------------------------------------------------------------


def profile_hubbub(target: Target, scenario: Scenario, folder: Path) -> tuple[Result | str, Path]:
    """A scenario again, with py-spy sampling hubbub while it sends (or registers)."""
    py_spy = find_program("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    output = folder / f"profile-{scenario.kind}.folded"
    during = (
        f"{py_spy} record --pid {{pid}} --duration {{seconds}} --rate 250 --nonblocking "
        f"--function --format raw --output {output}"
    )
    return measure(target, scenario, during), output


def summarize_profile(path: Path, top: int = 15) -> list[str]:
    """Self and inclusive shares of the hottest functions in a folded-stacks file."""
    own: dict[str, int] = {}
    inclusive: dict[str, int] = {}
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [frame for frame in stack.split(";") if frame]
        if not frames:
            continue
        total += count
        own[frames[-1]] = own.get(frames[-1], 0) + count
        for frame in set(frames):
            inclusive[frame] = inclusive.get(frame, 0) + count
    if not total:
        return ["(no samples)"]
    lines = [f"{total:,} samples at 250 Hz.", ""]
    lines += ["| self % | function |", "|---|---|"]
    for frame, count in sorted(own.items(), key=lambda item: -item[1])[:top]:
        lines.append(f"| {100 * count / total:.1f} | `{frame}` |")
    lines += ["", "| inclusive % | function |", "|---|---|"]
    hubbub_frames = {f: c for f, c in inclusive.items() if "hubbub" in f}
    for frame, count in sorted(hubbub_frames.items(), key=lambda item: -item[1])[:top]:
        lines.append(f"| {100 * count / total:.1f} | `{frame}` |")
    return lines


def run_profiles(plan: Sequence[Step], target: Target, folder: Path) -> list[str]:
    """Profile hubbub in the closed loop (its hot path) and while users register."""
    if not Path(sys.executable).with_name("py-spy").exists() and not find_program("py-spy"):
        return ["py-spy is not installed (`pip install py-spy`): no profile."]
    out: list[str] = []
    for step in plan:
        scenario = step.scenario
        if scenario.kind not in ("closed", "idle"):
            continue
        if scenario.kind == "idle":
            scenario = replace(scenario, duration=8.0)  # py-spy's sampling time
        wait_for_quiet()
        print(f"profiling hubbub: {scenario.kind}", file=sys.stderr, flush=True)
        outcome, folded = profile_hubbub(target, scenario, folder)
        out += [f"### {step.label}", ""]
        if isinstance(outcome, str) or not folded.exists():
            out += [f"The profile run failed: {outcome}", ""]
            continue
        kept = HERE / folded.name
        shutil.copy(folded, kept)
        if scenario.kind == "idle":
            seen = f"while {outcome.clients:,} users registered in {outcome.register_s} s"
        else:
            seen = f"while hubbub carried {outcome.deliveries_per_s:,.0f} deliveries/s"
        out += [
            f"Sampled {seen} (py-spy's sampling slows it a little); `benchmarks/{kept.name}` "
            "holds the folded stacks for a flame graph.",
            "",
            *summarize_profile(folded),
            "",
        ]
    return out


# -- the report ---------------------------------------------------------------------------


def command_output(argv: Sequence[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=30, cwd=REPO)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    text = (done.stdout or done.stderr).strip()
    return text.splitlines()[0] if text else "unknown"


def machine_lines() -> list[str]:
    model = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.partition(":")[2].strip()
            break
    memory = Path("/proc/meminfo").read_text().split()[1]
    return [
        f"- CPU: {model}, {os.cpu_count()} cores (the server, the generator and the kernel "
        "share them)",
        f"- memory: {int(memory) / 1024 / 1024:.1f} GiB",
        f"- kernel: Linux {platform.release()}",
        f"- Python {platform.python_version()}, uvloop {package_version('uvloop')} "
        "(server and generator)",
    ]


def package_version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def version_lines(servers: Sequence[str]) -> list[str]:
    commit = command_output(["git", "rev-parse", "--short", "HEAD"])
    dirty = command_output(["git", "status", "--porcelain", "src"])
    lines = [
        f"- hubbub {package_version('hubbub')}, commit {commit}"
        + (" with uncommitted changes in src/" if dirty != "unknown" else "")
    ]
    if "ngircd" in servers:
        lines.append(f"- {command_output([find_program('ngircd') or 'ngircd', '--version'])}")
    if "inspircd" in servers:
        program = find_program("inspircd") or "inspircd"
        lines.append(f"- {command_output([program, '--version'])}")
    return lines


def keep_analysis(path: Path) -> str:
    """The hand-written analysis block of an earlier RESULTS.md, kept across runs."""
    if not path.exists():
        return ""
    text = path.read_text()
    start, end = text.find(ANALYSIS_START), text.find(ANALYSIS_END)
    if start < 0 or end < start:
        return ""
    return text[start : end + len(ANALYSIS_END)]


def write_report(
    path: Path,
    args: argparse.Namespace,
    plan: Sequence[Step],
    runs: dict[tuple[str, str], list[Result]],
    failures: list[str],
    profile: list[str],
    started: datetime.datetime,
    minutes: float,
) -> None:
    medians = {key: median_result(results) for key, results in runs.items() if results}
    command = "python benchmarks/run.py" + (" --quick" if args.quick else "")
    out = [
        "# hubbub benchmarks",
        "",
        f"Produced by `{command}` on {started:%Y-%m-%d %H:%M} UTC in {minutes:.1f} minutes: "
        f"every scenario against {', '.join(args.servers)}, alternating, "
        f"{args.repeats} repeat(s), medians shown. Method and scenarios: "
        "[README.md](README.md).",
        "",
        "## Machine",
        "",
        *machine_lines(),
        "",
        "## Versions",
        "",
        *version_lines(args.servers),
        "",
        "Client sockets use `TCP_MAXSEG` 1448 (read back as the effective MSS in the MSS "
        "column: 1448 less 12 bytes of TCP timestamps); at most 10 connections are set up "
        "at once; CPU and `syscw` are summed over the server's process tree from the start "
        "of sending to the end of the drain; deliveries are counted by the receivers. "
        "`gen CPU %` is the load generator's own CPU (one process, one core): runs where it "
        "was busy 90 % of the time or more are flagged saturated, and their throughput and "
        "latency are the generator's limit, not the server's. `other CPU %` is what else "
        "kept the machine busy during the run.",
        "",
        "## Targets (issue 6)",
        "",
        *target_lines(medians, args.quick),
        "",
    ]
    for step in plan:
        rows = [
            (
                server,
                medians[(step.scenario.kind, server)],
                len(runs[(step.scenario.kind, server)]),
            )
            for server in step.servers
            if (step.scenario.kind, server) in medians
        ]
        if not rows:
            continue
        columns = IDLE_COLUMNS if step.scenario.kind == "idle" else TRAFFIC_COLUMNS
        out += [f"## {step.label}", "", table(rows, columns), ""]
    if profile:
        out += ["## Profiles of hubbub (py-spy)", "", *profile, ""]
    analysis = keep_analysis(path)
    if analysis:
        out += [analysis, ""]
    if failures:
        out += ["## Failed runs", "", *(f"- {failure}" for failure in failures), ""]
    out += ["<details><summary>Every run (JSON)</summary>", "", "```json"]
    out += [json.dumps(asdict(r)) for results in runs.values() for r in results]
    out += ["```", "", "</details>", ""]
    path.write_text("\n".join(out))


# -- main ---------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a short version (about 3 min)")
    parser.add_argument("--repeats", type=int, help="runs per scenario and server (3; quick 1)")
    parser.add_argument("--duration", type=float, help="seconds of sending (10; quick 3)")
    parser.add_argument(
        "--servers", default=",".join(SERVERS), help="comma-separated subset of " + str(SERVERS)
    )
    parser.add_argument(
        "--scenarios", help="comma-separated subset of fanout,closed,rooms,idle,plain"
    )
    parser.add_argument("--no-profile", action="store_true", help="skip the py-spy profile")
    parser.add_argument("--output", type=Path, default=HERE / "RESULTS.md")
    args = parser.parse_args(argv)
    args.servers = [s for s in args.servers.split(",") if s]
    unknown = set(args.servers) - set(SERVERS)
    if unknown:
        parser.error(f"unknown servers: {', '.join(sorted(unknown))}")
    if args.repeats is None:
        args.repeats = 1 if args.quick else 3
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    missing = [s for s in args.servers if s != "hubbub" and find_program(s) is None]
    if missing:
        print(
            f"run.py: {' and '.join(missing)} not installed. The comparison needs the Debian "
            "packages: `apt-get install -y ngircd inspircd` (as root). To measure hubbub "
            "alone: `--servers hubbub`.",
            file=sys.stderr,
        )
        return 2
    started = datetime.datetime.now(datetime.UTC)
    clock = time.monotonic()
    plan = make_plan(args.quick, args.duration, args.servers)
    if args.scenarios:
        chosen = set(args.scenarios.split(","))
        plan = [step for step in plan if step.scenario.kind in chosen]
    runs: dict[tuple[str, str], list[Result]] = {}
    failures: list[str] = []
    profile: list[str] = []
    with tempfile.TemporaryDirectory(prefix="hubbub-bench-") as tmp:
        folder = Path(tmp)
        targets = make_targets(folder, args.servers)
        for repeat in range(args.repeats):
            for step in plan:
                # Rotate the order each repeat so no server always runs first or last.
                order = list(step.servers)
                shift = repeat % len(order) if order else 0
                for server in order[shift:] + order[:shift]:
                    target = targets["hubbub-plain" if step.scenario.kind == "plain" else server]
                    outcome = measure_undisturbed(target, step.scenario, clock, repeat, args)
                    key = (step.scenario.kind, server)
                    if isinstance(outcome, str):
                        failures.append(f"{step.scenario.kind} {server}: {outcome}")
                        print(f"    failed: {outcome}", file=sys.stderr)
                        continue
                    runs.setdefault(key, []).append(outcome)
                    print("    " + json.dumps(asdict(outcome)), file=sys.stderr)
        if "hubbub" in args.servers and not args.no_profile:
            profile = run_profiles(plan, targets["hubbub"], folder)
    minutes = (time.monotonic() - clock) / 60
    write_report(args.output, args, plan, runs, failures, profile, started, minutes)
    print(f"wrote {args.output} ({minutes:.1f} minutes)", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
