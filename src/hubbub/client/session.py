"""The client's side of IRC for one connection: registration, capabilities, SASL, PING,
and turning what the user types into messages. No I/O: lines in, bytes out through
``send``.

Theory of operation
-------------------
On each (re)connection :meth:`IrcSession.connection_made` sends ``CAP LS 302``, ``PASS``
when a server password is set, ``NICK`` and ``USER``. A server that knows CAP holds
registration until ``CAP END``; one that does not answers 421 and goes on.

::

    CAP LS [*] ...   gather the offered capabilities until the last line (no "*")
      -> CAP REQ :wanted ∩ offered        or CAP END when none is wanted
    CAP ACK ...      enabled; if "sasl" is enabled and an account is configured:
      -> AUTHENTICATE PLAIN
         AUTHENTICATE +   -> AUTHENTICATE base64(account \\0 account@device \\0 password)
         904 once         -> AUTHENTICATE PLAIN again, as the bare account (a server
                             that does not name devices refuses account@device)
         903 / 904-907    -> CAP END (a failure is shown, registration goes on)
      else -> CAP END
    CAP NAK ...      -> CAP END
    433 / 432 / 437 before 001: try another nick (nick_, nick__, nick1, nick2, ...)
    001              registered: join the configured channels and those joined before a
                     lost connection
    376 / 422        the welcome burst is over (ISUPPORT has been read): on the first
                     registration with no channel to join, join the server's lobby
                     (``hubbub/LOBBY``) if it names one, else say how to join one.
                     Logged in, the connection may have been attached to its account's
                     user already there (multiclient), whose channels come as JOINs
                     after the MOTD: PING first, and on its PONG, show the first of
                     those, or go to the lobby if there are none.

Once registered, every message goes to :class:`~hubbub.client.state.ChatState`, and after
each own JOIN, or as a private chat opens, the session asks for its recent history when
the server offers ``draft/chathistory``; logged in, it asks which private chats had
messages while it was away (:mod:`hubbub.client.history`). With ``draft/read-marker``,
what the user has seen on screen is told with MARKREAD (:meth:`IrcSession.seen`), and a
MARKREAD from the server (another device read there) clears what it covers of the unread
counts.
"""

from __future__ import annotations

import base64
import ipaddress
import logging
from collections.abc import Callable
from typing import Final

from hubbub.client import commands, history, incoming
from hubbub.client.config import Network
from hubbub.client.state import (
    COUNTED,
    SERVER,
    BufferKind,
    ChatState,
    Focus,
    Joined,
    LineKind,
    Update,
)
from hubbub.client.text import clean, decode, split_utf8
from hubbub.wire import numerics as n
from hubbub.wire.casemap import Key
from hubbub.wire.errors import LineTooLong, ProtocolError
from hubbub.wire.lines import LineBuffer
from hubbub.wire.message import Message, encode, parse

logger = logging.getLogger(__name__)

ERR_UNAVAILRESOURCE: Final = "437"
ERR_NICKLOCKED: Final = "902"

# Capabilities the client understands, in the order it asks for them.
WANTED: Final = (
    "server-time",
    "echo-message",
    "message-tags",
    "batch",
    "labeled-response",
    "away-notify",
    "multi-prefix",
    "extended-join",
    "cap-notify",
    "userhost-in-names",
    "draft/chathistory",
    "chathistory",
    "draft/metadata-3",
    "draft/read-marker",
    "sasl",
)
# IRCv3 message-tags: tags of up to 8191 bytes, then the 512 bytes of the message itself.
MAX_LINE: Final = 8191 + 512
_SASL_ENDS = frozenset(
    {
        n.RPL_SASLSUCCESS,
        n.ERR_SASLFAIL,
        n.ERR_SASLTOOLONG,
        n.ERR_SASLABORTED,
        n.ERR_SASLALREADY,
        ERR_NICKLOCKED,
    }
)
_SASL_CHUNK = 400  # IRCv3 SASL: "AUTHENTICATE ... split into 400-byte chunks"
# The PING whose PONG says the welcome burst, an attach's JOINs included, is over.
_LANDING = "hubbub-landing"


