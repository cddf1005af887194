"""The write-behind history writer in front of a real store (on each backend): what is
stored, in batches, through slow and failing commits, and all of it on close."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import AsyncIterator, Callable, Sequence

import pytest

from hubbub.core.events import (
    Actor,
    Fact,
    MessageKind,
    MessagePart,
    MessagePosted,
    MessageRedacted,
)
from hubbub.core.history import Conversation, NewMessage, StoredMessage
from hubbub.core.ports import Kinds
from hubbub.storage import history
from hubbub.storage.errors import StorageError
from hubbub.storage.history import HistoryWriter, ReadAfterWrite
from hubbub.storage.ports import Store

T0 = 1_700_000_000.0
CHAN = "#chan"
ALICE = Actor("alice", "~alice", "127.0.0.1")
WAIT = 5.0


def posted(number: int, target: str = CHAN) -> MessagePosted:
    return MessagePosted(ALICE, target, f"message {number}", time=T0 + number, msgid=f"id{number}")


async def stored_texts(store: Store, conversation: str = CHAN) -> list[str]:
    return [m.text for m in await store.after(conversation, -math.inf, 1_000_000)]


class DelegatingStore:
    """A real store behind a wrapper that a test can slow down or break."""

    def __init__(self, inner: Store) -> None:
        self.inner = inner
        self.batches: list[int] = []
        self.calls = 0
        self.changed = asyncio.Event()

    async def append(self, messages: Sequence[NewMessage]) -> None:
        self.calls += 1
        self.changed.set()
        await self.inner.append(messages)
        self.batches.append(len(messages))
        self.changed.set()

    async def wait_until(self, check: Callable[[], bool], seconds: float = WAIT) -> None:
        """Until ``check()`` holds, woken by each append."""
        async with asyncio.timeout(seconds):
            while not check():
                self.changed.clear()
                await self.changed.wait()

    async def before(
        self, conversation: str, time: float, limit: int, seq: int | None = None
    ) -> list[StoredMessage]:
        return await self.inner.before(conversation, time, limit, seq)

    async def after(
        self, conversation: str, time: float, limit: int, seq: int | None = None
    ) -> list[StoredMessage]:
        return await self.inner.after(conversation, time, limit, seq)

    async def delete(self, msgids: Sequence[str]) -> None:
        await self.inner.delete(msgids)

    async def find(self, conversation: str, msgid: str) -> StoredMessage | None:
        return await self.inner.find(conversation, msgid)

    async def conversations(
        self, keys: Sequence[str], participant: str, start: float, end: float, limit: int
    ) -> list[Conversation]:
        return await self.inner.conversations(keys, participant, start, end, limit)

    async def prune(self, older_than: float, keep_per_conversation: int) -> int:
        return await self.inner.prune(older_than, keep_per_conversation)

    async def close(self) -> None:
        await self.inner.close()


class GatedStore(DelegatingStore):
    """Each commit waits for ``gate``: a store that is slow exactly when a test says."""

    def __init__(self, inner: Store) -> None:
        super().__init__(inner)
        self.gate = asyncio.Event()
        self.entered = asyncio.Event()

    async def append(self, messages: Sequence[NewMessage]) -> None:
        self.entered.set()
        await self.gate.wait()
        await super().append(messages)


class FlakyStore(DelegatingStore):
    """The first ``failures`` commits fail as a full disk would."""

    def __init__(self, inner: Store, failures: int) -> None:
        super().__init__(inner)
        self.failures = failures
        self.failed = 0

    async def append(self, messages: Sequence[NewMessage]) -> None:
        if self.failed < self.failures:
            self.failed += 1
            self.calls += 1
            self.changed.set()
            raise StorageError("hubbub.sqlite3: database or disk is full")
        await super().append(messages)


@contextlib.asynccontextmanager
async def running(writer: HistoryWriter, gate: asyncio.Event | None = None) -> AsyncIterator[None]:
    """The writer's :meth:`run` in a task group: closed (its store ungated) on the way out,
    and finished before the block ends."""
    async with asyncio.timeout(WAIT * 2), asyncio.TaskGroup() as group:
        group.create_task(writer.run())
        try:
            yield
        finally:
            if gate is not None:
                gate.set()
            writer.close()


@pytest.fixture
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retry a failed commit at once instead of after a second."""
    monkeypatch.setattr(history, "_RETRY_DELAY", 0.01)


async def test_messages_recorded_before_run_are_stored_on_close(store: Store) -> None:
    writer = HistoryWriter(store)
    for number in range(3):
        writer.record(posted(number), CHAN)
    assert writer.pending == 3

    async with asyncio.timeout(WAIT):
        writer.close()
        await writer.run()

    assert await stored_texts(store) == ["message 0", "message 1", "message 2"]
    assert writer.pending == 0
    assert writer.written == 3
    assert writer.dropped == 0


