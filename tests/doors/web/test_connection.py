"""The web listener's driver on a real event loop, bytes in and bytes out: the HTTP
phase (routing, bounds, timeouts, origins, the gate, proxies) and the WebSocket phase
(messages as lines, one frame per line out, control frames, closing, the SendQ).

A :class:`~tests.doors.web.support.Browser` (websockets' sans-I/O client) reads what the
driver writes; nothing waits by sleeping.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from websockets.frames import Close, CloseCode, Opcode

from hubbub.doors.gate import Gate
from hubbub.doors.irc.session import IrcSession
from hubbub.doors.ports import Peer
from hubbub.settings import Limits
from hubbub.wire.errors import LineTooLong
from tests.doors.support import HOST, sweeping
from tests.doors.web.support import PAGE, Browser, WebDriver, open_websocket
from tests.helpers import Harness

LONGEST = Limits().tags_length + 2 + Limits().line_length


@pytest.fixture
async def driver(tmp_path: Path) -> WebDriver:
    return WebDriver(tmp_path / "web")


def irc(harness: Harness) -> Callable[[Callable[[bytes], None], Peer], IrcSession]:
    def make_session(send: Callable[[bytes], None], peer: Peer) -> IrcSession:
        return IrcSession(harness.ctx, send, peer)

    return make_session


def answer(data: bytes) -> tuple[int, bytes]:
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), body


# -- the handshake -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offered", "chosen", "opcode"),
    [
        (("text.ircv3.net",), "text.ircv3.net", Opcode.TEXT),
        (("binary.ircv3.net",), "binary.ircv3.net", Opcode.BINARY),
        (("binary.ircv3.net", "text.ircv3.net"), "binary.ircv3.net", Opcode.BINARY),
        (("text.ircv3.net", "binary.ircv3.net"), "text.ircv3.net", Opcode.TEXT),
        (None, None, Opcode.TEXT),
    ],
)
async def test_the_handshake_picks_the_subprotocol_and_lines_go_out_in_its_frames(
    driver: WebDriver, offered: tuple[str, ...] | None, chosen: str | None, opcode: Opcode
) -> None:
    browser, session = open_websocket(driver, subprotocols=offered)
    assert browser.response is not None
    assert browser.response.status_code == 101
    assert browser.response.headers.get("Sec-WebSocket-Protocol") == chosen
    assert session is not None
    browser.text("NICK anna")
    assert session.lines == [b"NICK anna"]
    (frame,) = await browser.written()
    assert (frame.opcode, bytes(frame.data)) == (opcode, b"NICK anna")


async def test_a_binary_message_is_a_line_too(driver: WebDriver) -> None:
    browser, session = open_websocket(driver)
    assert session is not None
    browser.send(Opcode.BINARY, b"PRIVMSG #rust :caf\xc3\xa9")
    assert session.lines == [b"PRIVMSG #rust :caf\xc3\xa9"]


async def test_a_page_of_another_origin_is_refused_with_403_and_gets_no_session(
    driver: WebDriver,
) -> None:
    connection, transport = driver.web()
    browser = Browser(connection, transport, origin="https://evil.example")
    assert browser.handshake().status_code == 403
    assert driver.sessions == []
    assert transport.closing
    await transport.changes.until(lambda: transport.lost)
    assert len(driver.connections) == 0


async def test_the_pages_own_origin_is_let_in(driver: WebDriver) -> None:
    _, session = open_websocket(driver, origin="http://127.0.0.1:8081")
    assert session is not None


async def test_a_configured_origin_is_let_in(tmp_path: Path) -> None:
    driver = WebDriver(tmp_path / "web", origins=("https://app.example.org",))
    _, session = open_websocket(driver, origin="https://app.example.org")
    assert session is not None


async def test_a_broken_handshake_is_refused_with_an_http_error(driver: WebDriver) -> None:
    connection, transport = driver.web()
    connection.data_received(
        b"GET /irc HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Version: 13\r\n\r\n"
    )
    status, body = answer(transport.output)
    assert status == 400
    assert b"Sec-WebSocket-Key" in body
    assert transport.closing


async def test_an_upgrade_elsewhere_than_the_door_is_404(driver: WebDriver) -> None:
    connection, transport = driver.web()
    browser = Browser(connection, transport, path="/chat")
    assert browser.handshake().status_code == 404
    assert driver.sessions == []


async def test_the_root_is_a_door_too_for_clients_given_only_a_host(driver: WebDriver) -> None:
    _, session = open_websocket(driver, path="/")
    assert session is not None


async def test_an_address_with_too_many_connections_gets_503(tmp_path: Path) -> None:
    driver = WebDriver(tmp_path / "web", gate=Gate(per_ip=1))
    open_websocket(driver)
    _, transport = driver.web()
    assert answer(transport.output)[0] == 503
    assert transport.closing


async def test_a_trusted_proxy_is_believed_and_the_client_is_counted(tmp_path: Path) -> None:
    gate = Gate(trusted=("10.0.0.0/8",), per_ip=1)
    driver = WebDriver(tmp_path / "web", gate=gate)
    fields = [("X-Forwarded-For", "203.0.113.9")]
    browser, session = open_websocket(driver, host="10.0.0.1", fields=fields)
    assert session is not None
    assert session.peer.shown_host == "203.0.113.9"
    # The client's address now holds the one connection it may have.
    _, refused = open_websocket(driver, host="10.0.0.1", fields=fields)
    assert refused is None
    # The proxy itself is not limited.
    _, other = open_websocket(driver, host="10.0.0.1", fields=[("X-Forwarded-For", "192.0.2.7")])
    assert other is not None
    browser.connection.abort()
    await browser.transport.changes.until(lambda: browser.transport.lost)
    _, again = open_websocket(driver, host="10.0.0.1", fields=fields)
    assert again is not None


async def test_an_untrusted_peer_forwarding_an_address_is_itself(driver: WebDriver) -> None:
    fields = [("X-Forwarded-For", "203.0.113.9")]
    _, session = open_websocket(driver, host="198.51.100.7", fields=fields)
    assert session is not None
    assert session.peer.shown_host == "198.51.100.7"


async def test_a_trusted_proxy_forwarding_no_address_is_refused_with_400(tmp_path: Path) -> None:
    driver = WebDriver(tmp_path / "web", gate=Gate(trusted=("10.0.0.0/8",)))
    fields = [("X-Forwarded-For", "unknown")]
    browser, session = open_websocket(driver, host="10.0.0.1", fields=fields)
    assert session is None
    assert browser.response is not None
    assert browser.response.status_code == 400


async def test_https_at_a_trusted_proxy_makes_the_connection_secure(tmp_path: Path) -> None:
    driver = WebDriver(tmp_path / "web", gate=Gate(trusted=("10.0.0.0/8",)))
    fields = [("X-Forwarded-Proto", "https"), ("X-Forwarded-For", "203.0.113.9")]
    _, session = open_websocket(
        driver, host="10.0.0.1", fields=fields, origin="https://127.0.0.1:8081"
    )
    assert session is not None
    assert session.peer.secure


# -- the HTTP phase ----------------------------------------------------------------------


async def test_a_get_is_answered_with_the_file_and_the_connection_closed(
    driver: WebDriver,
) -> None:
    connection, transport = driver.web()
    connection.data_received(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
    assert answer(transport.output) == (200, PAGE)
    assert transport.closing


async def test_a_request_in_pieces_is_answered_once_whole(driver: WebDriver) -> None:
    connection, transport = driver.web()
    for byte in b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n":
        assert transport.writes == []
        connection.data_received(bytes([byte]))
    assert answer(transport.output) == (200, PAGE)


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "OPTIONS", "PATCH", "BREW"])
async def test_other_methods_are_405(driver: WebDriver, method: str) -> None:
    connection, transport = driver.web()
    connection.data_received(f"{method} / HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
    assert answer(transport.output)[0] == 405
    assert b"Allow: GET, HEAD" in transport.output


async def test_a_post_with_a_body_is_405_too(driver: WebDriver) -> None:
    connection, transport = driver.web()
    connection.data_received(
        b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n\r\nhello"
    )
    assert answer(transport.output)[0] == 405


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",
        b"GET\r\n\r\n",
        b"\x01\x02 \x03\r\n\r\n",
    ],
    ids=["tls-hello", "no-target", "nonsense"],
)
async def test_garbage_is_answered_400_and_closed(driver: WebDriver, request_bytes: bytes) -> None:
    connection, transport = driver.web()
    connection.data_received(request_bytes)
    assert answer(transport.output)[0] == 400
    assert transport.closing


async def test_an_endless_request_head_is_cut_at_its_bound(tmp_path: Path) -> None:
    driver = WebDriver(tmp_path / "web", Limits(web_request_bytes=4096))
    connection, transport = driver.web()
    connection.data_received(b"GET / HTTP/1.1\r\n")
    for _ in range(100):
        connection.data_received(b"X-Padding: " + b"a" * 100 + b"\r\n")
        if transport.closing:
            break
    assert answer(transport.output)[0] == 431
    assert transport.closing


async def test_a_header_line_over_websockets_bound_is_431(driver: WebDriver) -> None:
    connection, transport = driver.web()
    connection.data_received(b"GET / HTTP/1.1\r\nX: " + b"a" * 9000 + b"\r\n\r\n")
    assert answer(transport.output)[0] == 431


async def test_a_slow_request_is_cut_by_the_request_timeout(tmp_path: Path) -> None:
    driver = WebDriver(tmp_path / "web", Limits(web_request_timeout=0.05))
    connection, transport = driver.web()
    opened = asyncio.get_running_loop().time()
    connection.data_received(b"GET / HTTP/1.1\r\n")
    async with sweeping(driver.connections):
        await transport.changes.until(lambda: transport.lost)
    assert transport.aborted
    assert asyncio.get_running_loop().time() - opened >= 0.05


async def test_a_bug_while_answering_is_a_500_and_is_logged(
    driver: WebDriver, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("a bug in the file server")

    monkeypatch.setattr(driver.ctx.files, "answer", broken)
    connection, transport = driver.web()
    with caplog.at_level(logging.ERROR):
        connection.data_received(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
    assert answer(transport.output) == (500, b"Internal server error\n")
    assert "web request failed" in caplog.text


async def test_a_large_file_is_written_whole_past_the_sendq(tmp_path: Path) -> None:
    driver = WebDriver(tmp_path / "web", Limits(sendq=4096))
    (driver.ctx.files.root / "big.js").write_bytes(b"x" * 100_000)
    connection, transport = driver.web()
    transport.stalled = True
    connection.data_received(b"GET /big.js HTTP/1.1\r\nHost: localhost\r\n\r\n")
    assert answer(transport.output) == (200, b"x" * 100_000)
    assert not transport.aborted


async def test_shutdown_closes_a_connection_still_in_its_request(driver: WebDriver) -> None:
    connection, transport = driver.web()
    connection.shutdown("Server shutting down")
    assert transport.closing


# -- messages as lines -------------------------------------------------------------------


async def test_several_messages_in_one_read_are_answered_in_one_write(driver: WebDriver) -> None:
    browser, session = open_websocket(driver)
    assert session is not None
    writes = len(browser.transport.writes)
    browser.text("A", "B", "C")
    assert session.lines == [b"A", b"B", b"C"]
    await browser.transport.changes.until(lambda: len(browser.transport.writes) > writes)
    assert len(browser.transport.writes) == writes + 1
    assert browser.lines() == [b"A", b"B", b"C"]


async def test_a_message_with_cr_or_lf_inside_is_refused_by_the_irc_session(
    driver: WebDriver, harness: Harness
) -> None:
    browser, _ = open_websocket(driver, make_session=irc(harness))
    browser.text("PING :a\r\nQUIT :smuggled")
    browser.text("PING :b\nQUIT")
    assert await browser.expect(2) == [
        b":irc.test 400 * * :Malformed message: NUL, CR or LF inside a line",
        b":irc.test 400 * * :Malformed message: NUL, CR or LF inside a line",
    ]
    browser.text("PING :still-here")
    assert await browser.expect(1) == [b":irc.test PONG irc.test still-here"]


async def test_an_over_long_message_is_answered_as_an_over_long_tcp_line(
    driver: WebDriver, harness: Harness
) -> None:
    browser, _ = open_websocket(driver, make_session=irc(harness))
    browser.text("PING :" + "x" * 5000)
    assert await browser.expect(1) == [b":irc.test 417 * :Input line was too long"]
    browser.text("PING :still-here")
    assert await browser.expect(1) == [b":irc.test PONG irc.test still-here"]


async def test_the_longest_line_passes_and_one_byte_more_is_too_long(driver: WebDriver) -> None:
    browser, session = open_websocket(driver)
    assert session is not None
    browser.text("x" * LONGEST, "y" * (LONGEST + 1))
    assert session.lines[0] == b"x" * LONGEST
    assert isinstance(session.lines[1], LineTooLong)


async def test_a_fragmented_message_is_one_line(driver: WebDriver) -> None:
    browser, session = open_websocket(driver)
    assert session is not None
    browser.send(Opcode.TEXT, b"PRIVMSG #r", fin=False)
    browser.send(Opcode.PING, b"between")
    browser.send(Opcode.CONT, b" :hel", fin=False)
    browser.send(Opcode.CONT, b"lo")
    assert session.lines == [b"PRIVMSG #r :hello"]


async def test_an_endless_fragmented_message_is_dropped_as_it_comes(tmp_path: Path) -> None:
    # Each fragment costs flood control a line (see the next test): a burst to cover them.
    driver = WebDriver(tmp_path / "web", Limits(flood_burst=200))
    browser, session = open_websocket(driver)
    assert session is not None
    browser.send(Opcode.TEXT, b"x" * 1000, fin=False)
    for _ in range(100):
        browser.send(Opcode.CONT, b"x" * 1000, fin=False)
    browser.send(Opcode.CONT, b"x")
    browser.text("NEXT")
    assert isinstance(session.lines[0], LineTooLong)
    assert session.lines[1:] == [b"NEXT"]


async def test_frames_that_make_no_line_cost_flood_control_a_line_each(tmp_path: Path) -> None:
    # Issue 20, eighth probe: millions of empty frames, fragments or pings cost parsing
    # and memory but never met flood control.
    driver = WebDriver(tmp_path / "web", Limits(flood_burst=10, flood_rate=1))
    browser, session = open_websocket(driver)
    assert session is not None
    browser.send(Opcode.TEXT, b"x", fin=False)
    for _ in range(20):
        browser.send(Opcode.CONT, b"", fin=False)
    browser.send(Opcode.CONT, b"y")
    browser.text("NEXT")
    # The burst is spent: the message and NEXT wait, and reading is paused.
    assert session.lines == []
    assert not browser.transport.reading


async def test_a_frame_past_four_lines_closes_with_1009(driver: WebDriver) -> None:
    browser, session = open_websocket(driver)
    assert session is not None
    browser.text("x" * (LONGEST * 4 + 1))
    assert session.lines == []
    (frame,) = browser.read()
    assert frame.opcode is Opcode.CLOSE
    assert Close.parse(frame.data).code == CloseCode.MESSAGE_TOO_BIG
    await browser.transport.changes.until(lambda: browser.transport.lost)
    assert session.lost == ["WebSocket protocol error"]


async def test_a_ping_frame_is_answered_with_a_pong(driver: WebDriver) -> None:
    browser, _ = open_websocket(driver)
    browser.send(Opcode.PING, b"are you there")
    (frame,) = await browser.written()
    assert (frame.opcode, bytes(frame.data)) == (Opcode.PONG, b"are you there")


async def test_an_unmasked_frame_fails_the_connection_with_1002(driver: WebDriver) -> None:
    browser, session = open_websocket(driver)
    assert session is not None
    browser.connection.data_received(b"\x81\x04PING")
    (frame,) = browser.read()
    assert Close.parse(frame.data).code == CloseCode.PROTOCOL_ERROR
    await browser.transport.changes.until(lambda: browser.transport.lost)
    assert session.lost == ["WebSocket protocol error"]


# -- closing and the SendQ ---------------------------------------------------------------


async def test_the_clients_close_is_answered_and_the_session_ends(driver: WebDriver) -> None:
    browser, session = open_websocket(driver)
    assert session is not None
    browser.send(Opcode.CLOSE, b"")
    (frame,) = browser.read()
    assert Close.parse(frame.data).code == CloseCode.NORMAL_CLOSURE
    await browser.transport.changes.until(lambda: browser.transport.lost)
    assert session.lost == ["Connection closed"]


async def test_a_closing_session_says_its_last_line_then_closes_the_websocket(
    driver: WebDriver, harness: Harness
) -> None:
    browser, _ = open_websocket(driver, make_session=irc(harness))
    browser.text("QUIT :bye")
    frames = browser.read()
    assert [f.opcode for f in frames] == [Opcode.TEXT, Opcode.CLOSE]
    assert bytes(frames[0].data).startswith(b"ERROR :Closing link")
    assert Close.parse(frames[1].data).code == CloseCode.NORMAL_CLOSURE
    assert browser.transport.closing


async def test_a_client_that_stops_reading_is_cut_at_its_sendq(tmp_path: Path) -> None:
    driver = WebDriver(tmp_path / "web", Limits(sendq=4096))
    browser, session = open_websocket(driver)
    assert session is not None
    browser.transport.stalled = True
    for _ in range(10):
        session.send(b"x" * 1000 + b"\r\n")
    await browser.transport.changes.until(lambda: browser.transport.lost)
    assert browser.transport.aborted
    assert session.lost == ["SendQ exceeded"]


async def test_flood_control_holds_lines_past_the_burst(tmp_path: Path) -> None:
    driver = WebDriver(tmp_path / "web", Limits(flood_burst=2, flood_rate=50.0))
    browser, session = open_websocket(driver)
    assert session is not None
    browser.text("1", "2", "3", "4")
    assert session.lines == [b"1", b"2"]
    assert not browser.transport.reading
    await session.changes.until(lambda: len(session.lines) == 4)
    gap = session.handled_at[3] - session.handled_at[1]
    assert gap >= 2 / 50.0 - 0.001
    await browser.transport.changes.until(lambda: browser.transport.reading)


async def test_the_registration_timeout_runs_on_a_websocket(tmp_path: Path) -> None:
    driver = WebDriver(tmp_path / "web", Limits(registration_timeout=0.05))
    _, session = open_websocket(driver)
    assert session is not None
    async with sweeping(driver.connections):
        await session.changes.until(lambda: bool(session.closes))
    assert session.closes[0][0] == "Registration timeout"


async def test_a_bug_in_a_handler_costs_one_reply(driver: WebDriver) -> None:
    browser, session = open_websocket(driver)
    assert session is not None
    browser.text("BOOM")
    assert session.internal_errors == 1
    browser.text("NEXT")
    assert await browser.expect(2) == [b"internal error", b"NEXT"]


async def test_a_connection_from_the_test_net_is_shown_as_its_address(driver: WebDriver) -> None:
    _, session = open_websocket(driver)
    assert session is not None
    assert session.peer.shown_host == HOST
