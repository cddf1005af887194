"""The hub's rules and who hears about what, with recording listeners and no door."""

from __future__ import annotations

import pytest

from hubbub.cluster.local import LocalBus, LocalRegistry
from hubbub.core.errors import ChatError, Reason
from hubbub.core.events import (
    ChannelModeChanged,
    Event,
    Joined,
    Kicked,
    Killed,
    MessagePosted,
    NickChanged,
    Parted,
    Quit,
    TopicChanged,
)
from hubbub.core.hub import Hub
from hubbub.core.model import NO_CHANNELS, User
from hubbub.core.modes import ModeChange
from hubbub.core.state import ChatLimits
from hubbub.wire.casemap import Casemap, Casemapping
from tests.helpers import Clock


class Recorder:
    """A listener that keeps what it is given."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.disconnected: str | None = None

    def deliver(self, event: Event) -> None:
        self.events.append(event)

    def disconnect(self, reason: str) -> None:
        self.disconnected = reason

    def take(self) -> list[Event]:
        events, self.events = self.events, []
        return events


def settle(*recorders: Recorder) -> None:
    """Forget what the set-up delivered (joins of later users)."""
    for recorder in recorders:
        recorder.take()


@pytest.fixture
def hub() -> Hub:
    return Hub(
        Casemap(Casemapping.PRECIS),
        ChatLimits(channels_per_user=3),
        clock=Clock(),
        bus=LocalBus(),
        registry=LocalRegistry(),
    )


def add(hub: Hub, nick: str, *channels: str) -> tuple[User, Recorder]:
    recorder = Recorder()
    user = hub.register(nick, nick.lower(), "host", f"Real {nick}", recorder)
    for channel in channels:
        hub.join(user, channel)
    recorder.take()
    return user, recorder


def test_the_first_member_of_a_new_channel_is_its_operator(hub: Hub) -> None:
    alice, _ = add(hub, "alice", "#a")
    bob, _ = add(hub, "bob", "#a")
    channel = hub.find_channel("#A")
    assert channel is not None
    assert channel.is_op(alice)
    assert not channel.is_op(bob)
    assert channel.flags == {"n", "t"}


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


def test_outsiders_cannot_talk_into_a_no_external_messages_channel(hub: Hub) -> None:
    add(hub, "alice", "#a")
    dave, _ = add(hub, "dave")
    with pytest.raises(ChatError) as caught:
        hub.say(dave, "#a", "hi")
    assert caught.value.reason is Reason.CANNOT_SEND


def test_a_banned_member_cannot_talk_unless_voiced_or_excepted(hub: Hub) -> None:
    alice, _ = add(hub, "alice", "#a")
    bob, _ = add(hub, "bob", "#a")
    channel = hub.find_channel("#a")
    assert channel is not None
    hub.change_channel_modes(alice, channel, [ModeChange(True, "b", "BOB")])
    with pytest.raises(ChatError):
        hub.say(bob, "#a", "hi")
    hub.change_channel_modes(alice, channel, [ModeChange(True, "e", "*!bob@*")])
    hub.say(bob, "#a", "hi")


def test_join_rules_invite_only_key_limit_and_ban(hub: Hub) -> None:
    alice, _ = add(hub, "alice", "#a")
    bob, _ = add(hub, "bob")
    channel = hub.find_channel("#a")
    assert channel is not None
    cases = [
        (ModeChange(True, "i"), Reason.INVITE_ONLY),
        (ModeChange(True, "k", "pw"), Reason.BAD_KEY),
        (ModeChange(True, "l", "1"), Reason.CHANNEL_FULL),
        (ModeChange(True, "b", "bob!*@*"), Reason.BANNED),
    ]
    for change, reason in cases:
        hub.change_channel_modes(alice, channel, [change])
        with pytest.raises(ChatError) as caught:
            hub.join(bob, "#a", None)
        assert caught.value.reason is reason
        hub.change_channel_modes(alice, channel, [ModeChange(False, change.mode, change.param)])
    assert hub.join(bob, "#a") is channel


def test_an_invitation_lets_a_user_into_an_invite_only_channel_once(hub: Hub) -> None:
    alice, _ = add(hub, "alice", "#a")
    bob, _ = add(hub, "bob")
    channel = hub.find_channel("#a")
    assert channel is not None
    hub.change_channel_modes(alice, channel, [ModeChange(True, "i")])
    hub.invite(alice, "bob", "#a")
    assert hub.join(bob, "#a") is channel
    hub.part(bob, "#a")
    with pytest.raises(ChatError):
        hub.join(bob, "#a")


def test_a_user_cannot_join_more_channels_than_the_limit(hub: Hub) -> None:
    alice, _ = add(hub, "alice", "#a", "#b", "#c")
    with pytest.raises(ChatError) as caught:
        hub.join(alice, "#d")
    assert caught.value.reason is Reason.TOO_MANY_CHANNELS


def test_nick_change_is_told_once_to_each_neighbour_and_to_the_user(hub: Hub) -> None:
    alice, a = add(hub, "alice", "#a", "#b")
    _, b = add(hub, "bob", "#a", "#b")
    _, outsider = add(hub, "carol")
    settle(a)
    hub.change_nick(alice, "Alicia")
    assert [type(e) for e in a.take()] == [NickChanged]
    assert [type(e) for e in b.take()] == [NickChanged]
    assert outsider.take() == []
    assert hub.find_user("ALICIA") is alice
    assert hub.find_user("alice") is None


def test_a_case_only_nick_change_is_allowed_and_the_same_nick_is_a_no_op(hub: Hub) -> None:
    alice, a = add(hub, "alice")
    hub.change_nick(alice, "Alice")
    assert alice.nick == "Alice"
    a.take()
    hub.change_nick(alice, "Alice")
    assert a.take() == []


def test_nicks_collide_case_insensitively_and_by_look_alike_letters(hub: Hub) -> None:
    add(hub, "coco")
    for nick in ("COCO", "сосо"):  # the second is all Cyrillic
        with pytest.raises(ChatError) as caught:
            hub.register(nick, "u", "h", "r", Recorder())
        assert caught.value.reason is Reason.NICK_IN_USE


def test_quit_is_told_to_neighbours_and_frees_the_nick_and_empty_channels(hub: Hub) -> None:
    alice, _ = add(hub, "alice", "#a", "#solo")
    _, b = add(hub, "bob", "#a")
    hub.quit(alice, "bye")
    assert [type(e) for e in b.take()] == [Quit]
    assert hub.find_user("alice") is None
    assert hub.find_channel("#solo") is None
    assert hub.whowas("ALICE")[0].nick == "alice"
    add(hub, "alice")


def test_kick_removes_the_member_and_everyone_sees_it(hub: Hub) -> None:
    alice, a = add(hub, "alice", "#a")
    bob, b = add(hub, "bob", "#a")
    settle(a)
    with pytest.raises(ChatError) as caught:
        hub.kick(bob, "#a", "alice", "no")
    assert caught.value.reason is Reason.CHANOP_NEEDED
    hub.kick(alice, "#a", "bob", "out")
    assert [type(e) for e in a.take()] == [Kicked]
    assert [type(e) for e in b.take()] == [Kicked]
    assert "#a" not in {c.name for c in bob.channels.values()}


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


def test_part_and_topic_are_seen_by_all_members(hub: Hub) -> None:
    alice, a = add(hub, "alice", "#a")
    bob, b = add(hub, "bob", "#a")
    settle(a)
    hub.set_topic(alice, "#a", "news")
    assert [type(e) for e in b.take()] == [TopicChanged]
    with pytest.raises(ChatError):
        hub.set_topic(bob, "#a", "mine")
    hub.part(bob, "#a", "bye")
    assert [type(e) for e in a.take()] == [TopicChanged, Parted]


def test_mode_changes_are_announced_once_with_only_what_changed(hub: Hub) -> None:
    alice, a = add(hub, "alice", "#a")
    channel = hub.find_channel("#a")
    assert channel is not None
    applied, errors = hub.change_channel_modes(
        alice,
        channel,
        [ModeChange(True, "n"), ModeChange(True, "m"), ModeChange(True, "o", "ghost")],
    )
    assert applied == [ModeChange(True, "m")]
    assert [e.reason for e in errors] == [Reason.NO_SUCH_NICK]
    (event,) = a.take()
    assert isinstance(event, ChannelModeChanged)
    assert event.changes == (ModeChange(True, "m"),)


def test_kill_needs_an_operator_and_disconnects_the_victim(hub: Hub) -> None:
    alice, _ = add(hub, "alice", "#a")
    bob, b = add(hub, "bob", "#a")
    with pytest.raises(ChatError):
        hub.kill(bob, "alice", "no")
    hub.make_oper(alice, "root")
    b.take()
    hub.kill(alice, "bob", "spam")
    assert isinstance(b.take()[0], Killed)
    assert b.disconnected == "Killed (alice (spam))"
    assert hub.find_user("bob") is None


def test_joined_is_delivered_to_the_joiner_and_members(hub: Hub) -> None:
    _, a = add(hub, "alice", "#a")
    bob, b = add(hub, "bob")
    hub.join(bob, "#a")
    assert [type(e) for e in a.take()] == [Joined]
    assert [type(e) for e in b.take()] == [Joined]
    assert hub.join(bob, "#a") is None


class MarkerLedger:
    """A marker sink that keeps what it is handed, with some changes not yet saved."""

    def __init__(self, unsaved: list[tuple[str, float | None]]) -> None:
        self.saved: list[tuple[str, str, float | None]] = []
        self._unsaved = unsaved

    def save(self, account: str, target: str, time: float) -> None:
        self.saved.append((account, target, time))

    def forget(self, account: str, target: str) -> None:
        self.saved.append((account, target, None))

    def forget_account(self, account: str) -> None:
        self._unsaved = []

    def unsaved(self, account: str) -> list[tuple[str, float | None]]:
        return list(self._unsaved)


def test_markers_still_on_their_way_to_the_store_win_over_what_it_returned(hub: Hub) -> None:
    hub.marker_sink = MarkerLedger([("#a", 50.0), ("#b", None)])
    alice, _ = add(hub, "alice")
    hub.log_in(alice, "alice", "alice")
    hub.load_markers("alice", [("#a", 10.0), ("#b", 5.0), ("#c", 1.0)])
    assert hub.read_marker(alice, "#a") == 50.0
    assert hub.read_marker(alice, "#b") is None
    assert hub.read_marker(alice, "#c") == 1.0


def test_markers_past_the_limit_are_forgotten_oldest_first_and_in_the_store(hub: Hub) -> None:
    ledger = MarkerLedger([])
    hub.marker_sink = ledger
    alice, _ = add(hub, "alice")
    hub.log_in(alice, "alice", "alice")
    hub.load_markers("alice", [(f"#{n}", float(n)) for n in range(1005)])
    assert hub.read_marker(alice, "#4") is None
    assert hub.read_marker(alice, "#5") == 5.0
    assert [entry for entry in ledger.saved if entry[2] is None] == [
        ("alice", f"#{n}", None) for n in range(5)
    ]
