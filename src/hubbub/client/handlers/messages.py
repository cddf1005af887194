"""Messages and the server's own lines: PRIVMSG, NOTICE (actions, CTCP), BATCH,
MARKREAD, CHATHISTORY TARGETS, ERROR and IRCv3 standard replies. No I/O."""

from __future__ import annotations

from hubbub.client.handlers.table import Table, ignored
from hubbub.client.state import (
    COUNTED,
    SERVER,
    Buffer,
    BufferKind,
    BuffersChanged,
    ChatState,
    Line,
    LineKind,
    nick_of,
    parse_time,
)
from hubbub.client.text import clean, mentions
from hubbub.wire.message import Message

TABLE = Table()
handles = TABLE.handles

_ACTION = "\x01ACTION "

# The session answers these, or there is nothing in them to show.
handles("PING", "PONG", "CAP", "AUTHENTICATE", "TAGMSG", "CHGHOST", "SETNAME", "ACCOUNT")(ignored)


@handles("BATCH")
def _batch(state: ChatState, message: Message) -> None:
    if not message.params:
        return
    reference = message.params[0]
    if reference.startswith("+") and len(message.params) > 1:
        state.batches[reference[1:]] = message.params[1:]
        return
    ended = state.batches.pop(reference[1:], ())
    if len(ended) > 1 and ended[0].endswith("chathistory"):
        buffer = state.buffers.get(state.fold(ended[1]))
        if buffer is not None and buffer.kind is BufferKind.QUERY:
            count_private(state, buffer)


def count_private(state: ChatState, buffer: Buffer) -> None:
    """Count a private chat's unread lines again, its history in: the other's lines after
    the account's read marker and after the user's own last line there (an answer says
    what came before it was read). Replayed lines count here, unlike in a channel: they
    are what was said to the user while it was away."""
    unread = 0
    if buffer.key != state.active:
        since = buffer.read_to if buffer.read_to is not None else float("-inf")
        for line in buffer.lines:
            if line.kind in COUNTED and line.own:
                since = max(since, line.time)
        unread = sum(
            1
            for line in buffer.lines
            if line.kind in COUNTED and not line.own and line.time > since
        )
    # Every line of a private chat is addressed to the user: each is a mention.
    if (unread, unread) != (buffer.unread, buffer.mentions):
        buffer.unread = buffer.mentions = unread
        state.emit(BuffersChanged())


@handles("CHATHISTORY")
def _targets(state: ChatState, message: Message) -> None:
    """draft/chathistory: ``CHATHISTORY TARGETS <target> <latest time>``, one line for
    each conversation with messages in the time asked about. A private chat gets its
    buffer, unfocused (the session then fetches its lines); channels are joined, or not,
    as configured."""
    if len(message.params) < 2 or message.params[0] != "TARGETS":
        return
    target = message.params[1]
    if target and not state.is_channel(target):
        state.open(target, BufferKind.QUERY)


@handles("PRIVMSG", "NOTICE")
def _message(state: ChatState, message: Message) -> None:
    if len(message.params) < 2:
        return
    target, text = message.params[0], message.params[-1]
    sender = nick_of(message.source)
    kind = LineKind.NOTICE if message.command == "NOTICE" else LineKind.MESSAGE
    if text.startswith(_ACTION):
        kind, text = LineKind.ACTION, text[len(_ACTION) :].rstrip("\x01")
    elif text.startswith("\x01"):
        if kind is LineKind.MESSAGE:
            # Other CTCP requests (VERSION, PING, ...) are noted, not answered.
            state._add(
                state.buffers[SERVER],
                Line(state._time(message), LineKind.INFO, "", clean(f"CTCP from {sender}")),
            )
        return
    if kind is LineKind.NOTICE and not state.is_channel(target) and not state.is_me(sender):
        # A notice to us from a user goes to its open private chat, else where we look.
        existing = state.buffers.get(state.fold(sender)) if sender else None
        if existing is None and (not state.registered or "!" not in (message.source or "")):
            buffer = state.buffers[SERVER]
        else:
            buffer = existing or state.current
    else:
        buffer = state._conversation(target, sender)
    own = state.is_me(sender)
    history = state._replayed(message, buffer)
    # A replayed line that names this user was seen (or missed) then: not a new mention.
    private = buffer.kind is BufferKind.QUERY and not own and not history
    line = Line(
        state._time(message),
        kind,
        sender or state.network,
        clean(text),
        own=own,
        mention=not own and not history and (private or mentions(text, state.nick)),
        history=history,
        display=state.display_names.get(state.fold(sender), "") if sender else "",
    )
    state._add(buffer, line, message.tags.get("msgid"))


@handles("MARKREAD")
def _read_marker(state: ChatState, message: Message) -> None:
    """draft/read-marker: ``MARKREAD <target> timestamp=<when>`` (``*``: never read).
    The account read ``target`` up to then, here or on another of its devices: what
    came after is all that stays unread."""
    if len(message.params) < 2 or not message.params[1].startswith("timestamp="):
        return
    buffer = state.buffers.get(state.fold(message.params[0]))
    when = parse_time(message.params[1].removeprefix("timestamp="))
    if buffer is None or when is None:
        return
    if buffer.read_to is None or when > buffer.read_to:
        buffer.read_to = when
    # A private chat's replayed lines may be unread (see count_private); a channel's not.
    private = buffer.kind is BufferKind.QUERY
    after = [
        line
        for line in buffer.lines
        if line.time > when
        and line.kind in COUNTED
        and not line.own
        and (private or not line.history)
    ]
    unread = min(buffer.unread, len(after))
    mentions = min(buffer.mentions, len(after) if private else sum(x.mention for x in after))
    if (unread, mentions) != (buffer.unread, buffer.mentions):
        buffer.unread, buffer.mentions = unread, mentions
        state.emit(BuffersChanged())


@handles("ERROR")
def _error(state: ChatState, message: Message) -> None:
    text = clean(message.params[-1]) if message.params else "closing"
    state.note(f"Server error: {text}", SERVER, LineKind.ERROR)


@handles("FAIL", "WARN", "NOTE")
def _standard_reply(state: ChatState, message: Message) -> None:
    """IRCv3 standard-replies: ``FAIL <command> <code> [context...] :<description>``."""
    text = clean(message.params[-1]) if message.params else message.command
    kind = LineKind.ERROR if message.command == "FAIL" else LineKind.INFO
    state.note(text, None, kind)
