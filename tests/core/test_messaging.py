"""Messages decided: who may speak where, where a message is kept, and who may withdraw
it (REDACT), by user id and account id rather than by nick."""

from __future__ import annotations

import pytest

from hubbub.core import messaging
from hubbub.core.errors import ChatError, Reason
from hubbub.core.events import MessageKind, MessagePart, MessageRedacted
from hubbub.core.hub import Hub
from hubbub.core.model import User
from hubbub.core.modes import ModeChange
from hubbub.wire.casemap import Key
from tests.core.world import World, add


def said(world: World, user: User, target: str, text: str = "hi") -> str:
    """Say something through the hub; its msgid."""
    _, event = world.hub.say(user, target, text)
    world.settle()
    return event.msgid


# -- say: what is decided ----------------------------------------------------------------


def test_a_channel_message_is_decided_with_its_time_id_and_where_it_is_kept(
    world: World,
) -> None:
    alice, _ = world.add("alice", "#Room")
    world.clock.now = 40.0
    before = world.snapshot()
    where, event = messaging.say(
        world.state, alice, "#ROOM", "hi", tags={"+draft/reply": "x"}, parts=(MessagePart("hi"),)
    )
    channel = world.channel("#room")
    assert where is channel
    assert (event.actor, event.target, event.text, event.kind) == (
        alice.actor,
        "#Room",
        "hi",
        MessageKind.PRIVMSG,
    )
    assert (event.time, event.to, event.kept_as) == (40.0, "#room", ("#room",))
    assert event.tags == {"+draft/reply": "x"}
    assert event.parts == (MessagePart("hi"),)
    assert event.msgid
    assert world.snapshot() == before


def test_every_message_gets_a_msgid_of_its_own(world: World) -> None:
    alice, _ = world.add("alice", "#a")
    first = messaging.say(world.state, alice, "#a", "one")[1]
    second = messaging.say(world.state, alice, "#a", "two")[1]
    assert first.msgid != second.msgid


def test_a_closed_channels_messages_are_kept_under_its_incarnation(world: World) -> None:
    alice, _ = world.add("alice", "#a")
    world.modes(alice, "#a", ModeChange(True, "i"))
    _, event = messaging.say(world.state, alice, "#a", "hi")
    assert event.kept_as == (world.channel("#a").incarnation,)


def test_status_messages_and_tag_only_messages_are_not_kept(world: World) -> None:
    alice, _ = world.add("alice", "#a")
    assert messaging.say(world.state, alice, "#a", "ops", status="o")[1].kept_as == ()
    tags = messaging.say(world.state, alice, "#a", "", MessageKind.TAGMSG)[1]
    assert tags.kept_as == ()


def test_a_private_message_is_decided_for_the_recipient_and_kept_on_both_sides(
    world: World,
) -> None:
    alice, _ = world.add("alice")
    bob, _ = world.add("Bob", account="bobs")
    before = world.snapshot()
    where, event = messaging.say(world.state, alice, "BOB", "hi", MessageKind.NOTICE)
    assert where is bob
    assert (event.target, event.kind, event.to) == ("Bob", MessageKind.NOTICE, Key(bob.id))
    assert event.kept_as == (f"s:{alice.id} bob", "a:bobs alice")
    assert world.snapshot() == before


def test_a_private_tag_only_message_is_not_kept(world: World) -> None:
    alice, _ = world.add("alice")
    world.add("bob")
    assert messaging.say(world.state, alice, "bob", "", MessageKind.TAGMSG)[1].kept_as == ()


# -- say: refusals -----------------------------------------------------------------------


def test_a_message_to_a_channel_that_does_not_exist_is_refused_with_no_such_channel(
    world: World,
) -> None:
    alice, _ = world.add("alice")
    error = world.refusal(lambda: messaging.say(world.state, alice, "#none", "hi"))
    assert error.reason is Reason.NO_SUCH_CHANNEL
    assert error.subject == "#none"


def test_a_message_to_nobody_is_refused_with_no_such_nick(world: World) -> None:
    alice, _ = world.add("alice")
    error = world.refusal(lambda: messaging.say(world.state, alice, "ghost", "hi"))
    assert error.reason is Reason.NO_SUCH_NICK
    assert error.subject == "ghost"


