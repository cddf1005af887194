"""The channels owner: finding channels a user may know of, claims on their names,
leaving, renaming, invites, and registrations kept through a sink."""

from __future__ import annotations

from dataclasses import replace

import pytest

from hubbub.cluster.local import LocalRegistry
from hubbub.core.channels import Channels
from hubbub.core.errors import ChatError, Reason
from hubbub.core.model import NO_CHANNELS, Channel, Topic, User
from hubbub.core.presence import ELSEWHERE
from hubbub.core.registered import RegisteredChannel
from hubbub.wire.casemap import Casemap, Casemapping, Key
from tests.core.world import Shelf

CASEMAP = Casemap(Casemapping.PRECIS)


@pytest.fixture
def registry() -> LocalRegistry:
    return LocalRegistry()


@pytest.fixture
def channels(registry: LocalRegistry) -> Channels:
    return Channels(CASEMAP, registry)


def person(nick: str, account_id: str | None = None, oper: bool = False) -> User:
    user = User(f"u-{nick}", nick, Key(nick), Key(nick), nick, "host", "", ELSEWHERE, 1.0)
    user.account_id = account_id
    if oper:
        user.modes = frozenset("o")
    return user


def made(channels: Channels, name: str, *members: User) -> Channel:
    """A live channel, claimed and added, with ``members`` in it."""
    key = CASEMAP.fold(name)
    channel = Channel(name, key, 1.0, f"{key} 1")
    channels.claim(key, channel.incarnation)
    channels.add(channel)
    for member in members:
        channel.members[member] = ""
        if member.channels is NO_CHANNELS:
            member.channels = {}
        member.channels[key] = channel
    return channel


def record_of(name: str, founder: str = "acct", flags: str = "") -> RegisteredChannel:
    key = CASEMAP.fold(name)
    return RegisteredChannel(key, name, founder, 1.0, flags=flags, incarnation=f"{key} r")


# -- finding -----------------------------------------------------------------------------


def test_a_channel_is_found_by_any_case_of_its_name(channels: Channels) -> None:
    channel = made(channels, "#Room")
    assert channels.find("#ROOM") is channel
    assert channels.find("#other") is None
    assert list(channels) == [channel]
    assert len(channels) == 1


def test_a_member_finds_its_channel(channels: Channels) -> None:
    alice = person("alice")
    channel = made(channels, "#a", alice)
    assert channels.member_channel(alice, "#A") is channel


def test_a_missing_channel_is_refused_with_no_such_channel_as_written(
    channels: Channels,
) -> None:
    with pytest.raises(ChatError) as caught:
        channels.member_channel(person("alice"), "#Nowhere")
    assert (caught.value.reason, caught.value.subject) == (Reason.NO_SUCH_CHANNEL, "#Nowhere")


def test_a_non_member_is_refused_with_not_on_channel_by_its_name(channels: Channels) -> None:
    made(channels, "#Room", person("alice"))
    with pytest.raises(ChatError) as caught:
        channels.member_channel(person("bob"), "#room")
    assert (caught.value.reason, caught.value.subject) == (Reason.NOT_ON_CHANNEL, "#Room")


def test_a_secret_channel_reads_as_missing_to_non_members_but_not_to_operators(
    channels: Channels,
) -> None:
    channel = made(channels, "#s", person("alice"))
    channel.flags.add("s")
    with pytest.raises(ChatError) as caught:
        channels.member_channel(person("bob"), "#s")
    assert caught.value.reason is Reason.NO_SUCH_CHANNEL
    with pytest.raises(ChatError) as caught:
        channels.member_channel(person("oper", oper=True), "#s")
    assert caught.value.reason is Reason.NOT_ON_CHANNEL


# -- claims, leaving, renaming -----------------------------------------------------------


def test_a_name_another_node_claimed_is_refused_with_name_in_use(
    channels: Channels, registry: LocalRegistry
) -> None:
    registry.claim("#a", "#a elsewhere")
    with pytest.raises(ChatError) as caught:
        channels.claim(Key("#a"), "#a here")
    assert caught.value.reason is Reason.NAME_IN_USE
    assert registry.holder("#a") == "#a elsewhere"


def test_leaving_a_channel_with_others_in_it_keeps_it(
    channels: Channels, registry: LocalRegistry
) -> None:
    alice, bob = person("alice"), person("bob")
    channel = made(channels, "#a", alice, bob)
    assert channels.leave(alice, channel) is False
    assert list(channel.members) == [bob]
    assert alice.channels == {}
    assert channels.find("#a") is channel
    assert registry.holder("#a") == channel.incarnation


def test_the_last_one_leaving_ends_the_channel_its_claim_and_its_invites(
    channels: Channels, registry: LocalRegistry
) -> None:
    alice, bob = person("alice"), person("bob")
    channel = made(channels, "#a", alice)
    channels.invite(bob, channel)
    assert channels.leave(alice, channel) is True
    assert channels.find("#a") is None
    assert registry.holder("#a") is None
    assert channel.invited == set()
    assert channels.invites == {}


