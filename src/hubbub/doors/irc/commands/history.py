"""CHATHISTORY (IRCv3 draft/chathistory): reading a channel's or a private chat's past."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from hubbub.core.messaging import private_conversation
from hubbub.doors.irc.render import format_time, parse_time
from hubbub.doors.irc.table import command
from hubbub.storage.errors import StorageError
from hubbub.wire.casemap import Key
from hubbub.wire.message import encode_tags

if TYPE_CHECKING:
    from hubbub.doors.irc.session import IrcSession
    from hubbub.storage.ports import HistoryStore, StoredMessage
    from hubbub.wire.message import Message

_SUBCOMMANDS = ("LATEST", "BEFORE", "AFTER", "AROUND", "BETWEEN", "TARGETS")


class _Invalid(Exception):
    """A request CHATHISTORY answers with FAIL; args are the code and its parameters."""


def _fail(session: IrcSession, code: str, *params: str) -> None:
    session.message("FAIL", "CHATHISTORY", code, *params)


@command("CHATHISTORY", min_params=1)
async def chathistory(session: IrcSession, message: Message) -> None:
    store = session.ctx.history
    sub = message.params[0].upper()
    if store is None:
        _fail(session, "MESSAGE_ERROR", sub, "History is not kept on this server")
        return
    if sub not in _SUBCOMMANDS:
        _fail(session, "INVALID_PARAMS", sub, "Unknown subcommand")
        return
    needed = {"BETWEEN": 5, "TARGETS": 4}.get(sub, 4)
    if len(message.params) < needed:
        _fail(session, "NEED_MORE_PARAMS", sub, "Missing parameters")
        return
    params = message.params[1:]
    try:
        limit = _limit(session, params[-1])
        if sub == "TARGETS":
            await _targets(session, store, params, limit)
            return
        target = params[0]
        conversation = _conversation(session, target)
        messages = await _select(sub, store, conversation, params[1:-1], limit)
    except _Invalid as invalid:
        _fail(session, *invalid.args)
        return
    except StorageError:
        _fail(session, "MESSAGE_ERROR", sub, "History is not available right now")
        return
    _send_batch(session, target, messages)


def _limit(session: IrcSession, text: str) -> int:
    if not text.isdigit() or int(text) == 0:
        raise _Invalid("INVALID_PARAMS", text, "Invalid limit")
    return min(int(text), session.ctx.settings.limits.chathistory)


def _conversation(session: IrcSession, target: str) -> str:
    user = session.user
    assert user is not None
    hub = session.ctx.hub
    if target.startswith("#"):
        channel = hub.find_channel(target)
        if channel is None or user not in channel.members:
            raise _Invalid("INVALID_TARGET", "CHATHISTORY", target, "You are not in that channel")
        return channel.key
    return private_conversation(user.key, hub.casemap.fold(target))


async def _reference(store: HistoryStore, conversation: str, text: str) -> float:
    """The time a message reference stands for (``timestamp=`` or ``msgid=``)."""
    kind, _, value = text.partition("=")
    if kind == "timestamp":
        moment = parse_time(value)
        if moment is not None:
            return moment
    elif kind == "msgid" and value:
        found = await store.find(conversation, value)
        if found is None:
            raise _Invalid("INVALID_MSGREFTYPE", "CHATHISTORY", text, "No such message")
        return found.time
    raise _Invalid("INVALID_PARAMS", "CHATHISTORY", text, "Invalid message reference")


async def _select(
    sub: str, store: HistoryStore, conversation: str, refs: tuple[str, ...], limit: int
) -> list[StoredMessage]:
    if sub == "LATEST":
        found = await store.before(conversation, math.inf, limit)
        if refs[0] == "*":
            return found
        since = await _reference(store, conversation, refs[0])
        return [m for m in found if m.time > since]
    moment = await _reference(store, conversation, refs[0])
    if sub == "BEFORE":
        return await store.before(conversation, moment, limit)
    if sub == "AFTER":
        return await store.after(conversation, moment, limit)
    if sub == "AROUND":
        earlier = await store.before(conversation, moment, max(limit // 2, 1))
        later = await store.after(conversation, moment - 1e-6, limit - len(earlier))
        return (earlier + later)[:limit]
    # BETWEEN, in either order; the reply is always oldest first.
    other = await _reference(store, conversation, refs[1])
    if moment <= other:
        return [m for m in await store.after(conversation, moment, limit) if m.time < other]
    return [m for m in await store.before(conversation, moment, limit) if m.time > other]


async def _targets(
    session: IrcSession, store: HistoryStore, params: tuple[str, ...], limit: int
) -> None:
    user = session.user
    assert user is not None
    start = parse_time(params[0].removeprefix("timestamp="))
    end = parse_time(params[1].removeprefix("timestamp="))
    if start is None or end is None:
        raise _Invalid("INVALID_PARAMS", "TARGETS", "Invalid timestamps")
    low, high = min(start, end), max(start, end)
    keys = list(user.channels)
    found = await store.conversations(keys, user.key, low, high, limit)
    reference = session.new_batch()
    server = session.ctx.server_name
    out = [f":{server} BATCH +{reference} draft/chathistory-targets"]
    hub = session.ctx.hub
    for conversation in found:
        channel = hub.channels.get(Key(conversation.conversation))
        if channel is not None:
            name = channel.name
        elif hub.casemap.fold(conversation.target) == user.key:
            name = conversation.sender.split("!", 1)[0]  # they wrote to this user
        else:
            name = conversation.target
        when = format_time(conversation.time)
        out.append(f"@batch={reference} :{server} CHATHISTORY TARGETS {name} timestamp={when}")
    out.append(f":{server} BATCH -{reference}")
    session.send("".join(line + "\r\n" for line in out).encode())


def _send_batch(session: IrcSession, target: str, messages: list[StoredMessage]) -> None:
    """The messages in a ``chathistory`` batch, with their times and ids."""
    reference = session.new_batch()
    server = session.ctx.server_name
    out = [f":{server} BATCH +{reference} chathistory {target}"]
    for stored in messages:
        texts = stored.lines or (stored.text,)
        for index, text in enumerate(texts):
            tags = {"batch": reference, "time": format_time(stored.time)}
            if index == 0:
                tags["msgid"] = stored.msgid
            if "message-tags" in session.caps:
                tags.update(stored.tags)
            head = f"@{encode_tags(tags)} :{stored.sender} {stored.kind} {stored.target}"
            out.append(f"{head} :{text}")
    out.append(f":{server} BATCH -{reference}")
    session.send("".join(line + "\r\n" for line in out).encode())
