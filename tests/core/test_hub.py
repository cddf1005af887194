"""The hub as the doors see it: what each operation returns, operations that are the
hub's own (loading markers, dropping an account), and limits set at REHASH.

The rules behind each operation are tested where they live (test_user_ops.py,
test_channel_ops.py, test_messaging.py, ...), and how events change the state in
test_apply.py.
"""

from __future__ import annotations

from hubbub.core.events import AccountChanged, Quit
from hubbub.core.hub import Hub
from hubbub.core.markers import owner_of
from hubbub.core.modes import ModeChange
from hubbub.core.state import ChatLimits
from hubbub.wire.casemap import Key
from tests.core.world import Recorder, World, add


def test_registering_returns_the_user_as_the_hub_holds_it(world: World) -> None:
    recorder = Recorder()
    user = world.hub.register("Alice", "al", "host", "Real", recorder, True, "Acct", "acct")
    assert user is not None
    assert recorder.user is user, "its session is told, as the arrival is applied"
    assert world.hub.find_user("alice") is user
    assert world.hub.users[Key("alice")] is user
    assert (user.nick, user.secure, user.account, user.account_id) == (
        "Alice",
        True,
        "Acct",
        "acct",
    )
    assert user.listener is recorder
    assert world.hub.applier.arrivals == {}
    assert world.hub.peak_users == 1


def test_a_quit_is_published_once_however_often_it_is_asked(world: World) -> None:
    alice, _ = world.add("alice", "#a")
    _, b = world.add("bob", "#a")
    world.hub.quit(alice, "bye")
    world.hub.quit(alice, "again")
    assert b.take() == [Quit(alice.actor, "bye")]


def test_joining_returns_the_channel_or_none_when_already_in_it(world: World) -> None:
    alice, _ = world.add("alice")
    channel = world.hub.join(alice, "#A")
    assert channel is world.hub.channels[Key("#a")]
    assert world.hub.join(alice, "#a") is None


def test_inviting_returns_the_invitee_and_the_channel(world: World) -> None:
    alice, _ = world.add("alice", "#a")
    bob, _ = world.add("bob")
    assert world.hub.invite(alice, "bob", "#a") == (bob, world.channel("#a"))
    assert world.hub.invite(alice, "bob", "#elsewhere") == (bob, None)


def test_renaming_keeps_the_channel_under_its_new_name(world: World) -> None:
    alice, _ = world.add("alice", "#old")
    channel = world.channel("#old")
    world.hub.rename(alice, "#old", "#new")
    assert world.channel("#new") is channel
    assert channel.name == "#new"


def test_parting_all_leaves_every_channel(world: World) -> None:
    alice, _ = world.add("alice", "#a", "#b")
    world.add("bob", "#a", "#b")
    world.hub.part_all(alice)
    assert alice.channels == {}
    assert alice not in world.channel("#a").members


def test_changing_modes_returns_what_took_effect_and_the_refusals(world: World) -> None:
    alice, _ = world.add("alice", "#a")
    applied, errors = world.hub.change_channel_modes(
        alice, world.channel("#a"), [ModeChange(True, "m"), ModeChange(True, "v", "ghost")]
    )
    assert applied == [ModeChange(True, "m")]
    assert [e.subject for e in errors] == ["ghost"]
    assert world.channel("#a").flags == {"m", "n", "t"}


def test_user_mode_changes_return_what_changed(world: World) -> None:
    alice, a = world.add("alice")
    assert world.hub.change_user_modes(alice, [ModeChange(True, "i"), ModeChange(True, "o")]) == [
        ModeChange(True, "i")
    ]
    assert world.hub.change_user_modes(alice, [ModeChange(True, "i")]) == []
    assert len(a.take()) == 1


def test_marking_read_returns_where_the_marker_is(world: World) -> None:
    alice, _ = world.add("alice")
    assert world.hub.mark_read(alice, "#a", 5.0) == 5.0
    assert world.hub.mark_read(alice, "#A", 3.0) == 5.0
    assert world.hub.read_marker(alice, "#a") == 5.0


def test_saying_returns_where_it_went_and_the_event(world: World) -> None:
    alice, _ = world.add("alice", "#a")
    bob, b = world.add("bob", "#a")
    where, event = world.hub.say(alice, "bob", "hi")
    assert where is bob
    assert b.take() == [event]


def test_new_limits_bind_the_owners_from_the_next_operation(world: World) -> None:
    world.hub.limits = ChatLimits(read_markers=1, recent_messages=2, monitor=3)
    state = world.state
    assert (state.markers.limit, state.recent.limit, state.monitors.limit) == (1, 2, 3)
    assert world.hub.limits is state.limits


def test_a_new_clock_is_the_states(world: World) -> None:
    world.hub.clock = lambda: 123.0
    alice, _ = world.add("alice")
    assert alice.signon == 123.0


def test_dropping_an_account_logs_everyone_out_and_forgets_its_markers_and_rights(
    world: World,
) -> None:
    ledger = MarkerLedger([])
    world.hub.marker_sink = ledger
    phone, p = world.add("phone", "#mine", account="acct")
    laptop, _ = world.add("laptop", "#mine", account="acct")
    world.hub.register_channel(phone, "#mine")
    world.hub.mark_read(phone, "#mine", 5.0)
    world.settle()
    world.hub.drop_account("acct")
    assert (phone.account_id, laptop.account_id) == (None, None)
    # Its own logging out too, for its door to tell it (probe 30).
    changes = [(e.actor.nick, e.account) for e in p.take() if isinstance(e, AccountChanged)]
    assert sorted(changes) == [("laptop", None), ("phone", None)]
    assert world.state.account_users == {}
    assert world.state.markers.of(owner_of("", "acct")) == {}
    assert world.state.channels.registered == {}
    assert ledger.forgotten_accounts == ["acct"]
    assert "acct" in world.state.dropped_accounts


def test_an_account_dropped_logs_nobody_in_afterwards(world: World) -> None:
    world.hub.drop_account("acct")
    alice, _ = world.add("alice", account="acct")
    assert alice.account_id is None
    world.hub.log_in(alice, "Acct", "acct")
    assert alice.account_id is None


def test_markers_are_not_loaded_for_an_account_nobody_is_logged_in_to(world: World) -> None:
    world.hub.load_markers("acct", [("#a", 1.0)])
    assert world.state.markers.of(owner_of("", "acct")) == {}


class MarkerLedger:
    """A marker sink that keeps what it is handed, with some changes not yet saved."""

    def __init__(self, unsaved: list[tuple[str, float | None]]) -> None:
        self.saved: list[tuple[str, str, float | None]] = []
        self._unsaved = unsaved
        self.forgotten_accounts: list[str] = []

    def save(self, account: str, target: str, time: float) -> None:
        self.saved.append((account, target, time))

    def forget(self, account: str, target: str) -> None:
        self.saved.append((account, target, None))

    def forget_account(self, account: str) -> None:
        self.forgotten_accounts.append(account)
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
