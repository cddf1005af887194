"""The per-account guards of registered nicks: the hold grows with each take-back, and
the table forgets guards once they have long passed."""

from __future__ import annotations

import time

from hubbub.doors.irc.nick_guards import HOLD_GROWTH, NickGuards

GRACE = 30.0


def test_each_take_back_holds_twice_as_long_up_to_the_cap() -> None:
    guards, now, holds = NickGuards(), 0.0, []
    for _ in range(9):
        guard = guards.begin("coco", now, GRACE)
        now = guard.deadline
        guards.hold(guard, now, GRACE)
        holds.append(guard.held_until - now)
        now = guard.held_until
    assert holds == [GRACE * min(2**k, HOLD_GROWTH) for k in range(9)]
    assert holds[-1] == GRACE * HOLD_GROWTH


def test_guards_long_past_are_forgotten_and_their_growth_with_them() -> None:
    guards = NickGuards()
    first = guards.begin("coco", 0.0, GRACE)
    guards.hold(first, first.deadline, GRACE)
    later = first.held_until + GRACE * HOLD_GROWTH + 1
    for k in range(300):  # enough new guards to sweep
        guards.begin(f"name{k}", later, GRACE)
    assert guards.get("coco") is None
    assert len(guards) == 300
    assert guards.begin("coco", later, GRACE).takebacks == 0


def test_a_guard_still_holding_is_kept_through_a_sweep() -> None:
    guards = NickGuards()
    guard = guards.begin("coco", 0.0, GRACE)
    guards.hold(guard, guard.deadline, GRACE)
    for k in range(300):
        guards.begin(f"name{k}", guard.deadline + 1, GRACE)
    assert guards.get("coco") is guard


def test_the_growth_resets_after_a_quiet_spell_without_a_sweep() -> None:
    # Probe 16: only a sweep (at 256 guards) forgot the growth: on a small server the
    # holds grew for good.
    guards = NickGuards()
    guard = guards.begin("coco", 0.0, GRACE)
    guards.hold(guard, guard.deadline, GRACE)
    guards.hold(guard, guard.deadline, GRACE)
    assert guard.takebacks == 2
    soon = guards.begin("coco", guard.held_until + 1, GRACE)
    assert soon.takebacks == 2
    later = guards.begin("coco", soon.deadline + GRACE * HOLD_GROWTH + 1, GRACE)
    assert later.takebacks == 0


def test_a_grace_ended_by_its_owner_leaves_no_guard() -> None:
    guards = NickGuards()
    guard = guards.begin("coco", 0.0, GRACE)
    guards.end(guard)
    assert guards.get("coco") is None


def test_a_guard_told_by_another_node_is_the_same_here_and_told_again_changes_nothing() -> None:
    told: list[tuple[str, tuple[str, ...]]] = []
    here, there = NickGuards(grace=10.0), NickGuards(grace=10.0)
    here.share = lambda step, keys: told.append((step, keys))
    now = time.monotonic()
    guard = here.begin("coco", now, 10.0)
    here.hold(guard, now + 10.0, 10.0)
    assert told == [("begin", ("coco",)), ("hold", ("coco", "1"))]
    for step, keys in told * 2:  # both nodes took it back: told twice
        there.count_shared(step, keys)
    mirrored = there.get("coco")
    assert mirrored is not None
    assert mirrored.takebacks == 1
    assert mirrored.held_until > time.monotonic()
    here.end(guard)
    assert told[-1] == ("end", ("coco",))
    there.count_shared(*told[-1])
    assert there.get("coco") is None
    # What does not read as a step is ignored.
    for step, keys in [("hold", ("coco", "x")), ("hold", ()), ("explode", ("coco",))]:
        there.count_shared(step, keys)
    assert there.get("coco") is None