def test_rekeying_moves_the_channel_its_members_and_its_claim(
    channels: Channels, registry: LocalRegistry
) -> None:
    alice = person("alice")
    channel = made(channels, "#old", alice)
    channels.claim(Key("#new"), channel.incarnation)
    channels.rekey(channel, "#New", Key("#new"))
    assert (channel.name, channel.key) == ("#New", "#new")
    assert channels.live == {"#new": channel}
    assert alice.channels == {"#new": channel}
    assert registry.holder("#old") is None
    assert registry.holder("#new") == channel.incarnation


def test_rekeying_to_the_same_key_keeps_the_claim(
    channels: Channels, registry: LocalRegistry
) -> None:
    channel = made(channels, "#a", person("alice"))
    channels.rekey(channel, "#A", Key("#a"))
    assert channel.name == "#A"
    assert registry.holder("#a") == channel.incarnation


# -- invites -----------------------------------------------------------------------------


def test_invites_are_kept_both_ways_and_forgotten_together(channels: Channels) -> None:
    bob = person("bob")
    one, two = made(channels, "#one", person("a")), made(channels, "#two", person("b"))
    channels.invite(bob, one)
    channels.invite(bob, two)
    assert channels.invites == {bob: {one, two}}
    channels.uninvite(bob, one)
    assert one.invited == set()
    assert channels.invites == {bob: {two}}
    channels.forget_invites(bob)
    assert two.invited == set()
    assert channels.invites == {}


def test_uninviting_someone_never_invited_is_harmless(channels: Channels) -> None:
    channel = made(channels, "#a", person("alice"))
    channels.uninvite(person("bob"), channel)
    channels.forget_invites(person("bob"))
    assert channels.invites == {}


# -- registrations -----------------------------------------------------------------------


def test_a_registration_is_kept_replaced_and_forgotten_through_the_sink(
    channels: Channels,
) -> None:
    shelf = Shelf()
    channels.sink = shelf
    first = record_of("#a")
    second = record_of("#a", flags="m")
    channels.keep(first)
    channels.keep(second)
    assert channels.registered == {"#a": second}
    channels.unregister(Key("#a"))
    assert channels.registered == {}
    assert shelf.saved == [first, second]
    assert shelf.deleted == ["#a"]


def test_a_registered_channel_keeps_its_state_when_it_changes(channels: Channels) -> None:
    shelf = Shelf()
    channels.sink = shelf
    channels.keep(record_of("#a"))
    channel = made(channels, "#a", person("alice"))
    channel.topic = Topic("news", "alice!a@h", 3.0)
    channel.flags.update("im")
    channels.keep_state(channel)
    kept = channels.registered[Key("#a")]
    assert (kept.topic, kept.flags) == (Topic("news", "alice!a@h", 3.0), "im")
    assert shelf.saved[-1] == kept
    unregistered = made(channels, "#b", person("bob"))
    channels.keep_state(unregistered)
    assert list(channels.registered) == ["#a"]


def test_an_open_registration_is_shown_to_anyone(channels: Channels) -> None:
    record = record_of("#a")
    channels.keep(record)
    assert channels.registration(person("bob"), "#A") is record
    assert channels.registration(person("bob"), "#b") is None


@pytest.mark.parametrize(
    ("who", "shown"),
    [("stranger", False), ("founder", True), ("friend", True), ("oper", True), ("member", True)],
)
def test_a_secret_registration_is_shown_to_members_founder_access_and_operators_only(
    channels: Channels, who: str, shown: bool
) -> None:
    users = {
        "stranger": person("stranger", account_id="other"),
        "founder": person("founder", account_id="acct"),
        "friend": person("friend", account_id="friend"),
        "oper": person("oper", oper=True),
        "member": person("member"),
    }
    channels.keep(replace(record_of("#s", flags="s"), access={"friend": "v"}))
    made(channels, "#s", users["member"])
    assert (channels.registration(users[who], "#S") is not None) is shown


def test_a_registration_is_founded_by_its_founders_account_only(channels: Channels) -> None:
    record = record_of("#a")
    channels.keep(record)
    assert channels.founded_by(person("f", account_id="acct"), "#a") is record
    for user in (person("nobody"), person("other", account_id="other")):
        with pytest.raises(ChatError) as caught:
            channels.founded_by(user, "#a")
        assert (caught.value.reason, caught.value.detail) == (
            Reason.NO_PRIVILEGES,
            "only its founder may",
        )


def test_a_server_operator_counts_as_founder_only_where_allowed(channels: Channels) -> None:
    record = record_of("#a")
    channels.keep(record)
    oper = person("oper", oper=True)
    assert channels.founded_by(oper, "#a", or_oper=True) is record
    with pytest.raises(ChatError) as caught:
        channels.founded_by(oper, "#a")
    assert caught.value.reason is Reason.NO_PRIVILEGES


def test_founding_an_unregistered_channel_is_refused_with_no_such_channel(
    channels: Channels,
) -> None:
    with pytest.raises(ChatError) as caught:
        channels.founded_by(person("f", account_id="acct"), "#none")
    assert (caught.value.reason, caught.value.subject) == (Reason.NO_SUCH_CHANNEL, "#none")
