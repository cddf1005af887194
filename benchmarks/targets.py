"""Issue 15's targets, checked against a run's medians: the table atop RESULTS.md.

Most targets are ratios to InspIRCd in the same run on the same machine, so each cell
shows the figure with its ratio; the floor (``floor.py``) gets its ratio too, as the
least a Python server on uvloop could reach.
"""

from __future__ import annotations

from collections.abc import Callable

from benchmarks.common import Result
from benchmarks.plan import BURST

Medians = dict[tuple[str, str], Result]

FANOUT_CPU = 1.0  # hubbub's CPU-s per M deliveries, at most, in InspIRCd's
FANOUT_P99_MS = 15.0
CLOSED = 1.0  # hubbub's deliveries/s, at least, in InspIRCd's
CLOSED_STRETCH = 2.0
ROOMS_CPU = 2.0  # with the default write-behind history
ROOMS_NO_HISTORY_CPU = 1.5
HISTORY_SHARE = 10.0  # % of the rooms scenario's CPU the write-behind history may cost
IDLE_KIB = 2.0  # server RSS per registered connection
IDLE_REGISTER_S = 2.0
BURST_LIMIT = 10.0  # % slower than without a store, at most

HEADER = ["| target | hubbub | InspIRCd | floor | verdict |", "|---|---|---|---|---|"]

# The persistence modes compared against ``--no-history``, and what each one is.
PERSISTENT_MODES = (
    ("hubbub", "write-behind history (the default)"),
    ("hubbub-sync", "`--history-sync` (output held until stored)"),
)


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("**met**" if ok else "**missed**")


def fig(result: Result | None, key: str, form: str) -> str:
    """A figure of a row, formatted, or n/a."""
    value = getattr(result, key) if result is not None else None
    return "n/a" if value is None else form.format(value)


def ratio(result: Result | None, base: Result | None, key: str) -> float | None:
    value = getattr(result, key) if result is not None else None
    reference = getattr(base, key) if base is not None else None
    if value is None or not reference:
        return None
    return float(value / reference)


def against(result: Result | None, base: Result | None, key: str, form: str) -> str:
    """A figure with its ratio to ``base``'s, e.g. ``4.50 (1.17 times)``."""
    times = ratio(result, base, key)
    shown = fig(result, key, form)
    return shown if times is None else f"{shown} ({times:.2f} times)"


def saturated(result: Result | None) -> str:
    # A saturated generator's figures are its own limit, not the server's.
    return " (gen saturated)" if result is not None and result.gen_saturated else ""


def row(*cells: str) -> str:
    return "| " + " | ".join(cells) + " |"


def compare_row(
    label: str,
    subject: Result | None,
    medians: Medians,
    kind: str,
    key: str,
    form: str,
    meets: Callable[[float], bool],
    note: Callable[[float], str] = lambda times: "",
) -> str:
    """A target on ``subject``'s figure as a multiple of InspIRCd's."""
    insp, floor = medians.get((kind, "inspircd")), medians.get((kind, "floor"))
    times = ratio(subject, insp, key)
    return row(
        label,
        against(subject, insp, key, form) + saturated(subject),
        fig(insp, key, form) + saturated(insp),
        against(floor, insp, key, form) + saturated(floor),
        "n/a" if times is None else verdict(meets(times)) + note(times),
    )


def target_lines(medians: Medians, quick: bool) -> list[str]:
    """Issue 15's targets, checked against this run's medians."""
    lines = [
        *HEADER,
        *fanout_rows(medians),
        *closed_rows(medians),
        *rooms_rows(medians),
        *idle_rows(medians),
        *burst_target_lines(medians),
    ]
    if quick:
        lines.append("")
        lines.append(
            "This was a `--quick` run: shorter runs, one repeat and fewer idle users than "
            "the targets name; only the full run decides them."
        )
    return lines


def fanout_rows(medians: Medians) -> list[str]:
    hub = medians.get(("fanout", "hubbub"))
    if hub is None:
        return []
    insp, floor = medians.get(("fanout", "inspircd")), medians.get(("fanout", "floor"))
    loss, p99 = "{:.4%}", "{:.1f} ms"
    return [
        row(
            f"fan-out C={hub.clients:,}: no loss",
            *(fig(result, "loss", loss) for result in (hub, insp, floor)),
            verdict(hub.loss == 0),
        ),
        compare_row(
            f"fan-out: CPU-s per M deliveries ≤ {FANOUT_CPU:.1f} times InspIRCd",
            hub,
            medians,
            "fanout",
            "cpu_s_per_m",
            "{:.2f}",
            lambda times: times <= FANOUT_CPU,
        ),
        row(
            f"fan-out: p99 ≤ {FANOUT_P99_MS:g} ms",
            *(fig(result, "p99_ms", p99) for result in (hub, insp, floor)),
            verdict(hub.p99_ms is not None and hub.p99_ms <= FANOUT_P99_MS),
        ),
    ]


