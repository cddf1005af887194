"""METADATA (IRCv3 draft/metadata-3): reading and setting keys on users and channels,
and subscribing to hear of their changes.

Theory of operation. A change is an operation of the core (``hub.set_metadata``), so a
fact applied on every node; the core hands it to the channel's members, or to the user
and those sharing a channel with it, and :func:`deliver_change` shows it to each only if
it negotiated the capability and subscribed to the key (draft/metadata-3 tells of
changes with the numerics RPL_KEYVALUE and RPL_KEYNOTSET, not with a METADATA line). The
one who made the change is answered by the command instead. Subscriptions belong to the
connection, never to the chat. A subscriber that joins a channel is given the channel's
and its members' subscribed keys in a ``metadata`` batch, or, past
``metadata_sync_lines``, RPL_METADATASYNCLATER, after which it asks with ``SYNC``.

Bounds: parameters are few (the parser's), values and key counts are the core's limits,
subscriptions are ``metadata_subs``, and SET, CLEAR, SUB and UNSUB draw on a budget of
``metadata_commands`` that ``metadata_interval`` refills (FAIL ... RATE_LIMITED past it):
a client that subscribes and unsubscribes in a loop costs the others nothing.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

from hubbub.core.errors import ChatError, Reason
from hubbub.core.events import Joined, MetadataChanged
from hubbub.core.metadata import (
    find_target,
    fold_key,
    name_of,
    readable,
    readable_key,
    shown_values,
    valid_key,
    visibility,
)
from hubbub.core.model import Channel, User
from hubbub.wire import numerics as n
from hubbub.wire.message import Message, encode

if TYPE_CHECKING:
    from hubbub.doors.irc.client import IrcClient

CAP = "draft/metadata-3"
# Keys shown by WHOIS (RPL_WHOISKEYVALUE: "This subset MUST be chosen explicitly").
WHOIS_KEYS = ("display-name", "pronouns", "status")
# Keys per 770-772 line, so that a line stays well under 512 bytes.
_PER_LINE = 6

_REFUSED_TARGETS = frozenset({Reason.NO_SUCH_NICK, Reason.NO_SUCH_CHANNEL})


def fail(session: IrcClient, code: str, *params: str) -> None:
    session.message("FAIL", "METADATA", code, *params)


def _refuse(session: IrcClient, target: str, error: ChatError) -> None:
    """A refusal of the core, as the standard reply METADATA answers it with."""
    reason = error.reason
    if reason in _REFUSED_TARGETS:
        fail(session, "INVALID_TARGET", target, "Invalid metadata target")
    elif reason is Reason.INVALID_KEY:
        fail(session, "INVALID_KEY", error.subject, "Invalid key")
    elif reason is Reason.KEY_NO_PERMISSION:
        fail(session, "KEY_NO_PERMISSION", error.subject, error.detail, "Permission denied")
    elif reason is Reason.INVALID_VALUE:
        fail(session, "INVALID_VALUE", error.subject, f"Invalid value: {error.detail}")
    elif reason is Reason.LIMIT_REACHED:
        fail(session, "LIMIT_REACHED", error.subject, "Metadata limit reached")
    else:
        session.refuse(error)


def value_line(session: IrcClient, target: str, key: str, value: str | None) -> Message:
    """RPL_KEYVALUE for a value, RPL_KEYNOTSET for none."""
    params: tuple[str, ...]
    if value is None:
        params = (session.client, target, key, "Key not set")
        return Message(n.RPL_KEYNOTSET, params, session.server_name)
    params = (session.client, target, key, visibility(key), value)
    return Message(n.RPL_KEYVALUE, params, session.server_name)


def _send(session: IrcClient, message: Message) -> None:
    session.send(encode(message, session.ctx.settings.limits.line_length))


def send_value(session: IrcClient, target: str, key: str, value: str | None) -> None:
    """The answer to a SET: the key's value now."""
    _send(session, value_line(session, target, key, value))


def send_batch(session: IrcClient, target: str, messages: Iterable[Message]) -> None:
    """Messages in one ``metadata`` batch about ``target`` (bare for a client without
    ``batch``)."""
    limit = session.ctx.settings.limits.line_length
    if "batch" not in session.caps:
        session.send(b"".join(encode(message, limit) for message in messages))
        return
    reference = session.new_batch()
    server = session.server_name
    out = [encode(Message("BATCH", (f"+{reference}", "metadata", target), server), limit)]
    out.extend(
        encode(message._replace(tags={"batch": reference, **message.tags}), limit)
        for message in messages
    )
    out.append(encode(Message("BATCH", (f"-{reference}",), server)))
    session.send(b"".join(out))


def _spend(session: IrcClient) -> float | None:
    """Take one METADATA change from the session's budget: None, or the seconds to wait
    when it is spent."""
    limits = session.ctx.settings.limits
    now = time.monotonic()
    left, since = session.metadata_budget or (float(limits.metadata_commands), now)
    interval = limits.metadata_interval
    if interval > 0:
        left = min(float(limits.metadata_commands), left + (now - since) / interval)
    if left < 1:
        session.metadata_budget = (left, now)
        return max(1.0, (1 - left) * interval)
    session.metadata_budget = (left - 1, now)
    return None