async def test_a_recorded_message_is_stored_with_every_field(store: Store) -> None:
    event = MessagePosted(
        Actor("Bob", "~bob", "203.0.113.5"),
        "Alice",
        "first",
        MessageKind.NOTICE,
        tags={"+draft/reply": "id0", "+example/k": "v;w"},
        time=T0 + 0.25,
        msgid="m-1",
        parts=(MessagePart("first"), MessagePart("second", concat=True)),
    )
    writer = HistoryWriter(store)
    writer.record(event, "alice bob")
    writer.close()
    async with asyncio.timeout(WAIT):
        await writer.run()

    assert await store.find("alice bob", "m-1") == StoredMessage(
        msgid="m-1",
        time=T0 + 0.25,
        conversation="alice bob",
        target="Alice",
        sender="Bob!~bob@203.0.113.5",
        kind="NOTICE",
        text="first",
        tags=(("+draft/reply", "id0"), ("+example/k", "v;w")),
        lines=("first", "second"),
    )


async def test_messages_are_stored_while_running_without_waiting_for_close(
    store: Store,
) -> None:
    wrapped = DelegatingStore(store)
    writer = HistoryWriter(wrapped)
    async with running(writer):
        writer.record(posted(1), CHAN)
        await wrapped.wait_until(lambda: writer.written == 1)
        assert await stored_texts(store) == ["message 1"]

        writer.record(posted(2), CHAN)
        writer.record(posted(3), "#other")
        await wrapped.wait_until(lambda: writer.written == 3)
        assert await stored_texts(store) == ["message 1", "message 2"]
        assert await stored_texts(store, "#other") == ["message 3"]


async def test_messages_recorded_during_a_commit_go_into_the_next_batch(
    store: Store,
) -> None:
    gated = GatedStore(store)
    writer = HistoryWriter(gated)
    async with running(writer, gated.gate):
        writer.record(posted(0), CHAN)
        async with asyncio.timeout(WAIT):
            await gated.entered.wait()
        # The first commit is under way; these wait for the next one.
        for number in range(1, 501):
            writer.record(posted(number), CHAN)
        assert writer.pending == 501
        gated.gate.set()
        await gated.wait_until(lambda: writer.written == 501)

    assert gated.batches == [1, 500]
    assert await stored_texts(store) == [f"message {n}" for n in range(501)]


async def test_close_drains_everything_recorded(store: Store) -> None:
    wrapped = DelegatingStore(store)
    writer = HistoryWriter(wrapped)
    async with asyncio.timeout(WAIT), asyncio.TaskGroup() as group:
        group.create_task(writer.run())
        for number in range(5000):
            writer.record(posted(number), CHAN)
        writer.close()

    assert writer.pending == 0
    assert writer.written == 5000
    assert sum(wrapped.batches) == 5000
    assert await stored_texts(store) == [f"message {n}" for n in range(5000)]


async def test_close_while_a_commit_is_under_way_waits_for_it_and_the_rest(
    store: Store,
) -> None:
    gated = GatedStore(store)
    writer = HistoryWriter(gated)
    async with asyncio.timeout(WAIT), asyncio.TaskGroup() as group:
        run = group.create_task(writer.run())
        writer.record(posted(0), CHAN)
        await gated.entered.wait()
        writer.record(posted(1), CHAN)
        writer.close()
        writer.record(posted(2), CHAN)
        assert not run.done()
        gated.gate.set()

    assert await stored_texts(store) == ["message 0", "message 1", "message 2"]


async def test_close_with_nothing_recorded_ends_run(store: Store) -> None:
    writer = HistoryWriter(store)
    async with asyncio.timeout(WAIT), asyncio.TaskGroup() as group:
        group.create_task(writer.run())
        writer.close()
    assert writer.written == 0


