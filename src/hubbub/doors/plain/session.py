"""One plain-text client: the seed's dialect, in the same rooms as IRC.

Theory of operation
-------------------
The server asks for a name; the first line (or the text sent before a short pause, for
clients that send no newline) is the name. A taken or invalid name, or one that belongs
to an account (the plain door has no login), gets the reason and the prompt again. Once
named, the user is registered with the hub like any IRC user and joins the default room.
From then on a line is said to the current room, or, starting with ``/``, is a command
(see :mod:`hubbub.doors.plain.commands`); events from the hub come back as short readable
lines (see :mod:`hubbub.doors.plain.render`). Every line sent is cleaned of what could
drive the terminal, whoever wrote which part of it, and ends with a newline (see
:func:`hubbub.doors.plain.text.terminal_bytes`).
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from hubbub.accounts.passwords import verify_password
from hubbub.core.errors import ChatError
from hubbub.core.events import Event, Fact, Joined, MessageKind, MessagePosted, UserArrived
from hubbub.core.ports import StoreUnavailable
from hubbub.core.server_bans import QUIT_MESSAGES
from hubbub.doors.irc.commands.server import pass_throttle
from hubbub.doors.plain.commands import run
from hubbub.doors.plain.render import describe, refusal_text, speech
from hubbub.doors.plain.text import clean, split_text, terminal_bytes
from hubbub.wire.errors import LineTooLong

if TYPE_CHECKING:
    from hubbub.core.model import Channel, User
    from hubbub.doors.plain.context import PlainContext
    from hubbub.doors.ports import Peer, RecentHistory

logger = logging.getLogger(__name__)

# A plain message is cut into several so that each relayed IRC line
# ":nick!user@host PRIVMSG target :text\r\n" stays within the line length: this is the
# punctuation and the command.
_PRIVMSG_FRAME = len(": PRIVMSG  :\r\n")
_USERNAME_JUNK = re.compile(r"[^A-Za-z0-9._-]")


class PlainSession:
    """The plain dialect for one connection (see the module docstring).

    Args:
        ctx: what all plain sessions of the server share.
        send: writes bytes to the client.
        close: closes the connection once what was sent is flushed.
        peer: the client's address.
    """

    keepalive = False  # plain clients cannot answer PING
    # Channel messages reach a plain user through deliver, worded for its room.
    audience = None
    outbox = None

    __slots__ = (
        "admitted",
        "closed",
        "ctx",
        "held",
        "host",
        "peer",
        "quiet_join",
        "room",
        "send",
        "user",
    )

    def __init__(
        self,
        ctx: PlainContext,
        send: Callable[[bytes], None],
        peer: Peer,
    ) -> None:
        self.ctx = ctx
        self.send = send
        self.host = peer.shown_host
        self.peer = peer
        self.user: User | None = None
        self.room: str | None = None
        self.closed = False
        # While the backlog is read: what arrived live meanwhile, each with its msgid
        # ("" for what is not a message), to be shown after the backlog (see show_backlog).
        self.held: list[tuple[str, bytes]] | None = None
        # The join the user is not told of (into the default room, said by the welcome).
        self.quiet_join = False
        # A server with a password asks for it first, on every door.
        self.admitted = ctx.password is None
        ctx.tally.connections["plain"] += 1
        ctx.tally.sessions["plain"] += 1
        self.prompt()

    # -- the driver's side -------------------------------------------------------------

    @property
    def log(self) -> logging.LoggerAdapter[logging.Logger]:
        return self.peer.log

    @property
    def registered(self) -> bool:
        return self.user is not None

    @property
    def exempt(self) -> bool:
        return False

    def ping(self) -> None:
        """Plain clients have no PING."""

    def internal_error(self) -> None:
        self.tell(self.ctx._("Something went wrong on the server; please try again."))

    def receive_line(self, line: bytes | LineTooLong) -> Awaitable[None] | None:
        """Handle one line; the name, once accepted, returns the wait for the room's
        recent history (the driver holds the client's next lines until it is shown)."""
        if self.closed:
            return None
        if isinstance(line, LineTooLong):
            self.tell(self.ctx._("Your line was too long and was not sent."))
            if self.user is None:
                self.prompt()
            return None
        raw = line.decode("utf-8", "replace")
        if not self.admitted:
            self.receive_password(raw.strip())
            return None
        text = clean(raw).strip()
        if self.user is None:
            return self.receive_name(text)
        if not text:
            return None
        if text.startswith("/") and not text.startswith("//"):
            run(self, text)
        else:
            self.say(text.removeprefix("/"))
        # Between nodes, as the IRC door does: the next line waits until this one's
        # facts are back from the bus, so a client has one line's facts waiting at most.
        settled = self.ctx.hub.settled
        return None if settled is None else settled()

    def connection_lost(self, reason: str) -> None:
        self.closed = True
        self.ctx.tally.sessions["plain"] -= 1
        if self.user is not None:
            user, self.user = self.user, None
            self.ctx.hub.quit(user, reason)

    def spend(self, cost: int) -> None:
        self.peer.spend(cost)

    def close(self, reason: str) -> None:
        """Leave the chat, say why in the user's language, and close."""
        if self.closed:
            return
        if self.user is not None:
            user, self.user = self.user, None
            self.ctx.hub.quit(user, reason)
        held, self.held = self.held, None
        if held:
            self.send(b"".join(data for _, data in held))
        self.tell(self.ctx._(reason))
        self.closed = True
        self.peer.close_transport()

    # -- output ------------------------------------------------------------------------

    def tell(self, *lines: str) -> None:
        """Send lines of text, cleaned, each ending with a newline."""
        self.send(terminal_bytes(lines))

    def prompt(self) -> None:
        if not self.admitted:
            self.tell(self.ctx._("This server has a password. Password: "))
            return
        self.tell(self.ctx._("Enter your name: "))

    def receive_password(self, password: str) -> None:
        """The server password, as IRC's PASS is checked: throttled per address, shared
        with the IRC door's."""
        required = self.ctx.password
        assert required is not None
        throttle = pass_throttle(self.ctx.hub)
        throttled = throttle.wait(self) > 0
        if throttled or not verify_password(password, required):
            throttle.fail(self, checked=not throttled)
            self.close("Wrong password.")
            return
        throttle.succeed(self)
        self.admitted = True
        self.prompt()

    # -- input -------------------------------------------------------------------------

    def receive_name(self, name: str) -> Awaitable[None] | None:
        _ = self.ctx._
        hub = self.ctx.hub
        if not name:
            self.tell(_("The name cannot be empty."))
            self.prompt()
            return None
        if self.refuse_owned(name):
            self.prompt()
            return None
        username = "~" + (_USERNAME_JUNK.sub("", name)[:10] or "plain")
        ban = self.ctx.bans.user_ban(username, self.host, None)
        if ban is not None:
            self.tell(_("You are banned from this server: {reason}").format(reason=ban.reason))
            self.close(QUIT_MESSAGES[ban.kind])
            return None
        try:
            hub.register(name, username, self.host, name, self)
        except ChatError as error:
            self.tell(refusal_text(self.ctx, error))
            self.prompt()
            return None
        settled = hub.settled
        if settled is None:
            # One node: the user arrived (see arrived) before register returned, and
            # will be in the room before join returns.
            self.join(self.ctx.room, announce_self=False)
            return self._welcome()
        return self._enter_between_nodes(settled)

    async def _enter_between_nodes(self, settled: Callable[[], Awaitable[None] | None]) -> None:
        """What registration does on one node, each step once the last one's facts are
        back from the bus (docs/design/cluster.md)."""
        arrival = settled()
        if arrival is not None:
            await arrival
        if self.user is None or self.closed:
            return
        self.join(self.ctx.room, announce_self=False)
        joined = settled()
        if joined is not None:
            await joined
        backlog = self._welcome()
        if backlog is not None:
            await backlog

    def _welcome(self) -> Awaitable[None] | None:
        """Say who and where the user is; return the wait for the room's backlog."""
        user = self.user
        if user is None or self.closed:
            return None
        self.ctx.tally.registrations["plain"] += 1
        if logger.isEnabledFor(logging.INFO):
            self.log.info("registered as %s (plain)", user.mask)
        self.tell(
            self.ctx._("Welcome, {name}! You are in {room}. Type /help for commands.").format(
                name=user.nick, room=self.ctx.room
            )
        )
        if self.ctx.history is None or not self.ctx.backlog or self.room is None:
            return None
        return self.show_backlog(self.room)

    def refuse_owned(self, name: str) -> bool:
        """Whether ``name`` belongs to an account, telling the user so when it does.

        An IRC user may hold a registered nick for a grace period while they log in;
        the plain door has no login, so its users never get a registered name at all.
        """
        accounts = self.ctx.accounts
        if accounts is None or not accounts.is_registered(name):
            return False
        message = self.ctx._("The name {name} belongs to a registered account. Try another one.")
        self.tell(message.format(name=name))
        return True

    def show_backlog(self, room: str) -> Awaitable[None] | None:
        """The last lines said in a room, so a newcomer knows what is going on.

        What reaches the user live while the history is read waits until the backlog
        is shown, and a message that came both ways is shown once, live: the user reads
        one conversation in order. (A cut at the time of joining instead would trust the
        clock, and the store, to put each line on the right side of it.)
        """
        channel = self.ctx.hub.find_channel(room)
        history = self.ctx.history
        if channel is None or history is None:
            return None
        # Held from the join, not from when the read starts: a line said in between is
        # in the backlog too.
        self.held = []
        return self._show_backlog(channel, history)

    async def _show_backlog(self, channel: Channel, history: RecentHistory) -> None:
        try:
            try:
                recent = await history.before(channel.history_key, math.inf, self.ctx.backlog)
            except StoreUnavailable:
                return
            if not recent or self.closed:
                return
            live = {msgid for msgid, _ in self.held or () if msgid}
            lines = [self.ctx._("Recently in {room}:").format(room=channel.name)]
            for stored in recent:
                # Topic changes and reactions are kept for IRC clients that replay them.
                if stored.msgid in live or stored.kind not in ("PRIVMSG", "NOTICE"):
                    continue
                nick = stored.sender.split("!", 1)[0]
                kind = MessageKind(stored.kind)
                for text in stored.lines or (stored.text,):
                    shown = speech(nick, text, kind)
                    if shown is not None:
                        lines.append("  " + shown)
            if len(lines) > 1:
                self.tell(*lines)
        finally:
            held, self.held = self.held, None
            if held and not self.closed:
                self.send(b"".join(data for _, data in held))

    def join(self, room: str, announce_self: bool = True) -> None:
        """Join ``room``, or make it the current room if the user is in it already.

        The user is told when the join is delivered (:meth:`entered`): on one node
        before ``hub.join`` returns, between nodes a round trip later.
        """
        user = self.user
        assert user is not None
        self.quiet_join = not announce_self
        try:
            joined = self.ctx.hub.join(user, room)
        except ChatError as error:
            self.quiet_join = False
            self.tell(refusal_text(self.ctx, error))
            return
        if joined is not None:
            return  # told as it was delivered
        channel = self.ctx.hub.find_channel(room)
        if channel is not None and user in channel.members:
            self.entered(channel)  # in it already: now the current room

    def entered(self, channel: Channel) -> None:
        """The user is in ``channel``: it becomes the current room."""
        self.room = channel.name
        if self.quiet_join:
            self.quiet_join = False
            return
        self.tell(self.ctx._("You are now in {room}.").format(room=channel.name))
        if channel.topic is not None:
            self.tell(
                self.ctx._("Topic of {room}: {topic}").format(
                    room=channel.name, topic=channel.topic.text
                )
            )

    def forget_room(self, room: str) -> None:
        """After leaving ``room``: the current room becomes another one the user is in."""
        fold = self.ctx.hub.casemap.fold
        if self.room is None or fold(self.room) != fold(room):
            return
        user = self.user
        others = [c.name for c in user.channels.values() if c.key != fold(room)] if user else []
        self.room = others[0] if others else None

    def say(self, text: str, target: str | None = None) -> str | None:
        """Send text to a room or user, cut into pieces that fit an IRC line.

        Returns:
            the room or user as the server names it, once all of it was said; None
            when it was refused (the user has been told why).
        """
        user = self.user
        assert user is not None
        target = target or self.room
        if target is None:
            self.tell(self.ctx._("You are not in a room. Use /join #room."))
            return None
        room = self.ctx.line_length - _PRIVMSG_FRAME - len(user.mask.encode())
        room -= len(target.encode())
        for piece in split_text(text, max(room, 64)):
            try:
                _, event = self.ctx.hub.say(user, target, piece)
            except ChatError as error:
                self.tell(refusal_text(self.ctx, error))
                return None
            target = event.target
        return target

    # -- events ------------------------------------------------------------------------

    def deliver(self, event: Event) -> None:
        if self.closed:
            return
        if type(event) is Joined and self.user is not None and event.actor.id == self.user.id:
            channel = self.ctx.hub.find_channel(event.channel)
            if channel is not None:
                self.entered(channel)
            return
        if type(event) is MessagePosted:
            # A message reads the same for everyone whose current room is the same: it
            # is rendered once per room among the recipients, not once per recipient.
            cache = self.ctx.rendered
            if cache.event is not event:
                cache.event, cache.lines = event, {}
            data = cache.lines.get(self.room)
            if data is None:
                lines = describe(self, event)
                data = cache.lines[self.room] = terminal_bytes(lines)
            if not data:
                return
            if self.held is None:
                self.send(data)
            else:
                self.held.append((event.msgid, data))
            return
        lines = describe(self, event)
        if not lines:
            return
        if self.held is None:
            self.tell(*lines)
        else:
            self.held.append(("", terminal_bytes(lines)))

    def arrived(self, user: User) -> None:
        self.user = user

    def echo(self, event: MessagePosted) -> None:
        pass  # the terminal shows what its user typed

    def refused(self, fact: Fact, error: ChatError) -> None:
        """Another node gave the name out first (see Listener.refused)."""
        self.tell(refusal_text(self.ctx, error))
        if isinstance(fact, UserArrived):
            self.prompt()

    def network(self, reachable: bool) -> None:
        _ = self.ctx._
        self.tell(
            _("The network is back: what you sent meanwhile goes out now.")
            if reachable
            else _(
                "This server lost the rest of the network: what you send waits until it "
                "is back, and users on other servers are not heard meanwhile."
            )
        )

    def disconnect(self, reason: str) -> None:
        self.user = None
        self.close(reason)
