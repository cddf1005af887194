"""The line driver (:class:`LineConnection`) on a real event loop: framing, flood control,
waiting commands, write coalescing, the SendQ, the timer sweep and the catch-all.

Most tests drive it through a :class:`~tests.doors.support.FakeTransport`, which counts
writes exactly; the SendQ and framing are also checked over a real socket. Nothing waits
by sleeping: tests wait for what the session or the transport records, and compare the
loop's own clock with the limits.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import re
import socket
from collections.abc import AsyncIterator, Callable

import pytest

from hubbub.doors import output
from hubbub.doors.gate import Gate
from hubbub.doors.irc.session import IrcSession
from hubbub.doors.ports import Peer
from hubbub.settings import Limits
from hubbub.wire.errors import LineTooLong
from tests.doors.support import WAIT, Driver, SocketDriver, sweeping
from tests.helpers import Harness

# -- framing ---------------------------------------------------------------------------


async def test_a_line_split_across_reads_reaches_the_session_whole() -> None:
    connection, _, session = Driver().open()
    connection.data_received(b"PRIVMSG #rust")
    connection.data_received(b" :hello")
    assert session.lines == []
    connection.data_received(b" there\r\nNEXT")
    assert session.lines == [b"PRIVMSG #rust :hello there"]
    connection.data_received(b"\r\n")
    assert session.lines == [b"PRIVMSG #rust :hello there", b"NEXT"]


async def test_lines_fed_byte_by_byte_arrive_as_when_fed_whole() -> None:
    data = b"NICK alice\r\nUSER alice 0 * :Alice\r\nJOIN #rust\n"
    connection, _, whole = Driver().open()
    connection.data_received(data)
    connection, _, bytewise = Driver().open()
    for byte in data:
        connection.data_received(bytes([byte]))
    assert (
        bytewise.lines
        == whole.lines
        == [
            b"NICK alice",
            b"USER alice 0 * :Alice",
            b"JOIN #rust",
        ]
    )


@pytest.mark.parametrize(
    ("data", "lines"),
    [
        (b"A\r\nB\r\n", [b"A", b"B"]),
        (b"A\nB\n", [b"A", b"B"]),
        (b"A\rB\r", [b"A", b"B"]),
        (b"A\rB\nC\r\n", [b"A", b"B", b"C"]),
        (b"\r\nA\r\n\r\n\nB\r\n", [b"A", b"B"]),
    ],
    ids=["crlf", "lf", "bare-cr", "mixed", "empty-lines"],
)
async def test_crlf_lf_and_a_bare_cr_each_end_a_line_and_empty_lines_are_dropped(
    data: bytes, lines: list[bytes]
) -> None:
    connection, _, session = Driver().open()
    connection.data_received(data)
    assert session.lines == lines


async def test_a_crlf_split_between_two_reads_ends_one_line_not_two() -> None:
    # The plain door keeps empty lines, so a second line end would show as b"".
    connection, _, session = Driver().open(partial_after=WAIT)
    connection.data_received(b"alice\r")
    connection.data_received(b"\nhello\r\n\n")
    assert session.lines == [b"alice", b"hello", b""]


async def test_with_partial_after_text_sent_without_a_newline_is_a_line_after_the_pause() -> None:
    loop = asyncio.get_running_loop()
    connection, _, session = Driver().open(partial_after=0.02)
    sent_at = loop.time()
    connection.data_received(b"ali")
    connection.data_received(b"ce")
    assert session.lines == []
    await session.changes.until(lambda: bool(session.lines))
    assert session.lines == [b"alice"]
    assert session.handled_at[0] - sent_at >= 0.02


async def test_the_longest_line_the_limits_allow_passes_and_one_byte_more_does_not() -> None:
    limits = Limits()
    longest = limits.tags_length + 2 + limits.line_length
    connection, _, session = Driver(limits).open()
    connection.data_received(b"x" * longest + b"\r\n" + b"y" * (longest + 1) + b"\r\nNEXT\r\n")
    assert session.lines[0] == b"x" * longest
    assert isinstance(session.lines[1], LineTooLong)
    assert session.lines[2:] == [b"NEXT"]


async def test_an_over_long_line_sent_in_pieces_is_dropped_and_the_next_line_kept() -> None:
    connection, _, session = Driver().open()
    connection.data_received(b"FIRST\r\n")
    for _ in range(100):
        connection.data_received(b"x" * 100)
    connection.data_received(b"x\r\nLAST\r\n")
    assert session.lines[0] == b"FIRST"
    assert isinstance(session.lines[1], LineTooLong)
    assert session.lines[2:] == [b"LAST"]


async def test_an_irc_client_is_told_417_for_an_over_long_line_and_can_go_on(
    harness: Harness,
) -> None:
    def make_session(send: Callable[[bytes], None], peer: Peer) -> IrcSession:
        return IrcSession(harness.ctx, send, peer)

    connection, transport = Driver().connect(make_session=make_session)
    connection.data_received(b"PING :" + b"x" * 5000 + b"\r\n")
    await transport.changes.until(lambda: len(transport.writes) == 1)
    assert transport.writes == [b":irc.test 417 * :Input line was too long\r\n"]
    connection.data_received(b"PING :still-here\r\n")
    await transport.changes.until(lambda: len(transport.writes) == 2)
    assert transport.writes[1] == b":irc.test PONG irc.test still-here\r\n"


# -- flood control and waiting commands ------------------------------------------------


async def test_lines_past_the_flood_burst_wait_their_turn_with_reading_paused() -> None:
    loop = asyncio.get_running_loop()
    before = loop.time()
    connection, transport, session = Driver(Limits(flood_burst=3, flood_rate=50.0)).open()
    connection.data_received(b"".join(b"L%d\r\n" % i for i in range(7)))
    assert session.lines == [b"L0", b"L1", b"L2"]
    assert not transport.reading

    await session.changes.until(lambda: len(session.lines) == 7)
    assert session.lines == [b"L%d" % i for i in range(7)]
    # A bucket of 3 lines that refills at 50 a second lets the 7th through no sooner.
    assert session.handled_at[6] - before >= 4 / 50
    assert transport.reading
    assert transport.reading_paused == 1


async def test_a_command_that_spends_more_than_a_line_makes_the_next_lines_wait() -> None:
    loop = asyncio.get_running_loop()
    before = loop.time()
    connection, transport, session = Driver(Limits(flood_burst=5, flood_rate=50.0)).open()
    connection.data_received(b"SPEND 10\r\nL1\r\nL2\r\n")
    # The burst of 5 paid for SPEND's own line; its 10 more leave the bucket at -6.
    assert session.lines == [b"SPEND 10"]
    assert not transport.reading

    await session.changes.until(lambda: len(session.lines) == 3)
    assert session.lines == [b"SPEND 10", b"L1", b"L2"]
    # L1 needs the bucket back at 1: 7 lines' refill at 50 a second.
    assert session.handled_at[1] - before >= 7 / 50
    assert transport.reading


async def test_a_trusted_address_is_spared_flood_control() -> None:
    driver = Driver(Limits(flood_burst=3, flood_rate=50.0), Gate(trusted=("192.0.2.0/24",)))
    connection, transport, session = driver.open()
    connection.data_received(b"".join(b"L%d\r\n" % i for i in range(7)))
    assert len(session.lines) == 7
    assert transport.reading_paused == 0


async def test_an_exempt_session_is_spared_flood_control() -> None:
    connection, transport, session = Driver(Limits(flood_burst=3, flood_rate=50.0)).open()
    session.exempt = True
    connection.data_received(b"".join(b"L%d\r\n" % i for i in range(7)))
    assert len(session.lines) == 7
    assert transport.reading_paused == 0


async def test_a_command_that_waits_holds_the_next_lines_and_reading_until_it_is_done() -> None:
    connection, transport, session = Driver().open()
    connection.data_received(b"A\r\nWAIT\r\nB\r\nC\r\n")
    assert session.lines == [b"A", b"WAIT"]
    assert not transport.reading

    assert session.waiting is not None
    session.waiting.set_result(None)
    await session.changes.until(lambda: len(session.lines) == 4)
    assert session.lines == [b"A", b"WAIT", b"B", b"C"]
    assert transport.reading


async def test_a_waiting_command_cut_short_by_the_connection_lost_is_closed_not_left() -> None:
    # CI: a client gone in the loop pass its command began in cancelled the wait before
    # it ran, and the handler's coroutine, never awaited, warned at collection.
    connection, _, session = Driver().open()
    connection.data_received(b"ASYNC\r\n")
    assert session.coroutine is not None
    connection.connection_lost(None)
    await asyncio.sleep(0)  # one loop pass: the cancelled wait is done
    await asyncio.sleep(0)
    assert inspect.getcoroutinestate(session.coroutine) == inspect.CORO_CLOSED
    assert not session.ran_async


# -- write coalescing ------------------------------------------------------------------


async def test_what_a_loop_pass_sends_leaves_in_one_write_at_its_end() -> None:
    connection, transport, _ = Driver().open()
    connection.send(b"one\r\n")
    connection.send(b"two\r\n")
    connection.send(b"three\r\n")
    assert transport.writes == []

    await transport.changes.until(lambda: len(transport.writes) == 1)
    assert transport.writes == [b"one\r\ntwo\r\nthree\r\n"]
    # A new pass: its output is written at its own end.
    connection.send(b"four\r\n")
    await transport.changes.until(lambda: len(transport.writes) == 2)
    assert transport.writes == [b"one\r\ntwo\r\nthree\r\n", b"four\r\n"]


async def test_the_reply_to_one_line_leaves_at_the_end_of_its_pass() -> None:
    connection, transport, _ = Driver().open()
    connection.data_received(b"A\r\n")
    assert transport.writes == []
    await transport.changes.until(lambda: bool(transport.writes))
    assert transport.writes == [b"A\r\n"]


async def test_the_replies_to_several_lines_read_at_once_leave_in_one_write() -> None:
    connection, transport, _ = Driver().open()
    connection.data_received(b"A\r\nB\r\nC\r\n")
    assert transport.writes == []
    await transport.changes.until(lambda: bool(transport.writes))
    assert transport.writes == [b"A\r\nB\r\nC\r\n"]


async def test_a_fan_out_costs_each_recipient_one_write_per_pass() -> None:
    driver = Driver()
    opened = [driver.open() for _ in range(3)]
    for _ in range(4):
        for connection, _, _ in opened:
            connection.send(b"hi\r\n")
    await opened[-1][1].changes.until(lambda: len(opened[-1][1].writes) == 1)
    for _, transport, _ in opened:
        assert transport.writes == [b"hi\r\n" * 4]


# -- SendQ -----------------------------------------------------------------------------


async def test_a_pass_past_the_sendq_is_written_at_once_to_a_client_that_reads() -> None:
    # Others' messages in one pass may pass the SendQ; a client that reads them is not
    # cut for it: the outbox is written as it passes the SendQ, and the rest at the end.
    driver = Driver(Limits(sendq=100))
    connection, transport, session = driver.open()
    line = b"x" * 30 + b"\r\n"
    for _ in range(5):
        connection.send(line)
    # The fourth line took the outbox past 100 bytes: those four went at once.
    assert transport.writes == [line * 4]
    await transport.changes.until(lambda: len(transport.writes) == 2)
    assert transport.writes == [line * 4, line]
    assert session.lost == []
    assert not transport.aborted


async def test_a_pass_past_the_sendq_cuts_off_a_client_that_does_not_read_and_only_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    driver = Driver(Limits(sendq=100))
    slow, slow_transport, slow_session = driver.open()
    other, other_transport, _ = driver.open()
    slow_transport.stalled = True
    line = b"x" * 30 + b"\r\n"
    for index in range(4):
        slow.send(line)
        if index < 3:
            other.send(line)
    # 128 bytes for slow, written as they passed the SendQ, and left in its transport's
    # buffer: past the high-water mark, it is cut off; other gets its 96 at the end.
    await slow_session.changes.until(lambda: bool(slow_session.lost))
    assert slow_session.lost == ["SendQ exceeded"]
    assert slow_transport.aborted
    assert f"[{slow.id}] cut off: SendQ exceeded" in caplog.messages
    await other_transport.changes.until(lambda: bool(other_transport.writes))
    assert other_transport.writes == [line * 3]
    slow.send(line)
    assert slow_transport.writes == [line * 4]


async def test_a_client_whose_transport_buffer_passes_the_sendq_is_cut_off() -> None:
    connection, transport, session = Driver(Limits(sendq=100)).open()
    transport.stalled = True
    line = b"x" * 60 + b"\r\n"
    connection.send(line)
    await transport.changes.until(lambda: bool(transport.writes))
    # The first pass's 62 bytes wait in the transport; with the next pass's they pass
    # the SendQ, its high-water mark.
    connection.send(line)
    await session.changes.until(lambda: bool(session.lost))
    assert session.lost == ["SendQ exceeded"]
    assert transport.aborted
    assert transport.writes == [line, line]


# -- the catch-all ---------------------------------------------------------------------


async def test_a_handler_that_raises_is_logged_with_the_connection_id_and_serving_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    driver = Driver()
    connection, transport, session = driver.open()
    connection.data_received(b"BOOM\r\nAFTER\r\n")
    assert session.lines == [b"BOOM", b"AFTER"]
    assert session.internal_errors == 1
    (record,) = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert record.getMessage() == f"[{connection.id}] connection handler failed"
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], RuntimeError)

    await transport.changes.until(lambda: bool(transport.writes))
    assert transport.writes == [b"internal error\r\nAFTER\r\n"]
    other, other_transport, _ = driver.open()
    other.data_received(b"HELLO\r\n")
    await other_transport.changes.until(lambda: bool(other_transport.writes))
    assert other_transport.writes == [b"HELLO\r\n"]


# -- admission and the roster ----------------------------------------------------------


async def test_a_connection_is_in_the_roster_from_made_until_lost() -> None:
    driver = Driver()
    connection, transport, session = driver.open()
    assert list(driver.connections) == [connection]
    session.close("Bye")
    await transport.changes.until(lambda: transport.lost)
    assert len(driver.connections) == 0
    assert session.lost == ["Connection closed"]
    async with asyncio.timeout(WAIT):
        await driver.connections.wait_empty()


async def test_a_connection_past_the_per_address_limit_gets_an_error_and_no_session() -> None:
    driver = Driver(gate=Gate(per_ip=1))
    driver.open()
    refused, transport = driver.connect()
    assert transport.writes == [b"ERROR :Too many connections from your address\r\n"]
    assert transport.closing
    assert len(driver.sessions) == 1
    assert len(driver.connections) == 1
    refused.data_received(b"NICK sneaky\r\n")
    assert len(driver.sessions) == 1


async def test_the_per_address_limit_counts_an_ipv6_64_as_one_address() -> None:
    # Issue 20, tenth probe: a client picks any address of its /64; counted one by one,
    # its connections had no limit.
    driver = Driver(gate=Gate(per_ip=2))
    driver.open("2001:db8:1:2::1")
    driver.open("2001:db8:1:2:ffff::9")
    _, refused = driver.connect("2001:db8:1:2:aaaa:bbbb:cccc:dddd")
    assert refused.writes == [b"ERROR :Too many connections from your address\r\n"]
    # Another /64, and an IPv4 address, have limits of their own.
    driver.open("2001:db8:1:3::1")
    driver.open("192.0.2.7")
    driver.open("192.0.2.8")


async def test_a_closed_connection_whose_output_is_never_read_is_dropped_after_the_grace(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Issue 20, tenth probe: closed after a paced LIST its client never read, the
    # connection waited for good, holding the socket, kernel buffers and its place in
    # the per-address count.
    monkeypatch.setattr(output, "CLOSE_GRACE", 0.05)
    _, transport, session = Driver().open()
    transport.buffered = 300_000  # in the transport, never read
    session.close("Killed")
    assert transport.closing
    assert not transport.lost
    await transport.changes.until(lambda: transport.lost)
    assert transport.aborted


# -- timers, through the sweep ---------------------------------------------------------


async def test_a_client_that_does_not_register_in_time_is_closed_by_the_sweep() -> None:
    loop = asyncio.get_running_loop()
    driver = Driver(Limits(registration_timeout=0.05, ping_interval=30, ping_timeout=30))
    before = loop.time()
    _, transport, session = driver.open()
    async with sweeping(driver.connections):
        await session.changes.until(lambda: bool(session.closes))
        await transport.changes.until(lambda: transport.lost)
    reason, closed_at = session.closes[0]
    assert reason == "Registration timeout"
    assert closed_at - before >= 0.05
    assert session.pings == []
    assert len(driver.connections) == 0


async def test_a_registered_client_outlives_the_registration_deadline() -> None:
    loop = asyncio.get_running_loop()
    driver = Driver(Limits(registration_timeout=0.05, ping_interval=0.2, ping_timeout=30))
    connection, _, session = driver.open()
    read_at = loop.time()
    connection.data_received(b"REGISTER\r\n")
    async with sweeping(driver.connections):
        # The next thing the sweep does to it is ask whether it is still there.
        await session.changes.until(lambda: bool(session.pings))
    assert session.closes == []
    assert session.pings[0] - read_at >= 0.2


async def test_an_idle_client_is_pinged_then_closed_when_it_does_not_answer() -> None:
    loop = asyncio.get_running_loop()
    driver = Driver(Limits(registration_timeout=30, ping_interval=0.05, ping_timeout=0.05))
    connection, _, session = driver.open()
    read_at = loop.time()
    connection.data_received(b"REGISTER\r\n")
    async with sweeping(driver.connections):
        await session.changes.until(lambda: bool(session.closes))
    assert len(session.pings) == 1
    assert session.pings[0] - read_at >= 0.05
    reason, closed_at = session.closes[0]
    assert re.fullmatch(r"Ping timeout: \d+ seconds", reason)
    assert closed_at - read_at >= 0.05 + 0.05


async def test_a_client_that_answers_the_ping_is_pinged_again_later_not_closed() -> None:
    loop = asyncio.get_running_loop()
    # The reply is looked at when the PING's timeout is up: then, instead of a close,
    # comes the next PING.
    driver = Driver(Limits(registration_timeout=30, ping_interval=0.05, ping_timeout=0.5))
    connection, _, session = driver.open()
    connection.data_received(b"REGISTER\r\n")
    async with sweeping(driver.connections):
        await session.changes.until(lambda: len(session.pings) == 1)
        answered_at = loop.time()
        connection.data_received(b"PONG\r\n")
        await session.changes.until(lambda: len(session.pings) == 2)
    assert session.closes == []
    assert session.pings[1] - answered_at >= 0.05


async def test_a_timer_that_raises_is_logged_and_the_connection_keeps_its_timer(
    caplog: pytest.LogCaptureFixture,
) -> None:
    driver = Driver(Limits(registration_timeout=30, ping_interval=0.05, ping_timeout=WAIT))
    connection, _, session = driver.open()
    session.failing_pings = 1
    connection.data_received(b"REGISTER\r\n")
    async with sweeping(driver.connections):
        await session.changes.until(lambda: len(session.pings) == 2)
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [f"[{connection.id}] connection timer failed"]
    assert session.internal_errors == 1


# -- over a real socket ----------------------------------------------------------------


@pytest.fixture
async def over_tcp() -> AsyncIterator[SocketDriver]:
    served = SocketDriver(Driver(Limits(sendq=65536)))
    try:
        yield served
    finally:
        await served.close()


async def test_over_tcp_lines_sent_in_pieces_are_framed_and_answered(
    over_tcp: SocketDriver,
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", await over_tcp.start())
    try:
        session = await over_tcp.session(0)
        for piece in (b"NI", b"CK alice\r", b"\nUSER a 0 * :A\nPI", b"NG\r\n"):
            writer.write(piece)
            await writer.drain()
        await session.changes.until(lambda: len(session.lines) == 3)
        assert session.lines == [b"NICK alice", b"USER a 0 * :A", b"PING"]
        async with asyncio.timeout(WAIT):
            echoed = await reader.readuntil(b"PING\r\n")
        assert echoed == b"NICK alice\r\nUSER a 0 * :A\r\nPING\r\n"
    finally:
        writer.close()
        await writer.wait_closed()


async def test_over_tcp_a_client_that_stops_reading_is_cut_off_at_its_sendq_alone(
    over_tcp: SocketDriver,
) -> None:
    loop = asyncio.get_running_loop()
    port = await over_tcp.start()
    stalled = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stalled.setblocking(False)
    reader, writer = None, None
    try:
        await loop.sock_connect(stalled, ("127.0.0.1", port))
        stalled_session = await over_tcp.session(0)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        other_session = await over_tcp.session(1)
        chunk = b"x" * 16384 + b"\r\n"

        # One chunk per loop pass, each written at once: the kernel's buffers fill, then
        # the transport's, until it passes the SendQ and asks the driver to pause.
        def push() -> None:
            if not stalled_session.lost:
                stalled_session.send(chunk)
                loop.call_soon(push)

        push()
        await stalled_session.changes.until(lambda: bool(stalled_session.lost))
        assert stalled_session.lost == ["SendQ exceeded"]

        writer.write(b"still here\r\n")
        async with asyncio.timeout(WAIT):
            assert await reader.readline() == b"still here\r\n"
        assert other_session.lost == []
    finally:
        stalled.close()
        if writer is not None:
            writer.close()
            await writer.wait_closed()