class IrcSession:
    """The IRC dialect for one network (see the module docstring).

    Args:
        network: where and as whom.
        state: the buffers; kept across reconnections.
    """

    def __init__(self, network: Network, state: ChatState) -> None:
        self.network = network
        self.state = state
        self._send: Callable[[bytes], None] = _nowhere
        self.offered: dict[str, str] = {}
        self.enabled: set[str] = set()
        self._ls_done = False
        self._cap_open = False
        self._nick_tries = 0
        self._logged_in = False
        self._bare_login = False  # the device was left out after a refusal
        # A login as account@device succeeded on this network: it names devices, and a
        # refusal is the password's (retrying bare counted a second failure).
        self._devices_named = False
        self._landing = False  # the PING of _LANDING is unanswered
        # The nick the user wants: asked for again on each connection.
        self.wanted_nick = network.nick
        # Channels that were joined when the connection was lost.
        self._rejoin: list[str] = []
        # Whether the first registration's channels are settled (configured, or the lobby).
        self._landed = False
        self._lines = LineBuffer(MAX_LINE)

    # -- the driver's side ------------------------------------------------------------

    def connection_made(self, send: Callable[[bytes], None]) -> list[Update]:
        """A new connection: start registration."""
        self._send = send
        self._lines = LineBuffer(MAX_LINE)
        self.offered.clear()
        self.enabled.clear()
        self._ls_done = False
        self._cap_open = True
        self._nick_tries = 0
        self._logged_in = self._bare_login = self._landing = False
        updates = self.state.connection_made()
        self.state.nick = self.wanted_nick
        self.send("CAP", "LS", "302")
        if self.network.server_password:
            self.send("PASS", self.network.server_password)
        self.send("NICK", self.wanted_nick)
        self.send("USER", self.network.username, "0", "*", self.network.realname)
        return updates

    def connection_lost(self, reason: str) -> list[Update]:
        self._send = _nowhere
        # Channels joined before the loss are joined again on the next connection.
        self._rejoin = [*self._rejoin, *self.state.joined_channels()]
        return self.state.connection_lost(reason)

    def receive_data(self, data: bytes) -> list[Update]:
        """Handle bytes from the server; return what changed for the view."""
        updates: list[Update] = []
        for line in self._lines.feed(data):
            updates += self.receive_line(line)
        return updates

    def submit(self, key: Key, text: str) -> list[Update]:
        """Handle a line the user typed in buffer ``key``."""
        updates = commands.submit(self, key, text)
        history.follow(self, updates)  # /query opens a private chat
        return updates

    def receive_line(self, line: bytes | LineTooLong) -> list[Update]:
        """Handle one line from the server; return what changed for the view."""
        if isinstance(line, LineTooLong):
            self.state.note("(an over-long line from the server was dropped)", SERVER)
            return self.state.take_updates()
        try:
            # Invalid UTF-8 is shown with replacement characters rather than dropped.
            message = parse(decode(line).replace("\0", "").encode())
        except ProtocolError:
            logger.debug("unreadable line %r", line[:200])
            return []
        return self.receive(message)

    def receive(self, message: Message) -> list[Update]:
        command = message.command
        if command == "PING":
            self.send("PONG", *message.params[:1])
        elif command == "CAP":
            self._cap(message)
        elif command == "AUTHENTICATE":
            self._authenticate(message)
        elif command in _SASL_ENDS:
            self._sasl_done(message)
        elif command in (n.ERR_NICKNAMEINUSE, n.ERR_ERRONEUSNICKNAME, ERR_UNAVAILRESOURCE):
            if not self.state.registered:
                self._next_nick(message)
        elif command == n.RPL_METADATASYNCLATER and len(message.params) > 1:
            self.send("METADATA", message.params[1], "SYNC")
        elif command == n.ERR_UNKNOWNCOMMAND and message.params[1:2] == ("CAP",):
            self._cap_open = False  # a server without CAP registers us anyway
            return []
        updates = incoming.receive(self.state, message)
        if command == n.RPL_WELCOME:
            self._registered()
            updates += self.state.take_updates()
        elif command in (n.RPL_ENDOFMOTD, n.ERR_NOMOTD) and not self._landed:
            if self._logged_in:
                self._landing = True
                self.send("PING", _LANDING)
            else:
                self._land()
                updates += self.state.take_updates()
        elif command == "PONG" and self._landing and message.params[-1:] == (_LANDING,):
            self._landing = False
            self._land()
            updates += self.state.take_updates()
        for update in updates:
            if isinstance(update, Joined):
                # The join says nothing of the modes; after a reconnection the old ones
                # would stay on show.
                self.send("MODE", update.name)
        history.follow(self, updates)
        return updates

    # -- output -----------------------------------------------------------------------

    def send(self, command: str, *params: str, tags: dict[str, str] | None = None) -> None:
        self._send(encode(Message(command, params, tags=tags or {})))

    def send_raw(self, text: str) -> bool:
        """Send a line typed by the user as it is; False if it is not an IRC message."""
        try:
            message = parse(text.encode())
        except ProtocolError:
            return False
        self._send(encode(message))
        return True

    def say(self, target: str, text: str, action: bool = False) -> None:
        """Send a message (or action) to a channel or nick, cut to fit IRC's line length."""
        command = "PRIVMSG"
        # What the server adds when relaying: ":nick!user@host PRIVMSG target :" and CRLF,
        # with room for a 63-byte host and a 10-byte user name.
        room = 512 - len(f":{self.state.nick}!{'u' * 10}@{'h' * 63} {command} {target} :\r\n")
        if action:
            room -= len("\x01ACTION \x01")
        for piece in split_utf8(text, max(room, 64)):
            payload = f"\x01ACTION {piece}\x01" if action else piece
            self.send(command, target, payload)
            if "echo-message" not in self.enabled:
                self.state.said(target, piece, LineKind.ACTION if action else LineKind.MESSAGE)

    # -- registration -----------------------------------------------------------------

    def _cap(self, message: Message) -> None:
        if len(message.params) < 3:
            return
        sub = message.params[1].upper()
        more = len(message.params) > 3 and message.params[2] == "*"
        listed = message.params[-1].split()
        if sub in ("LS", "NEW"):
            for item in listed:
                name, _, value = item.partition("=")
                self.offered[name] = value
            if sub == "LS" and more:
                return
            wanted = [cap for cap in WANTED if cap in self.offered and cap not in self.enabled]
            if "sasl" in wanted and not (self.network.account and self.network.password):
                wanted.remove("sasl")
            elif "sasl" in wanted and not _may_send_password(self.network):
                wanted.remove("sasl")
                self.state.note(
                    "Not logging in: the password would cross the network unencrypted "
                    "(use ircs://).",
                    SERVER,
                    LineKind.ERROR,
                )
            if "draft/chathistory" in wanted and "chathistory" in wanted:
                wanted.remove("chathistory")
            if wanted:
                self.send("CAP", "REQ", " ".join(wanted))
            elif sub == "LS":
                self._cap_end()
        elif sub == "ACK":
            for name in listed:
                if name.startswith("-"):
                    self.enabled.discard(name[1:])
                else:
                    self.enabled.add(name)
            self.state.caps = frozenset(self.enabled)
            if "sasl" in listed and self._cap_open:
                self.send("AUTHENTICATE", "PLAIN")
            elif not more:
                self._cap_end()
        elif sub == "NAK":
            self._cap_end()
        elif sub == "DEL":
            self.enabled.difference_update(listed)
            self.state.caps = frozenset(self.enabled)

    def _cap_end(self) -> None:
        if self._cap_open:
            self._cap_open = False
            self.send("CAP", "END")

    def _authenticate(self, message: Message) -> None:
        if message.params[:1] != ("+",) or not self.network.account or not self.network.password:
            self.send("AUTHENTICATE", "*")
            return
        account = self.network.account
        # SASL PLAIN: authzid NUL authcid NUL password; the device rides on the authcid.
        name = account if self._bare_login else f"{account}@{self.network.device}"
        secret = f"{account}\0{name}\0{self.network.password}".encode()
        payload = base64.b64encode(secret).decode()
        chunks = [payload[i : i + _SASL_CHUNK] for i in range(0, len(payload), _SASL_CHUNK)]
        if len(payload) % _SASL_CHUNK == 0:
            chunks.append("+")  # an exact multiple of 400 ends with an empty chunk
        for chunk in chunks:
            self.send("AUTHENTICATE", chunk)

    def _sasl_done(self, message: Message) -> None:
        if (
            message.command == n.ERR_SASLFAIL
            and not self._bare_login
            and not self._devices_named
            and self._cap_open
        ):
            self._bare_login = True
            self.send("AUTHENTICATE", "PLAIN")
            return
        self._logged_in = message.command == n.RPL_SASLSUCCESS
        if self._logged_in and not self._bare_login:
            self._devices_named = True
        if not self._logged_in:
            text = clean(message.params[-1]) if message.params else "SASL failed"
            self.state.note(f"Login failed: {text}", SERVER, LineKind.ERROR)
        self._cap_end()

    def _next_nick(self, message: Message) -> None:
        """Registration: the nick was refused; ask for another."""
        self._nick_tries += 1
        base = self.network.nick
        if message.command == n.ERR_ERRONEUSNICKNAME:
            base = "guest"
        tries = self._nick_tries
        nick = base + "_" * tries if tries <= 2 else f"{base[:12]}{tries - 2}"
        if tries > 50:
            self.state.note("No free nick found; use /nick to choose one", SERVER, LineKind.ERROR)
            return
        taken = message.params[1] if len(message.params) > 1 else "?"
        self.state.note(f"Nick {taken} is taken; trying {nick}", SERVER)
        self.state.nick = nick
        self.send("NICK", nick)

    def _registered(self) -> None:
        self._cap_open = False
        if "draft/metadata-3" in self.enabled:
            # Display names of those sharing a channel come as they join or change.
            self.send("METADATA", "*", "SUB", "display-name")
        channels = list(dict.fromkeys([*self.network.join, *self._rejoin]))
        self._rejoin = []
        new = [name for name in channels if self.state.fold(name) not in self.state.buffers]
        if new:
            # The first configured channel is where the user lands on starting.
            self.state.focus_on_join.add(self.state.fold(new[0]))
        if channels:
            self._landed = True
            self.join(channels)
        history.registered(self, self._logged_in)

    def _land(self) -> None:
        """The first welcome burst ended with no channel asked for: go to the lobby."""
        self._landed = True
        lobby = self.state.support.lobby
        joined = self.state.joined_channels()
        if joined:
            # Joined by hand meanwhile, or attached to a user who is in these: show one.
            if self.state.active == SERVER:
                self.state.emit(Focus(self.state.fold(joined[0])))
            return
        if self.state.is_channel(lobby) and not any(c in lobby for c in " ,"):
            if self.state.active == SERVER:
                self.state.focus_on_join.add(self.state.fold(lobby))
            self.join([lobby])
        else:
            self.state.note(
                "You are in no channel yet: /join #name joins one, /list shows them, "
                "F1 lists every command and key.",
                SERVER,
            )

    def join(self, channels: list[str], keys: list[str] | None = None) -> None:
        """Send JOIN, several channels per line while they fit."""
        batch: list[str] = []
        for channel in channels:
            if batch and len(",".join([*batch, channel])) > 400:
                self.send("JOIN", ",".join(batch))
                batch = []
            batch.append(channel)
        if batch:
            self.send("JOIN", ",".join(batch), *([",".join(keys)] if keys else []))

    def seen(self, key: Key) -> None:
        """The user has the end of buffer ``key`` on screen: it was read up to its last
        message. With draft/read-marker the server is told, and tells the account's
        other devices."""
        buffer = self.state.buffer(key)
        if buffer is None or buffer.kind is BufferKind.SERVER:
            return
        marking = "draft/read-marker" in self.enabled
        if marking and not self.state.registered:
            return  # told once registered again, at the next line seen
        lines = reversed(buffer.lines)
        last = next((line for line in lines if line.kind in COUNTED and line.dated), None)
        if last is None or (buffer.read_to is not None and last.time <= buffer.read_to):
            return
        # Kept without read-marker too: a private chat's history, fetched again after a
        # reconnection, is unread only past it.
        buffer.read_to = last.time
        if marking:
            self.send("MARKREAD", buffer.name, "timestamp=" + history.timestamp(last.time))


def _nowhere(data: bytes) -> None:
    logger.debug("not connected; dropped %r", data[:100])


def _may_send_password(network: Network) -> bool:
    """A password goes only over TLS, or to this machine."""
    if network.tls:
        return True
    try:
        return ipaddress.ip_address(network.host).is_loopback
    except ValueError:
        return network.host == "localhost"
