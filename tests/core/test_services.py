"""Registered channels (ChanServ): registering, dropping, access lists, and an account's
rights when it is deleted; each refusal by its reason, with nothing kept."""

from __future__ import annotations

import pytest

from hubbub.core import channel_ops, services
from hubbub.core.errors import Reason
from hubbub.core.modes import ModeChange
from hubbub.core.registered import RegisteredChannel
from hubbub.core.state import ChatLimits
from hubbub.wire.casemap import Key
from tests.core.world import Shelf, World


@pytest.fixture
def shelf(world: World) -> Shelf:
    shelf = Shelf()
    world.state.channels.sink = shelf
    return shelf


def founded(world: World, name: str = "#Reg") -> RegisteredChannel:
    """A channel registered by ``founder`` (account ``acct``), who stays in it."""
    founder, _ = world.add("founder", name, account="acct")
    return world.hub.register_channel(founder, name)


# -- register_channel --------------------------------------------------------------------


def test_registering_keeps_the_channel_its_state_and_its_incarnation(
    world: World, shelf: Shelf
) -> None:
    founder, _ = world.add("founder", "#Reg", account="acct")
    world.modes(founder, "#reg", ModeChange(True, "m"), ModeChange(True, "k", "pw"))
    world.hub.set_topic(founder, "#reg", "kept")
    world.clock.now = 21.0
    record = world.hub.register_channel(founder, "#REG")
    channel = world.channel("#reg")
    assert (record.key, record.name, record.founder, record.created) == (
        "#reg",
        "#Reg",
        "acct",
        21.0,
    )
    assert record.names == {"acct": "acct"}
    assert record.incarnation == channel.incarnation
    assert (record.flags, record.password) == ("mnt", "pw")
    assert record.topic is not None
    assert record.topic.text == "kept"
    assert world.state.channels.registered == {Key("#reg"): record}
    assert shelf.saved == [record]


def test_registering_a_channel_one_does_not_operate_is_refused_with_chanop_needed(
    world: World, shelf: Shelf
) -> None:
    world.add("alice", "#a")
    bob, _ = world.add("bob", "#a", account="bobs")
    error = world.refusal(lambda: world.hub.register_channel(bob, "#a"))
    assert error.reason is Reason.CHANOP_NEEDED
    assert shelf.saved == []


def test_registering_without_an_account_is_refused_with_no_privileges(
    world: World, shelf: Shelf
) -> None:
    alice, _ = world.add("alice", "#a")
    error = world.refusal(lambda: world.hub.register_channel(alice, "#a"))
    assert error.reason is Reason.NO_PRIVILEGES
    assert error.detail == "log in to an account first"
    assert shelf.saved == []


def test_registering_a_registered_channel_again_is_refused_with_name_in_use(
    world: World, shelf: Shelf
) -> None:
    founded(world)
    founder = world.hub.find_user("founder")
    assert founder is not None
    shelf.saved.clear()
    error = world.refusal(lambda: world.hub.register_channel(founder, "#reg"))
    assert error.reason is Reason.NAME_IN_USE
    assert shelf.saved == []


def test_an_account_past_channels_per_account_is_refused_with_too_many_channels() -> None:
    world = World(ChatLimits(channels_per_account=2))
    shelf = Shelf()
    world.state.channels.sink = shelf
    founder, _ = world.add("founder", "#a", "#b", "#c", account="acct")
    for name in ("#a", "#b"):
        world.hub.register_channel(founder, name)
    saved = list(shelf.saved)
    error = world.refusal(lambda: world.hub.register_channel(founder, "#c"))
    assert error.reason is Reason.TOO_MANY_CHANNELS
    assert error.detail == "an account may register at most 2"
    assert shelf.saved == saved
    # Another account has an allowance of its own.
    other, _ = world.add("other", "#d", account="other")
    assert world.hub.register_channel(other, "#d").founder == "other"


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("#none", Reason.NO_SUCH_CHANNEL),
        ("#s", Reason.NO_SUCH_CHANNEL),
        ("#a", Reason.NOT_ON_CHANNEL),
    ],
)
def test_registering_a_channel_one_is_not_in_is_refused(
    world: World, name: str, reason: Reason
) -> None:
    alice, _ = world.add("alice", "#a", "#s")
    world.modes(alice, "#s", ModeChange(True, "s"))
    bob, _ = world.add("bob", account="bobs")
    error = world.refusal(lambda: world.hub.register_channel(bob, name))
    assert error.reason is reason