def test_an_outsiders_message_to_a_no_external_messages_channel_is_refused(
    world: World,
) -> None:
    world.add("alice", "#a")
    outsider, _ = world.add("outsider")
    error = world.refusal(lambda: messaging.say(world.state, outsider, "#A", "hi"))
    assert error.reason is Reason.CANNOT_SEND
    assert error.subject == "#a"


def test_an_outsider_may_talk_into_a_channel_without_n(world: World) -> None:
    alice, _ = world.add("alice", "#a")
    outsider, _ = world.add("outsider")
    world.modes(alice, "#a", ModeChange(False, "n"))
    where, _ = messaging.say(world.state, outsider, "#a", "hi")
    assert where is world.channel("#a")


def test_an_outsiders_message_to_a_secret_channel_reads_as_missing(world: World) -> None:
    alice, _ = world.add("alice", "#s")
    world.modes(alice, "#s", ModeChange(True, "s"))
    outsider, _ = world.add("outsider")
    error = world.refusal(lambda: messaging.say(world.state, outsider, "#S", "hi"))
    assert error.reason is Reason.NO_SUCH_CHANNEL
    assert error.subject == "#S"


def test_a_server_operator_outside_a_secret_channel_is_told_why_not(world: World) -> None:
    alice, _ = world.add("alice", "#s")
    world.modes(alice, "#s", ModeChange(True, "s"))
    oper, _ = world.add("oper")
    world.hub.make_oper(oper, "root")
    world.settle()
    error = world.refusal(lambda: messaging.say(world.state, oper, "#s", "hi"))
    assert error.reason is Reason.CANNOT_SEND


@pytest.mark.parametrize(
    ("change", "text"),
    [
        (ModeChange(True, "m"), "hi"),
        (ModeChange(True, "C"), "\x01VERSION\x01"),
        (ModeChange(True, "b", "outsider"), "hi"),
    ],
    ids=["moderated", "ctcp", "banned"],
)
def test_any_refused_message_from_an_outsider_to_a_secret_channel_reads_as_missing(
    world: World, change: ModeChange, text: str
) -> None:
    alice, _ = world.add("alice", "#s")
    world.modes(alice, "#s", ModeChange(True, "s"), ModeChange(False, "n"), change)
    outsider, _ = world.add("outsider")
    error = world.refusal(lambda: messaging.say(world.state, outsider, "#s", text))
    assert error.reason is Reason.NO_SUCH_CHANNEL


def test_an_unvoiced_members_message_to_a_moderated_channel_is_refused(world: World) -> None:
    alice, _ = world.add("alice", "#a")
    bob, _ = world.add("bob", "#a")
    world.modes(alice, "#a", ModeChange(True, "m"))
    error = world.refusal(lambda: messaging.say(world.state, bob, "#a", "hi"))
    assert error.reason is Reason.CANNOT_SEND
    assert error.detail == "channel is moderated (+m)"


@pytest.mark.parametrize("status", ["v", "o"])
def test_voiced_members_and_operators_may_talk_in_a_moderated_channel(
    world: World, status: str
) -> None:
    alice, _ = world.add("alice", "#a")
    bob, _ = world.add("bob", "#a")
    world.modes(alice, "#a", ModeChange(True, "m"), ModeChange(True, status, "bob"))
    assert messaging.say(world.state, bob, "#a", "hi")[0] is world.channel("#a")


@pytest.mark.parametrize("mask", ["bob", "m:bob", "*!*@host"])
def test_a_banned_or_muted_member_is_refused_with_cannot_send(world: World, mask: str) -> None:
    alice, _ = world.add("alice", "#a")
    bob, _ = world.add("bob", "#a")
    world.modes(alice, "#a", ModeChange(True, "b", mask))
    error = world.refusal(lambda: messaging.say(world.state, bob, "#a", "hi"))
    assert error.reason is Reason.CANNOT_SEND
    assert error.detail == "you are banned (+b)"


