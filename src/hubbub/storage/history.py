"""The write-behind history writer: messages leave the hot path as a list append, and one
task commits them in batches.

While a batch is being committed, new messages gather for the next one, so an idle
server commits each message at once and a busy one writes many per transaction. A
graceful stop drains everything; a hard kill loses at most what arrived during the last
commit.

Messages are numbered as they are recorded, and :meth:`HistoryWriter.stored_through`
says up to which number everything is stored (or was redacted before it was). The sync
history mode holds all output until then (see :mod:`hubbub.doors.output`), so that no
one sees a message that a kill could lose.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence

from hubbub.core.events import Fact, MessageKind, MessagePosted, MessageRedacted, TopicChanged
from hubbub.core.history import Conversation, NewMessage, StoredMessage
from hubbub.core.ports import Bus
from hubbub.storage.errors import StorageError
from hubbub.storage.ports import HistoryStore
from hubbub.storage.timing import Latency

logger = logging.getLogger(__name__)

_BATCH = 1000
_RETRY_DELAY = 1.0
# At shutdown a failing store gets this many more tries before what is left is given up.
_RETRIES_AT_CLOSE = 3
_CATCH_UP_TIMEOUT = 2.0
# A message another node said is waited for by a read only this long after it was heard
# (its node writes within a flush interval; past this, it is stored or will not be), and
# looked for this often; so many conversations' newest are remembered.
_HEARD_FRESH = 5.0
_HEARD_POLL = 0.01
# The longest pause between two looks: a line stored late is not looked for 100 times a second.
_HEARD_POLL_MOST = 0.2
_HEARD_KEPT = 10_000


# A message taken for storage: its number, then its row (a NewMessage).
_Taken = tuple[
    int, str, float, str, str, str, str, str, tuple[tuple[str, str], ...], tuple[str, ...], int
]
_KIND_NAMES = {kind: str(kind) for kind in MessageKind}


class HistoryWriter:
    """Hands messages to a store, in batches, from one task.

    Args:
        store: where messages go.
        max_pending: messages held while the store is slow or failing; past this
            bound new messages are counted as dropped and logged, never queued without end.
        flush_interval: how long the first message of a batch waits for others to join
            it; a hard kill loses at most about this much (plus one commit).
    """

    def __init__(
        self, store: HistoryStore, max_pending: int = 100_000, flush_interval: float = 0.0
    ) -> None:
        self._store = store
        self._flush_interval = flush_interval
        self._max_pending = max_pending
        # Each message's number and row, in the order recorded.
        self._pending: list[_Taken] = []
        # Redacted messages to delete from the store, numbered like messages (a read
        # after a redaction must not find it), and the deletion under way.
        self._forgotten: list[tuple[int, str]] = []
        self._deleting: list[tuple[int, str]] = []
        self._in_flight: list[_Taken] = []  # the commit under way
        self.recorded = 0
        # Called with stored_through() whenever it may have grown.
        self.on_progress: Callable[[int], None] | None = None
        # Readers waiting for the messages up to a number (see caught_up).
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._hurry = asyncio.Event()
        self._wake = asyncio.Event()
        self._closing = False
        self.dropped = 0
        self.written = 0
        # Each batch's commit, failed ones too: what a message waits once gathered.
        self.commit_latency = Latency()

    def record(self, event: MessagePosted, conversation: str) -> None:
        """Take a message for storage (called by the hub, synchronously)."""
        # One call and one flat tuple of plain values per message, on the fan-out's
        # thread: the garbage collector untracks such a tuple at its first look, where a
        # kept event (or a row inside a numbered pair) was walked again by each
        # collection until stored (a burst of 2,000 lines: 1.2 ms).
        pending = self._pending
        if len(pending) + len(self._in_flight) >= self._max_pending:
            self._drop()
            return
        self.recorded += 1
        pending.append(
            (
                self.recorded,
                event.msgid,
                event.time,
                conversation,
                event.target,
                event.actor.mask,
                # A plain str: SQLite's driver binds an exact str at once but puts a
                # subclass (the StrEnum) through its adapter lookup, 1-2 µs a row on
                # the store's thread with the GIL held.
                _KIND_NAMES[event.kind],
                event.text,
                tuple(event.tags.items()) if event.tags else (),
                tuple([part.text for part in event.parts]) if event.parts else (),
                0,
            )
        )
        if len(pending) == 1:
            self._wake.set()

    def record_topic(self, event: TopicChanged, conversation: str) -> None:
        """Take a topic change for storage, as a ``TOPIC`` line of its channel."""
        # The same steps as record, written out in both: through one shared method a
        # message cost 40 ns more (a sixth of record), and messages are the hot path.
        pending = self._pending
        if len(pending) + len(self._in_flight) >= self._max_pending:
            self._drop()
            return
        self.recorded += 1
        pending.append(
            (
                self.recorded,
                event.msgid,
                event.time,
                conversation,
                event.channel,
                event.actor.mask,
                "TOPIC",
                event.topic,
                (),
                (),
                0,
            )
        )
        if len(pending) == 1:
            self._wake.set()

    def _drop(self) -> None:
        self.dropped += 1
        if self.dropped in (1, 10, 100) or self.dropped % 10_000 == 0:
            logger.error("history store is not keeping up: %d messages dropped", self.dropped)

    def forget(self, msgid: str) -> None:
        """Remove a redacted message, stored or still waiting (called synchronously)."""
        kept = [item for item in self._pending if item[1] != msgid]  # [1]: the msgid
        if len(kept) == len(self._pending):
            self.recorded += 1
            self._forgotten.append((self.recorded, msgid))
            self._wake.set()
        self._pending = kept
        self._progress()

    @property
    def pending(self) -> int:
        """Messages not stored yet, the commit under way included."""
        return len(self._pending) + len(self._in_flight)

    def stored_through(self) -> int:
        """The number up to which every recorded message is stored (or redacted), and
        every redaction carried out."""
        waiting = (self._deleting, self._forgotten, self._in_flight, self._pending)
        firsts = [queue[0][0] for queue in waiting if queue]
        return min(firsts) - 1 if firsts else self.recorded

    async def caught_up(self, give_up_after: float = _CATCH_UP_TIMEOUT) -> None:
        """Wait until every message recorded so far is stored, without the usual
        gathering delay: a reader of history then sees what was just said. Gives up
        after ``give_up_after`` seconds (a failing store must not hold readers forever)."""
        target = self.recorded
        if self.stored_through() >= target:
            return
        waiter = asyncio.get_running_loop().create_future()
        entry = (target, waiter)
        self._waiters.append(entry)
        self._hurry.set()
        try:
            async with asyncio.timeout(give_up_after):
                await waiter
        except TimeoutError:
            logger.debug("history read went ahead of the store after %.1f s", give_up_after)
        finally:
            if entry in self._waiters:
                self._waiters.remove(entry)

    def _progress(self) -> None:
        through = self.stored_through()
        if self._waiters:
            waiting = []
            for target, waiter in self._waiters:
                if target <= through:
                    if not waiter.done():
                        waiter.set_result(None)
                elif not waiter.done():
                    waiting.append((target, waiter))
            self._waiters = waiting
        if self.on_progress is not None:
            self.on_progress(through)

    async def run(self) -> None:
        """Commit what arrives until :meth:`close`, then what is left."""
        while True:
            await self._wake.wait()
            if self._flush_interval and not self._closing and not self._hurry.is_set():
                # Gather: one transaction for everything said meanwhile (unless a
                # reader waits for it).
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._flush_interval):
                        await self._hurry.wait()
            self._hurry.clear()
            self._wake.clear()
            await self._flush()
            if self._closing and not self._pending and not self._forgotten:
                return

    async def _flush(self) -> None:
        failures_at_close = 0
        while self._forgotten:
            self._deleting, self._forgotten = self._forgotten, []
            try:
                await self._store.delete([msgid for _, msgid in self._deleting])
            except StorageError as error:
                logger.error("cannot forget redacted messages: %s", error)
            self._deleting = []
            self._progress()
        while self._pending:
            # The batch leaves the list before the await: forget() may rebuild it meanwhile.
            batch, self._pending = self._pending[:_BATCH], self._pending[_BATCH:]
            self._in_flight = batch
            try:
                with self.commit_latency.timing():
                    await self._store.append([taken[1:] for taken in batch])
            except StorageError as error:
                self._in_flight = []
                logger.error("cannot store history (will retry): %s", error)
                redacted = {msgid for _, msgid in self._forgotten}
                self._pending = [m for m in batch if m[1] not in redacted] + self._pending
                if self._closing:
                    failures_at_close += 1
                    if failures_at_close > _RETRIES_AT_CLOSE:
                        logger.error("giving up on %d messages at shutdown", len(self._pending))
                        self._pending.clear()
                        self._progress()
                        return
                await asyncio.sleep(_RETRY_DELAY)
                continue
            self._in_flight = []
            self.written += len(batch)
            self._progress()

    def close(self) -> None:
        """Ask :meth:`run` to finish once everything taken so far is stored."""
        self._closing = True
        self._wake.set()


class ReadAfterWrite:
    """A history store whose reads first let the writer catch up, so that history
    holds every message sent before the read (CHATHISTORY right after a PRIVMSG).

    Args:
        store: where messages are.
        writer: the write-behind writer in front of it.
        wait: the longest a read waits for the writer (a failing store must not
            hold readers forever); then it reads what is stored.
    """

    def __init__(
        self,
        store: HistoryStore,
        writer: HistoryWriter,
        wait: float = _CATCH_UP_TIMEOUT,
        bus: Bus | None = None,
    ) -> None:
        self._store = store
        self._writer = writer
        self._wait = wait
        # In a cluster: the newest message heard from another node in each conversation,
        # which that node writes a flush interval later (a read on this node missed it).
        self._heard: OrderedDict[str, tuple[str, float]] = OrderedDict()
        self._waiting: dict[str, asyncio.Future[None]] = {}
        self._bus = bus
        if bus is not None:
            bus.subscribe(self._hear, kinds=frozenset({MessagePosted, MessageRedacted}))

    def _hear(self, event: Fact) -> None:
        bus = self._bus
        if type(event) is MessageRedacted:
            # A line redacted before its node stored it is never stored: nobody waits
            # for it (probe 23: the next read waited its whole wait, polling).
            for conversation, (msgid, _) in list(self._heard.items()):
                if msgid == event.msgid:
                    del self._heard[conversation]
            return
        if type(event) is not MessagePosted or bus is None or bus.applying_own:
            return
        now = time.monotonic()
        for conversation in event.kept_as:
            self._heard[conversation] = (event.msgid, now)
            self._heard.move_to_end(conversation)
        while len(self._heard) > _HEARD_KEPT:
            self._heard.popitem(last=False)

    async def _written_elsewhere(self, conversation: str) -> None:
        """Until the newest message another node said in ``conversation`` is stored, if it
        was heard lately (or ``wait`` passed: that node may be gone)."""
        heard = self._heard.get(conversation)
        if heard is None or time.monotonic() - heard[1] > _HEARD_FRESH:
            return
        # Readers of one conversation share one look at the store.
        waiting = self._waiting.get(conversation)
        if waiting is None or waiting.done():
            waiting = asyncio.ensure_future(self._look_for(conversation, heard))
            self._waiting[conversation] = waiting
        await asyncio.shield(waiting)

    async def _look_for(self, conversation: str, heard: tuple[str, float]) -> None:
        deadline = time.monotonic() + self._wait
        pause = _HEARD_POLL
        try:
            while self._heard.get(conversation) == heard:
                if await self._store.find(conversation, heard[0]) is not None:
                    break
                if time.monotonic() >= deadline:
                    break  # not stored in time: later reads do not wait for it again
                await asyncio.sleep(pause)
                pause = min(pause * 2, _HEARD_POLL_MOST)
        finally:
            if self._heard.get(conversation) == heard:
                del self._heard[conversation]
            self._waiting.pop(conversation, None)

    async def append(self, messages: Sequence[NewMessage]) -> None:
        await self._store.append(messages)

    async def before(
        self, conversation: str, time: float, limit: int, seq: int | None = None
    ) -> list[StoredMessage]:
        await self._writer.caught_up(self._wait)
        await self._written_elsewhere(conversation)
        return await self._store.before(conversation, time, limit, seq)

    async def after(
        self, conversation: str, time: float, limit: int, seq: int | None = None
    ) -> list[StoredMessage]:
        await self._writer.caught_up(self._wait)
        await self._written_elsewhere(conversation)
        return await self._store.after(conversation, time, limit, seq)

    async def delete(self, msgids: Sequence[str]) -> None:
        await self._store.delete(msgids)

    async def find(self, conversation: str, msgid: str) -> StoredMessage | None:
        await self._writer.caught_up(self._wait)
        return await self._store.find(conversation, msgid)

    async def conversations(
        self, keys: Sequence[str], owner: str, start: float, end: float, limit: int
    ) -> list[Conversation]:
        await self._writer.caught_up(self._wait)
        return await self._store.conversations(keys, owner, start, end, limit)

    async def prune(self, older_than: float, keep_per_conversation: int) -> int:
        return await self._store.prune(older_than, keep_per_conversation)

    async def close(self) -> None:
        await self._store.close()
