"""Devices of one user on several nodes (core/spread.py, core/roaming.py): this world is
one node, and what other nodes did is published on its bus as their facts come from the
log (to apply and to every follower after it)."""

from __future__ import annotations

from hubbub.cluster.local import LocalBus, LocalRegistry
from hubbub.core.events import (
    Actor,
    DeviceAttached,
    DeviceDetached,
    Fact,
    Joined,
    MessagePosted,
    NodeLost,
    Quit,
    UserArrived,
)
from hubbub.core.hub import Hub
from hubbub.core.model import User
from hubbub.core.presence import ELSEWHERE, Presence
from hubbub.core.snapshot import capture, restore
from hubbub.core.spread import Spread
from hubbub.core.state import ChatLimits
from hubbub.wire.casemap import Casemap, Casemapping, Key
from tests.core.world import Recorder, World

HOME = "home"  # the run of the node alice lives on
ELSE = "else"  # a third node's run


def remote(world: World, nick: str = "alice", *channels: str, run: str = HOME) -> User:
    """A user of another node's run, logged in to the account ``acct``, in
    ``channels``."""
    actor = Actor(nick, nick, "far", account="acct", id=f"{run}.{nick}")
    world.bus.publish(UserArrived(actor, 1.0, account_id="acct"))
    for name in channels:
        world.bus.publish(Joined(actor, name, "o", created=1.0, incarnation=f"{name} 1"))
    user = world.hub.find_user(nick)
    assert user is not None
    return user


def attach(world: World, user: User) -> Recorder:
    """A session here that attaches to ``user``, as a client logged in to its account."""
    device = Recorder()
    world.recorders.append(device)
    assert world.hub.presences.target("acct", user.nick) is user
    world.hub.presences.attach(user, device)
    return device


def quits(recorder: Recorder) -> list[str]:
    return [e.actor.nick for e in recorder.take() if type(e) is Quit]


def test_the_table_moves_a_user_to_its_first_other_node_and_quits_it_with_none() -> None:
    spread = Spread()
    spread.attached("home.1", "b")
    spread.attached("home.1", "c")
    spread.attached("home.1", "b")  # counted once
    spread.attached("home.1", HOME)  # the home's own devices are not counted
    assert spread.elsewhere("home.1") == ("b", "c")
    assert spread.holds("home.1", HOME)
    assert spread.spread("home.1", HOME)
    assert spread.detached("home.1", HOME)
    assert (spread.home("home.1"), spread.elsewhere("home.1")) == ("b", ("c",))
    assert spread.detached("home.1", "c")
    assert not spread.spread("home.1", "b")
    assert spread.homes == {"home.1": "b"}
    assert not spread.detached("home.1", "b")  # the last one: the user quits
    spread.forget("home.1")
    assert (spread.homes, spread.others) == ({}, {})


def test_a_lost_node_moves_its_users_with_devices_elsewhere_and_quits_the_others(
    world: World,
) -> None:
    spread = world.state.spread
    alice = remote(world, "alice")
    bob = remote(world, "bob")
    spread.attached(alice.id, ELSE)
    assert spread.runs([alice]) == {HOME, ELSE}
    assert spread.lost(HOME, [alice, bob]) == [bob]
    assert spread.home(alice.id) == ELSE
    assert spread.lost(ELSE, [alice]) == [alice]


def test_a_device_here_of_a_user_living_elsewhere_is_handed_its_messages(world: World) -> None:
    bob, b = world.add("bob")
    alice = remote(world, "alice", "#a")
    world.hub.join(bob, "#a")
    device = attach(world, alice)
    assert isinstance(alice.listener, Presence)
    assert world.state.spread.elsewhere(alice.id) == (world.state.ids.prefix,)
    device.take()
    world.hub.say(bob, "#a", "to the room")
    world.hub.say(bob, "alice", "to you")
    assert [(e.target, e.text) for e in device.take() if type(e) is MessagePosted] == [
        ("#a", "to the room"),
        ("alice", "to you"),
    ]
    # Said on the home node: shown here as said by the user, not as this device's echo.
    far = MessagePosted(alice.actor, "#a", "from home", msgid="far1", to=Key("#a"), time=2.0)
    world.bus.publish(far)
    assert [e.text for e in device.take() if type(e) is MessagePosted] == ["from home"]
    assert device.echoes == []
    # Said here: its echo is this device's, and bob hears it once.
    b.take()
    world.hub.say(alice, "#a", "from here", by=device)
    assert [e.text for e in device.echoes] == ["from here"]
    assert [e.text for e in device.take() if type(e) is MessagePosted] == []
    assert [e.text for e in b.take() if type(e) is MessagePosted] == ["from here"]


def test_the_last_device_here_leaving_says_so_and_the_user_stays(world: World) -> None:
    bob, b = world.add("bob")
    alice = remote(world, "alice", "#a")
    world.hub.join(bob, "#a")
    for _ in range(2):
        device = attach(world, alice)
        b.take()
        world.hub.leave(alice, device, "Quit: bye")
        assert alice.listener is ELSEWHERE
        assert world.state.spread.elsewhere(alice.id) == ()
        assert world.hub.find_user("alice") is alice
        assert quits(b) == []


