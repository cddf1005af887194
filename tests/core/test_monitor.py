"""MONITOR lists: who watches which nick, bounded per watcher."""

from __future__ import annotations

import pytest

from hubbub.core.errors import ChatError, Reason
from hubbub.core.model import User
from hubbub.core.monitor import Monitors
from hubbub.core.presence import ELSEWHERE
from hubbub.wire.casemap import Casemap, Casemapping, Key


def person(nick: str) -> User:
    return User(f"u-{nick}", nick, Key(nick), Key(nick), nick, "host", "", ELSEWHERE, 1.0)


@pytest.fixture
def monitors() -> Monitors:
    return Monitors(Casemap(Casemapping.PRECIS), limit=2)


def test_watched_nicks_are_listed_as_written_and_found_by_their_key(monitors: Monitors) -> None:
    alice = person("alice")
    monitors.add(alice, ["Bob", "BOB", "carol"])
    assert monitors.of(alice) == {"bob": "Bob", "carol": "carol"}
    assert monitors.watching(Key("bob")) == {alice}
    assert monitors.watching(Key("dave")) == set()


def test_a_list_past_its_bound_is_refused_with_list_full_after_adding_what_fit(
    monitors: Monitors,
) -> None:
    alice = person("alice")
    with pytest.raises(ChatError) as caught:
        monitors.add(alice, ["a", "b", "c", "d"])
    assert (caught.value.reason, caught.value.subject, caught.value.detail) == (
        Reason.LIST_FULL,
        "2",
        "c,d",
    )
    assert list(monitors.of(alice)) == ["a", "b"]
    assert monitors.watching(Key("c")) == set()


def test_a_nick_watched_already_does_not_count_twice(monitors: Monitors) -> None:
    alice = person("alice")
    monitors.add(alice, ["a", "b"])
    monitors.add(alice, ["A", "b"])
    assert list(monitors.of(alice)) == ["a", "b"]


def test_removing_a_nick_stops_watching_it_and_forgets_an_empty_set(monitors: Monitors) -> None:
    alice, bob = person("alice"), person("bob")
    monitors.add(alice, ["x"])
    monitors.add(bob, ["x"])
    monitors.remove(alice, ["X", "never"])
    assert monitors.of(alice) == {}
    assert monitors.watching(Key("x")) == {bob}
    monitors.remove(bob, ["x"])
    assert monitors._watchers == {}


def test_clearing_a_list_stops_watching_everything_on_it(monitors: Monitors) -> None:
    alice, bob = person("alice"), person("bob")
    monitors.add(alice, ["x", "y"])
    monitors.add(bob, ["y"])
    monitors.clear(alice)
    assert monitors.of(alice) == {}
    assert monitors.watching(Key("x")) == set()
    assert monitors.watching(Key("y")) == {bob}


def test_names_that_could_not_be_nicks_are_not_watched(monitors: Monitors) -> None:
    alice = person("alice")
    names = ["#chan", "bad*name", "", "9digit", "a!b", "x" * 31, "ok"]
    assert monitors.nicks_among(names) == ["ok"]
    monitors.add(alice, names)
    assert monitors.of(alice) == {"ok": "ok"}
