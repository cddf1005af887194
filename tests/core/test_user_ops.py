"""What users do to themselves and each other, decided: the events each request causes,
each refusal, and that deciding changes nothing but the registry's claims."""

from __future__ import annotations

import pytest

from hubbub.core import user_ops
from hubbub.core.errors import ChatError, Reason
from hubbub.core.events import (
    AccountChanged,
    AwayChanged,
    Killed,
    MarkerMoved,
    NickChanged,
    Quit,
    RealnameChanged,
    UserModeChanged,
    Wallops,
)
from hubbub.core.hub import Hub
from hubbub.core.markers import owner_of
from hubbub.core.modes import ModeChange
from hubbub.core.state import ChatLimits
from hubbub.wire.casemap import Key
from tests.core.world import World, add, settle

# -- arrive ------------------------------------------------------------------------------


def test_an_arrival_is_decided_with_a_new_id_and_the_nick_claimed_for_it(world: World) -> None:
    world.clock.now = 9.0
    before = world.snapshot()
    event = user_ops.arrive(world.state, "Alice", "al", "host", "Real", True, None, None)
    after = world.snapshot()
    assert (event.actor.nick, event.actor.username, event.actor.host) == ("Alice", "al", "host")
    assert (event.signon, event.secure, event.account_id) == (9.0, True, None)
    assert event.actor.id
    assert world.nick_holder("alice") == event.actor.id
    assert after.claims.pop(world.state.casemap.skeleton("alice")) == event.actor.id
    assert after == before


def test_arrivals_get_ids_no_other_user_had(world: World) -> None:
    one = user_ops.arrive(world.state, "one", "u", "h", "r", False, None, None)
    two = user_ops.arrive(world.state, "two", "u", "h", "r", False, None, None)
    assert one.actor.id != two.actor.id


def test_an_arrival_logged_in_to_an_account_names_it(world: World) -> None:
    event = user_ops.arrive(world.state, "alice", "u", "h", "r", False, "Acct", "acct")
    assert (event.actor.account, event.account_id) == ("Acct", "acct")


def test_an_arrival_logged_in_to_an_account_dropped_meanwhile_is_logged_out(
    world: World,
) -> None:
    world.state.dropped_accounts.add("acct")
    event = user_ops.arrive(world.state, "alice", "u", "h", "r", False, "Acct", "acct")
    assert (event.actor.account, event.account_id) == (None, None)


@pytest.mark.parametrize("nick", ["", "1abc", "a b", "#chan", "x" * 31, "nick!"])
def test_an_arrival_with_an_invalid_nick_is_refused_as_erroneous(world: World, nick: str) -> None:
    error = world.refusal(
        lambda: user_ops.arrive(world.state, nick, "u", "h", "r", False, None, None)
    )
    assert error.reason is Reason.ERRONEOUS_NICK
    assert error.subject == nick


@pytest.mark.parametrize("nick", ["alice", "ALICE", "aIice", "a1ice"])
def test_an_arrival_with_a_nick_held_or_a_look_alike_is_refused_as_in_use(
    world: World, nick: str
) -> None:
    world.add("alice")
    error = world.refusal(
        lambda: user_ops.arrive(world.state, nick, "u", "h", "r", False, None, None)
    )
    assert error.reason is Reason.NICK_IN_USE
    assert error.subject == nick


# -- change_nick -------------------------------------------------------------------------


def test_a_nick_change_is_decided_and_claimed_before_anything_changes(world: World) -> None:
    alice, _ = world.add("alice")
    before = world.snapshot()
    events = user_ops.change_nick(world.state, alice, "Alicia")
    assert events == [NickChanged(alice.actor, "Alicia")]
    after = world.snapshot()
    assert after.claims.pop(world.state.casemap.skeleton("alicia")) == alice.id
    assert after == before
    assert alice.nick == "alice"


def test_a_nick_change_to_the_same_nick_decides_nothing(world: World) -> None:
    alice, _ = world.add("alice")
    before = world.snapshot()
    assert user_ops.change_nick(world.state, alice, "alice") == []
    assert world.snapshot() == before


def test_a_nick_change_of_case_or_to_ones_own_look_alike_is_allowed(world: World) -> None:
    alice, _ = world.add("alice")
    assert user_ops.change_nick(world.state, alice, "ALICE") == [NickChanged(alice.actor, "ALICE")]
    assert user_ops.change_nick(world.state, alice, "aIice") == [NickChanged(alice.actor, "aIice")]


def test_a_nick_change_to_an_invalid_nick_is_refused_as_erroneous(world: World) -> None:
    alice, _ = world.add("alice")
    error = world.refusal(lambda: user_ops.change_nick(world.state, alice, "9lives"))
    assert error.reason is Reason.ERRONEOUS_NICK
    assert error.subject == "9lives"


@pytest.mark.parametrize("nick", ["bob", "BOB", "b0b"])
def test_a_nick_change_to_a_held_nick_is_refused_as_in_use(world: World, nick: str) -> None:
    alice, _ = world.add("alice")
    world.add("bob")
    error = world.refusal(lambda: user_ops.change_nick(world.state, alice, nick))
    assert error.reason is Reason.NICK_IN_USE
    assert error.subject == nick


