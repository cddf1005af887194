"""What every asyncio driver of a door does with the lines it has framed: flood control,
commands that wait for storage, output coalescing, the SendQ, timers, and the single
catch-all that keeps one connection's failure from reaching the rest of the server.

Two drivers build on :class:`Connection`: lines over TCP and TLS (:mod:`.connection`) and
WebSocket messages (:mod:`.web`). A pass's output (a channel message's too, appended by
``doors/irc/audience.py``) waits in each connection's Outbox, written in one system
call as the pass ends by :class:`~hubbub.doors.output.OutputBatcher`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import math
from collections import deque
from collections.abc import Awaitable, Callable, Iterator, Sequence

from hubbub.doors.addresses import peer_host
from hubbub.doors.gate import Gate
from hubbub.doors.output import PUSH_AT, drop_later, pushes, set_nodelay, until_read
from hubbub.doors.ports import (
    Batcher,
    ConnectionLog,
    DoorLimits,
    Outbox,
    Roster,
    Session,
    SessionFactory,
    flood_cost,
    shown_host,
)
from hubbub.doors.tls import certificate_fingerprint
from hubbub.wire.errors import LineTooLong
from hubbub.wire.redact import redact

logger = logging.getLogger(__name__)
_ids = itertools.count(1)


class Connection(asyncio.Protocol):
    """One client connection carrying lines to and from a door's session.

    A subclass frames the bytes: it calls :meth:`_admit` and :meth:`_begin` when the
    client may talk, hands each line read to :meth:`_handle`, and may frame output
    by overriding :meth:`send` (and the closing by :meth:`_end`).

    Args:
        make_session: builds the door's session for this connection.
        limits: the bounds to apply (read when the connection opens).
        batcher: the server's shared output batcher.
        registry: live connections, for shutdown and timers (entered while open).
        gate: admission by address, shared by the server's connections.
        nodelay: keep TCP_NODELAY (asyncio sets it), else adapt it (see output.py).
    """

    __slots__ = (
        "_batcher",
        "_close_reason",
        "_dead",
        "_drain_handle",
        "_flood_limited",
        "_gate",
        "_host",
        "_inbox",
        "_last_read",
        "_limits",
        "_make_session",
        "_nodelay",
        "_opened_at",
        "_paused",
        "_pinged_at",
        "_pushing",
        "_refilled",
        "_registry",
        "_session",
        "_tokens",
        "_transport",
        "_waiting",
        "certfp",
        "deadline",
        "debug",
        "id",
        "info",
        "outbox",
        "secure",
    )

    def __init__(
        self,
        make_session: SessionFactory,
        limits: DoorLimits,
        batcher: Batcher,
        registry: Roster[Connection],
        gate: Gate,
        nodelay: bool = True,
    ) -> None:
        self._make_session = make_session
        self._nodelay = nodelay
        self._limits = limits
        self._batcher = batcher
        self._registry = registry
        self._gate = gate
        self._host: str | None = None
        self.secure = False
        self.certfp: str | None = None
        # Flood control: a token bucket of lines; what exceeds it waits in the inbox
        # while reading from the socket is paused.
        self._flood_limited = False
        self._tokens: float = limits.flood_burst  # an int: small ones are shared objects
        self._refilled = 0.0
        # Created only when a client outruns flood control.
        self._inbox: deque[bytes | LineTooLong | int] | None = None
        self._paused = False
        self._drain_handle: asyncio.TimerHandle | None = None
        # A command waiting for storage: its client's next lines wait in the inbox.
        self._waiting: asyncio.Task[None] | None = None
        self._transport: asyncio.Transport | None = None
        self._session: Session | None = None
        # Output of this loop pass, written at its end; the fan-out appends to it too.
        self.outbox = Outbox(self, limits.sendq)
        self._dead = False
        self._pushing = False
        # When the connection's timer (see _tick) is due, on the loop's clock; run by
        # Connections.keep_time.
        self.deadline = math.inf
        self._opened_at = 0.0
        self._last_read = 0.0
        self._pinged_at: float | None = None
        self._close_reason: str | None = None
        self.id = next(_ids)
        # Checked once: logging lines or connections must cost nothing when it is off.
        self.debug = logger.isEnabledFor(logging.DEBUG)
        self.info = logger.isEnabledFor(logging.INFO)

    @property
    def frames(self) -> Callable[[bytes], bytes] | None:
        """How output is framed: not at all for lines over TCP (see the WebSocket one)."""
        return None

    @property
    def log(self) -> ConnectionLog:  # made when needed: idle connections hold none
        return ConnectionLog(logger, {"conn": self.id}, quiet=not self.info)

    @property
    def shown_host(self) -> str:
        return shown_host(self._host or "unknown")

    # -- opening -----------------------------------------------------------------------

    def _take_transport(self, transport: asyncio.BaseTransport) -> str:
        """Keep the transport, and learn what it says of the client; returns its address."""
        self._transport = transport  # type: ignore[assignment]  # uvloop's: no subclass
        if not self._nodelay:
            set_nodelay(transport, False)
        # The SendQ is the transport's high-water mark: past it, pause_writing cuts off.
        transport.set_write_buffer_limits(high=self._limits.sendq)  # type: ignore[attr-defined]
        if transport.get_extra_info("ssl_object") is not None:
            self.secure, self.certfp = True, certificate_fingerprint(transport)
        return peer_host(transport.get_extra_info("peername"))

    def claim(self, host: str) -> None:
        """Own the place at the gate taken for ``host`` as it was accepted (doors/tls.py)."""
        self._host = host

    @property
    def made(self) -> bool:  # whether connection_made was called
        return self._transport is not None

    def _admit(self, host: str) -> bool:
        """Count the client's address at the gate, unless counted as accepted (claim);
        False past its connections (the caller refuses it in its dialect, and closes)."""
        trusted = self._gate.is_trusted(host)
        if self._host is None:
            if not self._gate.admit(host, trusted):
                self._gate.log_refusal(host)
                return False
            self._host = host
        if self.info and not trusted:  # a trusted proxy or bouncer brings many users
            self.info = self._gate.log_connection(host)
        self._flood_limited = not trusted and self._limits.flood_rate > 0
        return True

    def release(self) -> None:  # uncount the client's address at the gate
        if self._host is not None:
            self._gate.release(self._host, told=self._session is not None)  # see _begin
            self._host = None

    def _begin(self) -> None:
        """The client may talk: make its session and start its timers."""
        if self.info:
            self.log.info("connected from %s%s", self._host, " (TLS)" if self.secure else "")
        loop = asyncio.get_running_loop()
        self._opened_at = self._last_read = self._refilled = loop.time()
        self._session = self._make_session(self.send, self)
        self._gate.tell(self._host)
        self._schedule(min(self._limits.registration_timeout, self._limits.ping_interval))

    # -- input -------------------------------------------------------------------------

    def _handle(self, session: Session, lines: Sequence[bytes | LineTooLong | int]) -> None:
        if self._flood_limited or self._inbox or self._waiting is not None:
            if self._inbox is None:
                self._inbox = deque()
            self._inbox.extend(lines)
            self._drain()
            return
        for index, line in enumerate(lines):
            if session.closed or self._dead:
                break
            self._receive(session, line)  # type: ignore[arg-type]  # ints: flood control only
            if self._waiting is not None:
                self._inbox = deque(lines[index + 1 :])
                return

    def charge(self, session: Session, cost: int) -> None:
        """Input that made no line (WebSocket frames) costs ``cost`` lines all the same."""
        if self._flood_limited and not self._dead:
            self._handle(session, [cost])

    async def drained(self) -> None:
        """Return once the client has read all but a quarter of its SendQ (SAFELIST)."""
        await until_read(self.unread, self._limits.sendq // 4)

    def unread(self) -> int | None:  # what the client has yet to read (None: gone)
        transport = self._transport
        if self._dead or transport is None or transport.is_closing():
            return None
        return transport.get_write_buffer_size() + self.outbox.size

    def spend(self, cost: int) -> None:
        """A command that costs more than a line (WHO over every user) takes ``cost``
        lines more from flood control: the client's next lines wait for them."""
        if self._flood_limited:
            self._tokens -= cost

    def _receive(self, session: Session, line: bytes | LineTooLong) -> None:
        if self.debug:
            self.log.debug("< %r", line if isinstance(line, LineTooLong) else redact(line))
        try:  # _contained, inlined: a context manager per line cost a microsecond
            pending = session.receive_line(line)
        except Exception:
            self._failed("connection handler")
            return
        if pending is not None:
            self._wait_for(session, pending)

    @contextlib.contextmanager
    def _contained(self, what: str) -> Iterator[None]:
        """The one catch-all of a connection, around its handlers and its timer: a bug
        costs its client one reply, never the server or anybody else."""
        try:
            yield
        except Exception:
            self._failed(what)

    def _failed(self, what: str) -> None:
        self.log.exception("%s failed", what)
        session = self._session
        if session is not None and not session.closed:
            session.internal_error()

    def _wait_for(self, session: Session, pending: Awaitable[None]) -> None:
        """Stop reading this client until a waiting command is done, so its commands
        keep their order; everyone else goes on."""

        async def finish() -> None:
            with self._contained("connection handler"):
                await pending

        self._waiting = asyncio.get_running_loop().create_task(finish())
        self._waiting.add_done_callback(self._resume)
        if asyncio.iscoroutine(pending):  # a task cancelled before its start never ran it
            self._waiting.add_done_callback(lambda _: pending.close())
        assert self._transport is not None
        if not self._paused:
            self._paused = True
            self._transport.pause_reading()

    def _resume(self, task: asyncio.Task[None]) -> None:
        self._waiting = None
        if not self._dead:
            self._drain()

    def _drain(self) -> None:
        """Handle queued lines as fast as flood control allows; pause reading meanwhile."""
        self._drain_handle = None
        session = self._session
        transport = self._transport
        if session is None or transport is None or self._waiting is not None:
            return
        loop = asyncio.get_running_loop()
        limits = self._limits
        inbox = self._inbox
        while inbox:
            if session.closed or self._dead:
                inbox.clear()
                return
            if self._flood_limited and not session.exempt:
                now = loop.time()
                self._tokens = min(
                    float(limits.flood_burst),
                    self._tokens + (now - self._refilled) * limits.flood_rate,
                )
                self._refilled = now
                if self._tokens < 1:
                    if not self._paused:
                        self._paused = True
                        transport.pause_reading()
                        self._gate.tally.flood_throttled += 1
                    wait = (1 - self._tokens) / limits.flood_rate
                    self._drain_handle = loop.call_later(wait, self._drain)
                    return
                self._tokens -= flood_cost(inbox[0])
            line = inbox.popleft()
            if isinstance(line, int):
                continue  # input that made no line, only charged (see charge)
            self._receive(session, line)
            if self._waiting is not None:
                return
        # Keep no empty deque on an idle connection.
        self._inbox = None
        if self._paused and not self._dead:
            self._paused = False
            transport.resume_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        self._dead = True
        self.deadline = math.inf
        if self._drain_handle is not None:
            self._drain_handle.cancel()
        if self._waiting is not None:
            self._waiting.cancel()
        self._inbox = None
        admitted = self._host is not None
        self.release()
        self._registry.discard(self)
        reason = self._close_reason or (
            "Connection closed" if exc is None else f"Connection error: {exc}"
        )
        if self._session is not None:
            self._session.connection_lost(reason)
        if self.info and admitted:  # a refusal was logged (or counted) by the gate
            self.log.info("disconnected (%s)", reason)

    # -- output ------------------------------------------------------------------------

    def send(self, data: bytes) -> None:
        """Queue bytes for the client, to be written at the end of this loop pass."""
        if self._dead:
            return
        if self.debug:
            self.log.debug("> %r", redact(data))
        outbox = self.outbox
        if not outbox:
            batcher = self._batcher
            batcher.dirty.append(self)
            if not batcher.scheduled:
                batcher.schedule()
        outbox.append(data)
        outbox.size += len(data)
        if outbox.size > outbox.limit:
            self.overflow()

    def pause_writing(self) -> None:
        """The transport's buffer passed the SendQ: the client does not keep up, and is
        cut off, never paused (so asyncio's resume_writing, which does nothing, stays)."""
        if not self._dead:
            self._cut_off("SendQ exceeded")

    def flush(self) -> None:
        """Write what was queued during this loop pass (called by the batcher)."""
        # Outbox.take written out: one call more per write cost rooms 2-4 % of its CPU.
        outbox = self.outbox
        if not outbox:
            return
        data = outbox[0] if len(outbox) == 1 else b"".join(outbox)  # one: no copy
        outbox.clear()
        outbox.size = 0
        transport = self._transport
        if data and not self._dead and transport is not None:
            transport.write(data)
            if (  # most writes are small and unpushed: no call for them
                (self._pushing or len(data) >= PUSH_AT)
                and not self._nodelay
                and (pushing := pushes(len(data), self._pushing)) is not self._pushing
            ):
                self._pushing = set_nodelay(transport, pushing)

    def take_output(self) -> bytes:
        """This pass's output, taken to write later (see OutputBatcher)."""
        data = self.outbox.take()
        return b"" if self._dead or self._transport is None else data

    def overflow(self) -> None:
        """Past the SendQ in one pass: write now. What the client leaves unread stays in
        the transport, which cuts it off at the SendQ (its high-water mark); a client that
        reads keeps up. Sync history mode: nothing goes out unstored, so cut off now."""
        if self._batcher.holding:
            self._cut_off("SendQ exceeded")
        else:
            self.flush()

    def write_now(self, data: bytes, close: bool = False) -> None:  # taken earlier
        transport = self._transport
        if self._dead or transport is None or transport.is_closing():
            return
        if data:
            transport.write(data)
        if close:
            self._end()

    def close_transport(self) -> None:
        """Close once everything sent so far has been written."""
        if self._transport is None or self._transport.is_closing():
            return
        if self._batcher.holding:
            self._batcher.close_after_output(self)
            return
        self.flush()
        self._end()

    def _end(self) -> None:
        """Close after what the transport holds, or drop it if never read (drop_later)."""
        assert self._transport is not None
        self._transport.close()
        drop_later(self._transport)

    def _cut_off(self, reason: str) -> None:
        """Drop a client that cannot keep up, without waiting for it. This runs in
        someone else's fan-out: ``abort`` calls :meth:`connection_lost` on a later loop
        pass, so the quit is never announced while the hub iterates a channel."""
        self._dead = True
        self._close_reason = reason
        self._gate.tally.sendq_exceeded += 1
        self.outbox.take()
        self.log.warning("cut off: %s", reason)
        assert self._transport is not None
        # Not inside the transport's own write (pause_writing comes from there).
        asyncio.get_running_loop().call_soon(self._transport.abort)

    # -- timers ------------------------------------------------------------------------

    def _schedule(self, delay: float) -> None:
        self.deadline = asyncio.get_running_loop().time() + delay

    def deadline_passed(self) -> None:
        """The timer is due (called by :meth:`~hubbub.doors.registry.Connections.keep_time`)."""
        # Checked again later unless _tick says when: a failed tick keeps a timer too.
        self._schedule(self._limits.ping_interval)
        with self._contained("connection timer"):
            self._tick()

    def _tick(self) -> None:
        """Registration deadline, then PING after idleness and a deadline for any reply."""
        session = self._session
        if session is None or self._dead or session.closed:
            return
        limits = self._limits
        now = asyncio.get_running_loop().time()
        if not session.registered:
            left = self._opened_at + limits.registration_timeout - now
            if left <= 0:
                session.close("Registration timeout")
                return
            self._schedule(left)
            return
        if not session.keepalive:
            return
        # >=: the loop's clock can read the same for the PING and a quick reply (uvloop
        # keeps milliseconds); a read in the PING's own pass only delays the check.
        if self._pinged_at is not None and self._last_read >= self._pinged_at:
            self._pinged_at = None
        if self._pinged_at is None:
            idle = now - self._last_read
            if idle >= limits.ping_interval:
                session.ping()
                self._pinged_at = now
                self._schedule(limits.ping_timeout)
            else:
                self._schedule(limits.ping_interval - idle)
            return
        waited = now - self._pinged_at
        if waited >= limits.ping_timeout:
            session.close(f"Ping timeout: {int(now - self._last_read)} seconds")
            return
        self._schedule(limits.ping_timeout - waited)

    def abort(self) -> None:  # close at once, dropping unsent output
        if self._transport is not None:
            self._transport.abort()

    def shutdown(self, reason: str) -> None:
        """Close for a server shutdown: the session says goodbye in its dialect."""
        if self._session is not None and not self._session.closed:
            self._session.close(reason)
        elif self._transport is not None:
            self._transport.close()
