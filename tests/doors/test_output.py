"""The output batcher (:class:`OutputBatcher`): one flush per loop pass, and in the sync
history mode, output held in order until the messages before it are stored."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from hubbub.doors.output import OutputBatcher
from hubbub.doors.ports import Outbox
from hubbub.settings import Limits
from tests.doors.support import Changes, Driver


class RecordingOutput:
    """A connection as the batcher sees it, recording what it is asked to do."""

    def __init__(self, changes: Changes) -> None:
        self.changes = changes
        self.flushes = 0
        self.queued = b""  # what take_output returns next
        self.taken = 0
        self.written: list[tuple[bytes, bool]] = []
        self.written_at: list[float] = []

    def flush(self) -> None:
        self.flushes += 1
        self.changes.changed()

    def take_output(self) -> bytes:
        data, self.queued = self.queued, b""
        self.taken += 1
        self.changes.changed()
        return data

    def overflow(self) -> None:
        raise AssertionError("the batcher never overflows a connection")

    def write_now(self, data: bytes, close: bool = False) -> None:
        self.written.append((data, close))
        self.written_at.append(asyncio.get_running_loop().time())
        self.changes.changed()


class History:
    """The history writer as the batcher sees it: how many messages were recorded, and
    how far they are stored."""

    def __init__(self) -> None:
        self.recorded = 0
        self.stored = 0
        self.on_progress: Callable[[int], None] | None = None

    def stored_through(self) -> int:
        return self.stored

    def store(self, through: int) -> None:
        self.stored = through
        if self.on_progress is not None:
            self.on_progress(through)


async def test_each_connection_with_output_is_flushed_once_at_the_end_of_the_pass() -> None:
    changes = Changes()
    batcher = OutputBatcher(asyncio.get_running_loop())
    first, second = RecordingOutput(changes), RecordingOutput(changes)
    batcher.dirty += [first, second]
    batcher.schedule()
    assert (first.flushes, second.flushes) == (0, 0)
    await changes.until(lambda: second.flushes == 1)
    assert (first.flushes, second.flushes) == (1, 1)
    assert batcher.dirty == []
    assert not batcher.scheduled
    assert not batcher.holding


async def test_in_sync_mode_output_waits_until_the_messages_recorded_before_it_are_in() -> None:
    changes, history = Changes(), History()
    batcher = OutputBatcher(asyncio.get_running_loop(), history)
    output = RecordingOutput(changes)
    history.recorded, output.queued = 5, b"hello\r\n"
    batcher.dirty.append(output)
    batcher.schedule()
    await changes.until(lambda: output.taken == 1)
    assert output.written == []
    history.store(4)
    assert output.written == []
    history.store(5)
    assert output.written == [(b"hello\r\n", False)]


async def test_in_sync_mode_output_already_stored_leaves_at_the_end_of_its_pass() -> None:
    changes, history = Changes(), History()
    batcher = OutputBatcher(asyncio.get_running_loop(), history)
    output = RecordingOutput(changes)
    history.recorded = history.stored = 2
    output.queued = b"hello\r\n"
    batcher.dirty.append(output)
    batcher.schedule()
    await changes.until(lambda: bool(output.written))
    assert output.written == [(b"hello\r\n", False)]


async def test_in_sync_mode_held_output_is_released_in_the_order_it_was_held() -> None:
    changes, history = Changes(), History()
    batcher = OutputBatcher(asyncio.get_running_loop(), history)
    output = RecordingOutput(changes)
    history.recorded, output.queued = 5, b"one\r\n"
    batcher.dirty.append(output)
    batcher.schedule()
    await changes.until(lambda: output.taken == 1)
    history.recorded, output.queued = 7, b"two\r\n"
    batcher.dirty.append(output)
    batcher.schedule()
    await changes.until(lambda: output.taken == 2)
    history.store(6)
    assert output.written == [(b"one\r\n", False)]
    history.store(7)
    assert output.written == [(b"one\r\n", False), (b"two\r\n", False)]


async def test_in_sync_mode_output_held_past_max_hold_goes_out_unstored_with_an_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    loop = asyncio.get_running_loop()
    changes, history = Changes(), History()
    batcher = OutputBatcher(loop, history, max_hold=0.1)
    output = RecordingOutput(changes)
    history.recorded, output.queued = 1, b"late\r\n"
    held_at = loop.time()
    batcher.dirty.append(output)
    batcher.schedule()
    await changes.until(lambda: bool(output.written))
    assert output.written == [(b"late\r\n", False)]
    assert output.written_at[0] - held_at >= 0.1
    assert caplog.messages == [
        "history store has not stored messages for 0.1 s: delivering them unstored"
    ]
    history.store(1)
    assert len(output.written) == 1


async def test_in_sync_mode_close_after_output_closes_once_the_held_output_is_written() -> None:
    changes, history = Changes(), History()
    batcher = OutputBatcher(asyncio.get_running_loop(), history)
    output = RecordingOutput(changes)
    history.recorded, output.queued = 3, b"ERROR :Bye\r\n"
    batcher.close_after_output(output)
    assert output.written == []
    history.store(3)
    assert output.written == [(b"ERROR :Bye\r\n", True)]


# -- with the driver -------------------------------------------------------------------


async def test_in_sync_mode_even_the_first_line_of_a_pass_waits_for_its_messages() -> None:
    history = History()
    connection, transport, _ = Driver(durability=history).open()
    history.recorded = 1
    connection.send(b"one\r\n")
    connection.send(b"two\r\n")
    assert transport.writes == []
    history.store(1)
    assert transport.writes == []  # the pass has not ended: nothing is held yet
    await transport.changes.until(lambda: bool(transport.writes))
    assert transport.writes == [b"one\r\ntwo\r\n"]


async def test_in_sync_mode_a_closing_connection_says_its_last_words_then_closes() -> None:
    history = History()
    connection, transport, session = Driver(durability=history).open()
    history.recorded = 1
    connection.send(b"last words\r\n")
    session.close("Bye")
    assert not transport.closing
    history.store(1)
    assert transport.writes == [b"last words\r\n"]
    assert transport.closing
    await transport.changes.until(lambda: transport.lost)
    assert session.lost == ["Connection closed"]


async def test_in_sync_mode_with_the_store_caught_up_each_pass_is_written_at_its_end() -> None:
    history = History()
    connection, transport, _ = Driver(durability=history).open()
    connection.send(b"0\r\n")
    await transport.changes.until(lambda: len(transport.writes) == 1)
    connection.send(b"1\r\n")
    connection.send(b"2\r\n")
    await transport.changes.until(lambda: len(transport.writes) == 2)
    assert transport.writes == [b"0\r\n", b"1\r\n2\r\n"]


async def test_in_sync_mode_a_pass_past_the_sendq_cuts_the_client_off_unwritten() -> None:
    # Output may not go before its messages are stored, so it cannot be written early
    # as in the write-behind mode: past the SendQ in one pass, the client is cut off.
    history = History()
    connection, transport, session = Driver(Limits(sendq=100), durability=history).open()
    history.recorded = 1
    for _ in range(4):
        connection.send(b"x" * 30 + b"\r\n")
    await session.changes.until(lambda: bool(session.lost))
    assert session.lost == ["SendQ exceeded"]
    history.store(1)
    assert transport.writes == []


def test_an_outbox_is_taken_whole_and_left_empty() -> None:
    outbox = Outbox(RecordingOutput(Changes()), limit=100)
    assert outbox.take() == b""
    line = b"PRIVMSG #a :one\r\n"
    outbox.append(line)
    outbox.size = len(line)
    taken = outbox.take()
    assert taken is line  # one item: no copy
    assert (list(outbox), outbox.size) == ([], 0)
    outbox += [b"a\r\n", b"b\r\n", b"c\r\n"]
    outbox.size = 9
    assert outbox.take() == b"a\r\nb\r\nc\r\n"
    assert (list(outbox), outbox.size) == ([], 0)
