"""One IRC client's session: its lines read and dispatched through the command table,
registration completed, and the hub's events delivered.

Theory of operation
-------------------
A session is sans-I/O: the driver hands it lines with :meth:`receive_line` and it answers
through the ``send`` callable it was given; it never reads a socket or a clock itself.

A line is parsed, its verb looked up in the command table (:mod:`hubbub.doors.irc.table`),
the row's checks made (registered, parameters, operator, not yet registered), and its
handler called with the session (and the user, for commands of registered users); see
:meth:`IrcSession._run_command`. A refusal (:class:`ChatError`) from a handler becomes a
numeric to this client alone; any other exception goes up to the driver.

Registration is a state machine (:mod:`hubbub.doors.irc.registration`): the handlers of
NICK, USER and CAP move :attr:`IrcSession.registration`, and when one leaves it READY the
session completes registration right after that handler (:meth:`_complete_registration`).

A command tagged with a label (IRCv3 labeled-response) has its replies gathered by a
:class:`~hubbub.doors.irc.labels.ReplyCollector` until it is done, then sent labeled.

Once registered, the session is the user's :class:`~hubbub.core.model.Listener`: the hub
calls :meth:`deliver` with each event the user must see.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable

from hubbub.core.errors import ChatError, Reason
from hubbub.core.events import (
    AccountChanged,
    AwayChanged,
    Banned,
    ChannelRenamed,
    Event,
    Fact,
    Invited,
    Joined,
    MarkerMoved,
    MessageKind,
    MessagePosted,
    MessageRedacted,
    MetadataChanged,
    MonitoredOffline,
    MonitoredOnline,
    NickChanged,
    RealnameChanged,
    RegistrationChanged,
    UserArrived,
)
from hubbub.core.model import User
from hubbub.doors.irc.attach import complete_registration
from hubbub.doors.irc.caps import Variant
from hubbub.doors.irc.client import IrcClient
from hubbub.doors.irc.commands.accounts import guard_nick
from hubbub.doors.irc.commands.channels import joined, send_names, send_topic
from hubbub.doors.irc.commands.chanserv import refused_elsewhere
from hubbub.doors.irc.commands.messaging import say_quickly
from hubbub.doors.irc.commands.metadata import deliver_change, introduce_joiner
from hubbub.doors.irc.commands.metadata_early import arrive as arrive_with_metadata
from hubbub.doors.irc.labels import ReplyCollector, add_tags
from hubbub.doors.irc.registration import Registration, Step, advance
from hubbub.doors.irc.table import COMMANDS
from hubbub.doors.irc.welcome import send_welcome
from hubbub.doors.tally import irc_door
from hubbub.wire import numerics as n
from hubbub.wire.errors import EmptyMessage, InvalidUtf8, LineTooLong, ProtocolError
from hubbub.wire.message import Message, encode, encode_tags, parse

logger = logging.getLogger(__name__)
_TAGMSG = MessageKind.TAGMSG
# The capability that asks for each change to a user's facts.
_NOTIFY_CAPS: dict[type[Event], str] = {
    AwayChanged: "away-notify",
    RealnameChanged: "setname",
    AccountChanged: "account-notify",
}


class IrcSession(IrcClient):
    """The IRC dialect for one connection: what the driver hands lines to and the hub
    delivers events to.

    Args:
        ctx: what all sessions of the server share.
        send: writes bytes to the client.
        peer: the client's address, as shown in its hostmask, and its TLS details.
    """

    keepalive = True

    __slots__ = ()

    @property
    def exempt(self) -> bool:
        return self.user is not None and self.user.is_oper

    # -- input -------------------------------------------------------------------------

    def receive_line(self, line: bytes | LineTooLong) -> Awaitable[None] | None:
        """Handle one line from the client (or the notice that one was too long).

        Returns:
            an awaitable when the command must wait for storage; the driver reads no
            more from this client until it is done.
        """
        if self.closed:
            return None
        if isinstance(line, LineTooLong) or self._too_long(line):
            self.numeric(n.ERR_INPUTTOOLONG, "Input line was too long")
            return None
        user = self.user
        if user is not None and self.multiline is None and say_quickly(self, user, line):
            settled = self.hub.settled
            return None if settled is None else settled()
        try:
            message = parse(line)
        except InvalidUtf8 as error:
            # UTF8ONLY: "servers ... SHOULD reply with FAIL <command> INVALID_UTF8"
            self.message(
                "FAIL",
                error.command or "*",
                "INVALID_UTF8",
                "Message rejected, your message contained invalid UTF-8",
            )
            return None
        except EmptyMessage:
            # Modern IRC client protocol: empty messages are silently ignored.
            return None
        except ProtocolError as error:
            self.numeric(n.ERR_UNKNOWNERROR, "*", f"Malformed message: {error}")
            return None
        return self.dispatch(message)

    def _too_long(self, line: bytes) -> bool:
        limits = self.ctx.settings.limits
        body = line
        if line.startswith(b"@"):
            end = line.find(b" ")
            if end == -1:
                return len(line) - 1 > limits.tags_length
            # IRCv3 message-tags: a client's tag data is at most 4094 bytes, not counting
            # the leading "@" and the space after it.
            if end - 1 > limits.tags_length:
                return True
            body = line[end + 1 :]
        # line_length counts CR LF, which the line buffer already removed.
        return len(body) > limits.line_length - 2

    def dispatch(self, message: Message) -> Awaitable[None] | None:
        """Run a command, with its replies labeled if the client asked (labeled-response)."""
        open_batch = self.multiline
        if open_batch is not None and "batch" in message.tags:
            open_batch.collect(message)
            return None
        label = message.tags.get("label") if "labeled-response" in self.caps else None
        # A multiline batch carries its label to the BATCH line of its echo instead.
        if label is None or message.command == "BATCH":
            return self._run_command(message)
        collector = self.collector = ReplyCollector(label)
        try:
            pending = self._run_command(message)
        except BaseException:
            self.collector = None
            raise
        if pending is not None:
            # From now until the command is done, what the hub delivers comes from
            # others: the driver runs the rest later, other clients' lines first.
            collector.waiting = True
            return self._finish_labeled(collector, pending)
        self.collector = None
        self._send_labeled(collector)
        return None

    async def _finish_labeled(self, collector: ReplyCollector, pending: Awaitable[None]) -> None:
        try:
            await pending
        finally:
            self.collector = None
        self._send_labeled(collector)

    def _send_labeled(self, collector: ReplyCollector) -> None:
        self._write(collector.labeled(self.ctx.server_name, "batch" in self.caps, self.new_batch))

    def _run_command(self, message: Message) -> Awaitable[None] | None:
        """Look the command up, make its row's checks, then call its handler.

        Every command takes this path, PRIVMSG's included: a dict lookup, a few
        attribute checks, one call. Only a refusal (ChatError) is answered here; any
        other exception from a handler goes up to the driver as it is.
        """
        command = COMMANDS.get(message.command)
        user = self.user
        if command is None:
            if user is None:
                self.numeric(n.ERR_NOTREGISTERED, "You have not registered")
            else:
                self.numeric(n.ERR_UNKNOWNCOMMAND, message.command[:32], "Unknown command")
            return None
        if command.registered:
            if user is None:
                self.numeric(n.ERR_NOTREGISTERED, "You have not registered")
                return None
            if len(message.params) < command.min_params:
                self.numeric(n.ERR_NEEDMOREPARAMS, message.command, "Not enough parameters")
                return None
            if command.oper and not user.is_oper:
                self.refuse(ChatError(Reason.NO_PRIVILEGES))
                return None
            try:
                pending = command.handler(self, user, message)
            except ChatError as error:
                self.refuse(error)
                return None
        else:
            if len(message.params) < command.min_params:
                self.numeric(n.ERR_NEEDMOREPARAMS, message.command, "Not enough parameters")
                return None
            if command.before_registration and user is not None:
                self.numeric(n.ERR_ALREADYREGISTERED, "You may not reregister")
                return None
            try:
                pending = command.handler(self, message)
            except ChatError as error:
                self.refuse(error)
                pending = None
            # READY lasts no longer than the handler that reached it.
            if self.registration is Registration.READY:
                replay = self._complete_registration()
                if replay is not None and pending is None:
                    pending = replay
        settled = self.hub.settled
        if pending is None:
            if settled is None:
                return None
            # Between nodes the command's facts come back from the bus a round trip
            # later: the client's next line waits for them.
            waiting = settled()
            collector = self.collector
            if waiting is not None and collector is not None and self.user is not None:
                collector.own = self.user.id
            return waiting
        return self._refusing(pending)

    async def _refusing(self, pending: Awaitable[None]) -> None:
        """An async handler, with its refusals answered like those of the others."""
        try:
            await pending
        except ChatError as error:
            self.refuse(error)
        settled = self.hub.settled
        waiting = None if settled is None else settled()
        if waiting is not None:
            await waiting

    # -- registration ------------------------------------------------------------------

    def _complete_registration(self) -> Awaitable[None] | None:
        """NICK and USER have arrived and no CAP negotiation holds them (READY): see
        :func:`~hubbub.doors.irc.attach.complete_registration`."""
        return complete_registration(self)

    def echo(self, event: MessagePosted) -> None:
        label = None
        if event.parts:  # a multiline batch: its echo answers the batch's label
            label, self.echo_label = self.echo_label, None
        if "echo-message" not in self.caps or self.closed:
            return
        line = self.ctx.cache.line(event, self.variant)
        if label is not None:
            line = add_tags(line, encode_tags({"label": label}).encode())
        self.send(line)

    def refused(self, fact: Fact, error: ChatError) -> None:
        """Another node gave the nick out first, or registered the channel first (see
        Listener.refused)."""
        if isinstance(fact, RegistrationChanged):
            refused_elsewhere(self, error)
            return
        self.refuse(error)
        if isinstance(fact, UserArrived):
            self.nick = None
            self.registration = advance(self.registration, Step.NICK_REFUSED)

    def arrived(self, user: User) -> None:
        """The user is in the chat: the welcome, and what follows it."""
        self.user = user
        self.registration = advance(self.registration, Step.COMPLETED)
        if self.account_id is not None and self.account_markers is not None:
            self.hub.load_markers(self.account_id, self.account_markers)
        self.account_markers = None
        if self.account_profile:
            self.hub.load_metadata(user, self.account_profile)
        self.account_profile = None
        self.uncount()
        self.ctx.tally.registrations[irc_door(self.peer)] += 1
        if logger.isEnabledFor(logging.INFO):
            self.log.info("registered as %s", user.mask)
        send_welcome(self, user)
        arrive_with_metadata(self, user)
        guard_nick(self, user)

    # -- events from the hub -----------------------------------------------------------

    def deliver(self, event: Event) -> None:
        if self.closed:
            return
        if type(event) is MessagePosted:
            if event.kind is _TAGMSG and not self.variant & Variant.MESSAGE_TAGS:
                return
            # A message is never a reply, even one to oneself: it goes out as delivered,
            # and only its echo (echo-message) answers a labeled command. This is the
            # fan-out's hot path: the shared rendering is taken without a call when it
            # is there.
            cache = self.ctx.cache
            line = cache.lines.get(self.variant) if cache.event is event else None
            self._write(line or cache.line(event, self.variant))
            return
        match event:
            # MONITOR tells of nicks coming and going with numerics, not the event's line.
            case MonitoredOnline(actor):
                self.numeric(n.RPL_MONONLINE, actor.mask)
                return
            case MonitoredOffline(nick):
                self.numeric(n.RPL_MONOFFLINE, nick)
                return
            case MetadataChanged():
                deliver_change(self, event)
                return
            case AccountChanged(actor=who, account=None) if self.user and who.id == self.user.id:
                self.numeric(n.RPL_LOGGEDOUT, self.user.mask, "You are now logged out")
                return
            case Banned(reason=reason):
                self.numeric(n.ERR_YOUREBANNEDCREEP, f"You are banned from this server: {reason}")
                return
            case ChannelRenamed() if "draft/channel-rename" not in self.caps:
                self._rejoin_renamed(event)
                return
        if not self._shown(event):
            return
        line = self.ctx.cache.line(event, self.variant)
        collector = self.collector
        # During a labeled command, what it causes the hub to deliver to this client
        # (its own JOIN, NICK, MODE …) is part of its reply; while it waits for storage,
        # what others do is not; while it waits for the bus, its user's facts are.
        if collector is None or (collector.waiting and not _own_fact(collector, event)):
            self._write(line)
        else:
            collector.add(line)
        me = self.user
        if me is None:
            return
        if type(event) is Joined and event.actor.id == me.id:
            channel = self.hub.find_channel(event.channel)
            if channel is not None:
                joined(self, me, channel)
        elif type(event) is Joined:
            introduce_joiner(self, event)
        elif type(event) is NickChanged and event.actor.id == me.id:
            # As the change is applied (between nodes, a round trip after NICK).
            guard_nick(self, me)

    def _shown(self, event: Event) -> bool:
        """Whether this client is shown an event's line: those beyond plain IRC only
        when a capability asks for them."""
        match event:
            case AwayChanged() | RealnameChanged() | AccountChanged():
                if _NOTIFY_CAPS[type(event)] not in self.caps:
                    return False
                if self.user is not None and self.user.nick == event.actor.nick:
                    return True
                # Heard through MONITOR rather than a shared channel: extended-monitor.
                return "extended-monitor" in self.caps or self._shares_channel_with(
                    event.actor.nick
                )
            case Invited(nick=nick):
                me = self.user
                return me is not None and (me.nick == nick or "invite-notify" in self.caps)
            case MessageRedacted():
                return "draft/message-redaction" in self.caps
            case MarkerMoved():
                return "draft/read-marker" in self.caps
        return True

    def _rejoin_renamed(self, event: ChannelRenamed) -> None:
        """draft/channel-rename, for clients without it: leave the old name, join the new."""
        me = self.user
        channel = self.hub.find_channel(event.new)
        if me is None or channel is None:
            return
        reason = f"Channel renamed: {event.reason}" if event.reason else "Channel renamed"
        limit = self.ctx.settings.limits.line_length
        self.send(encode(Message("PART", (event.old, reason), me.mask), limit))
        self.send(encode(Message("JOIN", (event.new,), me.mask)))
        send_topic(self, channel, on_join=True)
        send_names(self, me, channel)

    def _shares_channel_with(self, nick: str) -> bool:
        other = self.hub.find_user(nick)
        me = self.user
        return (
            me is not None
            and other is not None
            and (me is other or not me.channels.keys().isdisjoint(other.channels.keys()))
        )

    def network(self, reachable: bool) -> None:
        self.message(
            "NOTICE",
            self.client,
            "The network is back: what you sent meanwhile goes out now."
            if reachable
            else "This server lost the rest of the network: what you send waits until it "
            "is back, and users on other servers are not heard meanwhile.",
        )

    def disconnect(self, reason: str) -> None:
        """Closing by the hub's order (KILL): the quit is already announced."""
        self.user = None
        self.close(reason)

    # -- the connection ----------------------------------------------------------------

    def connection_lost(self, reason: str) -> None:
        """The connection is gone; whatever remains of the user leaves the chat."""
        self.closed = True
        if self.user is not None:
            user, self.user = self.user, None
            caught_up = not reason.startswith("SendQ")
            self.hub.leave(user, self, reason, self.device, caught_up)
        self.uncount()
        self.ctx.tally.sessions[irc_door(self.peer)] -= 1

    def internal_error(self) -> None:
        """Tell the client its last command failed on our side, without details."""
        self.numeric(n.ERR_UNKNOWNERROR, "*", "Internal server error")

    def ping(self) -> None:
        """Ask an idle client to show it is still there."""
        self.message("PING", self.ctx.server_name)


def _own_fact(collector: ReplyCollector, event: Event) -> bool:
    """Whether ``event`` is a fact of the user whose command waits for the bus."""
    actor = getattr(event, "actor", None)
    return collector.own is not None and actor is not None and actor.id == collector.own
