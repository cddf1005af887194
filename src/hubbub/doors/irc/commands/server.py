"""Server facts and operator commands: MOTD, LUSERS, VERSION, TIME, ADMIN, INFO, LINKS,
HELP, OPER, KILL, REHASH."""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from hubbub.accounts.passwords import decoy_hash, verify_password
from hubbub.accounts.throttle import Backoff, Shared, address_block, seconds
from hubbub.core.errors import ChatError, Reason
from hubbub.doors.irc.command import Command, UserCommand
from hubbub.doors.irc.help import HELP_TOPICS, INDEX
from hubbub.doors.irc.welcome import send_isupport, send_lusers, send_motd
from hubbub.wire import numerics as n
from hubbub.wire.redact import shown_text

if TYPE_CHECKING:
    from hubbub.core.hub import Hub
    from hubbub.core.model import User
    from hubbub.doors.irc.client import IrcClient
    from hubbub.wire.message import Message


def motd(session: IrcClient, user: User, message: Message) -> None:
    send_motd(session)


def lusers(session: IrcClient, user: User, message: Message) -> None:
    send_lusers(session)


def version(session: IrcClient, user: User, message: Message) -> None:
    ctx = session.ctx
    session.numeric(n.RPL_VERSION, ctx.version, ctx.server_name, "https://hubbub.chat")
    send_isupport(session)


def time_(session: IrcClient, user: User, message: Message) -> None:
    now = time.strftime("%A %B %d %Y -- %H:%M:%S +00:00", time.gmtime(session.hub.clock()))
    session.numeric(n.RPL_TIME, session.server_name, now)


def admin(session: IrcClient, user: User, message: Message) -> None:
    settings = session.ctx.settings
    session.numeric(n.RPL_ADMINME, settings.server_name, "Administrative info")
    session.numeric(n.RPL_ADMINLOC1, settings.admin_location)
    session.numeric(n.RPL_ADMINLOC2, settings.network_name)
    session.numeric(n.RPL_ADMINEMAIL, settings.admin_email or "-")


def info(session: IrcClient, user: User, message: Message) -> None:
    ctx = session.ctx
    started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(ctx.created))
    for line in (
        f"{ctx.version}: a multi-user chat server in Python",
        "IRC, a plain-text door and the web, in the same rooms.",
        f"Running since {started}.",
    ):
        session.numeric(n.RPL_INFO, line)
    session.numeric(n.RPL_ENDOFINFO, "End of /INFO list")


def links(session: IrcClient, user: User, message: Message) -> None:
    ctx = session.ctx
    session.numeric(n.RPL_LINKS, ctx.server_name, ctx.server_name, f"0 {ctx.settings.description}")
    session.numeric(n.RPL_ENDOFLINKS, "*", "End of /LINKS list")


def help_(session: IrcClient, user: User, message: Message) -> None:
    subject = message.params[0] if message.params else ""
    lines = HELP_TOPICS.get(subject.upper()) if subject else INDEX
    if lines is None:
        session.numeric(n.ERR_HELPNOTFOUND, subject, "No help available on this topic")
        return
    subject = subject.upper() or "*"
    session.numeric(n.RPL_HELPSTART, subject, lines[0])
    for line in lines[1:]:
        session.numeric(n.RPL_HELPTXT, subject, line)
    session.numeric(n.RPL_ENDOFHELP, subject, "End of /HELP")


# Connections with failed OPER attempts whose count is kept.
_CONNECTIONS_KEPT = 1000


class Guesser(Protocol):
    """A connection trying a password: where from, and whether it is gone."""

    @property
    def host(self) -> str: ...

    @property
    def closed(self) -> bool: ...


class OperThrottle(Shared):
    """Failed OPER attempts (or, in a throttle of its own, server passwords) on one
    server, by address and by connection.

    An address (an IPv6 address by its /64) may fail 3 times freely; after that, each
    attempt must wait twice as long after its last failure as the one before (2 s, 4 s
    … up to 10 minutes), and is answered RPL_TRYAGAIN without its password being
    checked. A connection is closed at its third failed or refused attempt, as a client
    that keeps guessing has no other business here. A success forgives both. In a
    cluster the nodes share what they count of addresses (not of connections).
    """

    connection_tries = 3

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._addresses: Backoff[str] = Backoff(
            free=3, first=2.0, longest=600.0, forget=3600.0, size=10_000
        )
        # Insertion order: the oldest go first when too many are kept.
        self._connections: dict[Guesser, int] = {}

    def wait(self, session: Guesser) -> float:
        """Seconds before the session's address may try again; 0 when it may now."""
        return self._addresses.wait(address_block(session.host), self.clock())

    def fail(self, session: Guesser, *, checked: bool) -> tuple[int, bool]:
        """Count a failed attempt (``checked``: a wrong password, rather than one
        refused while throttled); the address's failures lately, and whether the
        connection has had its tries."""
        address = address_block(session.host)
        failures = 0
        if checked:
            failures = self._addresses.fail(address, self.clock())
            self._tell("fail", address)
        tries = self._connections.pop(session, 0) + 1
        if tries >= self.connection_tries:
            return failures, True
        self._connections[session] = tries
        if len(self._connections) > _CONNECTIONS_KEPT:
            # Closed connections no longer matter; past that, the oldest counts go.
            self._connections = {s: t for s, t in self._connections.items() if not s.closed}
            while len(self._connections) > _CONNECTIONS_KEPT:
                del self._connections[next(iter(self._connections))]
        return failures, False

    def succeed(self, session: Guesser) -> None:
        address = address_block(session.host)
        self._addresses.forgive(address)
        self._connections.pop(session, None)
        self._tell("succeed", address)

    def count_shared(self, step: str, keys: tuple[str, ...]) -> None:
        if len(keys) != 1:
            return
        if step == "fail":
            self._addresses.fail(keys[0], self.clock())
        elif step == "succeed":
            self._addresses.forgive(keys[0])


