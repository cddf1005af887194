"""The plan: which scenario runs against which servers, each run in a fresh generator process."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks.common import Result, Scenario, Target
from benchmarks.loadgen import result_from_json
from benchmarks.measure import machine_busy_s

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
LOADGEN = HERE / "loadgen.py"
DISTURBED = 25.0  # % of a core busy elsewhere during a run that makes it worth repeating
RETRIES = 2
BURST = 2_000  # issue 7: lines in the burst
PEERS = ("ngircd", "inspircd")
# The burst's hubbub variants: no store (the baseline), write-behind (the default) and
# sync. The rooms scenario adds the baseline beside the default; the others run hubbub in
# its default mode.
HUBBUB_MODES = ("hubbub-nohistory", "hubbub", "hubbub-sync")


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
            with_no_history(everyone),
        ),
        Step(f"idle: {idle:,} users register", Scenario("idle", idle), everyone),
        Step(
            "plain door fan-out: C=1000, 10 senders at 10 msg/s (hubbub only)",
            Scenario("plain", 1000, senders=10, rate=10, duration=seconds),
            ("hubbub",) if "hubbub" in servers else (),
        ),
        Step(
            "web door fan-out: C=1000, 10 senders at 10 msg/s, every user on WebSocket "
            "(hubbub only)",
            Scenario("web", 1000, senders=10, rate=10, duration=seconds),
            ("hubbub",) if "hubbub" in servers else (),
        ),
        Step(
            f"burst: one sender, {BURST:,} messages",
            # The drain is long: a store that commits each line may take many seconds,
            # and what arrives late is a slow burst, not loss.
            Scenario("burst", 2, senders=1, messages=BURST, drain_timeout=60.0),
            (HUBBUB_MODES if "hubbub" in servers else ())
            + tuple(s for s in servers if s in PEERS),
        ),
    ]


def with_no_history(servers: tuple[str, ...]) -> tuple[str, ...]:
    """The servers, with hubbub `--no-history` right after hubbub: issue 15 bounds the
    share of the rooms scenario's CPU that the write-behind history may take."""
    return tuple(
        name
        for server in servers
        for name in ((server, "hubbub-nohistory") if server == "hubbub" else (server,))
    )


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
    argv += ["--messages", str(scenario.messages)]
    argv += ["--drain-timeout", str(scenario.drain_timeout), "--probes", str(scenario.probes)]
    argv += ["--setup-timeout", str(scenario.setup_timeout), "--poll-ms", str(scenario.poll_ms)]
    if during is not None:
        argv += ["--during", during]
    return argv


def measure(target: Target, scenario: Scenario, during: str | None = None) -> Result | str:
    """One run in a fresh generator process: its row, or why it failed."""
    budget = scenario.setup_timeout + scenario.duration * 3 + scenario.drain_timeout + 120
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


@dataclass(frozen=True, slots=True)
class Patience:
    """How long to wait for a quiet machine before a run, and how often to retry one.

    On a machine that other work keeps busy for hours, the defaults would wait two
    minutes before every attempt and make three of each: the runner's options shorten
    both, and the rows' ``other CPU %`` then says how disturbed each run was.
    """

    quiet_wait: float = 120.0  # seconds, at most
    retries: int = RETRIES


def measure_undisturbed(
    target: Target,
    scenario: Scenario,
    clock: float,
    repeat: int,
    repeats: int,
    patience: Patience = Patience(),
) -> Result | str:
    """Measure once the machine is quiet; again (bounded) if other work disturbed the run.

    The machine may be shared, and other work is bursty: a run during which more than
    ``DISTURBED`` % of a core went to processes other than the server and the generator
    is repeated, up to ``patience.retries`` times (the last attempt is kept, and its
    ``other CPU %`` shows it). The machine's busy cores just before the run are kept in
    its ``extra["busy_cores_before"]``.
    """
    outcome: Result | str = "not run"
    for attempt in range(patience.retries + 1):
        busy = wait_for_quiet(patience.quiet_wait)
        print(
            f"[{time.monotonic() - clock:6.0f} s] repeat {repeat + 1}/{repeats}"
            f" {scenario.kind:7} {target.name:9} (machine busy {busy:.2f} cores"
            + (f", attempt {attempt + 1})" if attempt else ")"),
            file=sys.stderr,
            flush=True,
        )
        outcome = measure(target, scenario)
        if not isinstance(outcome, str):
            outcome.extra["busy_cores_before"] = round(busy, 2)
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
    for _ in range(max(1, int(limit))):
        before = machine_busy_s().busy_s
        time.sleep(1.0)
        busy = machine_busy_s().busy_s - before
        if busy < threshold:
            break
    return busy
