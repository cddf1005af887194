"""Read markers: whose they are, planning moves (forward only, bounded), moving, and
loading an account's kept markers within the bound."""

from __future__ import annotations

from hubbub.core.markers import ReadMarkers, account_of, owner_of
from hubbub.wire.casemap import Key

OWNER = owner_of("", "acct")


def markers(limit: int = 3, **known: float) -> ReadMarkers:
    """Markers of OWNER, ``#name=time`` given as ``name=time``."""
    read = ReadMarkers(limit)
    for name, moment in known.items():
        read.move(OWNER, Key("#" + name), moment, None)
    return read


def test_a_user_logged_in_moves_its_accounts_markers_else_its_own() -> None:
    assert owner_of("u1", None) == "u:u1"
    assert owner_of("u1", "acct") == "a:acct"
    assert account_of("a:acct") == "acct"
    assert account_of("u:u1") is None


def test_planning_a_move_forward_names_it_and_changes_nothing() -> None:
    read = markers(a=1.0)
    assert read.plan(OWNER, [(Key("#a"), 5.0), (Key("#b"), 2.0)]) == [
        (Key("#a"), 5.0, None),
        (Key("#b"), 2.0, None),
    ]
    assert read.of(OWNER) == {"#a": 1.0}


def test_a_marker_never_moves_back_nor_to_where_it_is() -> None:
    read = markers(a=5.0)
    assert read.plan(OWNER, [(Key("#a"), 4.0), (Key("#a"), 5.0)]) == []


def test_a_plan_sees_its_own_earlier_moves() -> None:
    read = markers()
    assert read.plan(OWNER, [(Key("#a"), 5.0), (Key("#a"), 3.0), (Key("#a"), 6.0)]) == [
        (Key("#a"), 5.0, None),
        (Key("#a"), 6.0, None),
    ]


def test_a_new_marker_past_the_bound_makes_the_oldest_read_make_room() -> None:
    read = markers(limit=2, old=1.0, mid=2.0)
    assert read.plan(OWNER, [(Key("#new"), 3.0), (Key("#newer"), 4.0)]) == [
        (Key("#new"), 3.0, Key("#old")),
        (Key("#newer"), 4.0, Key("#mid")),
    ]
    assert read.of(OWNER) == {"#old": 1.0, "#mid": 2.0}


def test_moving_a_known_marker_at_the_bound_forgets_nothing() -> None:
    read = markers(limit=2, old=1.0, mid=2.0)
    assert read.plan(OWNER, [(Key("#old"), 3.0)]) == [(Key("#old"), 3.0, None)]


def test_a_move_forgets_the_marker_named_to_make_room() -> None:
    read = markers(limit=2, old=1.0, mid=2.0)
    read.move(OWNER, Key("#new"), 3.0, Key("#old"))
    assert read.of(OWNER) == {"#mid": 2.0, "#new": 3.0}
    assert read.get(OWNER, Key("#new")) == 3.0
    assert read.get(OWNER, Key("#old")) is None
    assert read.get("a:nobody", Key("#new")) is None


def test_owners_markers_are_apart() -> None:
    read = markers(a=1.0)
    read.move("u:u1", Key("#a"), 9.0, None)
    assert read.get(OWNER, Key("#a")) == 1.0
    assert read.get("u:u1", Key("#a")) == 9.0


def test_a_copy_of_markers_is_not_them() -> None:
    read = markers(a=1.0)
    copy = read.of(OWNER)
    copy[Key("#b")] = 2.0
    assert read.of(OWNER) == {"#a": 1.0}


def test_taking_an_owners_markers_forgets_them() -> None:
    read = markers(a=1.0)
    assert read.take(OWNER) == {"#a": 1.0}
    assert read.of(OWNER) == {}
    assert read.take(OWNER) == {}


def test_loading_keeps_the_later_of_what_was_kept_and_what_moved_meanwhile() -> None:
    read = markers(limit=5, a=5.0, b=1.0)
    assert read.load(OWNER, [("#a", 2.0), ("#b", 3.0), ("#c", 4.0)], []) == []
    assert read.of(OWNER) == {"#a": 5.0, "#b": 3.0, "#c": 4.0}


def test_loading_lets_changes_not_yet_saved_win_over_the_store() -> None:
    read = markers(limit=5)
    read.load(OWNER, [("#a", 2.0), ("#b", 3.0)], [("#a", 6.0), ("#b", None), ("#c", 1.0)])
    assert read.of(OWNER) == {"#a": 6.0, "#c": 1.0}


def test_loading_past_the_bound_forgets_the_oldest_and_names_them() -> None:
    read = markers(limit=2, a=5.0)
    forgotten = read.load(OWNER, [("#b", 1.0), ("#c", 3.0), ("#d", 2.0)], [])
    assert forgotten == ["#b", "#d"]
    assert read.of(OWNER) == {"#a": 5.0, "#c": 3.0}


def test_a_lower_bound_binds_from_the_next_plan() -> None:
    read = markers(limit=3, a=1.0, b=2.0, c=3.0)
    read.limit = 1
    assert read.plan(OWNER, [(Key("#d"), 4.0)]) == [(Key("#d"), 4.0, Key("#a"))]
