"""Messages' times follow the log's order within each conversation (core/stamps.py)."""

from __future__ import annotations

from hubbub.core.events import Actor, MessagePosted
from hubbub.core.keepers import history_keeper
from hubbub.core.stamps import Stamps
from hubbub.wire.casemap import Key
from tests.core.test_keepers import RecordedHistory

ALICE = Actor("alice", "~a", "host", id="u1")
BOB = Actor("bob", "~b", "host", id="u2")


def said(actor: Actor, to: str, time: float, msgid: str) -> MessagePosted:
    return MessagePosted(actor, to, "hi", time=time, msgid=msgid, to=Key(to), kept_as=(to,))


def test_a_message_timed_before_its_conversations_last_one_is_moved_just_past_it() -> None:
    stamps = Stamps()
    first = stamps.stamped(said(ALICE, "#a", 10.5, "m1"), "#a")
    assert first.time == 10.5
    assert stamps.restamped is None
    late = stamps.stamped(said(BOB, "#a", 10.4, "m2"), "#a")
    assert late.msgid == "m2"
    assert 10.5 < late.time < 10.501  # the same millisecond, as server-time shows it
    assert stamps.restamped is late
    # Another conversation has its own order.
    assert stamps.stamped(said(BOB, "#b", 10.0, "m3"), "#b").time == 10.0


def test_a_private_conversation_is_one_whichever_side_speaks() -> None:
    stamps = Stamps()
    stamps.stamped(said(ALICE, "u2", 20.0, "m1"), None)
    reply = stamps.stamped(said(BOB, "u1", 19.9, "m2"), None)
    assert reply.time > 20.0


def test_history_keeps_a_moved_message_with_its_moved_time() -> None:
    stamps = Stamps()
    ledger = RecordedHistory()
    times: list[float] = []
    ledger.record = lambda event, conversation: times.append(event.time)  # type: ignore[method-assign]
    keep = history_keeper(ledger, lambda: stamps.restamped)
    for event in (said(ALICE, "#a", 5.0, "m1"), said(BOB, "#a", 4.0, "m2")):
        stamps.stamped(event, "#a")
        keep(event)  # the keeper is handed the message as it was published
    assert times[0] == 5.0
    assert times[1] > 5.0