@pytest.mark.parametrize("exception", ["bob", "m:bob"])
def test_a_ban_exception_lets_a_banned_or_muted_member_talk(world: World, exception: str) -> None:
    alice, _ = world.add("alice", "#a")
    bob, _ = world.add("bob", "#a")
    world.modes(
        alice,
        "#a",
        ModeChange(True, "b", "m:bob"),
        ModeChange(True, "b", "bob"),
        ModeChange(True, "e", exception),
    )
    assert messaging.say(world.state, bob, "#a", "hi")[0] is world.channel("#a")


def test_a_voiced_member_talks_past_a_ban(world: World) -> None:
    alice, _ = world.add("alice", "#a")
    bob, _ = world.add("bob", "#a")
    world.modes(alice, "#a", ModeChange(True, "b", "m:bob"), ModeChange(True, "v", "bob"))
    assert messaging.say(world.state, bob, "#a", "hi")[0] is world.channel("#a")


@pytest.mark.parametrize("who", ["alice", "bob"])
def test_a_ctcp_request_to_a_no_ctcp_channel_is_refused_even_for_operators(
    world: World, who: str
) -> None:
    alice, _ = world.add("alice", "#a")
    world.add("bob", "#a")
    world.modes(alice, "#a", ModeChange(True, "C"))
    user = world.hub.find_user(who)
    assert user is not None
    error = world.refusal(lambda: messaging.say(world.state, user, "#a", "\x01VERSION\x01"))
    assert error.reason is Reason.CANNOT_SEND
    assert error.detail == "CTCPs are not allowed (+C)"


def test_an_action_is_not_a_ctcp_request(world: World) -> None:
    alice, _ = world.add("alice", "#a")
    bob, _ = world.add("bob", "#a")
    world.modes(alice, "#a", ModeChange(True, "C"))
    assert messaging.say(world.state, bob, "#a", "\x01ACTION waves\x01")[0] is world.channel("#a")


# -- redact in a channel -----------------------------------------------------------------


def test_a_sender_may_withdraw_its_own_channel_message(world: World) -> None:
    world.add("alice", "#a")
    bob, _ = world.add("bob", "#a")
    msgid = said(world, bob, "#a")
    before = world.snapshot()
    assert messaging.redact(world.state, bob, "#A", msgid, "oops") == MessageRedacted(
        bob.actor, "#a", msgid, "oops"
    )
    assert world.snapshot() == before


def test_a_channel_operator_may_withdraw_anyones_message(world: World) -> None:
    alice, _ = world.add("alice", "#a")
    bob, _ = world.add("bob", "#a")
    msgid = said(world, bob, "#a")
    assert messaging.redact(world.state, alice, "#a", msgid) == MessageRedacted(
        alice.actor, "#a", msgid, ""
    )


def test_withdrawing_another_members_message_is_refused_with_forbidden(world: World) -> None:
    world.add("alice", "#a")
    bob, _ = world.add("bob", "#a")
    carol, _ = world.add("carol", "#a")
    msgid = said(world, bob, "#a")
    error = world.refusal(lambda: messaging.redact(world.state, carol, "#a", msgid))
    assert error.reason is Reason.FORBIDDEN
    assert (error.subject, error.detail) == ("#a", msgid)


def test_the_next_holder_of_a_senders_nick_may_not_withdraw_its_messages(world: World) -> None:
    world.add("alice", "#a")
    bob, _ = world.add("bob", "#a")
    msgid = said(world, bob, "#a")
    world.hub.quit(bob, "bye")
    impostor, _ = world.add("bob", "#a")
    error = world.refusal(lambda: messaging.redact(world.state, impostor, "#a", msgid))
    assert error.reason is Reason.FORBIDDEN


def test_a_sender_logged_in_may_withdraw_its_message_from_another_connection(
    world: World,
) -> None:
    world.add("alice", "#a")
    phone, _ = world.add("phone", "#a", account="acct")
    msgid = said(world, phone, "#a")
    world.hub.quit(phone, "bye")
    laptop, _ = world.add("laptop", "#a", account="acct")
    assert messaging.redact(world.state, laptop, "#a", msgid).msgid == msgid