# -- drop_channel ------------------------------------------------------------------------


def test_its_founder_may_drop_a_registration(world: World, shelf: Shelf) -> None:
    founded(world)
    founder = world.hub.find_user("founder")
    assert founder is not None
    world.hub.drop_channel(founder, "#REG")
    assert world.state.channels.registered == {}
    assert shelf.deleted == ["#reg"]
    assert world.hub.find_channel("#reg") is not None


def test_a_server_operator_may_drop_any_registration(world: World, shelf: Shelf) -> None:
    founded(world)
    oper, _ = world.add("oper")
    world.hub.make_oper(oper, "root")
    world.hub.drop_channel(oper, "#reg")
    assert world.state.channels.registered == {}
    assert shelf.deleted == ["#reg"]


@pytest.mark.parametrize("account", [None, "other"])
def test_dropping_another_accounts_registration_is_refused_with_no_privileges(
    world: World, shelf: Shelf, account: str | None
) -> None:
    founded(world)
    other, _ = world.add("other", "#reg", account=account)
    error = world.refusal(lambda: world.hub.drop_channel(other, "#reg"))
    assert error.reason is Reason.NO_PRIVILEGES
    assert (error.subject, error.detail) == ("#Reg", "only its founder may")
    assert shelf.deleted == []


def test_dropping_an_unregistered_channel_is_refused_with_no_such_channel(world: World) -> None:
    alice, _ = world.add("alice", "#a", account="acct")
    error = world.refusal(lambda: world.hub.drop_channel(alice, "#a"))
    assert error.reason is Reason.NO_SUCH_CHANNEL
    assert error.subject == "#a"


def test_a_secret_registration_reads_as_unregistered_to_outsiders(world: World) -> None:
    founder, _ = world.add("founder", "#s", account="acct")
    world.modes(founder, "#s", ModeChange(True, "s"))
    world.hub.register_channel(founder, "#s")
    outsider, _ = world.add("outsider", account="other")
    error = world.refusal(lambda: world.hub.drop_channel(outsider, "#s"))
    assert error.reason is Reason.NO_SUCH_CHANNEL
    error = world.refusal(lambda: world.hub.set_access(outsider, "#s", "x", "X", "v"))
    assert error.reason is Reason.NO_SUCH_CHANNEL


# -- set_access --------------------------------------------------------------------------


def test_the_founder_gives_and_takes_an_accounts_status(world: World, shelf: Shelf) -> None:
    founded(world)
    founder = world.hub.find_user("founder")
    assert founder is not None
    world.hub.set_access(founder, "#reg", "friend", "Friend", "v")
    record = world.state.channels.registered[Key("#reg")]
    assert record.access == {"friend": "v"}
    assert record.names == {"acct": "acct", "friend": "Friend"}
    assert record.status_for("friend") == "v"
    assert shelf.saved[-1] == record
    world.hub.set_access(founder, "#reg", "friend", "Friend", None)
    record = world.state.channels.registered[Key("#reg")]
    assert record.access == {}
    assert record.names == {"acct": "acct"}


def test_taking_the_founders_own_access_keeps_its_name_and_its_status(world: World) -> None:
    founded(world)
    founder = world.hub.find_user("founder")
    assert founder is not None
    world.hub.set_access(founder, "#reg", "acct", "acct", None)
    record = world.state.channels.registered[Key("#reg")]
    assert record.names == {"acct": "acct"}
    assert record.status_for("acct") == "o"


@pytest.mark.parametrize("oper", [False, True])
def test_access_set_by_other_than_the_founder_is_refused_with_no_privileges(
    world: World, oper: bool
) -> None:
    founded(world)
    other, _ = world.add("other", account="other")
    if oper:
        world.hub.make_oper(other, "root")
        world.settle()
    error = world.refusal(lambda: world.hub.set_access(other, "#reg", "other", "other", "o"))
    assert error.reason is Reason.NO_PRIVILEGES


# -- forget_account_rights ---------------------------------------------------------------


