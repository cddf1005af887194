"""How registration ends: a new user of the chat, or a device of one already there.

A connection may join its account's user instead of becoming a user of its own
(multiclient and always-on, :mod:`hubbub.core.presence`): it is given the burst that
shows it where the user is, and the replay of what this device missed.

Theory of operation
-------------------
Registration ends with an attach when the connection logged in to an account (SASL)
and asked for the nick of that account's user on this node, or the account has an
always-on user with no device (whatever nick it asked for): see
:meth:`~hubbub.core.presences.Presences.target`. The connection is welcomed as that user
(001 names its nick), then given what a client that had been there all along would
know: its user modes, a JOIN for each of its channels with the topic, names and read
marker that follow one, and its away state.

Then what it missed. A client that reads history itself (``draft/chathistory``) asks
for what it wants. Any other is replayed, with ``server-time`` and in a ``chathistory``
batch where it has those, the messages of its channels and private chats since this
device last left: a device is named by the client (``account@device`` in the SASL
name), and one that names none is the account's unnamed device. A device the server
never saw gets the messages since the always-on user's last device left, or none.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from hubbub.accounts.passwords import verify_password
from hubbub.core.errors import ChatError
from hubbub.core.events import Joined
from hubbub.core.homes import AUTO_AWAY
from hubbub.core.ports import StoreUnavailable
from hubbub.core.presence import Presence
from hubbub.doors.irc.commands.accounts import guard_nick, nick_held
from hubbub.doors.irc.commands.bans import refused_banned
from hubbub.doors.irc.commands.channels import joined
from hubbub.doors.irc.commands.history import Keep, send_history, within_lines
from hubbub.doors.irc.commands.metadata_early import arrive as arrive_with_metadata
from hubbub.doors.irc.commands.server import pass_throttle
from hubbub.doors.irc.registration import Step, advance
from hubbub.doors.irc.welcome import send_welcome
from hubbub.doors.tally import irc_door
from hubbub.wire import numerics as n

if TYPE_CHECKING:
    from collections.abc import Awaitable

    from hubbub.core.history import HistoryReader, StoredMessage
    from hubbub.core.model import User
    from hubbub.doors.irc.client import IrcClient

logger = logging.getLogger(__name__)
# Later than any message (the year 2286): the latest messages of a conversation.
_END_OF_TIME = 10_000_000_000.0


def complete_registration(session: IrcClient) -> Awaitable[None] | None:
    """Make the client a user of the chat, its NICK and USER having arrived with no
    CAP negotiation holding it (READY): check the server password, add the user to
    the hub with the account it logged in to, if any, and welcome it.

    The three ends are in the theory of :mod:`hubbub.doors.irc.registration`.
    """
    nick, username = session.nick, session.username
    # NICK and USER, the only ways to READY, set both; only NICK_REFUSED, which
    # leaves READY, forgets the nick.
    assert nick is not None
    assert username is not None
    required = session.ctx.settings.password
    if required is not None:
        throttle = pass_throttle(session.hub)
        # While the address waits, its password is not even checked.
        throttled = throttle.wait(session) > 0
        if (
            throttled
            or session.password is None
            or not verify_password(session.password, required)
        ):
            throttle.fail(session, checked=not throttled)
            session.ctx.tally.password_failures += 1
            session.numeric(n.ERR_PASSWDMISMATCH, "Password incorrect")
            session.close("Bad password")
            return None
        throttle.succeed(session)
    if refused_banned(
        session, session.ctx.bans.user_ban(username, session.host, session.account_id)
    ):
        return None
    if nick_held(session, nick):
        # Checked here, once SASL had its chance: refused as NICK refuses it after
        # registration (welcomed, then renamed a pass later, a client spoke as the
        # held nick meanwhile, probe 16).
        _refuse_nick(
            session, nick, "Nickname is held: it belongs to an account (log in to use it)"
        )
        return None
    target = attach_target(session, nick)
    if target is not None:
        if session.hub.presences.full(target):
            # Closed rather than refused the nick: a client offered 433 takes the next
            # nick it has, and the account would be a second person in its channels.
            most = session.hub.limits.clients_per_account
            session.close(f"Your account has {most} connections already, the most it may have")
            return None
        return attach(session, target)
    try:
        session.hub.register(
            nick,
            username,
            session.host,
            session.realname,
            session.listener,
            session.peer.secure,
            session.account,
            session.account_id,
        )
    except ChatError as error:
        session.refuse(error)
        session.nick = None
        session.registration = advance(session.registration, Step.NICK_REFUSED)
    return None


def _refuse_nick(session: IrcClient, nick: str, why: str) -> None:
    """433, and registration waits for another NICK."""
    session.numeric(n.ERR_NICKNAMEINUSE, nick, why)
    session.nick = None
    session.registration = advance(session.registration, Step.NICK_REFUSED)


def attach_target(session: IrcClient, nick: str) -> User | None:
    """The user this registering connection attaches to, if any."""
    if session.account_id is None:
        return None
    return session.hub.presences.target(session.account_id, nick)


def attach(session: IrcClient, user: User) -> Awaitable[None] | None:
    """Make ``session`` one of ``user``'s devices and show it where the user is.

    Returns:
        the replay of what the device missed, when there is one to make.
    """
    presences = session.hub.presences
    listener = user.listener
    # When the last device left an always-on user: where a new device's replay starts
    # (kept by another node: as its home said, docs/cluster.md).
    left = listener.left if isinstance(listener, Presence) and not listener.sessions else 0.0
    left = left or session.hub.state.spread.absent(user.id) or 0.0
    presences.attach(user, session.listener, session.username or "", session.host)
    session.user = user
    session.registration = advance(session.registration, Step.COMPLETED)
    session.account_markers = session.account_profile = None
    session.uncount()
    session.ctx.tally.registrations[irc_door(session.peer)] += 1
    if logger.isEnabledFor(logging.INFO):
        session.log.info("attached to %s (device %s)", user.mask, session.device or "unnamed")
    send_welcome(session, user)
    if user.modes:
        session.message("MODE", user.nick, "+" + "".join(sorted(user.modes)), source=user.nick)
    cache = session.ctx.cache
    for channel in list(user.channels.values()):
        session.send(cache.line(Joined(user.actor, channel.name), session.variant))
        joined(session, user, channel)
    # The auto-away ends as this device attaches (between nodes, a round trip later,
    # said by the user's home with no 305): not told, as on one server (probe 34).
    if user.away is not None and user.away != AUTO_AWAY:
        session.numeric(n.RPL_NOWAWAY, "You have been marked as being away")
    arrive_with_metadata(session, user)
    # Another account's nick, taken by a device now gone, is taken back as it would be
    # from a user of its own (probe 26: the user kept it, and this device spoke as it).
    guard_nick(session, user)
    since = presences.seen_by(user.account_id, session.device) or left
    if not since or "draft/chathistory" in session.caps or session.ctx.history is None:
        return None
    return _replay(session, user, since)


async def _replay(session: IrcClient, user: User, since: float) -> None:
    """The latest messages of ``user``'s conversations after ``since``, oldest first
    within each, a conversation at a time: at most ``chathistory`` lines each, as a
    CHATHISTORY page holds (a multi-line message counts its lines, probe 25), each sent
    once the client has read most of the one before (its SendQ must not cut it off
    halfway, and the time it last saw not move past what it never got)."""
    store = session.ctx.history
    if store is None:
        return
    limits = session.ctx.settings.limits
    limit = max(1, min(limits.chathistory, limits.history_per_conversation))
    hub = session.hub
    peer = session.peer
    try:
        for channel in list(user.channels.values()):
            found = await _missed(store, channel.history_key, since, limit)
            if not found or session.user is not user or session.closed:
                continue
            send_history(session, channel.name, found)
            await peer.drained()
        owner = hub.history_owner(user)
        async with session.ctx.targets:
            chats = await store.conversations([], owner, since, hub.clock(), limit)
        for chat in chats:
            found = await _missed(store, chat.conversation, since, limit)
            if not found or session.user is not user or session.closed:
                continue
            other = chat.conversation.partition(" ")[2]
            sender = chat.sender.split("!", 1)[0]
            name = chat.target if hub.casemap.fold(chat.target) == other else sender
            send_history(session, name, found)
            await peer.drained()
    except StoreUnavailable:
        session.message(
            "NOTICE", user.nick, "What you missed cannot be read now: try CHATHISTORY later."
        )


async def _missed(
    store: HistoryReader, conversation: str, since: float, limit: int
) -> list[StoredMessage]:
    """The latest messages of a conversation after ``since``, within ``limit`` lines."""
    latest = await store.before(conversation, _END_OF_TIME, limit)
    return within_lines([m for m in latest if m.time > since], limit, Keep.LATEST)