@pytest.mark.parametrize("nick", ["nickserv", "N1ckServ"])
def test_a_nick_change_to_a_reserved_service_name_is_refused_as_in_use(
    world: World, nick: str
) -> None:
    alice, _ = world.add("alice")
    world.hub.reserve("NickServ")
    error = world.refusal(lambda: user_ops.change_nick(world.state, alice, nick))
    assert error.reason is Reason.NICK_IN_USE


# -- kill --------------------------------------------------------------------------------


def test_a_kill_is_decided_as_a_notice_to_the_victim_then_its_forced_quit(world: World) -> None:
    op, _ = world.add("op")
    bob, _ = world.add("bob")
    world.hub.make_oper(op, "root")
    world.settle()
    before = world.snapshot()
    victim, events = user_ops.kill(world.state, op, "BOB", "spam")
    assert victim is bob
    assert events == [
        Killed(op.actor, "bob", "spam", bob.id),
        Quit(bob.actor, "Killed (op (spam))", forced=True),
    ]
    assert world.snapshot() == before


def test_a_kill_by_a_non_operator_is_refused_with_no_privileges_and_changes_nothing(
    world: World,
) -> None:
    alice, _ = world.add("alice")
    world.add("bob")
    error = world.refusal(lambda: user_ops.kill(world.state, alice, "bob", "no"))
    assert error.reason is Reason.NO_PRIVILEGES


def test_a_kill_of_nobody_is_refused_with_no_such_nick(world: World) -> None:
    op, _ = world.add("op")
    world.hub.make_oper(op, "root")
    world.settle()
    error = world.refusal(lambda: user_ops.kill(world.state, op, "ghost", "no"))
    assert error.reason is Reason.NO_SUCH_NICK
    assert error.subject == "ghost"


def test_a_non_operator_is_refused_before_it_learns_whether_the_nick_exists(
    world: World,
) -> None:
    alice, _ = world.add("alice")
    error = world.refusal(lambda: user_ops.kill(world.state, alice, "ghost", "no"))
    assert error.reason is Reason.NO_PRIVILEGES


# -- set_away, set_realname --------------------------------------------------------------


def test_going_away_is_decided_with_the_message_cut_to_the_limit() -> None:
    world = World(ChatLimits(awaylen=5))
    alice, _ = world.add("alice")
    before = world.snapshot()
    assert user_ops.set_away(world.state, alice, "out to lunch") == [
        AwayChanged(alice.actor, "out t")
    ]
    assert world.snapshot() == before


def test_coming_back_is_decided_only_for_a_user_away(world: World) -> None:
    alice, _ = world.add("alice")
    assert user_ops.set_away(world.state, alice, None) == []
    assert user_ops.set_away(world.state, alice, "") == []
    world.hub.set_away(alice, "lunch")
    assert user_ops.set_away(world.state, alice, None) == [AwayChanged(alice.actor, None)]


def test_going_away_with_the_same_message_decides_nothing(world: World) -> None:
    alice, _ = world.add("alice")
    world.hub.set_away(alice, "lunch")
    assert user_ops.set_away(world.state, alice, "lunch") == []
    assert user_ops.set_away(world.state, alice, "tea") == [AwayChanged(alice.actor, "tea")]


def test_a_new_realname_is_decided_as_it_is(world: World) -> None:
    alice, _ = world.add("alice")
    assert user_ops.set_realname(alice, "Alice L") == [RealnameChanged(alice.actor, "Alice L")]
    assert alice.realname == "Real alice"


# -- log_in ------------------------------------------------------------------------------


def test_logging_in_is_decided_with_the_markers_read_before_moving_quietly(
    world: World,
) -> None:
    alice, _ = world.add("alice")
    world.hub.mark_read(alice, "#a", 5.0)
    before = world.snapshot()
    events = user_ops.log_in(world.state, alice, "Acct", "acct")
    assert events == [
        AccountChanged(alice.actor, "Acct", "acct"),
        MarkerMoved("#a", 5.0, owner_of("", "acct"), Key("#a"), None, alice.id, quiet=True),
    ]
    assert world.snapshot() == before


def test_logging_in_keeps_the_accounts_later_markers(world: World) -> None:
    alice, _ = world.add("alice")
    world.add("other", account="acct")
    world.state.markers.move(owner_of("", "acct"), Key("#a"), 9.0, None)
    world.hub.mark_read(alice, "#a", 5.0)
    events = user_ops.log_in(world.state, alice, "Acct", "acct")
    assert events == [AccountChanged(alice.actor, "Acct", "acct")]


def test_logging_in_to_the_account_one_is_in_decides_nothing(world: World) -> None:
    alice, _ = world.add("alice", account="acct")
    assert user_ops.log_in(world.state, alice, "acct", "acct") == []