def _rate_limited(session: IrcClient, target: str, key: str) -> bool:
    wait = _spend(session)
    if wait is None:
        return False
    fail(session, "RATE_LIMITED", target, key, str(round(wait + 0.5)), "*", "Too many changes")
    return True


# -- subcommands -----------------------------------------------------------------------


def _get(session: IrcClient, user: User, target: str, keys: list[str]) -> None:
    if not keys:
        session.numeric(n.ERR_NEEDMOREPARAMS, "METADATA", "Not enough parameters")
        return
    try:
        owner = find_target(session.hub.state, user, target)
    except ChatError as error:
        _refuse(session, target, error)
        return
    shown = name_of(owner)
    replies: list[Message] = []
    limit = session.hub.limits.metadata_key_length
    for key in keys:
        folded = fold_key(key)
        if not valid_key(folded, limit):
            replies.append(_fail_line(session, "INVALID_KEY", key, "Invalid key"))
        elif not readable_key(user, owner, folded):
            replies.append(
                _fail_line(session, "KEY_NO_PERMISSION", shown, folded, "Permission denied")
            )
        else:
            replies.append(value_line(session, shown, folded, owner.metadata.get(folded)))
    send_batch(session, shown, replies)


def _fail_line(session: IrcClient, code: str, *params: str) -> Message:
    return Message("FAIL", ("METADATA", code, *params), session.server_name)


def _list(session: IrcClient, user: User, target: str) -> None:
    try:
        owner = find_target(session.hub.state, user, target)
    except ChatError as error:
        _refuse(session, target, error)
        return
    shown = name_of(owner)
    if not readable(user, owner):
        fail(session, "KEY_NO_PERMISSION", shown, "*", "Permission denied")
        return
    send_batch(
        session,
        shown,
        [value_line(session, shown, key, value) for key, value in shown_values(user, owner)],
    )


def _set(session: IrcClient, user: User, target: str, params: list[str]) -> None:
    if not params:
        session.numeric(n.ERR_NEEDMOREPARAMS, "METADATA", "Not enough parameters")
        return
    key, value = params[0], (params[1] if len(params) > 1 else None)
    if _rate_limited(session, target, key):
        return
    try:
        owner = session.hub.set_metadata(user, target, key, value)
    except ChatError as error:
        _refuse(session, target, error)
        return
    send_value(session, name_of(owner), fold_key(key), value or None)


def _clear(session: IrcClient, user: User, target: str) -> None:
    if _rate_limited(session, target, "*"):
        return
    try:
        owner, removed = session.hub.clear_metadata(user, target)
    except ChatError as error:
        _refuse(session, target, error)
        return
    shown = name_of(owner)
    send_batch(session, shown, [value_line(session, shown, key, None) for key in removed])


def _in_lines(session: IrcClient, numeric: str, keys: list[str]) -> None:
    for start in range(0, len(keys), _PER_LINE):
        session.numeric(numeric, *keys[start : start + _PER_LINE])


def subscribe(session: IrcClient, user: User | None, keys: list[str]) -> None:
    if not keys:
        session.numeric(n.ERR_NEEDMOREPARAMS, "METADATA", "Not enough parameters")
        return
    if _rate_limited(session, "*", keys[0]):
        return
    limits = session.ctx.settings.limits
    subs = set(session.metadata_subs)
    added: list[str] = []
    accepted: list[str] = []
    for key in keys:
        folded = fold_key(key)
        if not valid_key(folded, limits.metadata_key_length):
            fail(session, "INVALID_KEY", key, "Invalid key")
            continue
        if folded not in subs:
            if len(subs) >= limits.metadata_subs:
                # "The <key> parameter ... MUST be this first key that the client could
                # not subscribe to"; the keys after it are not processed.
                fail(session, "TOO_MANY_SUBS", key, "Too many subscriptions")
                break
            subs.add(folded)
            added.append(folded)
        if folded not in accepted:
            accepted.append(folded)
    session.metadata_subs = frozenset(subs)
    _in_lines(session, n.RPL_METADATASUBOK, accepted)
    if added and user is not None and user.channels:
        # "When subscribing to a key, clients SHOULD receive the current value of that
        # key for channels/users they are receiving updates for."
        for channel in list(user.channels.values()):
            sync_channel(session, user, channel, frozenset(added))


def unsubscribe(session: IrcClient, keys: list[str]) -> None:
    if not keys:
        session.numeric(n.ERR_NEEDMOREPARAMS, "METADATA", "Not enough parameters")
        return
    if _rate_limited(session, "*", keys[0]):
        return
    limit = session.hub.limits.metadata_key_length
    subs = set(session.metadata_subs)
    done: list[str] = []
    for key in keys:
        folded = fold_key(key)
        if not valid_key(folded, limit):
            fail(session, "INVALID_KEY", key, "Invalid key")
            continue
        subs.discard(folded)
        if folded not in done:
            done.append(folded)
    session.metadata_subs = frozenset(subs)
    _in_lines(session, n.RPL_METADATAUNSUBOK, done)


