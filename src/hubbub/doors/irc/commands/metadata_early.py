"""METADATA before registration (draft/metadata-3's ``before-connect``): a client may set
its own keys and subscriptions while it registers, and is given them in a ``metadata``
batch with its welcome.

Until registration there is no user in the chat, so keys wait on the connection
(:attr:`IrcClient.metadata_pending`), checked by the same rules as the chat's, and
become the user's own as it arrives (:func:`arrive`). Only the client's own keys (``*``
or the nick it asked for) and its subscriptions can be touched before then.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hubbub.core.errors import ChatError
from hubbub.core.metadata import check_value, fold_key, valid_key
from hubbub.doors.irc.command import Command, ConnectionCommand
from hubbub.doors.irc.commands.metadata import (
    CAP,
    fail,
    metadata,
    send_batch,
    send_value,
    subscribe,
    unsubscribe,
    value_line,
)
from hubbub.wire import numerics as n

if TYPE_CHECKING:
    from hubbub.core.model import User
    from hubbub.doors.irc.client import IrcClient
    from hubbub.wire.message import Message


def metadata_any(session: IrcClient, message: Message) -> None:
    """METADATA from a registered user, or (before-connect) from one registering."""
    if session.user is not None:
        metadata(session, session.user, message)
        return
    target, sub = message.params[0], message.params[1].upper()
    rest = list(message.params[2:])
    if sub == "SUB":
        subscribe(session, None, rest)
        return
    if sub == "UNSUB":
        unsubscribe(session, rest)
        return
    if sub == "SUBS":
        keys = sorted(session.metadata_subs)
        if keys:
            session.numeric(n.RPL_METADATASUBS, *keys)
        return
    if target != "*" and (
        session.nick is None
        or session.hub.casemap.fold(target) != session.hub.casemap.fold(session.nick)
    ):
        fail(session, "INVALID_TARGET", target, "Invalid metadata target")
        return
    pending = session.metadata_pending or {}
    if sub == "SET":
        _set(session, target, pending, rest)
    elif sub == "GET":
        keys = [fold_key(key) for key in rest]
        send_batch(session, target, [value_line(session, target, k, pending.get(k)) for k in keys])
    elif sub == "LIST":
        send_batch(
            session,
            target,
            [value_line(session, target, k, v) for k, v in sorted(pending.items())],
        )
    elif sub == "CLEAR":
        session.metadata_pending = None
        send_batch(
            session, target, [value_line(session, target, k, None) for k in sorted(pending)]
        )
    else:
        fail(session, "INVALID_SUBCOMMAND", message.params[1][:32], "Invalid subcommand")


def _set(session: IrcClient, target: str, pending: dict[str, str], rest: list[str]) -> None:
    if not rest:
        session.numeric(n.ERR_NEEDMOREPARAMS, "METADATA", "Not enough parameters")
        return
    limits = session.hub.limits
    key = fold_key(rest[0])
    value = rest[1] if len(rest) > 1 else ""
    if not valid_key(key, limits.metadata_key_length):
        fail(session, "INVALID_KEY", rest[0], "Invalid key")
        return
    if not value:
        pending.pop(key, None)
    else:
        try:
            check_value(key, value, limits.metadata_value_bytes)
        except ChatError as error:
            fail(session, "INVALID_VALUE", key, f"Invalid value: {error.detail}")
            return
        if key not in pending and len(pending) >= limits.metadata_keys:
            fail(session, "LIMIT_REACHED", target, "Metadata limit reached")
            return
        pending[key] = value
    session.metadata_pending = pending or None
    send_value(session, target, key, value or None)


def arrive(session: IrcClient, user: User) -> None:
    """The keys set while registering become the user's; a client with the capability
    is given its keys (those kept for its account too) in a ``metadata`` batch."""
    pending, session.metadata_pending = session.metadata_pending, None
    for key, value in (pending or {}).items():
        try:
            session.hub.set_metadata(user, "*", key, value)
        except ChatError:
            continue  # a limit lowered meanwhile (REHASH)
    if CAP in session.caps and user.metadata:
        send_batch(
            session,
            user.nick,
            [value_line(session, user.nick, k, v) for k, v in sorted(user.metadata.items())],
        )


COMMANDS: tuple[Command, ...] = (ConnectionCommand("METADATA", metadata_any, min_params=2),)
