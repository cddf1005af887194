"""One IRC client as command handlers see it: who it is, how far it has registered,
what it negotiated, what it has under way, and the ways to reply to it.

:class:`IrcClient` is the part of the session that imports no handler, so that handlers
can import it; :class:`~hubbub.doors.irc.session.IrcSession` adds what reads the
client's lines (the command table) and what the hub delivers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from hubbub.doors.irc.caps import Variant, shared, variant_of
from hubbub.doors.irc.registration import Registration
from hubbub.doors.irc.replies import refusal
from hubbub.doors.tally import irc_door
from hubbub.wire.message import Message, encode

if TYPE_CHECKING:
    from hubbub.core.errors import ChatError
    from hubbub.core.hub import Hub
    from hubbub.core.model import Listener, User
    from hubbub.doors.irc.audience import IrcAudience
    from hubbub.doors.irc.context import IrcContext
    from hubbub.doors.irc.exchanges import OpenBatch, SaslAttempt
    from hubbub.doors.irc.labels import ReplyCollector
    from hubbub.doors.irc.nick_guards import NickGuard
    from hubbub.doors.ports import Peer

# One shared empty set (each frozenset() call makes a new object).
NO_CAPS: frozenset[str] = frozenset()


class IrcClient:
    """The state of one IRC connection and the replies sent to it.

    Args:
        ctx: what all sessions of the server share.
        send: writes bytes to the client.
        peer: the client's address, as shown in its hostmask, and its TLS details.
    """

    __slots__ = (
        "_batches",
        "_write",
        "account",
        "account_id",
        "account_markers",
        "account_profile",
        "audience",
        "cap_version",
        "caps",
        "closed",
        "collector",
        "counted",
        "ctx",
        "device",
        "echo_label",
        "host",
        "hub",
        "metadata_budget",
        "metadata_pending",
        "metadata_subs",
        "multiline",
        "nick",
        "nick_guard",
        "outbox",
        "password",
        "peer",
        "realname",
        "registration",
        "renamed_from",
        "requested_nick",
        "sasl",
        "user",
        "username",
        "variant",
    )

    def __init__(
        self,
        ctx: IrcContext,
        send: Callable[[bytes], None],
        peer: Peer,
    ) -> None:
        self.ctx = ctx
        # The chat, which handlers act on; it stays for the server's life.
        self.hub: Hub = ctx.hub
        self._write = send
        # The replies of the labeled command being run, if one is (labeled-response).
        self.collector: ReplyCollector | None = None
        self.host = peer.shown_host
        self.peer = peer
        # Set once registration completes: then, and only then, ``registration`` is
        # REGISTERED (until the session closes).
        self.user: User | None = None
        self.registration = Registration.NEW
        self.nick: str | None = None
        # The grace whose take-back this connection waits for (see guard_nick).
        self.nick_guard: NickGuard | None = None
        # The registered nick it was renamed away from, and the Guest nick it was given:
        # logging in to that account gives it back.
        self.renamed_from: tuple[str, str] | None = None
        # The last nick asked for, accepted or not (REGISTER * before connecting).
        self.requested_nick: str | None = None
        # The label of a multiline batch sent, for its echo (see IrcSession.echo).
        self.echo_label: str | None = None
        # The device the client named (SASL ``account@device``): its own read position.
        self.device: str | None = None
        self.username: str | None = None
        self.realname = ""
        self.password: str | None = None
        # Immutable and shared while empty: many clients never negotiate.
        self.caps: frozenset[str] = NO_CAPS
        self.variant = Variant.PLAIN
        # How channel messages reach this client without a call (see audience.py): a
        # connection whose traffic is logged takes every line through send instead.
        self.outbox = peer.outbox
        self.audience: IrcAudience | None = None
        self._find_audience()
        self._batches = 0
        self.cap_version = 0
        self.multiline: OpenBatch | None = None
        # draft/metadata-3: the keys this connection subscribed to (shared and empty
        # until it subscribes), and its METADATA changes' budget: (left, when counted).
        self.metadata_subs: frozenset[str] = NO_CAPS
        self.metadata_budget: tuple[float, float] | None = None
        self.metadata_pending: dict[str, str] | None = None  # before-connect keys
        # SASL: the payload received so far, while an exchange is under way.
        self.sasl: SaslAttempt | None = None
        # The account logged in to before registration (SASL), applied at registration,
        # with its read markers.
        self.account: str | None = None
        self.account_id: str | None = None
        self.account_markers: list[tuple[str, float]] | None = None
        self.account_profile: list[tuple[str, str]] | None = None  # its metadata keys
        self.closed = False
        # Counted among LUSERS' unregistered connections until registered or closed.
        self.counted = True
        ctx.unregistered += 1
        ctx.tally.connections[irc_door(peer)] += 1
        ctx.tally.sessions[irc_door(peer)] += 1

    @property
    def log(self) -> logging.LoggerAdapter[logging.Logger]:
        return self.peer.log

    @property
    def server_name(self) -> str:
        """The server's name (REHASH may change it), the source of its replies."""
        return self.ctx.server_name

    @property
    def registered(self) -> bool:
        return self.user is not None

    @property
    def client(self) -> str:
        """The first parameter of numerics: the client's nick, or ``*`` before it has one."""
        if self.user is not None:
            return self.user.nick
        return self.nick or "*"

    # -- replies -----------------------------------------------------------------------

    def send(self, data: bytes) -> None:
        """Send replies (whole lines, CR LF included) to the client; those of a labeled
        command go to its collector until the command is done."""
        collector = self.collector
        if collector is None:
            self._write(data)
        else:
            collector.add(data)

    def numeric(self, code: str, *params: str) -> None:
        """Send a numeric reply to this client (cut to the line length: a topic or an
        away message long in characters may be too long in bytes)."""
        line = Message(code, (self.client, *params), self.ctx.server_name)
        self.send(encode(line, self.ctx.settings.limits.line_length))

    def message(self, command: str, *params: str, source: str | None = None) -> None:
        """Send a command from the server, or from ``source`` ("" for none)."""
        origin = self.ctx.server_name if source is None else source or None
        self.send(encode(Message(command, params, origin), self.ctx.settings.limits.line_length))

    def refuse(self, error: ChatError) -> None:
        code, params = refusal(error)
        self.numeric(code, *params)

    def new_batch(self) -> str:
        """A batch reference unique within this connection."""
        self._batches += 1
        return f"b{self._batches}"

    def set_caps(self, enable: set[str], disable: set[str]) -> None:
        self.caps = shared((self.caps | enable) - disable)
        self.variant = variant_of(self.caps)
        before = self.audience
        self._find_audience()
        if self.audience is not before and self.user is not None:
            self.hub.regroup(self.user)

    def _find_audience(self) -> None:
        peer = self.peer
        if self.outbox is not None and not peer.debug:
            self.audience = self.ctx.audiences.of(self.variant, peer.frames)

    @property
    def listener(self) -> Listener:
        """This connection as the hub's listener: every client made is an IrcSession,
        which delivers the hub's events (the handlers see only this base). No
        ``typing.cast``: a call, on the path of every message said."""
        return self  # type: ignore[return-value]

    # -- closing -----------------------------------------------------------------------

    def close(self, reason: str) -> None:
        """Leave the chat with ``reason`` (if registered), send ERROR, and close."""
        if self.closed:
            return
        if self.user is not None and not self.ctx.shutting_down:
            user, self.user = self.user, None
            self.hub.leave(user, self.listener, reason, self.device)
        self.message(
            "ERROR", f"Closing link: ({self.username or '*'}@{self.host}) [{reason}]", source=""
        )
        self.closed = True
        self.uncount()
        self.peer.close_transport()

    def uncount(self) -> None:
        if self.counted:
            self.counted = False
            self.ctx.unregistered -= 1
