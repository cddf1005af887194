"""Applying each kind of event: how the state changes and who is handed what.

Events are made by hand here and applied directly, as the bus would hand them over;
the operations that decide them have their own test modules.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from hubbub.core.errors import Reason
from hubbub.core.events import (
    AccountChanged,
    Actor,
    AwayChanged,
    ChannelModeChanged,
    ChannelRenamed,
    Invited,
    Joined,
    Kicked,
    Killed,
    MarkerMoved,
    MessageKind,
    MessagePosted,
    MessageRedacted,
    MonitoredOffline,
    MonitoredOnline,
    NickChanged,
    NodeLost,
    Parted,
    Quit,
    RealnameChanged,
    RegistrationChanged,
    TopicChanged,
    UserArrived,
    UserModeChanged,
    Wallops,
)
from hubbub.core.hub import Hub
from hubbub.core.markers import owner_of
from hubbub.core.model import NO_CHANNELS, ListEntry, Topic
from hubbub.core.modes import ModeChange
from hubbub.core.presence import ELSEWHERE
from hubbub.core.recent import Sent
from hubbub.core.registered import RegisteredChannel, to_json
from hubbub.wire.casemap import Key
from tests.core.world import Recorder, Shelf, World, add, settle


def registered(world: World, name: str, founder: str = "acct") -> RegisteredChannel:
    """Register a channel by keeping its record, as ChanServ would have."""
    key = world.state.casemap.fold(name)
    record = RegisteredChannel(key, name, founder, 1.0, incarnation=f"{key} kept")
    world.state.channels.keep(record)
    return record


def message(world: World, sender: str, target: str, text: str = "hi") -> MessagePosted:
    """A message as ``say`` would decide it, with a fresh msgid."""
    user = world.hub.find_user(sender)
    assert user is not None
    channel = world.hub.find_channel(target)
    recipient = world.hub.find_user(target)
    if channel is not None:
        to = channel.key
    else:
        assert recipient is not None
        to = Key(recipient.id)
    return MessagePosted(
        user.actor, target, text, time=world.clock.now, msgid=world.state.ids.msgid(), to=to
    )


# -- UserArrived -------------------------------------------------------------------------


def test_an_arrival_adds_the_user_with_the_session_waiting_for_it(world: World) -> None:
    session = Recorder()
    actor = Actor("alice", "al", "host", "Alice", id="u-alice")
    world.hub.applier.arrivals["u-alice"] = session
    world.hub.apply(UserArrived(actor, 5.0, secure=True))
    user = world.state.users.by_id["u-alice"]
    assert world.hub.find_user("ALICE") is user
    assert (user.nick, user.username, user.host, user.realname) == ("alice", "al", "host", "Alice")
    assert user.signon == 5.0
    assert user.secure is True
    assert user.listener is session
    assert world.hub.applier.arrivals == {}
    assert user.channels is NO_CHANNELS


def test_an_arrival_whose_nick_a_user_took_first_is_refused_and_its_session_told(
    world: World,
) -> None:
    # Two nodes gave the nick out at once; the log put the other's first.
    alice, _ = world.add("alice")
    session = Recorder()
    world.hub.applier.arrivals["u-late"] = session
    late = UserArrived(Actor("ALICE", "al", "host", id="u-late"), 5.0)
    world.hub.apply(late)
    assert [(fact, error.reason) for fact, error in session.refusals] == [
        (late, Reason.NICK_IN_USE)
    ]
    assert "u-late" not in world.state.users.by_id
    assert world.hub.find_user("alice") is alice
    assert world.hub.applier.arrivals == {}


def test_a_nick_change_decided_here_gives_way_to_an_arrival_earlier_in_the_log(
    world: World,
) -> None:
    # bob's change to "x" is decided (claimed) here; a user of another node arrives
    # as "x" earlier in the log: the arrival wins here as everywhere, bob's change is
    # refused when it comes.
    bob, bob_hears = world.add("bob")
    change = world.hub.state.users.check_nick("x", bob.id)
    world.hub.state.users.claim(change, bob.id)
    world.hub.apply(UserArrived(Actor("x", "x", "elsewhere", id="u-x"), 1.0))
    assert world.hub.find_user("x") is world.state.users.by_id["u-x"]
    world.hub.apply(NickChanged(bob.actor, "x"))
    assert [error.reason for _, error in bob_hears.refusals] == [Reason.NICK_IN_USE]
    assert bob.nick == "bob"


def test_a_nick_change_to_a_nick_a_user_took_first_is_refused(world: World) -> None:
    bob, bob_hears = world.add("bob")
    world.add("carol")
    change = NickChanged(bob.actor, "Carol")
    world.hub.apply(change)
    assert [(fact, error.reason) for fact, error in bob_hears.refusals] == [
        (change, Reason.NICK_IN_USE)
    ]
    assert bob.nick == "bob"


def test_a_join_that_would_make_a_channel_made_first_elsewhere_joins_it_plainly(
    world: World,
) -> None:
    alice, _ = world.add("alice", "#new")
    bob, _ = world.add("bob")
    channel = world.hub.find_channel("#new")
    assert channel is not None
    world.hub.apply(Joined(bob.actor, "#new", "o", 9.0, "#new other-node"))
    assert channel.members == {alice: "o", bob: ""}
    assert world.hub.find_channel("#new") is channel


def test_a_rename_to_a_name_a_channel_took_first_is_refused(world: World) -> None:
    alice, alice_hears = world.add("alice", "#old", "#taken")
    rename = ChannelRenamed(alice.actor, "#old", "#Taken", "")
    world.hub.apply(rename)
    assert [(fact, error.reason) for fact, error in alice_hears.refusals] == [
        (rename, Reason.NAME_IN_USE)
    ]
    assert world.hub.find_channel("#old") is not None


def test_an_arrival_with_no_waiting_session_is_a_user_on_another_node(world: World) -> None:
    world.hub.apply(UserArrived(Actor("remote", "r", "elsewhere", id="u-r"), 1.0))
    assert world.state.users.by_id["u-r"].listener is ELSEWHERE


def test_an_arrival_logged_in_joins_its_account_and_one_without_an_id_does_not(
    world: World,
) -> None:
    world.hub.apply(UserArrived(Actor("a", "a", "h", account="Acct", id="u1"), 1.0, False, "x"))
    world.hub.apply(UserArrived(Actor("b", "b", "h", account="Acct", id="u2"), 1.0, False, None))
    one, two = world.state.users.by_id["u1"], world.state.users.by_id["u2"]
    assert (one.account, one.account_id) == ("Acct", "x")
    assert (two.account, two.account_id) == (None, None)
    assert world.state.account_users == {"x": {one}}


def test_an_arrival_tells_only_those_monitoring_its_nick_that_it_is_online(
    world: World,
) -> None:
    watcher, w = world.add("watcher")
    _, other = world.add("other")
    world.hub.monitors.add(watcher, ["Alice"])
    world.hub.apply(UserArrived(Actor("alice", "al", "host", id="u-alice"), 1.0))
    (notice,) = w.take()
    assert notice == MonitoredOnline(world.state.users.by_id["u-alice"].actor)
    assert other.take() == []


# -- MessagePosted -----------------------------------------------------------------------


def test_a_channel_message_reaches_each_member_once_but_not_its_sender(world: World) -> None:
    _, alice_r = world.add("alice", "#a")
    _, b = world.add("bob", "#a")
    _, outsider = world.add("carol")
    event = message(world, "alice", "#a")
    world.hub.apply(event)
    assert b.take() == [event]
    assert alice_r.take() == []
    assert outsider.take() == []


def test_a_status_message_reaches_members_with_that_status_or_higher_only(world: World) -> None:
    alice, a = world.add("alice", "#a")
    _, b = world.add("bob", "#a")
    _, c = world.add("carol", "#a")
    world.modes(alice, "#a", ModeChange(True, "v", "bob"))
    carol = world.hub.find_user("carol")
    assert carol is not None
    to_voiced = MessagePosted(carol.actor, "#a", "v+", status="v", msgid="m1", to=Key("#a"))
    world.hub.apply(to_voiced)
    assert a.take() == [to_voiced]
    assert b.take() == [to_voiced]
    assert c.take() == []
    to_ops = MessagePosted(carol.actor, "#a", "o", status="o", msgid="m2", to=Key("#a"))
    world.hub.apply(to_ops)
    assert a.take() == [to_ops]
    assert b.take() == []


def test_a_channel_message_is_remembered_by_msgid_with_the_channel_incarnation(
    world: World,
) -> None:
    alice, _ = world.add("alice", "#a", account="acct")
    event = message(world, "alice", "#a")
    world.hub.apply(event)
    assert world.state.recent.get(event.msgid) == Sent(
        alice.id, "acct", world.channel("#a").incarnation, "#a", None
    )


def test_a_private_message_reaches_its_recipient_alone_and_is_remembered(world: World) -> None:
    alice, a = world.add("alice", "#a")
    bob, b = world.add("bob", "#a", account="bobs")
    _, c = world.add("carol", "#a")
    event = message(world, "alice", "bob")
    world.hub.apply(event)
    assert b.take() == [event]
    assert a.take() == c.take() == []
    assert world.state.recent.get(event.msgid) == Sent(alice.id, None, bob.id, "bob", "bobs")


def test_a_private_message_to_a_user_gone_meanwhile_reaches_nobody_and_is_not_kept(
    world: World,
) -> None:
    alice, _ = world.add("alice")
    event = MessagePosted(alice.actor, "ghost", "hi", msgid="m1", to=Key("u-gone"))
    before = world.snapshot()
    world.hub.apply(event)
    assert world.snapshot() == before


def test_talking_makes_the_sender_active_but_a_tag_only_message_does_not(world: World) -> None:
    alice, _ = world.add("alice", "#a")
    world.add("bob", "#a")
    signon = alice.last_active
    tags = MessagePosted(
        alice.actor, "#a", "", MessageKind.TAGMSG, time=signon + 10, msgid="t", to=Key("#a")
    )
    world.hub.apply(tags)
    assert alice.last_active == signon
    talk = MessagePosted(alice.actor, "#a", "hi", time=signon + 20, msgid="p", to=Key("#a"))
    world.hub.apply(talk)
    assert alice.last_active == signon + 20


# -- Joined ------------------------------------------------------------------------------


def test_a_join_that_makes_a_channel_gives_it_the_default_modes_and_the_status(
    world: World,
) -> None:
    alice, a = world.add("alice")
    event = Joined(alice.actor, "#New", "o", 42.0, "#new 1")
    world.hub.apply(event)
    channel = world.channel("#new")
    assert (channel.name, channel.created, channel.incarnation) == ("#New", 42.0, "#new 1")
    assert channel.flags == {"n", "t"}
    assert channel.members == {alice: "o"}
    assert alice.channels == {"#new": channel}
    assert a.take() == [event]


def test_a_join_that_makes_a_registered_channel_restores_what_it_kept(world: World) -> None:
    alice, _ = world.add("alice")
    record = registered(world, "#kept")
    kept_topic = Topic("kept topic", "founder!f@h", 2.0)
    world.state.channels.keep(
        RegisteredChannel(
            record.key,
            "#Kept",
            "acct",
            1.0,
            topic=kept_topic,
            flags="ims",
            password="pw",
            limit=5,
            lists=(("b", ListEntry("x!*@*", "f", 3.0, "x!*@*")),),
            incarnation="#kept kept",
        )
    )
    world.hub.apply(Joined(alice.actor, "#Kept", "", 9.0, "#kept kept"))
    channel = world.channel("#kept")
    assert channel.topic == kept_topic
    assert channel.flags == {"i", "m", "s"}
    assert (channel.password, channel.limit) == ("pw", 5)
    assert [e.mask for e in channel.lists["b"]] == ["x!*@*"]
    assert channel.incarnation == "#kept kept"
    assert channel.members == {alice: ""}


def test_a_join_is_handed_to_every_member_the_joiner_included(world: World) -> None:
    _, a = world.add("alice", "#a")
    bob, b = world.add("bob")
    event = Joined(bob.actor, "#a")
    world.hub.apply(event)
    assert a.take() == [event]
    assert b.take() == [event]
    assert world.channel("#a").members[bob] == ""


def test_joining_uses_up_an_invite_to_the_channel(world: World) -> None:
    world.add("alice", "#a")
    bob, _ = world.add("bob")
    channel = world.channel("#a")
    world.state.channels.invite(bob, channel)
    world.hub.apply(Joined(bob.actor, "#a"))
    assert bob not in channel.invited
    assert bob not in world.state.channels.invites


def test_an_away_user_joining_is_followed_by_its_away_message_to_the_others_only(
    world: World,
) -> None:
    _, a = world.add("alice", "#a")
    bob, b = world.add("bob")
    world.hub.set_away(bob, "lunch")
    world.settle()
    joined = Joined(bob.actor, "#a")
    world.hub.apply(joined)
    assert a.take() == [joined, AwayChanged(bob.actor, "lunch")]
    assert b.take() == [joined]


def test_joining_never_writes_into_the_shared_empty_channel_dict(world: World) -> None:
    bob, _ = world.add("bob")
    world.add("alice", "#a")
    world.hub.apply(Joined(bob.actor, "#a"))
    assert NO_CHANNELS == {}
    assert bob.channels is not NO_CHANNELS


# -- Parted, Kicked ----------------------------------------------------------------------


def test_a_part_is_handed_to_every_member_the_parting_one_included_then_it_leaves(
    world: World,
) -> None:
    _, a = world.add("alice", "#a")
    bob, b = world.add("bob", "#a")
    event = Parted(bob.actor, "#a", "bye")
    world.hub.apply(event)
    assert a.take() == [event]
    assert b.take() == [event]
    assert bob not in world.channel("#a").members
    assert "#a" not in bob.channels


def test_the_last_part_ends_the_channel_its_claim_and_its_invites(world: World) -> None:
    alice, _ = world.add("alice", "#a")
    bob, _ = world.add("bob")
    channel = world.channel("#a")
    world.state.channels.invite(bob, channel)
    assert world.registry.holder("#a") == channel.incarnation
    world.hub.apply(Parted(alice.actor, "#a", ""))
    assert world.hub.find_channel("#a") is None
    assert world.registry.holder("#a") is None
    assert channel.invited == set()
    assert world.state.channels.invites == {}


def test_a_kick_is_handed_to_every_member_the_victim_included_then_it_leaves(
    world: World,
) -> None:
    alice, a = world.add("alice", "#a")
    bob, b = world.add("bob", "#a")
    _, outsider = world.add("carol")
    event = Kicked(alice.actor, "#a", "bob", "out", bob.id)
    world.hub.apply(event)
    assert a.take() == [event]
    assert b.take() == [event]
    assert outsider.take() == []
    assert list(world.channel("#a").members) == [alice]
    assert bob.channels == {}


# -- Quit, Killed ------------------------------------------------------------------------


def test_a_quit_is_told_once_to_each_neighbour_and_not_to_the_one_quitting(
    world: World,
) -> None:
    alice, a = world.add("alice", "#a", "#b")
    _, b = world.add("bob", "#a", "#b")
    _, outsider = world.add("carol")
    event = Quit(alice.actor, "bye")
    world.hub.apply(event)
    assert b.take() == [event]
    assert a.take() == []
    assert outsider.take() == []
    assert a.disconnected is None


def test_a_quit_frees_the_nick_leaves_the_channels_and_is_remembered(world: World) -> None:
    alice, _ = world.add("alice", "#a", "#solo")
    bob, _ = world.add("bob", "#a")
    world.clock.now = 77.0
    world.hub.apply(Quit(alice.actor, "bye"))
    assert world.hub.find_user("alice") is None
    assert alice.id not in world.state.users.by_id
    assert world.nick_holder("alice") is None
    assert world.hub.find_channel("#solo") is None
    assert list(world.channel("#a").members) == [bob]
    (entry,) = world.hub.whowas("alice")
    assert (entry.nick, entry.time) == ("alice", 77.0)


def test_a_quit_forgets_the_users_invites_markers_account_and_monitor_list(
    world: World,
) -> None:
    world.add("op", "#a")
    alice, _ = world.add("alice", account="acct")
    world.state.channels.invite(alice, world.channel("#a"))
    world.hub.monitors.add(alice, ["bob"])
    world.state.markers.move(owner_of(alice.id, None), Key("#x"), 1.0, None)
    world.hub.mark_read(alice, "#y", 2.0)
    world.hub.apply(Quit(alice.actor, "bye"))
    assert world.state.channels.invites == {}
    assert world.hub.monitors.of(alice) == {}
    assert world.hub.monitors.watching(Key("bob")) == set()
    assert world.state.markers.of(owner_of(alice.id, None)) == {}
    assert world.state.account_users == {}
    assert world.state.markers.of(owner_of("", "acct")) == {}


def test_a_quit_tells_those_monitoring_the_nick_that_it_went_offline(world: World) -> None:
    watcher, w = world.add("watcher")
    alice, _ = world.add("Alice")
    world.hub.monitors.add(watcher, ["alice"])
    world.hub.apply(Quit(alice.actor, "bye"))
    assert w.take() == [MonitoredOffline("Alice")]


def test_a_forced_quit_closes_the_session_with_its_reason(world: World) -> None:
    alice, a = world.add("alice")
    world.hub.apply(Quit(alice.actor, "Killed (op (spam))", forced=True))
    assert a.disconnected == "Killed (op (spam))"


def test_a_lost_node_takes_its_users_and_their_nicks_and_nobody_else(world: World) -> None:
    local, here = world.add("alice", "#a")
    for number, nick in enumerate(("rem1", "rem2")):
        world.hub.apply(UserArrived(Actor(nick, nick, "elsewhere", id=f"gone.{number}"), 1.0))
        world.hub.join(world.hub.find_user(nick), "#a")  # type: ignore[arg-type]
    world.hub.apply(UserArrived(Actor("other", "o", "elsewhere", id="alive.1"), 1.0))
    here.take()
    lost = NodeLost("gone")
    world.hub.apply(lost)
    told = here.take()
    assert [(type(e), e.actor.nick, e.reason) for e in told] == [  # type: ignore[union-attr]
        (Quit, "rem1", "Node lost"),
        (Quit, "rem2", "Node lost"),
    ]
    assert world.hub.find_user("rem1") is None
    assert world.nick_holder("rem2") is None
    assert world.hub.find_user("other") is not None
    assert list(world.channel("#a").members) == [local]
    # Heard again (every node that noticed publishes it): nothing more happens.
    world.hub.apply(lost)
    assert here.take() == []
    assert here.disconnected is None


def test_a_node_told_it_is_lost_closes_its_own_users_sessions(world: World) -> None:
    alice, a = world.add("alice")
    world.hub.apply(NodeLost(alice.id.rpartition(".")[0], "Node lost"))
    assert a.disconnected == "Node lost"
    assert world.hub.find_user("alice") is None


def test_a_registration_made_after_another_in_the_log_is_refused_and_its_maker_told(
    world: World,
) -> None:
    alice, told = world.add("alice", "#a", account="acct")
    first = RegisteredChannel(Key("#a"), "#a", "other", 1.0, incarnation="#a 1")
    second = RegisteredChannel(Key("#a"), "#a", "acct", 2.0, incarnation="#a 1")
    world.hub.apply(RegistrationChanged(None, Key("#a"), to_json(first), new=True))
    late = RegistrationChanged(alice.actor, Key("#a"), to_json(second), new=True)
    world.hub.apply(late)
    assert world.state.channels.registered[Key("#a")].founder == "other"
    assert [(fact, error.reason) for fact, error in told.refusals] == [(late, Reason.NAME_IN_USE)]


def test_a_change_to_a_registration_dropped_meanwhile_changes_nothing(world: World) -> None:
    record = registered(world, "#a")
    world.hub.apply(RegistrationChanged(None, Key("#a"), ""))
    assert Key("#a") not in world.state.channels.registered
    granted = replace(record, access={"friend": "v"})
    world.hub.apply(RegistrationChanged(None, Key("#a"), to_json(granted)))
    assert Key("#a") not in world.state.channels.registered
    # Dropped again (every node that saw the account go may say so): nothing more.
    world.hub.apply(RegistrationChanged(None, Key("#a"), ""))
    assert world.state.channels.registered == {}


def test_a_kill_notice_is_handed_to_its_victim_alone(world: World) -> None:
    op, o = world.add("op", "#a")
    bob, b = world.add("bob", "#a")
    event = Killed(op.actor, "bob", "spam", bob.id)
    before = world.snapshot()
    world.hub.apply(event)
    assert b.take() == [event]
    assert o.take() == []
    assert b.disconnected is None
    assert world.snapshot() == before


# -- NickChanged -------------------------------------------------------------------------


def test_a_nick_change_is_told_to_the_user_and_once_to_each_neighbour(world: World) -> None:
    alice, a = world.add("alice", "#a", "#b")
    _, b = world.add("bob", "#a", "#b")
    _, outsider = world.add("carol")
    event = NickChanged(alice.actor, "Alicia")
    world.hub.apply(event)
    assert a.take() == [event]
    assert b.take() == [event]
    assert outsider.take() == []


def test_a_nick_change_renames_the_user_and_frees_the_old_nick(world: World) -> None:
    alice, _ = world.add("alice")
    world.hub.apply(NickChanged(alice.actor, "Alicia"))
    assert world.hub.find_user("alicia") is alice
    assert world.hub.find_user("alice") is None
    assert world.nick_holder("alice") is None
    assert alice.actor.nick == "Alicia"
    assert [e.nick for e in world.hub.whowas("alice")] == ["alice"]


def test_a_nick_change_tells_watchers_of_the_old_nick_offline_and_of_the_new_online(
    world: World,
) -> None:
    old_watcher, o = world.add("w1")
    new_watcher, n = world.add("w2")
    alice, _ = world.add("alice")
    world.hub.monitors.add(old_watcher, ["alice"])
    world.hub.monitors.add(new_watcher, ["alicia"])
    world.hub.apply(NickChanged(alice.actor, "Alicia"))
    assert o.take() == [MonitoredOffline("alice")]
    assert n.take() == [MonitoredOnline(alice.actor)]


def test_a_nick_change_of_case_only_tells_watchers_nothing(world: World) -> None:
    watcher, w = world.add("watcher")
    alice, _ = world.add("alice")
    world.hub.monitors.add(watcher, ["alice"])
    world.hub.apply(NickChanged(alice.actor, "ALICE"))
    assert w.take() == []
    assert world.hub.find_user("alice") is alice
    assert world.nick_holder("alice") == alice.id


# -- AwayChanged, AccountChanged, RealnameChanged ----------------------------------------


def test_going_away_is_told_to_neighbours_and_watchers_once_and_not_to_the_user(
    world: World,
) -> None:
    alice, a = world.add("alice", "#a", "#b")
    bob, b = world.add("bob", "#a", "#b")
    watcher, w = world.add("watcher")
    _, outsider = world.add("carol")
    world.hub.monitors.add(watcher, ["alice"])
    world.hub.monitors.add(bob, ["alice"])
    event = AwayChanged(alice.actor, "lunch")
    world.hub.apply(event)
    assert alice.away == "lunch"
    assert b.take() == [event]
    assert w.take() == [event]
    assert a.take() == outsider.take() == []
    world.hub.apply(AwayChanged(alice.actor, None))
    assert alice.away is None


def test_logging_in_joins_the_account_and_is_told_to_neighbours_not_the_user(
    world: World,
) -> None:
    alice, a = world.add("alice", "#a")
    _, b = world.add("bob", "#a")
    event = AccountChanged(alice.actor, "Acct", "acct")
    world.hub.apply(event)
    assert (alice.account, alice.account_id) == ("Acct", "acct")
    assert alice.actor.account == "Acct"
    assert world.state.account_users == {"acct": {alice}}
    assert b.take() == [event]
    assert a.take() == []


def test_logging_in_takes_the_markers_read_before_out_of_the_users_own(world: World) -> None:
    alice, _ = world.add("alice")
    world.hub.mark_read(alice, "#a", 5.0)
    world.hub.apply(AccountChanged(alice.actor, "Acct", "acct"))
    assert world.state.markers.of(owner_of(alice.id, None)) == {}


def test_the_last_user_logging_out_of_an_account_drops_its_markers_from_memory(
    world: World,
) -> None:
    alice, _ = world.add("alice", account="acct")
    bob, _ = world.add("bob", account="acct")
    world.hub.mark_read(alice, "#a", 5.0)
    account = owner_of("", "acct")
    world.hub.apply(AccountChanged(alice.actor, None, None))
    assert world.state.markers.of(account) == {Key("#a"): 5.0}
    assert world.state.account_users == {"acct": {bob}}
    world.hub.apply(AccountChanged(bob.actor, None, None))
    assert world.state.markers.of(account) == {}
    assert world.state.account_users == {}


def test_a_new_realname_is_told_to_the_user_and_its_neighbours(world: World) -> None:
    alice, a = world.add("alice", "#a")
    _, b = world.add("bob", "#a")
    _, outsider = world.add("carol")
    event = RealnameChanged(alice.actor, "Alice Liddell")
    world.hub.apply(event)
    assert alice.realname == "Alice Liddell"
    assert alice.actor.realname == "Alice Liddell"
    assert a.take() == [event]
    assert b.take() == [event]
    assert outsider.take() == []


# -- UserModeChanged, Wallops ------------------------------------------------------------


def test_user_modes_change_the_user_and_the_counts_and_are_told_to_it_alone(
    world: World,
) -> None:
    alice, a = world.add("alice", "#a")
    _, b = world.add("bob", "#a")
    event = UserModeChanged(
        alice.actor, "alice", (ModeChange(True, "o"), ModeChange(True, "i")), "root"
    )
    world.hub.apply(event)
    assert alice.modes == {"o", "i"}
    assert alice.oper_name == "root"
    assert world.hub.mode_counts["o"] == 1
    assert world.hub.mode_counts["i"] == 1
    assert a.take() == [event]
    assert b.take() == []


def test_dropping_operator_mode_forgets_the_operator_block(world: World) -> None:
    alice, _ = world.add("alice")
    world.hub.make_oper(alice, "root")
    world.hub.apply(UserModeChanged(alice.actor, "alice", (ModeChange(False, "o"),)))
    assert alice.oper_name is None
    assert not alice.is_oper
    assert world.hub.mode_counts["o"] == 0


def test_bot_mode_changes_how_events_name_the_user(world: World) -> None:
    alice, _ = world.add("alice")
    assert alice.actor.bot is False
    world.hub.apply(UserModeChanged(alice.actor, "alice", (ModeChange(True, "B"),)))
    assert alice.actor.bot is True


def test_an_operator_block_with_no_mode_change_is_noted_but_told_to_nobody(
    world: World,
) -> None:
    alice, a = world.add("alice")
    world.hub.apply(UserModeChanged(alice.actor, "alice", (), "root"))
    assert alice.oper_name == "root"
    assert a.take() == []


def test_wallops_reach_exactly_the_users_with_mode_w(world: World) -> None:
    op, o = world.add("op")
    reader, r = world.add("reader")
    _, other = world.add("other")
    world.hub.change_user_modes(reader, [ModeChange(True, "w")])
    world.settle()
    event = Wallops(op.actor, "hello")
    world.hub.apply(event)
    assert r.take() == [event]
    assert o.take() == other.take() == []
    assert reader.modes == {"w"}


# -- ChannelModeChanged, TopicChanged ----------------------------------------------------


def test_channel_mode_changes_are_applied_in_order_and_told_to_every_member(
    world: World,
) -> None:
    alice, a = world.add("alice", "#a")
    bob, b = world.add("bob", "#a")
    _, outsider = world.add("carol")
    world.clock.now = 50.0
    event = ChannelModeChanged(
        alice.actor,
        "#a",
        (
            ModeChange(True, "m"),
            ModeChange(False, "t"),
            ModeChange(True, "k", "pw"),
            ModeChange(True, "l", "7"),
            ModeChange(True, "b", "Evil!*@*"),
            ModeChange(True, "v", "bob"),
        ),
        50.0,
    )
    world.hub.apply(event)
    channel = world.channel("#a")
    assert channel.flags == {"n", "m"}
    assert (channel.password, channel.limit) == ("pw", 7)
    assert channel.lists["b"] == [ListEntry("Evil!*@*", alice.mask, 50.0, "evil!*@*")]
    assert channel.members[bob] == "v"
    assert a.take() == [event]
    assert b.take() == [event]
    assert outsider.take() == []


def test_unsetting_key_limit_list_entries_and_statuses_undoes_them(world: World) -> None:
    alice, _ = world.add("alice", "#a")
    bob, _ = world.add("bob", "#a")
    world.modes(
        alice,
        "#a",
        ModeChange(True, "k", "pw"),
        ModeChange(True, "l", "7"),
        ModeChange(True, "b", "x!*@*"),
        ModeChange(True, "o", "bob"),
        ModeChange(True, "v", "bob"),
    )
    world.hub.apply(
        ChannelModeChanged(
            alice.actor,
            "#a",
            (
                ModeChange(False, "k", "*"),
                ModeChange(False, "l"),
                ModeChange(False, "b", "X!*@*"),
                ModeChange(False, "o", "bob"),
            ),
        )
    )
    channel = world.channel("#a")
    assert (channel.password, channel.limit) == (None, None)
    assert channel.lists["b"] == []
    assert channel.members[bob] == "v"


def test_a_status_for_someone_no_longer_in_the_channel_changes_nothing(world: World) -> None:
    alice, _ = world.add("alice", "#a")
    world.add("bob")
    before = world.snapshot()
    world.hub.apply(ChannelModeChanged(alice.actor, "#a", (ModeChange(True, "o", "bob"),)))
    world.hub.apply(ChannelModeChanged(alice.actor, "#a", (ModeChange(True, "o", "ghost"),)))
    assert world.snapshot() == before


def test_a_registered_channel_keeps_its_modes_but_not_its_members_statuses(
    world: World,
) -> None:
    alice, _ = world.add("alice", "#a")
    world.add("bob", "#a")
    registered(world, "#a")
    shelf = Shelf()
    world.state.channels.sink = shelf
    world.hub.apply(ChannelModeChanged(alice.actor, "#a", (ModeChange(True, "v", "bob"),)))
    assert shelf.saved == []
    world.hub.apply(ChannelModeChanged(alice.actor, "#a", (ModeChange(True, "m"),)))
    (record,) = shelf.saved
    assert record.flags == "mnt"
    assert world.state.channels.registered[Key("#a")] == record


def test_a_topic_is_set_with_its_setter_and_time_and_told_to_every_member(
    world: World,
) -> None:
    alice, a = world.add("alice", "#a")
    _, b = world.add("bob", "#a")
    event = TopicChanged(alice.actor, "#a", "news", 60.0)
    world.hub.apply(event)
    assert world.channel("#a").topic == Topic("news", alice.mask, 60.0)
    assert a.take() == [event]
    assert b.take() == [event]


def test_an_empty_topic_clears_it(world: World) -> None:
    alice, _ = world.add("alice", "#a")
    world.hub.apply(TopicChanged(alice.actor, "#a", "news", 60.0))
    world.hub.apply(TopicChanged(alice.actor, "#a", "", 61.0))
    assert world.channel("#a").topic is None


def test_a_registered_channel_keeps_its_topic(world: World) -> None:
    alice, _ = world.add("alice", "#a")
    registered(world, "#a")
    shelf = Shelf()
    world.state.channels.sink = shelf
    world.hub.apply(TopicChanged(alice.actor, "#a", "kept", 60.0))
    assert [r.topic for r in shelf.saved] == [Topic("kept", alice.mask, 60.0)]


# -- Invited -----------------------------------------------------------------------------


def test_an_operators_invite_admits_the_invitee_and_is_told_to_it_and_the_others(
    world: World,
) -> None:
    alice, a = world.add("alice", "#a")
    _, c = world.add("carol", "#a")
    bob, b = world.add("bob")
    event = Invited(alice.actor, "bob", "#a", bob.id, admits=True)
    world.hub.apply(event)
    channel = world.channel("#a")
    assert channel.invited == {bob}
    assert world.state.channels.invites == {bob: {channel}}
    assert b.take() == [event]
    assert c.take() == [event]
    assert a.take() == []


def test_an_invite_that_does_not_admit_is_told_but_lets_nobody_in(world: World) -> None:
    world.add("alice", "#a")
    carol, _ = world.add("carol", "#a")
    bob, b = world.add("bob")
    event = Invited(carol.actor, "bob", "#a", bob.id, admits=False)
    world.hub.apply(event)
    assert world.channel("#a").invited == set()
    assert world.state.channels.invites == {}
    assert b.take() == [event]


def test_an_invite_to_a_channel_that_does_not_exist_is_told_to_the_invitee_alone(
    world: World,
) -> None:
    alice, a = world.add("alice")
    bob, b = world.add("bob")
    event = Invited(alice.actor, "bob", "#nowhere", bob.id, admits=True)
    before = world.snapshot()
    world.hub.apply(event)
    assert b.take() == [event]
    assert a.take() == []
    assert world.snapshot() == before


def test_an_invite_by_a_non_member_is_told_to_the_invitee_alone(world: World) -> None:
    _, members = world.add("alice", "#a")
    outsider, _ = world.add("outsider")
    bob, b = world.add("bob")
    event = Invited(outsider.actor, "bob", "#a", bob.id)
    world.hub.apply(event)
    assert b.take() == [event]
    assert members.take() == []


# -- MessageRedacted ---------------------------------------------------------------------


def test_a_channel_redaction_forgets_the_message_and_is_told_to_every_member(
    world: World,
) -> None:
    alice, a = world.add("alice", "#a")
    _, b = world.add("bob", "#a")
    _, outsider = world.add("carol")
    posted = message(world, "alice", "#a")
    world.hub.apply(posted)
    world.settle()
    event = MessageRedacted(alice.actor, "#a", posted.msgid, "oops")
    world.hub.apply(event)
    assert world.state.recent.get(posted.msgid) is None
    assert a.take() == [event]
    assert b.take() == [event]
    assert outsider.take() == []


def test_a_private_redaction_is_told_to_both_parties_alone(world: World) -> None:
    alice, a = world.add("alice", "#a")
    bob, b = world.add("bob", "#a")
    _, c = world.add("carol", "#a")
    posted = message(world, "alice", "bob")
    world.hub.apply(posted)
    world.settle()
    event = MessageRedacted(alice.actor, "bob", posted.msgid, "", bob.id)
    world.hub.apply(event)
    assert world.state.recent.get(posted.msgid) is None
    assert a.take() == [event]
    assert b.take() == [event]
    assert c.take() == []


def test_a_private_redaction_with_the_other_party_gone_reaches_the_one_left(
    world: World,
) -> None:
    alice, a = world.add("alice")
    bob, _ = world.add("bob")
    posted = message(world, "alice", "bob")
    world.hub.apply(posted)
    world.hub.quit(bob, "bye")
    event = MessageRedacted(alice.actor, "bob", posted.msgid, "", bob.id)
    world.hub.apply(event)
    assert a.take() == [event]


# -- ChannelRenamed ----------------------------------------------------------------------


def test_a_rename_moves_the_channel_its_members_and_its_claim(world: World) -> None:
    alice, a = world.add("alice", "#old")
    bob, b = world.add("bob", "#old")
    channel = world.channel("#old")
    event = ChannelRenamed(alice.actor, "#old", "#New", "tidy")
    world.hub.apply(event)
    assert world.hub.find_channel("#old") is None
    assert world.hub.find_channel("#new") is channel
    assert (channel.name, channel.key) == ("#New", "#new")
    assert alice.channels == {"#new": channel}
    assert bob.channels == {"#new": channel}
    assert world.registry.holder("#old") is None
    assert a.take() == [event]
    assert b.take() == [event]


def test_a_rename_takes_the_registration_along_with_the_incarnation(world: World) -> None:
    alice, _ = world.add("alice", "#old")
    record = registered(world, "#old")
    shelf = Shelf()
    world.state.channels.sink = shelf
    channel = world.channel("#old")
    world.hub.apply(ChannelRenamed(alice.actor, "#old", "#new", ""))
    registrations = world.state.channels.registered
    assert Key("#old") not in registrations
    moved = registrations[Key("#new")]
    assert (moved.key, moved.name, moved.founder) == ("#new", "#new", record.founder)
    assert moved.incarnation == channel.incarnation
    assert shelf.deleted == ["#old"]
    assert shelf.saved == [moved]


def test_a_rename_of_case_only_keeps_the_claim_and_the_registration(world: World) -> None:
    alice, _ = world.add("alice", "#a")
    channel = world.channel("#a")
    registered(world, "#a")
    world.hub.apply(ChannelRenamed(alice.actor, "#a", "#A", ""))
    assert world.registry.holder("#a") == channel.incarnation
    assert world.state.channels.registered[Key("#a")].name == "#A"


# -- MarkerMoved -------------------------------------------------------------------------


def test_an_account_marker_moves_and_is_told_to_its_other_connections_only(
    world: World,
) -> None:
    one, first = world.add("one", account="acct")
    _, second = world.add("two", account="acct")
    _, outsider = world.add("carol")
    event = MarkerMoved("#a", 5.0, owner_of("", "acct"), Key("#a"), by=one.id)
    world.hub.apply(event)
    assert world.state.markers.get(owner_of("", "acct"), Key("#a")) == 5.0
    assert second.take() == [event]
    assert first.take() == []
    assert outsider.take() == []


def test_a_marker_moved_by_logging_in_is_told_to_nobody(world: World) -> None:
    one, _ = world.add("one", account="acct")
    _, second = world.add("two", account="acct")
    event = MarkerMoved("#a", 5.0, owner_of("", "acct"), Key("#a"), by=one.id, quiet=True)
    world.hub.apply(event)
    assert world.state.markers.get(owner_of("", "acct"), Key("#a")) == 5.0
    assert second.take() == []


def test_a_marker_of_a_user_not_logged_in_is_told_to_nobody(world: World) -> None:
    alice, a = world.add("alice")
    world.hub.apply(MarkerMoved("#a", 5.0, owner_of(alice.id, None), Key("#a"), by=alice.id))
    assert world.state.markers.get(owner_of(alice.id, None), Key("#a")) == 5.0
    assert a.take() == []


def test_a_marker_that_makes_room_forgets_the_one_named(world: World) -> None:
    owner = owner_of("", "acct")
    world.state.markers.move(owner, Key("#old"), 1.0, None)
    world.hub.apply(MarkerMoved("#new", 5.0, owner, Key("#new"), Key("#old")))
    assert world.state.markers.of(owner) == {Key("#new"): 5.0}


# -- notices -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "notice",
    [MonitoredOnline(Actor("x", "x", "h", id="u-x")), MonitoredOffline("x")],
    ids=["online", "offline"],
)
def test_monitor_notices_are_never_applied_they_change_and_deliver_nothing(
    world: World, notice: MonitoredOnline | MonitoredOffline
) -> None:
    watcher, w = world.add("watcher")
    world.hub.monitors.add(watcher, ["x"])
    before = world.snapshot()
    world.hub.apply(notice)
    assert world.snapshot() == before
    assert w.take() == []


# -- through the hub -----------------------------------------------------------------------


def test_a_channel_message_reaches_every_member_but_the_sender(hub: Hub) -> None:
    alice, a = add(hub, "alice", "#a")
    _, b = add(hub, "bob", "#a")
    _, c = add(hub, "carol", "#a")
    _, outsider = add(hub, "dave")
    settle(a, b, c)
    hub.say(alice, "#a", "hi")
    assert a.take() == []
    for recorder in (b, c):
        (event,) = recorder.take()
        assert isinstance(event, MessagePosted)
        assert event.text == "hi"
        assert event.actor.nick == "alice"
    assert outsider.take() == []


def test_all_members_receive_the_very_same_event_object(hub: Hub) -> None:
    alice, _ = add(hub, "alice", "#a")
    _, b = add(hub, "bob", "#a")
    _, c = add(hub, "carol", "#a")
    settle(b)
    hub.say(alice, "#a", "hi")
    assert b.take()[0] is c.take()[0]


def test_statusmsg_reaches_only_members_with_that_status_or_higher(hub: Hub) -> None:
    alice, _ = add(hub, "alice", "#a")
    bob, b = add(hub, "bob", "#a")
    _, c = add(hub, "carol", "#a")
    channel = hub.find_channel("#a")
    assert channel is not None
    hub.change_channel_modes(alice, channel, [ModeChange(True, "v", "bob")])
    b.take(), c.take()
    hub.say(bob, "#a", "ops only", status="o")
    assert c.take() == []
    hub.say(alice, "#a", "voiced and up", status="v")
    assert [type(e) for e in b.take()] == [MessagePosted]
    assert c.take() == []


def test_users_share_the_empty_channel_dict_until_they_join(hub: Hub) -> None:
    idle, _ = add(hub, "idle")
    alice, _ = add(hub, "alice", "#a", "#b")
    hub.part(alice, "#a", "")
    assert idle.channels is NO_CHANNELS
    assert NO_CHANNELS == {}, "joining never writes into the shared dict"
    assert list(alice.channels) == ["#b"]
    hub.join(idle, "#b")
    assert list(idle.channels) == ["#b"]
    assert NO_CHANNELS == {}


# -- facts made moot by a race between nodes -------------------------------------------------


def test_facts_about_users_and_channels_gone_meanwhile_change_nothing(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    # Probe 15: decided on one node against a replica that had not applied the other
    # node's PART, QUIT or KILL yet, each raised in apply on every node.
    alice, alice_session = world.add("alice", "#room")
    bob, _ = world.add("bob", "#room")
    gone = bob.actor
    kick = Kicked(alice.actor, "#room", "bob", "out", bob.id)
    part = Parted(gone, "#room", "bye")
    world.hub.apply(part)
    alice_session.take()
    world.hub.apply(kick)  # kicked after leaving: nobody is told, nothing changes
    assert alice_session.take() == []
    world.hub.apply(Joined(gone, "#room"))
    world.hub.apply(kick)
    world.hub.apply(part)  # left after being kicked: nothing more
    assert [type(e) for e in alice_session.take()] == [Joined, Kicked]
    world.hub.apply(Quit(gone, "bye"))
    alice_session.take()
    for moot in (
        Quit(gone, "again"),  # a KILL raced the QUIT
        Killed(alice.actor, "bob", "enough", bob.id),
        Invited(alice.actor, "bob", "#room", admits=True, invitee=bob.id),
        NickChanged(gone, "bobby"),
        AwayChanged(gone, "away"),
        Joined(gone, "#room"),
        TopicChanged(alice.actor, "#gone", "topic", 1.0),
        ChannelModeChanged(alice.actor, "#gone", (ModeChange(True, "m"),), 1.0),
        ChannelRenamed(alice.actor, "#gone", "#new", ""),
    ):
        world.hub.apply(moot)
    assert alice_session.take() == []
    assert world.hub.find_user("bob") is None
    assert world.hub.find_channel("#gone") is None
    assert set(world.channel("#room").members) == {alice}
    assert not caplog.records
