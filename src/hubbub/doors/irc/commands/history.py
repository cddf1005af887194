"""CHATHISTORY (IRCv3 draft/chathistory): reading a channel's or a private chat's past."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hubbub.core.ports import StoreUnavailable
from hubbub.doors.irc.command import Command, UserCommand
from hubbub.doors.irc.render import REPEATED_TAGS, format_time, parse_time
from hubbub.wire.message import encode_tags, fit_line

if TYPE_CHECKING:
    from hubbub.core.history import HistoryReader, StoredMessage
    from hubbub.core.model import User
    from hubbub.doors.irc.client import IrcClient
    from hubbub.wire.message import Message

# Parameters after the subcommand, by subcommand.
_ARITY = {"LATEST": 3, "BEFORE": 3, "AFTER": 3, "AROUND": 3, "BETWEEN": 4, "TARGETS": 3}
# Lines of flood control a CHATHISTORY TARGETS costs beyond its own.
_TARGETS_COST = 5
# What every client is given of history; the rest (TOPIC, TAGMSG) is event-playback's.
MESSAGE_KINDS = frozenset({"PRIVMSG", "NOTICE"})
# Later than any message (the year 2286), for LATEST *.
_END_OF_TIME = 10_000_000_000.0


class _Invalid(Exception):
    """A request CHATHISTORY answers with FAIL; args are the code and its parameters."""


@dataclass(frozen=True, slots=True)
class _Point:
    """A place in a conversation: a time, and with a msgid reference its sequence."""

    time: float
    seq: int | None = None


def _fail(session: IrcClient, code: str, *params: str) -> None:
    session.message("FAIL", "CHATHISTORY", code, *params)


async def chathistory(session: IrcClient, user: User, message: Message) -> None:
    store = session.ctx.history
    sub = message.params[0].upper()
    if store is None:
        _fail(session, "MESSAGE_ERROR", sub, "History is not kept on this server")
        return
    if sub not in _ARITY:
        _fail(session, "INVALID_PARAMS", sub, "Unknown subcommand")
        return
    params = message.params[1:]
    if len(params) < _ARITY[sub]:
        _fail(session, "NEED_MORE_PARAMS", sub, "Missing parameters")
        return
    if len(params) > _ARITY[sub]:
        _fail(session, "INVALID_PARAMS", sub, "Too many parameters")
        return
    try:
        limit = _limit(session, sub, params[-1])
        if sub == "TARGETS":
            await _targets(session, user, store, sub, params, limit)
            return
        target = params[0]
        conversation = _conversation(session, user, sub, target)
        messages, keep = await _select(sub, store, conversation, params[1:-1], limit)
        messages = within_lines(messages, limit, keep)
    except _Invalid as invalid:
        _fail(session, *invalid.args)
        return
    except StoreUnavailable:
        _fail(session, "MESSAGE_ERROR", sub, "History is not available right now")
        return
    send_history(session, target, messages)


def _limit(session: IrcClient, sub: str, text: str) -> int:
    if not (text.isascii() and text.isdigit()) or int(text) == 0:
        raise _Invalid("INVALID_PARAMS", sub, "Invalid limit")
    return min(int(text), session.ctx.settings.limits.chathistory)


class Keep(enum.Enum):
    """Which messages of a page too long to send stay: those nearest its reference."""

    LATEST = enum.auto()  # LATEST, BEFORE, BETWEEN read backwards
    EARLIEST = enum.auto()  # AFTER, BETWEEN read forwards
    MIDDLE = enum.auto()  # AROUND


def _cost(message: StoredMessage) -> int:
    """What a message costs a page: its lines, and a line more for each whole 512 bytes
    of its client-only tags (up to 4 KB: a page of 100 such lines was 450 KB; a reply's
    or reaction's short tags cost nothing)."""
    cost = len(message.lines) or 1
    if message.tags:
        cost += sum(len(key) + len(value) + 2 for key, value in message.tags) // 512
    return cost


def within_lines(messages: list[StoredMessage], limit: int, keep: Keep) -> list[StoredMessage]:
    """The page cut to ``limit`` lines in all (long tags counting as lines, see
    :func:`_cost`). The limit counts messages, and a multi-line message goes out as up
    to multiline_max_lines lines: a page of them was that many times longer. The message
    nearest the reference always stays, whole; the client asks again from where the page
    ends."""
    sizes = [_cost(m) for m in messages]
    total = sum(sizes)
    start, end = 0, len(messages)
    cut_start = keep is not Keep.EARLIEST
    while total > limit and end - start > 1:
        if cut_start:
            total -= sizes[start]
            start += 1
        else:
            end -= 1
            total -= sizes[end]
        if keep is Keep.MIDDLE:
            cut_start = not cut_start
    return messages[start:end]


def _conversation(session: IrcClient, user: User, sub: str, target: str) -> str:
    hub = session.hub
    if target.startswith("#"):
        channel = hub.find_channel(target)
        if channel is None or user not in channel.members:
            raise _Invalid("INVALID_TARGET", sub, target, "You are not in that channel")
        # This incarnation's: an earlier channel of that name is not this one.
        return channel.history_key
    return hub.private_conversation(user, hub.casemap.fold(target))


async def _point(store: HistoryReader, conversation: str, sub: str, text: str) -> _Point | None:
    """The place a reference names (``timestamp=`` or ``msgid=``); None for a msgid
    this conversation does not have (expired, redacted, or someone else's)."""
    kind, _, value = text.partition("=")
    if kind == "timestamp":
        moment = parse_time(value)
        if moment is not None:
            return _Point(moment)
    elif kind == "msgid" and value:
        found = await store.find(conversation, value)
        return None if found is None else _Point(found.time, found.seq)
    raise _Invalid("INVALID_PARAMS", sub, "Invalid message reference")


async def _select(
    sub: str, store: HistoryReader, conversation: str, refs: tuple[str, ...], limit: int
) -> tuple[list[StoredMessage], Keep]:
    """The messages asked for, oldest first, and which of them to keep if too many."""
    if sub == "LATEST":
        found = await store.before(conversation, _END_OF_TIME, limit)
        if refs[0] == "*":
            return found, Keep.LATEST
        since = await _point(store, conversation, sub, refs[0])
        if since is None:
            return found, Keep.LATEST
        return [m for m in found if _after(m, since)], Keep.LATEST
    point = await _point(store, conversation, sub, refs[0])
    if point is None:
        return [], Keep.LATEST
    if sub == "BEFORE":
        return await store.before(conversation, point.time, limit, point.seq), Keep.LATEST
    if sub == "AFTER":
        return await store.after(conversation, point.time, limit, point.seq), Keep.EARLIEST
    if sub == "AROUND":
        # A msgid reference is itself in the middle of what is returned.
        own = 1 if point.seq is not None else 0
        earlier = await store.before(conversation, point.time, (limit - own) // 2, point.seq)
        # From the reference on: a msgid's own message, or what lies at that very time.
        seq = -1 if point.seq is None else point.seq - 1
        later = await store.after(conversation, point.time, limit - len(earlier), seq)
        return earlier + later, Keep.MIDDLE
    # BETWEEN, in either order; the reply is always oldest first.
    other = await _point(store, conversation, sub, refs[1])
    if other is None:
        return [], Keep.LATEST
    if (point.time, point.seq or 0) <= (other.time, other.seq or 0):
        found = await store.after(conversation, point.time, limit, point.seq)
        return [m for m in found if _before(m, other)], Keep.EARLIEST
    found = await store.before(conversation, point.time, limit, point.seq)
    return [m for m in found if _after(m, other)], Keep.LATEST


def _key(message: StoredMessage) -> tuple[int, int]:
    return round(message.time * 1000), message.seq


def _after(message: StoredMessage, point: _Point) -> bool:
    bound = (round(point.time * 1000), 2**62 if point.seq is None else point.seq)
    return _key(message) > bound


def _before(message: StoredMessage, point: _Point) -> bool:
    bound = (round(point.time * 1000), -1 if point.seq is None else point.seq)
    return _key(message) < bound


async def _targets(
    session: IrcClient,
    user: User,
    store: HistoryReader,
    sub: str,
    params: tuple[str, ...],
    limit: int,
) -> None:
    # A look through every conversation of the user's: more than a line's worth, and
    # one at a time on the store (ctx.targets).
    session.peer.spend(_TARGETS_COST)
    start = parse_time(params[0].removeprefix("timestamp="))
    end = parse_time(params[1].removeprefix("timestamp="))
    if start is None or end is None:
        raise _Invalid("INVALID_PARAMS", sub, "Invalid timestamps")
    low, high = min(start, end), max(start, end)
    owner = session.hub.history_owner(user)
    channels = {channel.history_key: channel for channel in user.channels.values()}
    async with session.ctx.targets:
        found = await store.conversations(list(channels), owner, low, high, limit)
    hub = session.hub
    lines = []
    for conversation in found:
        channel = channels.get(conversation.conversation)
        if channel is not None:
            name = channel.name
        else:
            other = conversation.conversation.partition(" ")[2]
            sender = conversation.sender.split("!", 1)[0]
            # The other party, as the latest line named them (target, or sender).
            name = (
                conversation.target if hub.casemap.fold(conversation.target) == other else sender
            )
        when = format_time(conversation.time)
        lines.append(f":{session.server_name} CHATHISTORY TARGETS {name} {when}")
    _send_in_batch(session, "draft/chathistory-targets", "", lines)


def send_history(session: IrcClient, target: str, messages: list[StoredMessage]) -> None:
    """The messages in a ``chathistory`` batch, with the tags the client asked for;
    what is kept besides messages (topic changes, lasting TAGMSGs) only to a client
    that asked for draft/event-playback."""
    lines = []
    limit = session.ctx.settings.limits.line_length
    events = "draft/event-playback" in session.caps
    for stored in messages:
        if stored.kind not in MESSAGE_KINDS and not events:
            continue
        texts = stored.lines or (stored.text,)
        for index, text in enumerate(texts):
            tags: dict[str, str] = {}
            if "server-time" in session.caps:
                tags["time"] = format_time(stored.time)
            # As in a live fallback (render.render_multiline): the msgid on the first
            # line of a multi-line message, the sender's client-only tags on every line
            # unless they are long (then on the first only).
            if "message-tags" in session.caps:
                if index == 0:
                    tags["msgid"] = stored.msgid
                if index == 0 or len(encode_tags(dict(stored.tags))) <= REPEATED_TAGS:
                    tags.update(stored.tags)
            if stored.kind == "TAGMSG":
                head = f":{stored.sender} TAGMSG {stored.target}"
            else:
                head = fit_line(f":{stored.sender} {stored.kind} {stored.target} :{text}", limit)
            lines.append(f"@{encode_tags(tags)} {head}" if tags else head)
    _send_in_batch(session, "chathistory", target, lines)


def _send_in_batch(session: IrcClient, kind: str, target: str, lines: list[str]) -> None:
    """Lines inside one batch, or bare for a client without the batch capability."""
    if "batch" not in session.caps:
        session.send("".join(line + "\r\n" for line in lines).encode())
        return
    reference = session.new_batch()
    server = session.server_name
    # The target is the client's own word: a long one is cut to fit the line.
    start = fit_line(
        f":{server} BATCH +{reference} {kind}" + (f" {target}" if target else ""),
        session.ctx.settings.limits.line_length,
    )
    inner = []
    for line in lines:
        if line.startswith("@"):
            inner.append(f"@batch={reference};{line[1:]}")
        else:
            inner.append(f"@batch={reference} {line}")
    out = [start, *inner, f":{server} BATCH -{reference}"]
    session.send("".join(line + "\r\n" for line in out).encode())


COMMANDS: tuple[Command, ...] = (UserCommand("CHATHISTORY", chathistory, min_params=1),)
