"""Measure hubbub, ngircd and InspIRCd side by side and write ``benchmarks/RESULTS.md``.

Every scenario of :mod:`benchmarks.loadgen` runs against every server in one run,
alternating (the servers' order rotates with each repeat), each run in a fresh generator
process against a freshly started server. The tables hold the medians over the repeats.

``python benchmarks/run.py`` is the full set (about 20 minutes); ``--quick`` a short
version (one repeat, shorter runs, 2,000 idle users). This module is the command line
and the loop over the plan; the servers are in :mod:`benchmarks.peers`, the plan and
one run in :mod:`benchmarks.plan`, the py-spy profiles in :mod:`benchmarks.profiles` and
RESULTS.md in :mod:`benchmarks.report` (its targets in :mod:`benchmarks.targets`).
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

if __package__ in (None, ""):
    # Run as a script: make ``benchmarks`` importable from the repository root.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import Result
from benchmarks.peers import find_program, make_targets
from benchmarks.plan import HERE, PEERS, RETRIES, Patience, make_plan, measure_undisturbed
from benchmarks.profiles import run_profiles
from benchmarks.report import write_report

# floor: benchmarks/floor.py, the least a Python server on uvloop does (a reference).
SERVERS = ("hubbub", "ngircd", "inspircd", "floor")


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
        "--scenarios",
        help="comma-separated subset of fanout,closed,rooms,idle,plain,burst,web",
    )
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=120.0,
        help="seconds to wait at most for a quiet machine before each run (120)",
    )
    parser.add_argument(
        "--retries",
        type=int,
        default=RETRIES,
        help=f"runs repeated at most when other work disturbed them ({RETRIES})",
    )
    parser.add_argument("--no-profile", action="store_true", help="skip the py-spy profile")
    parser.add_argument("--output", type=Path, default=HERE / "RESULTS.md")
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    args.servers = [s for s in args.servers.split(",") if s]
    unknown = set(args.servers) - set(SERVERS)
    if unknown:
        parser.error(f"unknown servers: {', '.join(sorted(unknown))}")
    if args.repeats is None:
        args.repeats = 1 if args.quick else 3
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    missing = [s for s in args.servers if s in PEERS and find_program(s) is None]
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
    patience = Patience(args.quiet_wait, args.retries)
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
                    door = {"plain": "hubbub-plain", "web": "hubbub-web"}
                    target = targets[door.get(step.scenario.kind, server)]
                    outcome = measure_undisturbed(
                        target, step.scenario, clock, repeat, args.repeats, patience
                    )
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