def test_logging_out_is_decided_without_markers(world: World) -> None:
    alice, _ = world.add("alice", account="acct")
    world.hub.mark_read(alice, "#a", 5.0)
    assert user_ops.log_in(world.state, alice, None, None) == [
        AccountChanged(alice.actor, None, None)
    ]


def test_logging_in_to_an_account_dropped_meanwhile_logs_nobody_in(world: World) -> None:
    alice, _ = world.add("alice")
    world.state.dropped_accounts.add("acct")
    assert user_ops.log_in(world.state, alice, "Acct", "acct") == []
    bob, _ = world.add("bob", account="old")
    assert user_ops.log_in(world.state, bob, "Acct", "acct") == [
        AccountChanged(bob.actor, None, None)
    ]


# -- user modes, wallops -----------------------------------------------------------------


def test_user_mode_changes_keep_only_those_that_change_something(world: World) -> None:
    alice, _ = world.add("alice")
    world.hub.change_user_modes(alice, [ModeChange(True, "i")])
    applied = user_ops.change_user_modes(
        alice,
        [
            ModeChange(True, "i"),
            ModeChange(True, "w"),
            ModeChange(True, "w"),
            ModeChange(False, "B"),
            ModeChange(False, "i"),
        ],
    )
    assert applied == [ModeChange(True, "w"), ModeChange(False, "i")]
    assert alice.modes == {"i"}


def test_a_user_cannot_make_itself_an_operator_but_may_stop_being_one(world: World) -> None:
    alice, _ = world.add("alice")
    assert user_ops.change_user_modes(alice, [ModeChange(True, "o")]) == []
    assert user_ops.change_user_modes(alice, [ModeChange(True, "o")], allow_oper=True) == [
        ModeChange(True, "o")
    ]
    world.hub.make_oper(alice, "root")
    assert user_ops.change_user_modes(alice, [ModeChange(False, "o")]) == [ModeChange(False, "o")]


@pytest.mark.parametrize("adding", [True, False])
def test_the_registered_mode_is_the_servers_to_give(world: World, adding: bool) -> None:
    alice, _ = world.add("alice")
    assert user_ops.change_user_modes(alice, [ModeChange(adding, "r")]) == []


def test_mode_changes_that_change_nothing_decide_no_event(world: World) -> None:
    alice, _ = world.add("alice")
    assert user_ops.user_modes_changed(alice, []) == []
    assert user_ops.user_modes_changed(alice, [], "root") == [
        UserModeChanged(alice.actor, "alice", (), "root")
    ]


def test_wallops_by_an_operator_are_decided(world: World) -> None:
    op, _ = world.add("op")
    world.hub.make_oper(op, "root")
    assert user_ops.wallops(op, "hello") == [Wallops(op.actor, "hello")]


def test_wallops_by_a_non_operator_are_refused_with_no_privileges(world: World) -> None:
    alice, _ = world.add("alice")
    error = world.refusal(lambda: user_ops.wallops(alice, "hello"))
    assert error.reason is Reason.NO_PRIVILEGES


# -- mark_read ---------------------------------------------------------------------------


def test_a_read_marker_is_decided_for_the_user_or_its_account(world: World) -> None:
    alice, _ = world.add("alice")
    bob, _ = world.add("bob", account="acct")
    before = world.snapshot()
    assert user_ops.mark_read(world.state, alice, "#A", 5.0) == [
        MarkerMoved("#A", 5.0, owner_of(alice.id, None), Key("#a"), None, alice.id)
    ]
    assert user_ops.mark_read(world.state, bob, "#A", 5.0) == [
        MarkerMoved("#A", 5.0, owner_of("", "acct"), Key("#a"), None, bob.id)
    ]
    assert world.snapshot() == before


def test_a_read_marker_never_moves_back(world: World) -> None:
    alice, _ = world.add("alice")
    world.hub.mark_read(alice, "#a", 5.0)
    assert user_ops.mark_read(world.state, alice, "#a", 4.0) == []
    assert user_ops.mark_read(world.state, alice, "#a", 5.0) == []
    assert world.hub.read_marker(alice, "#a") == 5.0


def test_a_read_marker_past_the_limit_names_the_oldest_to_forget() -> None:
    world = World(ChatLimits(read_markers=2))
    alice, _ = world.add("alice")
    world.hub.mark_read(alice, "#old", 1.0)
    world.hub.mark_read(alice, "#mid", 2.0)
    (event,) = user_ops.mark_read(world.state, alice, "#new", 3.0)
    assert isinstance(event, MarkerMoved)
    assert event.forgotten == "#old"


# -- through the hub -----------------------------------------------------------------------


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


def test_quit_is_told_to_neighbours_and_frees_the_nick_and_empty_channels(hub: Hub) -> None:
    alice, _ = add(hub, "alice", "#a", "#solo")
    _, b = add(hub, "bob", "#a")
    hub.quit(alice, "bye")
    assert [type(e) for e in b.take()] == [Quit]
    assert hub.find_user("alice") is None
    assert hub.find_channel("#solo") is None
    assert hub.whowas("ALICE")[0].nick == "alice"
    add(hub, "alice")


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
