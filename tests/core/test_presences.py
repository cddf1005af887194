"""Presences: devices attached to one user, always-on users, and what is kept of them."""

from __future__ import annotations

import pytest

from hubbub.core.errors import ChatError, Reason
from hubbub.core.events import AwayChanged, Joined, MessagePosted, Quit
from hubbub.core.homes import AUTO_AWAY
from hubbub.core.presence import (
    AccountChoices,
    Choice,
    KeptChannel,
    Presence,
    PresencePolicy,
    PresenceRecord,
    others,
    sessions_of,
)
from hubbub.core.state import ChatLimits
from tests.core.world import Recorder, World


class Drawer:
    """A presence sink that keeps what it is handed."""

    def __init__(self) -> None:
        self.records: dict[str, PresenceRecord | None] = {}
        self.choices: dict[str, AccountChoices] = {}
        self.devices: dict[tuple[str, str], float] = {}

    def save(self, account: str, record: PresenceRecord | None) -> None:
        self.records[account] = record

    def choose(self, account: str, choices: AccountChoices) -> None:
        self.choices[account] = choices

    def seen(self, account: str, device: str, time: float) -> None:
        self.devices[(account, device)] = time

    def forget_account(self, account: str) -> None:
        self.records.pop(account, None)

    async def loaded(self, account: str) -> tuple[AccountChoices, dict[str, float]]:
        return self.choices.get(account, AccountChoices()), {}

    async def presences(self) -> list[tuple[str, PresenceRecord, str]]:
        return [(a, r, "") for a, r in self.records.items() if r is not None]


def _always_on(world: World) -> Drawer:
    drawer = Drawer()
    world.hub.presences.policy = PresencePolicy(Choice.OPT_OUT, Choice.OPT_OUT)
    world.hub.presences.sink = drawer
    return drawer


def test_an_attached_device_gets_what_the_user_gets_and_leaves_alone() -> None:
    world = World()
    alice, laptop = world.add("alice", "#rust", account="acct")
    bob, _ = world.add("bob", "#rust")
    phone = Recorder()
    world.hub.presences.attach(alice, phone)
    assert isinstance(alice.listener, Presence)
    assert sessions_of(alice) == (laptop, phone)
    assert others(alice, phone) == (laptop,)

    world.hub.say(bob, "#rust", "hi")
    assert [type(e) for e in laptop.take()] == [MessagePosted]
    assert [type(e) for e in phone.take()] == [MessagePosted]

    # Said on the phone: the phone gets the echo, the laptop the message.
    world.hub.say(alice, "#rust", "from the phone", by=phone)
    assert [e.text for e in phone.echoes] == ["from the phone"]
    assert [e.text for e in laptop.take() if isinstance(e, MessagePosted)] == ["from the phone"]
    assert laptop.echoes == []

    # The phone leaves: the user stays, its listener the laptop again.
    assert world.hub.presences.detach(alice, phone, "phone")
    assert sessions_of(alice) == (laptop,)
    assert world.state.users.by_id[alice.id] is alice
    # The laptop leaving ends it (not always-on).
    assert not world.hub.presences.detach(alice, laptop)


def test_an_always_on_user_with_no_device_is_away_and_back_when_one_attaches() -> None:
    world = World()
    drawer = _always_on(world)
    alice, laptop = world.add("alice", "#rust", account="acct")
    _, bob = world.add("bob", "#rust")
    assert world.hub.presences.detach(alice, laptop, "laptop")
    listener = alice.listener
    assert isinstance(listener, Presence)
    assert listener.sessions == []
    assert listener.auto_away
    assert alice.away == AUTO_AWAY
    assert [e.message for e in bob.take() if isinstance(e, AwayChanged)] == [AUTO_AWAY]
    record = drawer.records["acct"]
    assert record is not None
    assert record.channels == (KeptChannel("#rust", None, "o", "nt"),)
    assert record.auto_away
    assert world.hub.presences.seen_by("acct", "laptop") == world.clock()
    assert drawer.devices == {("acct", "laptop"): world.clock()}
    assert world.hub.presences.seen_by("acct", "other") == 0.0

    phone = Recorder()
    world.hub.presences.attach(alice, phone)
    assert alice.listener is phone
    assert alice.away is None
    assert [e.message for e in bob.take() if isinstance(e, AwayChanged)] == [None]


