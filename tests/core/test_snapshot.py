"""A replica started from a snapshot and the rest of the log equals one that applied the
whole log (docs/design/cluster.md, start from a snapshot)."""

from __future__ import annotations

import json

import pytest

from hubbub.core.events import Fact, MessageKind
from hubbub.core.modes import ModeChange
from hubbub.core.snapshot import SnapshotError, capture, restore
from tests.core.world import World


def play() -> tuple[World, list[Fact]]:
    """A network's life: every kind of fact, in the order one node applied them."""
    world = World()
    facts: list[Fact] = []
    world.bus.subscribe(facts.append)
    hub = world.hub
    alice, _ = world.add("alice", "#main", "#ops", account="alice-id")
    bob, _ = world.add("Bob", "#main")
    carol, _ = world.add("cIaire", "#side")
    dave, _ = world.add("dave")
    world.modes(
        alice,
        "#ops",
        ModeChange(True, "k", "sekrit"),
        ModeChange(True, "l", "5"),
        ModeChange(True, "b", "*!*@bad.example"),
        ModeChange(True, "e", "bob!*@*"),
        ModeChange(True, "I", "*!*@good.example"),
        ModeChange(True, "s"),
    )
    world.modes(alice, "#main", ModeChange(True, "v", "Bob"), ModeChange(True, "m"))
    hub.set_topic(alice, "#main", "welcome")
    hub.set_metadata(alice, "*", "display-name", "Alice")
    hub.set_metadata(alice, "#main", "url", "https://example.com/main")
    hub.set_metadata(bob, "*", "status", "here")
    hub.set_metadata(bob, "*", "status", None)
    hub.invite(alice, "dave", "#ops")
    hub.set_away(bob, "lunch")
    hub.change_nick(bob, "Robert")
    hub.make_oper(dave, "admin")
    hub.change_user_modes(dave, [ModeChange(True, "w")])
    hub.register_channel(alice, "#main")
    _, said = hub.say(alice, "#main", "hello")
    hub.say(bob, "alice", "psst", MessageKind.NOTICE)
    _, private = hub.say(alice, "Robert", "secret")
    hub.redact(alice, "Robert", private.msgid)
    hub.mark_read(alice, "#main", said.time)
    hub.mark_read(bob, "#main", said.time)
    hub.join(carol, "#gone")
    hub.part(carol, "#gone")
    hub.log_in(carol, "claire", "claire-id")
    hub.drop_account("claire-id", "claire")
    hub.kick(alice, "#main", "Robert", "out")
    hub.rename(alice, "#ops", "#ops2")
    hub.set_realname(dave, "Dave D")
    hub.quit(carol, "bye")
    erin, _ = world.add("erin", "#main")
    hub.join(erin, "#ops2", "sekrit")
    hub.part(erin, "#main", "later")
    return world, facts


def replay(world: World, facts: list[Fact]) -> World:
    for fact in facts:
        world.bus.publish(fact)
    return world


def test_a_replica_started_from_a_snapshot_equals_one_that_read_the_whole_log() -> None:
    network, facts = play()
    whole = replay(World(), facts)
    assert whole.snapshot().users.keys() == network.snapshot().users.keys()
    for cut in sorted({0, 1, len(facts) // 3, len(facts) // 2, len(facts) - 1, len(facts)}):
        early = replay(World(), facts[:cut])
        # Through JSON, as a snapshot travels.
        data = json.loads(json.dumps(capture(early.state)))
        started = World()
        # The registered channels are the store's, which a starting node loads whole.
        for record in network.state.channels.registered.values():
            started.state.channels.learn(record)
        restore(started.state, data)
        assert capture(started.state) == capture(early.state), cut
        replay(started, facts[cut:])
        assert started.snapshot() == whole.snapshot(), cut
        assert capture(started.state) == capture(whole.state), cut


def test_a_snapshot_holds_what_the_facts_made() -> None:
    network, _ = play()
    data = capture(network.state)
    users = {fields[1]: fields for fields in data["users"]}
    assert set(users) == {"alice", "Robert", "dave", "erin"}
    assert users["Robert"][8] == "lunch"
    assert users["dave"][7] == "ow"
    assert users["dave"][12] == "admin"
    channels = {fields[0]: fields for fields in data["channels"]}
    assert set(channels) == {"#main", "#ops2"}
    assert "s" in channels["#ops2"][3]
    assert channels["#ops2"][4:6] == ["sekrit", 5]
    assert [mask for mask, *_ in channels["#ops2"][6]["b"]] == ["*!*@bad.example"]
    assert [member for member, _ in channels["#ops2"][8]] == [users["alice"][0], erin_id(data)]
    assert channels["#ops2"][9] == [users["dave"][0]]
    assert channels["#main"][7][0] == "welcome"
    assert users["alice"][13] == {"display-name": "Alice"}
    assert users["Robert"][13] == {}
    assert channels["#main"][10] == {"url": "https://example.com/main"}
    assert [nick for nick, *_ in data["whowas"]][-1] == "cIaire"
    assert data["dropped"] == ["claire-id"]


def erin_id(data: dict[str, list[list[str]]]) -> str:
    return next(fields[0] for fields in data["users"] if fields[1] == "erin")


@pytest.mark.parametrize(
    "data",
    [
        None,
        [],
        {"format": 99},
        {"format": 1},
        {"format": 1, "users": [["id", "nick"]], "channels": []},
        {"format": 1, "users": [], "channels": [["#x"]]},
    ],
)
def test_what_is_not_a_snapshot_is_refused_clearly(data: object) -> None:
    with pytest.raises(SnapshotError):
        restore(World().state, data)  # type: ignore[arg-type]


def test_nicks_that_look_alike_only_under_newer_rules_are_both_restored() -> None:
    # Probe 21 mapped more letters: a snapshot taken before may hold "star" and "ᶊtar"
    # (then two looks): both keep their nicks; two users of one nick still do not read.
    network = World()
    network.add("star")
    network.add("zzzz")
    data = json.loads(json.dumps(capture(network.state)))
    renamed = [row for row in data["users"] if row[1] == "zzzz"]
    renamed[0][1] = "ᶊtar"
    started = World()
    restore(started.state, data)
    assert {u.nick for u in started.state.users} == {"star", "ᶊtar"}
    renamed[0][1] = "STAR"
    with pytest.raises(SnapshotError, match="two users hold"):
        restore(World().state, data)
