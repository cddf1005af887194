"""Connection registration and keep-alive: PASS, NICK, USER, CAP, PING, PONG, QUIT.

NICK, USER and CAP record what the client gave and move its registration state
(:mod:`hubbub.doors.irc.registration`); the session completes registration when that
state is READY.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from hubbub.core.errors import ChatError, Reason
from hubbub.doors.irc.attach import attach_target
from hubbub.doors.irc.caps import (
    SUPPORTED,
    metadata_value,
    multiline_value,
    offered,
    registration_value,
    sasl_mechanisms,
)
from hubbub.doors.irc.command import Command, ConnectionCommand
from hubbub.doors.irc.commands.accounts import nick_held
from hubbub.doors.irc.registration import Registration, Step, advance
from hubbub.wire import numerics as n
from hubbub.wire.message import Message, encode

if TYPE_CHECKING:
    from hubbub.doors.irc.client import IrcClient

_USERNAME_JUNK = re.compile(r"[^A-Za-z0-9._-]")


def pass_(session: IrcClient, message: Message) -> None:
    session.password = message.params[0]


def nick(session: IrcClient, message: Message) -> None:
    if not message.params or not message.params[0]:
        session.numeric(n.ERR_NONICKNAMEGIVEN, "No nickname given")
        return
    wanted = message.params[0]
    session.requested_nick = wanted[:64]
    hub = session.hub
    if session.user is not None:
        if nick_held(session, wanted):
            session.numeric(
                n.ERR_NICKNAMEINUSE,
                wanted,
                "Nickname is held: it belongs to an account (log in to use it)",
            )
            return
        # Guarded as the change is applied (IrcSession.deliver).
        hub.change_nick(session.user, wanted)
        return
    try:
        session.nick = hub.check_nick(wanted)
    except ChatError as error:
        if error.reason is not Reason.NICK_IN_USE or not _may_attach(session, wanted):
            session.refuse(error)
            return
        # The account's own user holds it: this connection may become one of its
        # devices, which registration decides once SASL had its chance (attach.py).
        session.nick = wanted
    session.registration = advance(session.registration, Step.NICK)


def _may_attach(session: IrcClient, nick: str) -> bool:
    """Whether a registering connection asking for a nick in use may yet be attached
    to its holder: logged in to the holder's account, or still negotiating, so that
    SASL may follow (irssi and WeeChat send NICK before CAP REQ and AUTHENTICATE).
    If it does not log in, registration refuses the nick as it completes."""
    holder = session.hub.find_user(nick)
    if holder is None or holder.account_id is None:
        return False
    if session.account_id is not None:
        return session.account_id == holder.account_id and bool(attach_target(session, nick))
    return session.registration in _NEGOTIATING and session.ctx.accounts is not None


_NEGOTIATING = frozenset(
    {
        Registration.NEGOTIATING,
        Registration.NEGOTIATING_NICK_GIVEN,
        Registration.NEGOTIATING_USER_GIVEN,
        Registration.NEGOTIATING_READY,
    }
)


def user(session: IrcClient, message: Message) -> None:
    username, realname = message.params[0], message.params[3]
    if not realname:
        session.numeric(n.ERR_NEEDMOREPARAMS, "USER", "Not enough parameters")
        return
    # No ident lookup is made, so the username is marked unverified with "~".
    userlen = session.ctx.settings.limits.userlen
    cleaned = _USERNAME_JUNK.sub("", username)[: userlen - 1] or "user"
    session.username = "~" + cleaned
    session.realname = realname[: session.ctx.settings.limits.realnamelen]
    session.registration = advance(session.registration, Step.USER)


def cap(session: IrcClient, message: Message) -> None:
    sub = message.params[0].upper()
    if sub == "LS":
        version = message.params[1] if len(message.params) > 1 else ""
        number = int(version) if version.isascii() and version.isdigit() else 0
        session.cap_version = max(session.cap_version, number)
        if session.cap_version >= 302:
            # IRCv3 cap-notify: "enabled implicitly for clients that negotiate version 302"
            session.set_caps({"cap-notify"}, set())
        session.registration = advance(session.registration, Step.CAP_BEGIN)
        ctx = session.ctx
        key = (session.cap_version >= 302, session.client, session.peer.secure)
        if ctx.cap_ls_settings is not ctx.settings:
            # Built for other settings (before a REHASH): forget those replies.
            ctx.cap_ls.clear()
            ctx.cap_ls_settings = ctx.settings
        reply = ctx.cap_ls.get(key)
        if reply is None:
            caps = offered(
                session.cap_version,
                history=ctx.history is not None,
                accounts=ctx.accounts is not None,
                registration=registration_value(
                    ctx.settings.register_before_connect, ctx.settings.register_email_required
                ),
                sasl=",".join(sasl_mechanisms(ctx.settings.tls_client_ca is not None)),
                multiline=multiline_value(
                    ctx.settings.limits.multiline_max_bytes,
                    ctx.settings.limits.multiline_max_lines,
                ),
                metadata=metadata_value(
                    ctx.settings.limits.metadata_subs,
                    ctx.settings.limits.metadata_keys,
                    ctx.settings.limits.metadata_value_bytes,
                ),
            )
            sts = ctx.sts_value(session.peer.secure)
            if sts is not None and session.cap_version >= 302:
                caps.append(f"sts={sts}")
            collected: list[bytes] = []
            _send_cap_list(session, "LS", caps, collected.append)
            if len(ctx.cap_ls) > 64:
                ctx.cap_ls.clear()  # nicks vary: keep the cache small
            reply = ctx.cap_ls[key] = b"".join(collected)
        session.send(reply)
    elif sub == "LIST":
        _send_cap_list(session, "LIST", sorted(session.caps))
    elif sub == "REQ":
        session.registration = advance(session.registration, Step.CAP_BEGIN)
        wanted = message.params[1] if len(message.params) > 1 else ""
        changes = [(not c.startswith("-"), c.removeprefix("-")) for c in wanted.split()]
        # IRCv3: "the server MUST ... ACK or NAK the whole set", never a part of it.
        if not changes or any(name not in SUPPORTED for _, name in changes):
            session.message("CAP", session.client, "NAK", wanted)
            return
        session.set_caps({c for on, c in changes if on}, {c for on, c in changes if not on})
        session.message("CAP", session.client, "ACK", wanted)
    elif sub == "END":
        session.registration = advance(session.registration, Step.CAP_END)
    else:
        session.numeric(n.ERR_INVALIDCAPCMD, message.params[0], "Invalid CAP command")


def _send_cap_list(
    session: IrcClient,
    sub: str,
    caps: list[str],
    out: Callable[[bytes], None] | None = None,
) -> None:
    """One CAP reply, or several marked with ``*`` for CAP LS 302 clients when the list
    does not fit in 512 bytes (some clients mishandle those, so only then)."""
    head = f":{session.server_name} CAP {session.client} {sub} * :"
    room = 510 - len(head.encode())
    chunks: list[list[str]] = [[]]
    size = 0
    for cap in caps:
        if chunks[-1] and size + len(cap) + 1 > room and session.cap_version >= 302:
            chunks.append([])
            size = 0
        chunks[-1].append(cap)
        size += len(cap) + 1
    for index, chunk in enumerate(chunks):
        more = ["*"] if index < len(chunks) - 1 else []
        line = Message("CAP", (session.client, sub, *more, " ".join(chunk)), session.server_name)
        (out or session.send)(encode(line))


def ping(session: IrcClient, message: Message) -> None:
    if not message.params:
        session.numeric(n.ERR_NOORIGIN, "No origin specified")
        return
    server = session.server_name
    session.message("PONG", server, message.params[0])


def pong(session: IrcClient, message: Message) -> None:
    """Any line proves the client is alive; the driver already noted it."""


def quit_(session: IrcClient, message: Message) -> None:
    reason = message.params[0] if message.params else ""
    said = f"Quit: {reason}" if reason else "Quit"
    if session.user is not None:
        # Its own QUIT, as the others see it when it is the user's last device: a
        # device that leaves while others stay is shown that it left.
        session.message("QUIT", said, source=session.user.mask)
    session.close(said)


COMMANDS: tuple[Command, ...] = (
    ConnectionCommand("PASS", pass_, min_params=1, before_registration=True),
    ConnectionCommand("NICK", nick),
    ConnectionCommand("USER", user, min_params=4, before_registration=True),
    ConnectionCommand("CAP", cap, min_params=1),
    ConnectionCommand("PING", ping),
    ConnectionCommand("PONG", pong),
    ConnectionCommand("QUIT", quit_),
)
