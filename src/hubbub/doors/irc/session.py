"""One IRC client's session: registration, capability negotiation and dispatch.

Theory of operation
-------------------
A session is sans-I/O: the driver hands it lines with :meth:`receive_line` and it answers
through the ``send`` callable it was given; it never reads a socket or a clock itself.

Registration (modern IRC client protocol, "Connection Registration")::

    NEW ──NICK/USER/PASS──▶ NEW (until NICK and USER are both known)
     │
     └──CAP LS / CAP REQ──▶ NEGOTIATING ──CAP END──▶ NEW
                                                      │ NICK, USER known, no negotiation
                                                      ▼
                                   password ok? ──no──▶ ERR_PASSWDMISMATCH, ERROR, closed
                                        │ yes
                                        ▼
                       hub.register ──nick taken──▶ ERR_NICKNAMEINUSE, back to NEW
                                        │
                                        ▼
                                   REGISTERED (welcome burst: 001-005, LUSERS, MOTD)

Once registered, the session is the user's :class:`~hubbub.core.events.Listener`: the hub
calls :meth:`deliver` with each event the user must see.
Any refusal by the hub (:class:`ChatError`) becomes a numeric to this client alone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from hubbub.core.errors import ChatError
from hubbub.core.events import Event
from hubbub.doors.irc.commands import load as _load_commands
from hubbub.doors.irc.replies import refusal
from hubbub.doors.irc.table import COMMANDS
from hubbub.wire import numerics as n
from hubbub.wire.errors import InvalidUtf8, LineTooLong, ProtocolError
from hubbub.wire.message import Message, encode, parse

if TYPE_CHECKING:
    from hubbub.core.model import User
    from hubbub.doors.irc.context import IrcContext

logger = logging.getLogger(__name__)
_load_commands()


class IrcSession:
    """The IRC dialect for one connection.

    Args:
        ctx: what all sessions of the server share.
        send: writes bytes to the client.
        close: closes the connection once what was sent is flushed.
        host: the client's address, as shown in its hostmask.
        log: a logger that names the connection.
    """

    __slots__ = (
        "_close",
        "cap_version",
        "caps",
        "closed",
        "counted",
        "ctx",
        "host",
        "log",
        "negotiating",
        "nick",
        "password",
        "realname",
        "send",
        "user",
        "username",
    )

    def __init__(
        self,
        ctx: IrcContext,
        send: Callable[[bytes], None],
        close: Callable[[], None],
        host: str,
        log: logging.LoggerAdapter[logging.Logger] | None = None,
    ) -> None:
        self.ctx = ctx
        self.send = send
        self._close = close
        # A host must not start with ":" or it would read as a trailing parameter.
        self.host = "0" + host if host.startswith(":") else host
        self.log = log or logging.LoggerAdapter(logger, {})
        self.user: User | None = None
        self.nick: str | None = None
        self.username: str | None = None
        self.realname = ""
        self.password: str | None = None
        self.caps: set[str] = set()
        self.cap_version = 0
        self.negotiating = False
        self.closed = False
        # Counted among LUSERS' unregistered connections until registered or closed.
        self.counted = True
        ctx.unregistered += 1

    # -- output ------------------------------------------------------------------------

    @property
    def registered(self) -> bool:
        return self.user is not None

    @property
    def client(self) -> str:
        """The first parameter of numerics: the client's nick, or ``*`` before it has one."""
        if self.user is not None:
            return self.user.nick
        return self.nick or "*"

    def numeric(self, code: str, *params: str) -> None:
        """Send a numeric reply to this client."""
        self.send(encode(Message(code, (self.client, *params), self.ctx.server_name)))

    def message(self, command: str, *params: str, source: str | None = None) -> None:
        """Send a command from the server, or from ``source`` ("" for none)."""
        origin = self.ctx.server_name if source is None else source or None
        self.send(encode(Message(command, params, origin)))

    def refuse(self, error: ChatError) -> None:
        code, params = refusal(error)
        self.numeric(code, *params)

    # -- input -------------------------------------------------------------------------

    def receive_line(self, line: bytes | LineTooLong) -> None:
        """Handle one line from the client (or the notice that one was too long)."""
        if self.closed:
            return
        if isinstance(line, LineTooLong) or self._too_long(line):
            self.numeric(n.ERR_INPUTTOOLONG, "Input line was too long")
            return
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
            return
        except ProtocolError as error:
            self.log.debug("unparsable line: %s", error)
            return
        self.dispatch(message)

    def _too_long(self, line: bytes) -> bool:
        limits = self.ctx.settings.limits
        body = line
        if line.startswith(b"@"):
            end = line.find(b" ")
            if end == -1 or end + 1 > limits.tags_length:
                return end != -1
            body = line[end + 1 :]
        # line_length counts CR LF, which the line buffer already removed.
        return len(body) > limits.line_length - 2

    def dispatch(self, message: Message) -> None:
        """Check a command's preconditions, then run its handler."""
        command = COMMANDS.get(message.command)
        if command is None:
            if self.user is None:
                self.numeric(n.ERR_NOTREGISTERED, "You have not registered")
            else:
                self.numeric(n.ERR_UNKNOWNCOMMAND, message.command, "Unknown command")
            return
        if command.registered and self.user is None:
            self.numeric(n.ERR_NOTREGISTERED, "You have not registered")
            return
        if len(message.params) < command.min_params:
            self.numeric(n.ERR_NEEDMOREPARAMS, message.command, "Not enough parameters")
            return
        if self.user is not None:
            self.user.last_active = (
                self.ctx.hub.clock() if message.command != "PING" else (self.user.last_active)
            )
        try:
            command.handler(self, message)
        except ChatError as error:
            self.refuse(error)

    # -- registration ------------------------------------------------------------------

    def try_register(self) -> None:
        """Finish registration if everything it needs has arrived."""
        if self.user is not None or self.negotiating or self.nick is None:
            return
        if self.username is None:
            return
        required = self.ctx.settings.password
        if required is not None:
            from hubbub.passwords import verify_password

            if self.password is None or not verify_password(self.password, required):
                self.numeric(n.ERR_PASSWDMISMATCH, "Password incorrect")
                self.close("Bad password")
                return
        try:
            self.user = self.ctx.hub.register(
                self.nick, self.username, self.host, self.realname, self
            )
        except ChatError as error:
            self.refuse(error)
            self.nick = None
            return
        self._uncount()
        self.log.info("registered as %s", self.user.mask)
        from hubbub.doors.irc.welcome import send_welcome

        send_welcome(self)

    # -- events from the hub -----------------------------------------------------------

    def deliver(self, event: Event) -> None:
        if self.closed:
            return
        self.send(self.ctx.cache.line(event))

    def disconnect(self, reason: str) -> None:
        """Closing by the hub's order (KILL): the quit is already announced."""
        self.user = None
        self.close(reason)

    # -- closing -----------------------------------------------------------------------

    def quit(self, reason: str) -> None:
        """Leave the server: announce the quit, then close with ERROR."""
        if self.user is not None:
            user, self.user = self.user, None
            self.ctx.hub.quit(user, reason)
        self.close(reason)

    def close(self, reason: str) -> None:
        """Send ERROR and close the connection."""
        if self.closed:
            return
        self.message(
            "ERROR", f"Closing link: ({self.username or '*'}@{self.host}) [{reason}]", source=""
        )
        self.closed = True
        self._uncount()
        self._close()

    def connection_lost(self, reason: str) -> None:
        """The connection is gone; whatever remains of the user leaves the chat."""
        self.closed = True
        if self.user is not None:
            user, self.user = self.user, None
            self.ctx.hub.quit(user, reason)
        self._uncount()

    def _uncount(self) -> None:
        if self.counted:
            self.counted = False
            self.ctx.unregistered -= 1

    def internal_error(self) -> None:
        """Tell the client its last command failed on our side, without details."""
        self.numeric(n.ERR_UNKNOWNERROR, "*", "Internal server error")

    def ping(self) -> None:
        """Ask an idle client to show it is still there."""
        self.message("PING", self.ctx.server_name)