def test_an_away_message_of_the_users_own_stays_when_a_device_attaches() -> None:
    world = World()
    _always_on(world)
    alice, laptop = world.add("alice", account="acct")
    world.hub.set_away(alice, "lunch")
    world.hub.presences.detach(alice, laptop)
    world.hub.presences.attach(alice, Recorder())
    assert alice.away == "lunch"


def test_no_more_users_without_a_device_than_the_limit() -> None:
    world = World(ChatLimits(always_on_users=1))
    _always_on(world)
    alice, laptop = world.add("alice", account="a")
    carol, phone = world.add("carol", account="c")
    assert world.hub.presences.detach(alice, laptop)
    assert not world.hub.presences.detach(carol, phone)
    assert world.hub.presences.absent() == 1


def test_an_account_that_turns_always_on_off_leaves_when_no_device_is_attached() -> None:
    world = World()
    drawer = _always_on(world)
    alice, laptop = world.add("alice", "#rust", account="acct")
    _, bob = world.add("bob", "#rust")
    world.hub.presences.detach(alice, laptop)
    world.hub.presences.choose("acct", AccountChoices(always_on=False))
    assert drawer.choices["acct"] == AccountChoices(always_on=False)
    assert [type(e) for e in bob.take()][-1] is Quit
    assert alice.id not in world.state.users.by_id
    assert drawer.records["acct"] is None


def test_attaching_is_bounded_by_the_accounts_devices() -> None:
    world = World(ChatLimits(clients_per_account=2))
    alice, _ = world.add("alice", account="acct")
    presences = world.hub.presences
    assert presences.target("acct", "ALICE") is alice
    assert presences.target("acct", "someone") is None
    assert presences.target("other", "alice") is None
    assert not presences.full(alice)
    presences.attach(alice, Recorder())
    assert presences.full(alice)
    presences.choose("acct", AccountChoices(multiclient=False))
    assert presences.target("acct", "alice") is None


def test_what_changes_an_always_on_user_is_kept() -> None:
    world = World()
    drawer = _always_on(world)
    alice, _ = world.add("alice", "#rust", "#go", account="acct")
    bob, _ = world.add("bob")
    world.hub.join(bob, "#go")
    world.hub.part(alice, "#go", "")
    record = drawer.records["acct"]
    assert record is not None
    assert record.channels == (KeptChannel("#rust", None, "o", "nt"),)
    world.hub.change_nick(alice, "alys")
    record = drawer.records["acct"]
    assert record is not None
    assert record.nick == "alys"
    # A kick out of a channel is kept too.
    world.hub.join(bob, "#den")
    world.hub.join(alice, "#den")
    world.hub.kick(bob, "#den", "alys", "out")
    kept = drawer.records["acct"]
    assert kept is not None
    assert kept.channels == (KeptChannel("#rust", None, "o", "nt"),)
    assert [c for c in alice.channels] == [world.state.casemap.fold("#rust")]


def test_a_user_being_brought_back_is_kept_only_once_whole() -> None:
    # Probe 34: a node killed between a kept user's arrival and its last channel left
    # its record rewritten without the channels not yet rejoined.
    world = World()
    drawer = _always_on(world)
    world.hub.presences.restoring_accounts.add("acct")
    alice, _ = world.add("alice", "#rust", account="acct")
    world.hub.join(alice, "#go")
    assert "acct" not in drawer.records
    world.hub.presences.restoring_accounts.discard("acct")
    world.hub.presences.keep(alice)
    record = drawer.records["acct"]
    assert record is not None
    assert [c.name for c in record.channels] == ["#rust", "#go"]


