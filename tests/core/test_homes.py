"""Always-on users between nodes (core/homes.py, core/spread.py): this world is one
node of a cluster, and what other nodes did is published on its bus as their facts
come from the log."""

from __future__ import annotations

from hubbub.core.events import (
    AwayChanged,
    DeviceAttached,
    DeviceDetached,
    Fact,
    Kept,
    NodeLost,
    Quit,
)
from hubbub.core.homes import AUTO_AWAY
from hubbub.core.presence import ELSEWHERE, Choice, Presence, PresencePolicy
from hubbub.core.snapshot import capture, restore
from hubbub.core.spread import Spread
from tests.core.test_presences import Drawer
from tests.core.test_roaming import ELSE, HOME, remote
from tests.core.world import World


def _between_nodes(world: World, policy: Choice = Choice.OPT_OUT) -> tuple[Drawer, list[Fact]]:
    """This node in a cluster, keeping always-on users in a drawer; the facts it sees."""
    drawer = Drawer()
    presences = world.hub.presences
    presences.policy = PresencePolicy(Choice.OPT_OUT, policy)
    presences.sink = drawer
    presences.homes.between_nodes = True
    facts: list[Fact] = []
    world.bus.subscribe(facts.append)
    return drawer, facts


def test_the_table_moves_a_kept_user_to_the_run_that_reported_its_home_lost() -> None:
    spread = Spread()
    spread.said_kept("home.1", True, True, 5.0)
    spread.said_kept("home.2", True, False, 0.0)
    assert spread.absent("home.1") == 5.0
    assert spread.absent("home.2") is None  # a device at its home
    spread.attached("home.1", "b")
    assert spread.absent("home.1") is None  # a device on b
    spread.detached("home.1", "b")
    world = World()
    one, two, three = (remote(world, nick) for nick in ("one", "two", "three"))
    spread.said_kept(one.id, True, True, 5.0)
    spread.said_kept(two.id, True, False, 0.0)
    assert spread.lost(HOME, [one, two, three], by=ELSE) == [three]
    assert (spread.home(one.id), spread.home(two.id)) == (ELSE, ELSE)
    # Its devices were on the lost run: when they left is not known (0).
    assert (spread.absent(one.id), spread.absent(two.id)) == (5.0, 0.0)
    # With no reporter (a fact of an earlier build), the user quits as before.
    assert spread.lost(ELSE, [one], by="") == [one]
    spread.said_kept(two.id, False, False, 0.0)
    assert spread.absent(two.id) is None
    spread.forget(one.id)
    assert one.id not in spread.kept


def test_the_home_says_it_keeps_its_user_and_its_away_follows_devices_elsewhere(
    world: World,
) -> None:
    drawer, facts = _between_nodes(world)
    alice, laptop = world.add("alice", "#a", account="acct")
    world.hub.leave(alice, laptop, "gone")
    assert isinstance(alice.listener, Presence)
    assert alice.away == AUTO_AWAY
    kept = [f for f in facts if type(f) is Kept]
    assert [(f.on, f.absent) for f in kept] == [(True, False), (True, True)]
    assert world.state.spread.absent(alice.id) == alice.listener.left
    assert drawer.records["acct"] is not None
    # A device attaching on another node ends the auto-away; its leaving sets it again.
    facts.clear()
    world.bus.publish(DeviceAttached(alice.id, ELSE))
    assert [f.message for f in facts if type(f) is AwayChanged] == [None]
    assert world.state.spread.absent(alice.id) is None
    world.state.clock = lambda: 42.0
    world.bus.publish(DeviceDetached(alice.id, ELSE))
    assert [f.message for f in facts if type(f) is AwayChanged] == [None, AUTO_AWAY]
    assert world.state.spread.absent(alice.id) == 42.0
    assert not [f for f in facts if type(f) is Quit]


def test_a_kept_user_of_a_lost_node_is_kept_by_the_node_that_reported_it(world: World) -> None:
    drawer, _ = _between_nodes(world)
    alice = remote(world, "alice", "#a")
    remote(world, "bob", "#a")
    world.bus.publish(Kept(alice.id, True, True, 5.0, None, True))
    world.bus.publish(NodeLost(HOME, by=world.state.ids.prefix))
    # bob, not always-on, quits; alice is this node's now, with no device, away.
    assert world.hub.find_user("bob") is None
    assert world.state.spread.home(alice.id) == world.state.ids.prefix
    assert isinstance(alice.listener, Presence)
    assert (alice.listener.sessions, alice.listener.left) == ([], 5.0)
    assert alice.away == AUTO_AWAY
    record = drawer.records["acct"]
    assert record is not None
    assert [c.name for c in record.channels] == ["#a"]
    # A client logging in to its account here attaches to it, whatever nick it asked.
    assert world.hub.presences.target("acct", "someone") is alice


def test_a_kept_user_of_a_lost_node_reported_by_another_stays_there(world: World) -> None:
    drawer, facts = _between_nodes(world)
    alice = remote(world, "alice")
    world.bus.publish(Kept(alice.id, True, True, 5.0, None, True))
    # A client here logging in to its account attaches to it: no device anywhere.
    assert world.hub.presences.target("acct", "someone") is alice
    world.bus.publish(NodeLost(HOME, by=ELSE))
    assert world.state.spread.home(alice.id) == ELSE
    assert alice.listener is ELSEWHERE
    assert world.hub.find_user("alice") is alice
    assert "acct" not in drawer.records
    assert not [f for f in facts if type(f) is Quit]


def test_who_is_kept_survives_a_snapshot(world: World) -> None:
    alice = remote(world, "alice")
    world.bus.publish(Kept(alice.id, True, True, 5.0))
    again = World()
    restore(again.state, capture(world.state))
    assert again.state.spread.kept == {alice.id: (True, 5.0)}
    assert again.state.spread.choices == {alice.id: (None, None)}


def test_a_node_started_from_a_snapshot_keeps_an_adopted_user_by_its_accounts_choice() -> None:
    # Probe 34: a node whose snapshot was newer than the user's Kept did not know the
    # account chose always-on (opt-in here): the user it adopted quit.
    before = World()
    alice = remote(before, "alice", "#a")
    before.bus.publish(Kept(alice.id, True, True, 5.0, None, True))
    world = World()
    restore(world.state, capture(before.state))
    drawer, facts = _between_nodes(world, Choice.OPT_IN)
    world.bus.publish(NodeLost(HOME, by=world.state.ids.prefix))
    kept = world.hub.find_user("alice")
    assert kept is not None
    assert isinstance(kept.listener, Presence)
    assert [c.name for c in kept.channels.values()] == ["#a"]
    assert not [f for f in facts if type(f) is Quit]
    assert drawer.records["acct"] is not None
