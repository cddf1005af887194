"""The in-process bus and registry: delivery order, unsubscribing, and claims."""

from __future__ import annotations

from hubbub.cluster.local import LocalBus, LocalRegistry
from hubbub.core.events import Actor, AwayChanged, Fact, Wallops
from hubbub.core.ports import Bus, Registry

ACTOR = Actor("alice", "alice", "host", id="u1")


def wallops(text: str) -> Wallops:
    return Wallops(ACTOR, text)


def new_bus() -> Bus:
    """A LocalBus, used through the port it implements (mypy checks that it does)."""
    return LocalBus()


def new_registry() -> Registry:
    return LocalRegistry()


def test_each_event_reaches_every_subscriber_in_the_order_they_subscribed() -> None:
    bus = new_bus()
    seen: list[tuple[str, Fact]] = []
    bus.subscribe(lambda event: seen.append(("first", event)))
    bus.subscribe(lambda event: seen.append(("second", event)))
    one, two = wallops("one"), wallops("two")
    bus.publish(one)
    bus.publish(two)
    assert seen == [("first", one), ("second", one), ("first", two), ("second", two)]


def test_a_subscriber_with_kinds_hears_those_facts_only_in_its_place_in_the_order() -> None:
    bus = new_bus()
    seen: list[tuple[str, Fact]] = []
    bus.subscribe(lambda event: seen.append(("all", event)))
    bus.subscribe(lambda event: seen.append(("away", event)), kinds=frozenset({AwayChanged}))
    bus.subscribe(lambda event: seen.append(("last", event)))
    said, away = wallops("one"), AwayChanged(ACTOR, "gone")
    bus.publish(said)
    bus.publish(away)
    bus.publish(said)
    assert seen == [
        ("all", said),
        ("last", said),
        ("all", away),
        ("away", away),
        ("last", away),
        ("all", said),
        ("last", said),
    ]


def test_subscribing_or_unsubscribing_after_a_kind_was_published_counts_for_it() -> None:
    bus = new_bus()
    seen: list[str] = []
    bus.publish(wallops("before"))  # the bus now knows who takes Wallops: nobody
    late = seen.append
    bus.subscribe(lambda event: late("late"), kinds=frozenset({Wallops}))
    bus.publish(wallops("after"))
    assert seen == ["late"]
    bus.subscribe(lambda event: seen.append("away only"), kinds=frozenset({AwayChanged}))
    bus.publish(wallops("again"))
    assert seen == ["late", "late"]


def test_publishing_hands_over_the_very_event_before_it_returns() -> None:
    bus = new_bus()
    seen: list[Fact] = []
    bus.subscribe(seen.append)
    event = wallops("now")
    bus.publish(event)
    assert len(seen) == 1
    assert seen[0] is event


def test_publishing_with_no_subscribers_does_nothing() -> None:
    new_bus().publish(wallops("nobody"))


def test_an_unsubscribed_subscriber_hears_nothing_more_and_the_others_still_do() -> None:
    bus = new_bus()
    first: list[Fact] = []
    second: list[Fact] = []
    hear_first, hear_second = first.append, second.append
    bus.subscribe(hear_first)
    bus.subscribe(hear_second)
    bus.publish(wallops("both"))
    bus.unsubscribe(hear_first)
    bus.publish(wallops("second only"))
    assert [e.text for e in first if isinstance(e, Wallops)] == ["both"]
    assert [e.text for e in second if isinstance(e, Wallops)] == ["both", "second only"]


def test_unsubscribing_an_equal_bound_method_stops_it() -> None:
    bus = new_bus()
    seen: list[Fact] = []
    bus.subscribe(seen.append)
    bus.unsubscribe(seen.append)
    bus.publish(wallops("after"))
    assert seen == []


def test_unsubscribing_one_that_never_subscribed_is_harmless() -> None:
    bus = new_bus()
    seen: list[Fact] = []
    bus.subscribe(seen.append)
    bus.unsubscribe(lambda event: None)
    bus.publish(wallops("still"))
    assert len(seen) == 1


def test_a_subscriber_added_while_an_event_is_published_hears_only_later_events() -> None:
    bus = new_bus()
    late: list[Fact] = []

    def subscribe_late(event: Fact) -> None:
        bus.subscribe(late.append)

    bus.subscribe(subscribe_late)
    first = wallops("first")
    bus.publish(first)
    assert late == []
    bus.unsubscribe(subscribe_late)
    second = wallops("second")
    bus.publish(second)
    assert late == [second]


def test_a_subscriber_removed_while_an_event_is_published_still_hears_that_event() -> None:
    bus = new_bus()
    later: list[Fact] = []
    hear_later = later.append

    def remove_later(event: Fact) -> None:
        bus.unsubscribe(hear_later)

    bus.subscribe(remove_later)
    bus.subscribe(hear_later)
    event = wallops("once")
    bus.publish(event)
    bus.publish(wallops("never"))
    assert later == [event]


def test_a_free_name_is_claimed_by_its_first_claimant() -> None:
    registry = new_registry()
    assert registry.holder("alice") is None
    assert registry.claim("alice", "u1") is True
    assert registry.holder("alice") == "u1"


def test_a_held_name_is_refused_to_another_claimant_and_keeps_its_holder() -> None:
    registry = new_registry()
    registry.claim("alice", "u1")
    assert registry.claim("alice", "u2") is False
    assert registry.holder("alice") == "u1"


def test_claiming_a_name_one_holds_already_succeeds() -> None:
    registry = new_registry()
    registry.claim("alice", "u1")
    assert registry.claim("alice", "u1") is True
    assert registry.holder("alice") == "u1"


def test_a_released_name_is_free_for_anyone() -> None:
    registry = new_registry()
    registry.claim("alice", "u1")
    registry.release("alice", "u1")
    assert registry.holder("alice") is None
    assert registry.claim("alice", "u2") is True
    assert registry.holder("alice") == "u2"


def test_only_the_holder_can_release_a_name() -> None:
    registry = new_registry()
    registry.claim("alice", "u1")
    registry.release("alice", "u2")
    assert registry.holder("alice") == "u1"


def test_releasing_twice_or_releasing_a_free_name_is_harmless() -> None:
    registry = new_registry()
    registry.claim("alice", "u1")
    registry.release("alice", "u1")
    registry.release("alice", "u1")
    registry.release("nobody", "u1")
    assert registry.holder("alice") is None
    assert registry.holder("nobody") is None


def test_names_are_claimed_independently() -> None:
    registry = new_registry()
    assert registry.claim("alice", "u1")
    assert registry.claim("bob", "u2")
    registry.release("alice", "u1")
    assert registry.holder("bob") == "u2"