def test_an_always_on_user_comes_back_into_its_channels() -> None:
    world = World()
    _always_on(world)
    _, bob = world.add("bob", "#rust")
    record = PresenceRecord(
        "alice",
        "alice",
        "~a",
        "host",
        "Real",
        "",
        "gone",
        False,
        (KeptChannel("#rust", None, "", "nt"),),
        5.0,
    )
    user = world.hub.presences.restoring.restore("acct", record)
    assert user is not None
    assert user.away == "gone"
    assert isinstance(user.listener, Presence)
    assert user.listener.left == 5.0
    assert [type(e) for e in bob.take()][:1] == [Joined]
    # A nick someone holds now: not restored.
    taken = PresenceRecord("x", "bob", "~b", "h", "R", "", None, False, (), 1.0)
    assert world.hub.presences.restoring.restore("other", taken) is None


def test_an_unregistered_channel_comes_back_as_it_was_not_with_the_first_back_as_operator() -> (
    None
):
    world = World()
    _always_on(world)
    record = PresenceRecord(
        "alice",
        "alice",
        "~a",
        "host",
        "Real",
        "",
        None,
        False,
        (KeptChannel("#quiet", "sekrit", "", "inst"), KeptChannel("#mine", "s3", "o", "it")),
        5.0,
    )
    user = world.hub.presences.restoring.restore("acct", record)
    assert user is not None
    quiet, mine = world.channel("#quiet"), world.channel("#mine")
    # Made again with its modes, and alice a member as she was (probe 24: the first
    # back became its operator); open, since nobody there could let anyone in (25).
    assert quiet.members[user] == ""
    assert quiet.flags == {"n", "s", "t"}
    assert quiet.password is None
    assert mine.members[user] == "o"
    assert mine.flags == {"i", "t"}
    assert mine.password == "s3"


def test_a_channel_is_made_again_by_its_operator_whoever_comes_back_first() -> None:
    """Probe 26: a member back first made an unregistered +ik channel again open, and
    its operator then came in as a plain member."""
    world = World()
    _always_on(world)

    def kept(nick: str, status: str) -> PresenceRecord:
        channels = (KeptChannel("#takeover", "sekrit", status, "iknt"),)
        return PresenceRecord(nick, nick, "~u", "host", "Real", "", None, False, channels, 5.0)

    back = world.hub.presences.restoring.restore_all(
        [("m1", kept("member", "")), ("o1", kept("boss", "o")), ("v1", kept("voiced", "v"))]
    )
    member, boss, voiced = back
    channel = world.channel("#takeover")
    assert channel.members == {boss: "o", member: "", voiced: "v"}
    assert channel.flags >= {"i", "n", "t"}
    assert channel.password == "sekrit"
    # Nobody else walks into it.
    stranger, _ = world.add("stranger")
    with pytest.raises(ChatError) as refused:
        world.hub.join(stranger, "#takeover")
    assert refused.value.reason is Reason.INVITE_ONLY


def test_a_channel_made_again_by_a_member_comes_back_without_its_bans() -> None:
    """Probe 28: a kept member with no operator status brought back +b *!*@*, and
    nobody could get in or lift it."""
    world = World()
    _always_on(world)
    lists = (("b", "*!*@*"), ("e", "*!*@friends.example"), ("b", "m:*!*@noisy.example"))
    channels = (KeptChannel("#locked", "k", "", "int", 5, lists),)
    record = PresenceRecord("m", "member", "~u", "host", "Real", "", None, False, channels, 5.0)
    assert world.hub.presences.restoring.restore("m1", record) is not None
    channel = world.channel("#locked")
    assert not channel.lists["b"]
    assert [e.mask for e in channel.lists["e"]] == ["*!*@friends.example"]
    assert channel.password is None
    assert channel.limit is None
    assert "i" not in channel.flags
    stranger, _ = world.add("stranger")
    world.hub.join(stranger, "#locked")
    assert stranger in channel.members