# One throttle of each kind per server (its hub), gone with it.
_OPER_THROTTLES: weakref.WeakKeyDictionary[Hub, OperThrottle] = weakref.WeakKeyDictionary()
_PASS_THROTTLES: weakref.WeakKeyDictionary[Hub, OperThrottle] = weakref.WeakKeyDictionary()


def oper_throttle(hub: Hub) -> OperThrottle:
    """The OPER throttle of the server ``hub`` belongs to."""
    throttle = _OPER_THROTTLES.get(hub)
    if throttle is None:
        throttle = _OPER_THROTTLES[hub] = OperThrottle()
    return throttle


def pass_throttle(hub: Hub) -> OperThrottle:
    """The server password's throttle of the server ``hub`` belongs to: each wrong
    password costs a hash on the event loop, and guessing it must be slow."""
    throttle = _PASS_THROTTLES.get(hub)
    if throttle is None:
        throttle = _PASS_THROTTLES[hub] = OperThrottle()
    return throttle


def oper(session: IrcClient, user: User, message: Message) -> None:
    name, password = message.params[0], message.params[1]
    throttle = oper_throttle(session.hub)
    wait = throttle.wait(session)
    if wait > 0:
        session.ctx.tally.oper_failures += 1
        # The failures that began the wait were each logged as a warning.
        session.log.info("OPER by %s refused: too many failures from its address", user.mask)
        session.numeric(
            n.RPL_TRYAGAIN,
            "OPER",
            f"Too many failed OPER attempts; try again in {seconds(wait)}",
        )
        _, spent = throttle.fail(session, checked=False)
        if spent:
            session.close("Too many failed OPER attempts")
        return
    block = next((o for o in session.ctx.settings.opers if o.name == name), None)
    # An unknown name is checked against a decoy hash: as slow as a known one.
    stored = block.password if block is not None else decoy_hash()
    if not verify_password(password, stored) or block is None:
        session.ctx.tally.oper_failures += 1
        failures, spent = throttle.fail(session, checked=True)
        # The name only if it is an operator's: a name typed wrong may be a password.
        session.log.warning(
            "failed OPER attempt as %s by %s (%d from its address lately)",
            repr(name) if block is not None else "an unknown name",
            user.mask,
            failures,
        )
        session.numeric(n.ERR_PASSWDMISMATCH, "Password incorrect")
        if spent:
            session.close("Too many failed OPER attempts")
        return
    throttle.succeed(session)
    session.numeric(n.RPL_YOUREOPER, "You are now an IRC operator")
    session.hub.make_oper(user, name)
    session.log.info("%s is now an operator (%s)", user.mask, name)


def kill(session: IrcClient, user: User, message: Message) -> None:
    nick, reason = message.params[0], message.params[1] or "No reason"
    if session.hub.casemap.fold(nick) == session.hub.casemap.fold(session.server_name):
        raise ChatError(Reason.CANT_KILL_SERVER)
    victim = session.hub.kill(user, nick, reason)
    session.log.info("%s killed %s (%s)", user.mask, victim.nick, reason)


def rehash(session: IrcClient, user: User, message: Message) -> None:
    config = session.ctx.settings.config_file
    session.numeric(n.RPL_REHASHING, str(config or "-"), "Rehashing")
    error = session.ctx.rehash()
    if error is not None:
        # One notice per mistake, each escaped: a key in the file is any text, and a CR
        # or LF in it ended the notice and forged the next line (probe 22).
        for line in error.split("\n"):
            session.message("NOTICE", user.nick, f"*** Rehash failed: {shown_text(line)}")
    elif session.ctx.restart_pending:
        kept = ", ".join(session.ctx.restart_pending)
        session.message(
            "NOTICE", user.nick, f"*** Reloaded; changed but kept until a restart: {kept}"
        )


COMMANDS: tuple[Command, ...] = (
    UserCommand("MOTD", motd),
    UserCommand("LUSERS", lusers),
    UserCommand("VERSION", version),
    UserCommand("TIME", time_),
    UserCommand("ADMIN", admin),
    UserCommand("INFO", info),
    UserCommand("LINKS", links),
    UserCommand("HELP", help_),
    UserCommand("HELPOP", help_),
    UserCommand("OPER", oper, min_params=2),
    UserCommand("KILL", kill, min_params=2, oper=True),
    UserCommand("REHASH", rehash, oper=True),
)
