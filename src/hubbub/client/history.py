"""What the client asks of the server's history (IRCv3 draft/chathistory): a channel's
recent lines after each own JOIN, a private chat's as its buffer opens, and, logged in,
which private chats had messages while this client was away. No I/O: requests go out
through the session's ``send``.

Theory of operation
-------------------
A server that offers draft/chathistory replays nothing by itself: the client reads what
it wants. So, with ``batch`` enabled too:

::

    001               -> for each private buffer open from before a reconnection:
                         MARKREAD nick, CHATHISTORY LATEST nick timestamp=<its last
                         line> <n>
      logged in       -> CHATHISTORY TARGETS timestamp=<from> timestamp=<now> <n>
                         from: the newest line this client has (after a reconnection),
                         else TARGET_DAYS back; each private chat listed opens its
                         buffer, unfocused (handlers/messages.py)
    own JOIN          -> CHATHISTORY LATEST #chan <since> <n>  (since: this client's last
                         line there, or *)
    private buffer    -> MARKREAD nick                         (with draft/read-marker:
      opened (TARGETS,                                          the account's marker)
      /query, a message) CHATHISTORY LATEST nick * <n>
    its batch ends    -> its unread count: the other's lines after the marker and after
                         the user's own last line (handlers/messages.py count_private)

Lines come back with msgids (message-tags), so a line known already (the message that
opened the buffer, say) is not shown twice.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

from hubbub.client.commands import CommandSession
from hubbub.client.state import COUNTED, Buffer, BufferKind, Joined, LineKind, Opened, Update

HISTORY_LINES: Final = 50  # lines of a conversation's history fetched on opening it
TARGETS: Final = 50  # conversations listed at most by CHATHISTORY TARGETS
TARGET_DAYS: Final = 30  # how far back a client with no line yet looks for private chats
# The window's end is a little ahead of this clock: the server's may run ahead of it, and
# a message it stamped "in the future" is still one the user missed.
_CLOCK_SLACK: Final = 3600.0


def _history_cap(session: CommandSession) -> bool:
    enabled = session.enabled
    return "batch" in enabled and ("draft/chathistory" in enabled or "chathistory" in enabled)


def follow(session: CommandSession, updates: list[Update]) -> None:
    """Ask for the history of what ``updates`` opened: channels joined, private chats."""
    for update in updates:
        if isinstance(update, Joined):
            fetch_channel(session, update.name)
        elif isinstance(update, Opened):
            fetch_private(session, update.name)


def fetch_channel(session: CommandSession, name: str) -> None:
    if _history_cap(session):
        since = _since(session.state.buffer(session.state.fold(name)))
        session.send("CHATHISTORY", "LATEST", name, since, str(HISTORY_LINES))


def fetch_private(session: CommandSession, nick: str, since: str = "*") -> None:
    """A private chat's latest lines (after ``since``), and first its read marker, which
    says which of them are unread. A buffer just opened asks for all: one opened by a
    message has that message, and the conversation before it is wanted too."""
    if not _history_cap(session) or not session.state.registered:
        return
    if "draft/read-marker" in session.enabled:
        session.send("MARKREAD", nick)
    session.send("CHATHISTORY", "LATEST", nick, since, str(HISTORY_LINES))


def _since(buffer: Buffer | None) -> str:
    """Where the history a buffer lacks starts: after its last line (only what was said
    while this client was away), or ``*`` when it has none."""
    lines = [] if buffer is None else buffer.lines
    live = [line for line in lines if line.nick and line.kind is not LineKind.INFO]
    return "timestamp=" + timestamp(live[-1].time) if live else "*"


def registered(session: CommandSession, logged_in: bool) -> None:
    """Just registered: fetch the private chats open from before a reconnection, and,
    logged in (only an account has private history that outlives a connection), ask
    which others had messages meanwhile."""
    state = session.state
    for buffer in state.ordered():
        if buffer.kind is BufferKind.QUERY:
            fetch_private(session, buffer.name, _since(buffer))
    if not logged_in or not _history_cap(session):
        return
    now = state.clock()
    dated = [
        line.time
        for buffer in state.buffers.values()
        for line in buffer.lines
        if line.kind in COUNTED and line.dated
    ]
    start = max(dated, default=now - TARGET_DAYS * 86400)
    session.send(
        "CHATHISTORY",
        "TARGETS",
        "timestamp=" + timestamp(start),
        "timestamp=" + timestamp(now + _CLOCK_SLACK),
        str(TARGETS),
    )


def timestamp(when: float) -> str:
    """Unix time as IRCv3 server-time writes it: ``2024-05-01T12:00:00.000Z``."""
    stamp = datetime.fromtimestamp(when, UTC).isoformat(timespec="milliseconds")
    return stamp.replace("+00:00", "Z")