def test_another_account_on_the_senders_nick_may_not_withdraw_its_message(
    world: World,
) -> None:
    world.add("alice", "#a")
    bob, _ = world.add("bob", "#a", account="bobs")
    msgid = said(world, bob, "#a")
    world.hub.quit(bob, "bye")
    other, _ = world.add("bob", "#a", account="other")
    error = world.refusal(lambda: messaging.redact(world.state, other, "#a", msgid))
    assert error.reason is Reason.FORBIDDEN


@pytest.mark.parametrize("msgid", ["unknown", "from #b"])
def test_withdrawing_a_message_not_said_in_the_channel_is_refused_with_unknown_message(
    world: World, msgid: str
) -> None:
    alice, _ = world.add("alice", "#a", "#b")
    elsewhere = said(world, alice, "#b")
    wanted = elsewhere if msgid == "from #b" else msgid
    error = world.refusal(lambda: messaging.redact(world.state, alice, "#a", wanted))
    assert error.reason is Reason.UNKNOWN_MESSAGE
    assert (error.subject, error.detail) == ("#a", wanted)


def test_a_message_of_an_earlier_channel_of_the_same_name_is_unknown(world: World) -> None:
    alice, _ = world.add("alice", "#a")
    msgid = said(world, alice, "#a")
    world.hub.part(alice, "#a")
    world.hub.join(alice, "#a")
    world.settle()
    error = world.refusal(lambda: messaging.redact(world.state, alice, "#a", msgid))
    assert error.reason is Reason.UNKNOWN_MESSAGE


def test_a_message_withdrawn_already_is_unknown(world: World) -> None:
    alice, _ = world.add("alice", "#a")
    msgid = said(world, alice, "#a")
    world.hub.redact(alice, "#a", msgid)
    world.settle()
    error = world.refusal(lambda: messaging.redact(world.state, alice, "#a", msgid))
    assert error.reason is Reason.UNKNOWN_MESSAGE


def test_withdrawing_in_a_channel_one_left_is_refused_with_not_on_channel(world: World) -> None:
    world.add("alice", "#a")
    bob, _ = world.add("bob", "#a")
    msgid = said(world, bob, "#a")
    world.hub.part(bob, "#a")
    world.settle()
    error = world.refusal(lambda: messaging.redact(world.state, bob, "#a", msgid))
    assert error.reason is Reason.NOT_ON_CHANNEL


@pytest.mark.parametrize("name", ["#none", "#s"])
def test_withdrawing_in_a_missing_or_secret_channel_is_refused_with_no_such_channel(
    world: World, name: str
) -> None:
    alice, _ = world.add("alice", "#s")
    world.modes(alice, "#s", ModeChange(True, "s"))
    msgid = said(world, alice, "#s")
    bob, _ = world.add("bob")
    error = world.refusal(lambda: messaging.redact(world.state, bob, name, msgid))
    assert error.reason is Reason.NO_SUCH_CHANNEL
    assert error.subject == name


def test_a_message_said_before_the_channel_was_renamed_can_still_be_withdrawn(
    world: World,
) -> None:
    alice, a = world.add("alice", "#old")
    _, b = world.add("bob", "#old")
    msgid = said(world, alice, "#old")
    world.hub.rename(alice, "#old", "#new")
    world.settle()
    world.hub.redact(alice, "#new", msgid)
    assert world.state.recent.get(msgid) is None
    (event,) = b.take()
    assert isinstance(event, MessageRedacted)
    assert event.target == "#new"
    assert a.take() == [event]


def test_a_redaction_after_a_rename_never_reaches_a_new_channel_of_the_old_name(
    world: World,
) -> None:
    alice, _ = world.add("alice", "#old")
    msgid = said(world, alice, "#old")
    world.hub.rename(alice, "#old", "#new")
    _, stranger = world.add("stranger", "#old")
    world.hub.redact(alice, "#new", msgid)
    assert stranger.take() == []


# -- redact in private -------------------------------------------------------------------


