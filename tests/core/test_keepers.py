"""Keepers: history and read markers taken from the events, handed to recording sinks,
and seeing each event once the state has changed by it."""

from __future__ import annotations

from hubbub.core.events import (
    Actor,
    Fact,
    Joined,
    MarkerMoved,
    MessagePosted,
    MessageRedacted,
    MetadataChanged,
    MetadataValue,
    TopicChanged,
    Wallops,
)
from hubbub.core.keepers import history_keeper, marker_keeper, metadata_keeper
from hubbub.core.markers import owner_of
from hubbub.wire.casemap import Key
from tests.core.world import World

ALICE = Actor("alice", "alice", "host", id="u1")


class RecordedHistory:
    """A history sink that keeps what it is handed, in order."""

    def __init__(self) -> None:
        self.handed: list[tuple[str, str]] = []

    def record(self, event: MessagePosted, conversation: str) -> None:
        self.handed.append(("record " + event.msgid, conversation))

    def record_topic(self, event: TopicChanged, conversation: str) -> None:
        self.handed.append(("topic " + event.msgid, conversation))

    def forget(self, msgid: str) -> None:
        self.handed.append(("forget " + msgid, ""))


class RecordedMarkers:
    """A marker sink that keeps what it is handed, in order."""

    def __init__(self) -> None:
        self.handed: list[tuple[str, str, str, float | None]] = []

    def save(self, account: str, target: str, time: float) -> None:
        self.handed.append(("save", account, target, time))

    def forget(self, account: str, target: str) -> None:
        self.handed.append(("forget", account, target, None))

    def forget_account(self, account: str) -> None:
        self.handed.append(("forget account", account, "", None))

    def unsaved(self, account: str) -> list[tuple[str, float | None]]:
        return []


def test_a_message_is_recorded_under_each_conversation_it_is_kept_in() -> None:
    ledger = RecordedHistory()
    keep = history_keeper(ledger)
    keep(MessagePosted(ALICE, "bob", "hi", msgid="m1", kept_as=("s:u1 bob", "s:u2 alice")))
    assert ledger.handed == [("record m1", "s:u1 bob"), ("record m1", "s:u2 alice")]


def test_a_message_kept_nowhere_is_not_recorded() -> None:
    ledger = RecordedHistory()
    history_keeper(ledger)(MessagePosted(ALICE, "#a", "", msgid="m1"))
    assert ledger.handed == []


def test_a_topic_change_is_recorded_in_its_channels_history() -> None:
    ledger = RecordedHistory()
    history_keeper(ledger)(TopicChanged(ALICE, "#a", "news", 1.0, "t1", ("#a 1",)))
    assert ledger.handed == [("topic t1", "#a 1")]


def test_a_redacted_message_leaves_history() -> None:
    ledger = RecordedHistory()
    history_keeper(ledger)(MessageRedacted(ALICE, "#a", "m1", "oops"))
    assert ledger.handed == [("forget m1", "")]


def test_the_history_keeper_ignores_every_other_event() -> None:
    ledger = RecordedHistory()
    keep = history_keeper(ledger)
    others: list[Fact] = [Joined(ALICE, "#a"), Wallops(ALICE, "x"), MarkerMoved("#a", 1.0)]
    for event in others:
        keep(event)
    assert ledger.handed == []


def test_an_accounts_marker_is_saved_after_forgetting_the_one_it_replaced() -> None:
    ledger = RecordedMarkers()
    keep = marker_keeper(ledger)
    keep(MarkerMoved("#a", 5.0, "a:acct", Key("#a")))
    keep(MarkerMoved("#b", 6.0, "a:acct", Key("#b"), Key("#a")))
    assert ledger.handed == [
        ("save", "acct", "#a", 5.0),
        ("forget", "acct", "#a", None),
        ("save", "acct", "#b", 6.0),
    ]


def test_a_marker_moved_by_logging_in_is_saved_too() -> None:
    ledger = RecordedMarkers()
    marker_keeper(ledger)(MarkerMoved("#a", 5.0, "a:acct", Key("#a"), quiet=True))
    assert ledger.handed == [("save", "acct", "#a", 5.0)]


def test_the_markers_of_a_user_not_logged_in_are_not_kept() -> None:
    ledger = RecordedMarkers()
    marker_keeper(ledger)(MarkerMoved("#a", 5.0, "u:u1", Key("#a")))
    assert ledger.handed == []


def test_the_marker_keeper_ignores_every_other_event() -> None:
    ledger = RecordedMarkers()
    keep = marker_keeper(ledger)
    keep(MessagePosted(ALICE, "#a", "hi", msgid="m1", kept_as=("#a",)))
    keep(Wallops(ALICE, "x"))
    assert ledger.handed == []


def test_keepers_on_the_bus_see_the_hubs_events_after_they_are_applied(world: World) -> None:
    history, markers = RecordedHistory(), RecordedMarkers()
    seen_applied: list[bool] = []
    keep_history = history_keeper(history)

    def watch(event: Fact) -> None:
        if isinstance(event, MessagePosted):
            seen_applied.append(world.state.recent.get(event.msgid) is not None)
        keep_history(event)

    world.bus.subscribe(watch)
    world.bus.subscribe(marker_keeper(markers))
    alice, _ = world.add("alice", "#a", account="acct")
    world.add("bob", "#a")
    _, event = world.hub.say(alice, "#a", "hi")
    world.hub.redact(alice, "#a", event.msgid)
    world.hub.mark_read(alice, "#a", 9.0)
    assert seen_applied == [True]
    assert history.handed == [("record " + event.msgid, "#a"), ("forget " + event.msgid, "")]
    assert markers.handed == [("save", "acct", "#a", 9.0)]
    assert world.state.markers.get(owner_of("", "acct"), Key("#a")) == 9.0


class RecordedMetadata:
    """A metadata sink that keeps what it is handed, in order."""

    def __init__(self) -> None:
        self.handed: list[tuple[str, str, str | None]] = []

    def save(self, account: str, key: str, value: str | None) -> None:
        self.handed.append((account, key, value))

    def forget_account(self, account: str) -> None:
        self.handed.append((account, "*", None))

    async def kept(self, account: str) -> list[tuple[str, str]]:
        return []


def test_only_an_accounts_own_changes_to_its_keys_are_kept() -> None:
    ledger = RecordedMetadata()
    keep = metadata_keeper(ledger)
    changes = (MetadataValue("display-name", "Alice"), MetadataValue("status", None))
    keep(MetadataChanged(ALICE, "u1", "alice", changes, account_id="acct"))
    # Not logged in, or a channel's (kept with its registration).
    keep(MetadataChanged(ALICE, "u1", "alice", changes))
    keep(MetadataChanged(ALICE, "#a", "#a", changes, channel=True, account_id="acct"))
    keep(Joined(ALICE, "#a"))
    # Loaded at login: the user's whole set then, written back (probe 23).
    keep(MetadataChanged(None, "u1", "alice", changes[:1], account_id="acct", loaded=True))
    assert ledger.handed == [
        ("acct", "display-name", "Alice"),
        ("acct", "status", None),
        ("acct", "display-name", "Alice"),
    ]