def test_the_homes_last_device_leaving_moves_the_user_to_a_node_with_one(world: World) -> None:
    alice, laptop = world.add("alice", "#a", account="acct")
    _, b = world.add("bob", "#a")
    world.bus.publish(DeviceAttached(alice.id, ELSE))
    # A lone session of a user with devices elsewhere is a Presence: what the user says
    # elsewhere has no speaker here, and is shown as said.
    assert isinstance(alice.listener, Presence)
    world.hub.leave(alice, laptop, "Quit: laptop off")
    assert quits(b) == []
    assert alice.listener is ELSEWHERE
    assert world.state.spread.home(alice.id) == ELSE
    # The last device anywhere leaving (there) quits the user, with its reason.
    world.bus.publish(DeviceDetached(alice.id, ELSE, "Quit: all gone"))
    told = [e for e in b.take() if type(e) is Quit]
    assert [(e.actor.nick, e.reason) for e in told] == [("alice", "Quit: all gone")]
    assert world.hub.find_user("alice") is None
    assert world.state.spread.homes == {}


def test_a_device_elsewhere_leaving_first_in_the_log_leaves_the_home_to_quit_the_user(
    world: World,
) -> None:
    alice, laptop = world.add("alice", "#a", account="acct")
    _, b = world.add("bob", "#a")
    world.bus.publish(DeviceAttached(alice.id, ELSE))
    # Its DeviceDetached was in the log before the home's, which the home decided
    # believing the other still there: applied, the home's finds nobody to move to.
    world.bus.publish(DeviceDetached(alice.id, ELSE, "Quit: phone off"))
    world.hub.leave(alice, laptop, "Quit: laptop off")
    assert [e.reason for e in b.take() if type(e) is Quit] == ["Quit: laptop off"]
    assert world.hub.find_user("alice") is None


def test_a_device_that_attached_as_the_home_quit_the_user_is_closed(world: World) -> None:
    alice = remote(world, "alice", "#a")
    device = attach(world, alice)
    world.bus.publish(Quit(alice.actor, "Quit: bye"))  # the home had not heard of it
    assert device.disconnected == "Quit: bye"
    assert world.hub.find_user("alice") is None
    assert world.state.spread.others == {}


def test_a_node_told_it_is_lost_closes_its_devices_of_users_living_elsewhere(
    world: World,
) -> None:
    alice = remote(world, "alice", "#a")
    device = attach(world, alice)
    world.bus.publish(NodeLost(world.state.ids.prefix))
    assert device.disconnected is not None
    assert "counted lost" in device.disconnected
    assert alice.listener is ELSEWHERE
    assert world.hub.find_user("alice") is alice


def test_the_home_lost_moves_the_user_to_this_node_which_then_quits_it(world: World) -> None:
    bob, b = world.add("bob")
    alice = remote(world, "alice", "#a")
    world.hub.join(bob, "#a")
    device = attach(world, alice)
    b.take()
    world.bus.publish(NodeLost(HOME))
    assert quits(b) == []
    assert device.disconnected is None
    assert world.state.spread.home(alice.id) == world.state.ids.prefix
    # Living here now with one device: the listener is the session itself again.
    assert alice.listener is device
    world.hub.leave(alice, device, "Quit: moved")
    assert [e.reason for e in b.take() if type(e) is Quit] == ["Quit: moved"]


def test_an_account_attaches_as_many_devices_as_it_may_counting_one_per_other_node() -> None:
    world = World(ChatLimits(clients_per_account=2))
    alice = remote(world, "alice")
    attach(world, alice)
    assert world.hub.presences.full(alice)
    world.bus.publish(NodeLost(HOME))
    assert not world.hub.presences.full(alice)


def test_a_snapshot_keeps_where_each_users_devices_are(world: World) -> None:
    alice = remote(world, "alice")
    world.state.spread.attached(alice.id, "b")
    world.state.spread.attached(alice.id, "c")
    assert world.state.spread.detached(alice.id, HOME)
    again = World()
    restore(again.state, capture(world.state))
    assert again.state.spread.homes == {alice.id: "b"}
    assert again.state.spread.others == {alice.id: ["c"]}
    assert capture(again.state) == capture(world.state)


class Log(LocalBus):
    """A log a round trip away: what is published waits until :meth:`read`."""

    def __init__(self) -> None:
        super().__init__()
        self.waiting: list[Fact] = []

    def publish(self, event: Fact) -> None:
        self.waiting.append(event)

    def read(self) -> None:
        while self.waiting:
            super().publish(self.waiting.pop(0))


def test_a_device_attaching_again_within_a_round_trip_is_not_taken_for_the_one_gone() -> None:
    log = Log()
    hub = Hub(Casemap(Casemapping.PRECIS), bus=log, registry=LocalRegistry())
    actor = Actor("alice", "alice", "far", account="acct", id=f"{HOME}.alice")
    log.publish(UserArrived(actor, 1.0, account_id="acct"))
    log.read()
    alice = hub.find_user("alice")
    assert alice is not None
    first, second = Recorder(), Recorder()
    hub.presences.attach(alice, first)
    hub.leave(alice, first, "Quit: bye")
    hub.presences.attach(alice, second)
    # The first device's DeviceAttached and DeviceDetached come back after the second
    # attached: they say nothing of it.
    log.read()
    assert second.disconnected is None
    assert alice.listener is not ELSEWHERE
    assert hub.state.spread.elsewhere(alice.id) == (hub.state.ids.prefix,)
    hub.leave(alice, second, "Quit: bye")
    log.read()
    assert hub.state.spread.elsewhere(alice.id) == ()
    assert hub.find_user("alice") is alice