def test_a_sender_may_withdraw_its_private_message_and_both_parties_are_named(
    world: World,
) -> None:
    alice, _ = world.add("alice")
    bob, _ = world.add("bob")
    msgid = said(world, alice, "bob")
    before = world.snapshot()
    assert messaging.redact(world.state, alice, "BOB", msgid) == MessageRedacted(
        alice.actor, "bob", msgid, "", bob.id
    )
    assert world.snapshot() == before


def test_the_recipient_may_not_withdraw_a_private_message_it_received(world: World) -> None:
    alice, _ = world.add("alice")
    bob, _ = world.add("bob")
    msgid = said(world, alice, "bob")
    error = world.refusal(lambda: messaging.redact(world.state, bob, "alice", msgid))
    assert error.reason is Reason.FORBIDDEN
    assert (error.subject, error.detail) == ("alice", msgid)


@pytest.mark.parametrize("target", ["bob", "alice"])
def test_withdrawing_a_private_message_between_others_is_refused_as_unknown(
    world: World, target: str
) -> None:
    alice, _ = world.add("alice")
    world.add("bob")
    carol, _ = world.add("carol")
    msgid = said(world, alice, "bob")
    error = world.refusal(lambda: messaging.redact(world.state, carol, target, msgid))
    assert error.reason is Reason.UNKNOWN_MESSAGE


def test_withdrawing_a_private_message_with_the_wrong_party_is_refused_as_unknown(
    world: World,
) -> None:
    alice, _ = world.add("alice")
    world.add("bob")
    world.add("carol")
    msgid = said(world, alice, "bob")
    error = world.refusal(lambda: messaging.redact(world.state, alice, "carol", msgid))
    assert error.reason is Reason.UNKNOWN_MESSAGE
    assert (error.subject, error.detail) == ("carol", msgid)


def test_withdrawing_a_private_message_to_nobody_is_refused_with_no_such_nick(
    world: World,
) -> None:
    alice, _ = world.add("alice")
    bob, _ = world.add("bob")
    msgid = said(world, alice, "bob")
    world.hub.quit(bob, "bye")
    error = world.refusal(lambda: messaging.redact(world.state, alice, "bob", msgid))
    assert error.reason is Reason.NO_SUCH_NICK


def test_a_private_message_is_not_withdrawn_through_whoever_takes_a_nick_later(
    world: World,
) -> None:
    alice, _ = world.add("alice")
    bob, _ = world.add("bob")
    msgid = said(world, alice, "bob")
    world.hub.quit(alice, "bye")
    impostor, _ = world.add("alice")
    error = world.refusal(lambda: messaging.redact(world.state, impostor, "bob", msgid))
    assert error.reason is Reason.UNKNOWN_MESSAGE
    world.hub.quit(bob, "bye")
    world.add("bob")
    error = world.refusal(lambda: messaging.redact(world.state, impostor, "bob", msgid))
    assert error.reason is Reason.UNKNOWN_MESSAGE


def test_a_private_message_is_withdrawn_by_the_senders_account_to_the_recipients_account(
    world: World,
) -> None:
    phone, _ = world.add("phone", account="alice")
    bob_phone, _ = world.add("bobphone", account="bob")
    msgid = said(world, phone, "bobphone")
    world.hub.quit(phone, "bye")
    world.hub.quit(bob_phone, "bye")
    laptop, _ = world.add("laptop", account="alice")
    bob_laptop, _ = world.add("boblaptop", account="bob")
    event = messaging.redact(world.state, laptop, "boblaptop", msgid)
    assert (event.actor, event.msgid, event.other) == (laptop.actor, msgid, bob_laptop.id)
    error = world.refusal(lambda: messaging.redact(world.state, bob_laptop, "laptop", msgid))
    assert error.reason is Reason.FORBIDDEN


# -- history keys ------------------------------------------------------------------------


def test_private_history_belongs_to_the_account_or_else_to_the_session(world: World) -> None:
    alice, _ = world.add("alice")
    bob, _ = world.add("bob", account="bobs")
    assert messaging.history_owner(alice) == f"s:{alice.id}"
    assert messaging.history_owner(bob) == "a:bobs"
    assert messaging.private_conversation(bob, Key("alice")) == "a:bobs alice"


# -- through the hub -----------------------------------------------------------------------


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