async def test_past_max_pending_new_messages_are_dropped_counted_and_logged(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    gated = GatedStore(store)
    writer = HistoryWriter(gated, max_pending=10)
    async with running(writer, gated.gate):
        writer.record(posted(0), CHAN)
        async with asyncio.timeout(WAIT):
            await gated.entered.wait()
        with caplog.at_level(logging.ERROR, logger="hubbub.storage.history"):
            for number in range(1, 26):
                writer.record(posted(number), CHAN)
        # The message being committed still counts until it is stored.
        assert writer.pending == 10
        assert writer.dropped == 16
        dropped_logs = [r for r in caplog.records if "dropped" in r.getMessage()]
        # Logged at the 1st and 10th drop, not once per message.
        assert [r.getMessage() for r in dropped_logs] == [
            "history store is not keeping up: 1 messages dropped",
            "history store is not keeping up: 10 messages dropped",
        ]
        gated.gate.set()
        await gated.wait_until(lambda: writer.written == 10)
        # Room again: new messages are taken.
        writer.record(posted(100), CHAN)
        await gated.wait_until(lambda: writer.written == 11)

    assert writer.dropped == 16
    assert await stored_texts(store) == [f"message {n}" for n in (*range(10), 100)]


async def test_a_failing_store_is_retried_without_losing_or_repeating_messages(
    store: Store,
    quick_retries: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    flaky = FlakyStore(store, failures=3)
    writer = HistoryWriter(flaky)
    async with running(writer):
        with caplog.at_level(logging.ERROR, logger="hubbub.storage.history"):
            for number in range(5):
                writer.record(posted(number), CHAN)
            await flaky.wait_until(lambda: flaky.failed == 2)
            # Recorded while the store is down: kept, not lost.
            for number in range(5, 10):
                writer.record(posted(number), CHAN)
            await flaky.wait_until(lambda: writer.written == 10)

    assert flaky.failed == 3
    assert writer.dropped == 0
    assert await stored_texts(store) == [f"message {n}" for n in range(10)]
    retries = [r for r in caplog.records if "will retry" in r.getMessage()]
    assert len(retries) == 3
    assert all("disk is full" in r.getMessage() for r in retries)


async def test_a_transient_failure_during_close_is_retried_before_giving_up(
    store: Store, quick_retries: None
) -> None:
    # The issue: "a graceful stop (SIGTERM/SIGINT) loses nothing". One failed commit
    # at shutdown (a busy or briefly full disk) must not throw away everything pending.
    flaky = FlakyStore(store, failures=1)
    writer = HistoryWriter(flaky)
    for number in range(5):
        writer.record(posted(number), CHAN)
    writer.close()
    async with asyncio.timeout(WAIT):
        await writer.run()

    assert await stored_texts(store) == [f"message {n}" for n in range(5)]


async def test_a_store_that_never_recovers_does_not_hang_shutdown(
    store: Store, quick_retries: None, caplog: pytest.LogCaptureFixture
) -> None:
    broken = FlakyStore(store, failures=10**9)
    writer = HistoryWriter(broken)
    for number in range(3):
        writer.record(posted(number), CHAN)
    writer.close()
    with caplog.at_level(logging.ERROR, logger="hubbub.storage.history"):
        async with asyncio.timeout(WAIT):
            await writer.run()

    assert await stored_texts(store) == []
    assert any("giving up on 3 messages" in r.getMessage() for r in caplog.records)


async def test_forget_drops_a_waiting_message_and_deletes_a_stored_one(
    store: Store,
) -> None:
    wrapped = DelegatingStore(store)
    writer = HistoryWriter(wrapped)
    for number in range(3):
        writer.record(posted(number), CHAN)
    writer.forget("id1")  # still waiting: never stored
    async with running(writer):
        await wrapped.wait_until(lambda: writer.written == 2)
        writer.forget("id0")  # stored: deleted
        writer.forget("no-such-id")
    assert await stored_texts(store) == ["message 2"]
    assert writer.pending == 0


async def test_forget_during_the_commit_of_that_message_keeps_the_others(
    store: Store,
) -> None:
    gated = GatedStore(store)
    writer = HistoryWriter(gated)
    async with running(writer, gated.gate):
        writer.record(posted(0), CHAN)
        async with asyncio.timeout(WAIT):
            await gated.entered.wait()
        writer.record(posted(1), CHAN)
        # Redacted while its commit is under way.
        writer.forget("id0")
        gated.gate.set()
    # Message 0 is gone, and message 1, which nobody redacted, is kept.
    assert await stored_texts(store) == ["message 1"]


async def test_stored_through_follows_commits_in_order_and_reports_progress(
    store: Store,
) -> None:
    gated = GatedStore(store)
    writer = HistoryWriter(gated)
    progress: list[int] = []
    writer.on_progress = progress.append
    assert writer.stored_through() == 0
    async with running(writer, gated.gate):
        writer.record(posted(1), CHAN)
        writer.record(posted(2), CHAN)
        await gated.entered.wait()
        # The first commit is under way: nothing is stored through yet.
        writer.record(posted(3), CHAN)
        assert (writer.recorded, writer.stored_through()) == (3, 0)
        gated.gate.set()
        await gated.wait_until(lambda: writer.stored_through() == 3)
    assert progress == sorted(progress)
    assert progress[-1] == 3
    assert await stored_texts(store) == ["message 1", "message 2", "message 3"]


async def test_a_message_redacted_while_waiting_counts_as_stored_through(
    store: Store,
) -> None:
    writer = HistoryWriter(store)
    writer.record(posted(1), CHAN)
    writer.record(posted(2), CHAN)
    writer.forget("id1")
    # Message 2 still waits, so nothing is through; with it gone, both are.
    assert writer.stored_through() == 1
    writer.forget("id2")
    assert writer.stored_through() == 2


async def test_a_failed_commit_holds_stored_through_until_the_retry_succeeds(
    store: Store, quick_retries: None
) -> None:
    flaky = FlakyStore(store, failures=2)
    writer = HistoryWriter(flaky)
    async with running(writer):
        writer.record(posted(1), CHAN)
        await flaky.wait_until(lambda: flaky.calls >= 2)
        assert writer.stored_through() == 0
        await flaky.wait_until(lambda: writer.stored_through() == 1)
    assert await stored_texts(store) == ["message 1"]


async def test_caught_up_hurries_past_the_gathering_delay(store: Store) -> None:
    writer = HistoryWriter(store, flush_interval=60.0)
    async with running(writer):
        writer.record(posted(1), CHAN)
        writer.record(posted(2), CHAN)
        async with asyncio.timeout(WAIT):
            await writer.caught_up()
        assert await stored_texts(store) == ["message 1", "message 2"]
        # Nothing waiting: it returns at once.
        await writer.caught_up(give_up_after=0.0)


async def test_caught_up_gives_up_on_a_store_that_does_not_answer(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    gated = GatedStore(store)
    writer = HistoryWriter(gated)
    async with running(writer, gated.gate):
        writer.record(posted(1), CHAN)
        await gated.entered.wait()
        with caplog.at_level(logging.DEBUG, logger="hubbub.storage.history"):
            await writer.caught_up(give_up_after=0.05)
        assert "went ahead of the store" in caplog.text
        assert writer.stored_through() == 0


async def test_a_read_after_write_waits_its_limit_for_a_stuck_store_then_reads(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    await store.append([StoredMessage("id0", T0, CHAN, CHAN, ALICE.mask, "PRIVMSG", "message 0")])
    gated = GatedStore(store)
    writer = HistoryWriter(gated)
    reads = ReadAfterWrite(store, writer, wait=0.2)
    async with running(writer, gated.gate):
        writer.record(posted(1), CHAN)
        await gated.entered.wait()
        with caplog.at_level(logging.DEBUG, logger="hubbub.storage.history"):
            async with asyncio.timeout(WAIT):
                found = await reads.before(CHAN, math.inf, 10)
        assert "went ahead of the store after 0.2 s" in caplog.text
        # What the store holds; the stuck message is not there yet.
        assert [m.text for m in found] == ["message 0"]


class FindCounting(DelegatingStore):
    """Counts the looks for one message."""

    finds = 0

    async def find(self, conversation: str, msgid: str) -> StoredMessage | None:
        self.finds += 1
        return await self.inner.find(conversation, msgid)


class AnotherNode:
    """A bus whose facts all come from another node (only what ReadAfterWrite asks)."""

    applying_own = False

    def __init__(self) -> None:
        self.subscribers: list[Callable[[Fact], None]] = []

    def subscribe(
        self,
        subscriber: Callable[[Fact], None],
        own_only: bool = False,
        kinds: Kinds | None = None,
    ) -> None:
        # Every fact is handed over: the subscriber must still ignore what it does not take.
        self.subscribers.append(subscriber)

    def hand(self, event: Fact) -> None:
        for subscriber in self.subscribers:
            subscriber(event)


async def test_a_line_redacted_before_its_node_stored_it_is_not_waited_for(
    store: Store,
) -> None:
    counting = FindCounting(store)
    writer = HistoryWriter(counting)
    bus = AnotherNode()
    reads = ReadAfterWrite(counting, writer, wait=WAIT, bus=bus)  # type: ignore[arg-type]
    async with running(writer):
        said = posted(7)._replace(kept_as=(CHAN,))
        bus.hand(said)
        bus.hand(MessageRedacted(ALICE, CHAN, said.msgid, ""))
        async with asyncio.timeout(1.0):  # bounded wait, not a measure: WAIT is 5 s
            assert await reads.before(CHAN, math.inf, 10) == []
        assert counting.finds == 0


async def test_readers_waiting_for_another_nodes_line_share_one_look(store: Store) -> None:
    counting = FindCounting(store)
    writer = HistoryWriter(counting)
    bus = AnotherNode()
    reads = ReadAfterWrite(counting, writer, wait=0.3, bus=bus)  # type: ignore[arg-type]
    async with running(writer):
        bus.hand(posted(8)._replace(kept_as=(CHAN,)))  # never stored here
        async with asyncio.timeout(WAIT):
            await asyncio.gather(*(reads.before(CHAN, math.inf, 10) for _ in range(10)))
        # Ten readers, one look at a time between pauses that grow: a handful of looks,
        # not ten readers polling every 10 ms.
        assert 0 < counting.finds <= 8