def test_a_deleted_account_loses_the_channels_it_founded_and_its_access(
    world: World, shelf: Shelf
) -> None:
    founded(world, "#mine")
    founder = world.hub.find_user("founder")
    assert founder is not None
    other, _ = world.add("other", "#theirs", account="other")
    world.hub.register_channel(other, "#theirs")
    world.hub.set_access(other, "#theirs", "acct", "acct", "o")
    world.hub.set_access(other, "#theirs", "third", "third", "v")
    world.hub.drop_account("acct")
    registered = world.state.channels.registered
    assert list(registered) == ["#theirs"]
    assert registered[Key("#theirs")].access == {"third": "v"}
    assert registered[Key("#theirs")].names == {"other": "other", "third": "third"}
    assert shelf.deleted == ["#mine"]
    assert shelf.saved[-1] == registered[Key("#theirs")]


def test_a_deleted_accounts_mask_entries_leave_empty_registered_channels(
    world: World, shelf: Shelf
) -> None:
    """Probe 28: ``+I a:name`` outlived the drop in an empty registered channel, and let
    the next owner of the name in."""
    other, _ = world.add("other", "#theirs", account="other")
    world.hub.register_channel(other, "#theirs")
    channel = world.channel("#theirs")
    world.hub.change_channel_modes(
        other,
        channel,
        [
            ModeChange(True, "I", "a:Acct"),
            ModeChange(True, "I", "a:ac*"),
            ModeChange(True, "b", "a:acct"),
        ],
    )
    world.hub.part(other, "#theirs")
    world.settle()
    assert Key("#theirs") not in world.state.channels.live
    world.hub.drop_account("acct", "acct")
    record = world.state.channels.registered[Key("#theirs")]
    # The exception that named it goes; a pattern stays the channel's to keep, and a ban
    # stays (probe 30: a drop and a registration of the name again lifted it).
    assert sorted((mode, e.mask) for mode, e in record.lists) == [("I", "a:ac*"), ("b", "a:acct")]
    assert shelf.saved[-1] == record


# -- bounds kept as facts are applied (probe 21) -----------------------------------------


def test_registrations_decided_at_once_past_the_bound_are_refused_as_applied() -> None:
    # Between nodes, each registration is decided before the others are applied: the
    # bound is kept when they are, in the log's order, on every node alike.
    world = World(ChatLimits(channels_per_account=2))
    founder, recorder = world.add("founder", "#a", "#b", "#c", account="acct")
    decided = [
        services.register_channel(world.state, founder, name)[1][0] for name in ("#a", "#b", "#c")
    ]
    for fact in decided:
        world.hub.applier.apply(fact)
    assert sorted(world.state.channels.registered) == ["#a", "#b"]
    ((_, refusal),) = recorder.refusals
    assert refusal.reason is Reason.TOO_MANY_CHANNELS


def test_list_additions_decided_at_once_past_the_bound_are_dropped_as_applied() -> None:
    world = World(ChatLimits(list_length=3))
    op, _ = world.add("op", "#c")
    _, watcher = world.add("other", "#c")
    channel = world.channel("#c")
    decided = [
        channel_ops.change_channel_modes(
            world.state, op, channel, [ModeChange(True, "b", f"*!*@{n}.example.org")]
        )[2][0]
        for n in range(5)
    ]
    for fact in decided:
        world.hub.applier.apply(fact)
    assert len(world.channel("#c").lists["b"]) == 3
    shown = [e for e in watcher.take() if e.__class__.__name__ == "ChannelModeChanged"]
    assert len(shown) == 3


def test_an_access_list_is_bounded_as_the_channel_lists_are(shelf: Shelf) -> None:
    world_limits = ChatLimits(list_length=2)
    world = World(world_limits)
    world.state.channels.sink = shelf
    founder, _ = world.add("founder", "#reg", account="acct")
    world.hub.register_channel(founder, "#reg")
    for n in range(2):
        world.hub.set_access(founder, "#reg", f"id{n}", f"friend{n}", "v")
    error = world.refusal(lambda: world.hub.set_access(founder, "#reg", "id9", "more", "v"))
    assert error.reason is Reason.LIST_FULL
    # Changing one already there is not growing the list.
    world.hub.set_access(founder, "#reg", "id0", "friend0", "o")