def _sync(session: IrcClient, user: User, target: str) -> None:
    try:
        owner = find_target(session.hub.state, user, target)
    except ChatError as error:
        _refuse(session, target, error)
        return
    if not readable(user, owner):
        fail(session, "KEY_NO_PERMISSION", name_of(owner), "*", "Permission denied")
        return
    subs = session.metadata_subs
    if isinstance(owner, User):
        send_batch(session, owner.nick, _values_of(session, user, owner, subs))
        return
    replies = _values_of(session, user, owner, subs)
    # As NAMES and WHO: a reader outside the channel does not learn of its +i members
    # (probe 23: their keys named them).
    inside = user in owner.members
    for member in owner.members:
        if member is not user and (inside or "i" not in member.modes):
            replies += _values_of(session, user, member, subs)
    send_batch(session, owner.name, replies)


def _values_of(
    session: IrcClient, reader: User, owner: User | Channel, keys: frozenset[str]
) -> list[Message]:
    if not owner.metadata or not keys:
        return []
    shown = name_of(owner)
    return [
        value_line(session, shown, key, value) for key, value in shown_values(reader, owner, keys)
    ]


def metadata(session: IrcClient, user: User, message: Message) -> None:
    target, sub = message.params[0], message.params[1].upper()
    rest = list(message.params[2:])
    if sub == "GET":
        _get(session, user, target, rest)
    elif sub == "LIST":
        _list(session, user, target)
    elif sub == "SET":
        _set(session, user, target, rest)
    elif sub == "CLEAR":
        _clear(session, user, target)
    elif sub == "SUB":
        subscribe(session, user, rest)
    elif sub == "UNSUB":
        unsubscribe(session, rest)
    elif sub == "SUBS":
        _in_lines(session, n.RPL_METADATASUBS, sorted(session.metadata_subs))
    elif sub == "SYNC":
        _sync(session, user, target)
    else:
        fail(session, "INVALID_SUBCOMMAND", message.params[1][:32], "Invalid subcommand")


# -- what the hub delivers, and joins ---------------------------------------------------


def deliver_change(session: IrcClient, event: MetadataChanged) -> None:
    """Tell a subscriber of a change: each subscribed key it may read, as RPL_KEYVALUE
    or RPL_KEYNOTSET. Its own changes were answered by its command."""
    me = session.user
    subs = session.metadata_subs
    if me is None or not subs or CAP not in session.caps:
        return
    if event.actor is not None and event.actor.id == me.id:
        return
    hub = session.hub
    owner: User | Channel | None = (
        hub.find_channel(event.target)
        if event.channel
        else hub.state.users.by_id.get(event.target)
    )
    if owner is None:
        return
    shown = name_of(owner)
    for entry in event.changes:
        if entry.key in subs and readable_key(me, owner, entry.key):
            _send(session, value_line(session, shown, entry.key, entry.value))


def sync_channel(
    session: IrcClient, user: User, channel: Channel, keys: frozenset[str] | None = None
) -> None:
    """A channel's and its members' subscribed keys (or of ``keys`` only) for a client
    that joined it or subscribed: in a ``metadata`` batch, or RPL_METADATASYNCLATER
    when there would be more than ``metadata_sync_lines`` of them."""
    subs = session.metadata_subs if keys is None else keys
    if not subs or CAP not in session.caps:
        return
    limit = session.ctx.settings.limits.metadata_sync_lines
    replies = _values_of(session, user, channel, subs)
    for member in channel.members:
        if len(replies) > limit:
            break
        if member is not user and member.metadata:
            replies += _values_of(session, user, member, subs)
    if len(replies) > limit:
        session.numeric(n.RPL_METADATASYNCLATER, channel.name)
    elif replies:
        send_batch(session, channel.name, replies)


def introduce_joiner(session: IrcClient, event: Joined) -> None:
    """Someone joined a channel this client is in: its subscribed keys, so that the
    client can show who it is."""
    me = session.user
    if me is None or not session.metadata_subs or CAP not in session.caps:
        return
    joiner = session.hub.state.users.by_id.get(event.actor.id)
    if joiner is None or joiner is me or not joiner.metadata:
        return
    if sum(1 for channel in joiner.channels if channel in me.channels) > 1:
        return  # shared a channel already: this client knows it
    for message in _values_of(session, me, joiner, session.metadata_subs):
        _send(session, message)


def whois_lines(session: IrcClient, asker: User, target: User) -> None:
    """RPL_WHOISKEYVALUE for the keys WHOIS shows."""
    for key in WHOIS_KEYS:
        value = target.metadata.get(key)
        if value is not None and readable_key(asker, target, key):
            session.numeric(n.RPL_WHOISKEYVALUE, target.nick, key, visibility(key), value)