def closed_rows(medians: Medians) -> list[str]:
    hub = medians.get(("closed", "hubbub"))
    if hub is None:
        return []
    return [
        compare_row(
            f"closed loop C={hub.clients:,}: deliveries/s ≥ {CLOSED:.1f} times InspIRCd "
            f"(stretch: {CLOSED_STRETCH:g} times)",
            hub,
            medians,
            "closed",
            "deliveries_per_s",
            "{:,.0f}",
            lambda times: times >= CLOSED,
            lambda times: ", stretch " + ("met" if times >= CLOSED_STRETCH else "not met"),
        )
    ]


def rooms_rows(medians: Medians) -> list[str]:
    hub = medians.get(("rooms", "hubbub"))
    nohist = medians.get(("rooms", "hubbub-nohistory"))
    if hub is None and nohist is None:
        return []
    share = history_share(hub, nohist)
    shown = "n/a"
    if share is not None and hub is not None and nohist is not None:
        shown = f"{share:.1f} % ({hub.cpu_s_per_m:.2f} vs {nohist.cpu_s_per_m:.2f} without)"
    return [
        compare_row(
            f"rooms, history on: CPU-s per M deliveries ≤ {ROOMS_CPU:.1f} times InspIRCd",
            hub,
            medians,
            "rooms",
            "cpu_s_per_m",
            "{:.2f}",
            lambda times: times <= ROOMS_CPU,
        ),
        compare_row(
            f"rooms, `--no-history`: CPU-s per M deliveries ≤ {ROOMS_NO_HISTORY_CPU:.1f} times "
            "InspIRCd",
            nohist,
            medians,
            "rooms",
            "cpu_s_per_m",
            "{:.2f}",
            lambda times: times <= ROOMS_NO_HISTORY_CPU,
        ),
        row(
            f"rooms: the write-behind history's share of hubbub's CPU-s per M ≤ "
            f"{HISTORY_SHARE:g} % (against `--no-history`)",
            shown,
            "n/a",
            "n/a",
            verdict(None if share is None else share <= HISTORY_SHARE),
        ),
    ]


def history_share(hub: Result | None, nohist: Result | None) -> float | None:
    """What history adds to the rooms scenario's CPU, in % of hubbub's with it."""
    if hub is None or nohist is None or not hub.cpu_s_per_m or nohist.cpu_s_per_m is None:
        return None
    return 100 * (hub.cpu_s_per_m - nohist.cpu_s_per_m) / hub.cpu_s_per_m


def idle_rows(medians: Medians) -> list[str]:
    hub = medians.get(("idle", "hubbub"))
    if hub is None:
        return []
    results = (hub, medians.get(("idle", "inspircd")), medians.get(("idle", "floor")))
    return [
        row(
            f"idle: ≤ {IDLE_KIB:.1f} KiB server RSS per connection",
            *(fig(result, "rss_per_conn_kib", "{:.2f} KiB") for result in results),
            verdict(hub.rss_per_conn_kib is not None and hub.rss_per_conn_kib <= IDLE_KIB),
        ),
        row(
            f"idle: {hub.clients:,} registered within {IDLE_REGISTER_S:g} s",
            *(fig(result, "register_s", "{:.2f} s") + saturated(result) for result in results),
            verdict(hub.register_s is not None and hub.register_s <= IDLE_REGISTER_S),
        ),
    ]


# -- the burst ----------------------------------------------------------------------------


def slowdown(base: Result | None, other: Result | None) -> float | None:
    """How much longer ``other``'s burst took than ``base``'s, in % (None: not measured)."""
    if base is None or other is None or not base.burst_s or other.burst_s is None:
        return None
    return 100 * (other.burst_s / base.burst_s - 1)


def burst_target_lines(medians: Medians) -> list[str]:
    """Persistence slows a one-sender burst by at most 10 % (the write-behind default);
    ``--history-sync``'s slowdown is shown beside it, with no target of its own."""
    base = medians.get(("burst", "hubbub-nohistory"))
    if base is None:
        return []
    others = [medians.get(("burst", name)) for name in ("inspircd", "floor")]
    other_cells = " | ".join(
        "n/a" if p is None or p.burst_s is None else f"{p.burst_s:.3f} s" for p in others
    )
    lines = []
    for server, mode in PERSISTENT_MODES:
        result = medians.get(("burst", server))
        change = slowdown(base, result)
        bounded = server == "hubbub"
        if result is None or change is None:
            shown, ok = "n/a", "n/a"
        else:
            shown = f"{change:+.1f} % ({result.burst_s:.3f} s vs {base.burst_s:.3f} s)"
            if bounded:
                ok = verdict(change <= BURST_LIMIT and not result.loss)
            else:
                ok = "informational: issue 15 sets no target"
        limit = f" ≤ +{BURST_LIMIT:g} %" if bounded else ""
        lines.append(
            f"| burst of {BURST:,} lines from one sender: {mode}{limit} against "
            f"`--no-history` (others: burst time) | {shown} | {other_cells} | {ok} |"
        )
    return lines
