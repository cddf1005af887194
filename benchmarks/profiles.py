"""Profiles of hubbub: py-spy sampling it during a run, and the hottest functions found."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from benchmarks.common import Result, Scenario, Target
from benchmarks.peers import find_program
from benchmarks.plan import HERE, Step, measure, wait_for_quiet

# -- profile ------------------------------------------------------------------------------

PROFILED = ("fanout", "closed", "rooms", "idle")


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
    """Profile hubbub in each scenario that issue 15 sets a target for (the burst is
    over before a sampler has seen it)."""
    if not Path(sys.executable).with_name("py-spy").exists() and not find_program("py-spy"):
        return ["py-spy is not installed (`pip install py-spy`): no profile."]
    out: list[str] = []
    for step in plan:
        scenario = step.scenario
        if scenario.kind not in PROFILED:
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
