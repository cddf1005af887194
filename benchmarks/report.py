"""The report: medians over repeats, the tables and RESULTS.md itself (the targets it
checks are in :mod:`benchmarks.targets`)."""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import json
import os
import platform
import shlex
import statistics
import subprocess
from collections.abc import Sequence
from dataclasses import asdict, fields, replace
from pathlib import Path

from benchmarks.common import Result
from benchmarks.loadgen import COLUMNS, cell
from benchmarks.peers import find_program
from benchmarks.plan import REPO, Step
from benchmarks.targets import PERSISTENT_MODES, fig, slowdown, target_lines, verdict

ANALYSIS_START = "<!-- analysis -->"
ANALYSIS_END = "<!-- /analysis -->"

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
    "rss_per_conn_kib",
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
BURST_COLUMNS = (
    "burst_s",
    "deliveries",
    "loss",
    "p50_ms",
    "p99_ms",
    "server_cpu_s",
    "peak_rss_kib",
    "gen_cpu_pct",
    "softirq_pct",
    "other_cpu_pct",
)
HEADINGS = {key: (heading, form) for key, heading, form in COLUMNS} | {
    "server_cpu_s": ("server CPU-s", "{:.2f}"),
    "deliveries": ("deliveries", "{:,}"),
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


# -- the web door (issue 14) -------------------------------------------------------------

WEB_LIMIT = 2.0  # a WebSocket user costs at most this many times a TCP user (issue 14)


def web_target_lines(medians: dict[tuple[str, str], Result]) -> list[str]:
    """Issue 14's budget: a WebSocket user costs the server at most twice a TCP user,
    in memory and in CPU per delivery (the same fan-out over each door)."""
    tcp, web = medians.get(("fanout", "hubbub")), medians.get(("web", "hubbub"))
    if tcp is None or web is None:
        return []
    lines = []
    for key, what, form in (
        ("rss_per_conn_kib", "server RSS per user", "{:.2f} KiB"),
        ("cpu_s_per_m", "CPU-s per M deliveries", "{:.2f}"),
    ):
        over_tcp, over_web = getattr(tcp, key), getattr(web, key)
        ok = None
        if over_tcp and over_web is not None:
            ok = over_web <= WEB_LIMIT * over_tcp
        ratio = f" ({over_web / over_tcp:.2f} times)" if over_tcp and over_web is not None else ""
        lines.append(
            f"| web fan-out: {what} ≤ {WEB_LIMIT:g} times TCP's "
            f"({fig(tcp, key, form)}) | {fig(web, key, form)}{ratio} | {verdict(ok)} |"
        )
    return lines


# -- the burst ----------------------------------------------------------------------------


def burst_lines(runs: dict[tuple[str, str], list[Result]]) -> list[str]:
    """Each hubbub mode's burst time and server CPU against no store; runs that lost lines.

    The server CPU-seconds are shown beside the time: on a shared machine, other work
    stretches a 0.1 s burst far more than it changes the CPU the server spent on it.
    """
    lines: list[str] = []
    base_runs = runs.get(("burst", "hubbub-nohistory"), [])
    if base_runs:
        base = median_result(base_runs)
        lines += [
            "The burst time runs from the sender's one write of every line until the "
            "receiver has them all; the changes are against hubbub `--no-history` (no store).",
            "",
            "| hubbub mode | runs | burst s (median) | burst s (fastest, slowest) | slowdown "
            "| server CPU-s (median) | CPU change |",
            "|---|---|---|---|---|---|---|",
        ]
        modes = (
            ("hubbub-nohistory", "`--no-history`: no store (the baseline)"),
            *PERSISTENT_MODES,
        )
        for server, mode in modes:
            results = runs.get(("burst", server), [])
            times = sorted(r.burst_s for r in results if r.burst_s is not None)
            if not times:
                continue
            median = median_result(results)
            lines.append(
                f"| {mode} | {len(results)} | {statistics.median(times):.3f} | "
                f"{times[0]:.3f}, {times[-1]:.3f} | {_change(server, slowdown(base, median))} | "
                f"{cell('server_cpu_s', median.server_cpu_s, '{:.3f}')} | "
                f"{_change(server, _cpu_change(base, median))} |"
            )
        lines.append("")
    # A median hides a run that lost lines (ngircd drops a receiver that falls 32 KiB
    # behind): each one is named.
    for (kind, server), results in runs.items():
        for result in results:
            if kind == "burst" and (result.loss or result.disconnects):
                lines.append(
                    f"- {server}: a run lost {cell('loss', result.loss, '')} % of the lines "
                    f"({result.disconnects} client(s) disconnected by the server)."
                )
    return lines


def _cpu_change(base: Result, other: Result) -> float | None:
    if not base.server_cpu_s or other.server_cpu_s is None:
        return None
    return 100 * (other.server_cpu_s / base.server_cpu_s - 1)


def _change(server: str, change: float | None) -> str:
    if server == "hubbub-nohistory":
        return "baseline"
    return "n/a" if change is None else f"{change:+.1f} %"


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
    if "floor" in servers:
        lines.append(
            "- floor: `benchmarks/floor.py`, the least a Python server on uvloop does for these "
            "scenarios (a relay, not a chat server: the cost no design on them goes under)"
        )
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
    # The options as given: a partial run (some servers or scenarios) must say so.
    command = shlex.join(["python", "benchmarks/run.py", *args.argv])
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
        "## Targets (issue 15)",
        "",
        "The ratios in brackets are to InspIRCd's figure in the same scenario; n/a: not in "
        "this run.",
        "",
        *target_lines(medians, args.quick),
        "",
    ]
    web = web_target_lines(medians)
    if web:
        out += [
            "### The web door (issue 14)",
            "",
            "| target | hubbub | verdict |",
            "|---|---|---|",
            *web,
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
        kind = step.scenario.kind
        columns = {"idle": IDLE_COLUMNS, "burst": BURST_COLUMNS}.get(kind, TRAFFIC_COLUMNS)
        out += [f"## {step.label}", "", table(rows, columns), ""]
        if kind == "burst":
            out += [*burst_lines(runs), ""]
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
