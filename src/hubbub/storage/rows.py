"""The rows both stores share: the columns of a message and of an account, how a row of
them becomes a value, times as whole milliseconds, and the reads of such rows.

The reads are written once, with numbered placeholders: PostgreSQL's ``$1`` or SQLite's
``?1``, which binds a sequence by position as ``?`` does and lets one value stand in two
places. What differs between the databases stays in each store: the SQL that rounds a
time, the bulk insert, and the queries built on one database's own functions.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from hubbub.accounts.ports import Account
from hubbub.core.history import Conversation, StoredMessage

MESSAGE_COLUMNS = "msgid, time, conversation, target, sender, kind, text, tags, lines, id"
# A message as a store writes it: id is the order of storing, the database's to assign.
NEW_MESSAGE_COLUMNS = MESSAGE_COLUMNS.removesuffix(", id")
ACCOUNT_COLUMNS = "key, name, password, email, created, scram, uid"

# Sequence numbers before and after any message's, for a point given by time alone.
FIRST_SEQ = -1
LAST_SEQ = 2**62

Text = Callable[[str], str]


def as_written(text: str) -> str:
    """Text read back from a store that keeps it as it was written."""
    return text


def milliseconds(time: float) -> int:
    """A time as whole milliseconds; infinities become bounds past any message."""
    if time == math.inf:
        return LAST_SEQ
    if time == -math.inf:
        return -LAST_SEQ
    return round(time * 1000)


def message_from(row: Iterable[Any], text: Text = as_written) -> StoredMessage:
    """A message from a row of :data:`MESSAGE_COLUMNS`; ``text`` gives back what was
    written from what the database holds."""
    # By position: both drivers' rows unpack in column order, faster than by name.
    msgid, time, conversation, target, sender, kind, body, tags, lines, seq = row
    return StoredMessage(
        text(msgid),
        time,
        text(conversation),
        text(target),
        text(sender),
        text(kind),
        text(body),
        tuple((k, v) for k, v in json.loads(tags)),
        tuple(json.loads(lines)),
        seq,
    )


def account_from(row: Iterable[Any] | None, text: Text = as_written) -> Account | None:
    """An account from a row of :data:`ACCOUNT_COLUMNS`, if there is one."""
    if row is None:
        return None
    key, name, password, email, created, scram, uid = row
    return Account(
        text(key), text(name), text(password), text(email), created, text(scram), text(uid)
    )


def account_row(account: Account, text: Text = as_written) -> tuple[object, ...]:
    """An account's values in the order of :data:`ACCOUNT_COLUMNS`; ``text`` gives what
    the database is to hold for a string."""
    return (
        text(account.key),
        text(account.name),
        text(account.password),
        text(account.email),
        account.created,
        text(account.scram),
        text(account.uid),
    )


# The most private conversations CHATHISTORY TARGETS looks through for one owner. Each is
# found through the index in two lookups; scanning every message, as one query did, cost
# a tenth of a second a request on a million messages and stalled every history read.
PRIVATE_CONVERSATIONS = 1000


def private_range(owner: str) -> tuple[str, str]:
    """The bounds of ``owner``'s private conversation keys (its id, a space, the other
    party) in binary order: after the first, before the second."""
    return owner + " ", owner + "!"


def in_window(
    found: Iterable[Conversation], start: float, end: float, limit: int
) -> list[Conversation]:
    """The conversations whose latest message is strictly between ``start`` and
    ``end`` (to the millisecond), oldest first, at most ``limit``."""
    low, high = milliseconds(start), milliseconds(end)
    kept = [c for c in found if low < milliseconds(c.time) < high]
    kept.sort(key=lambda c: (c.time, c.conversation))
    return kept[:limit]


def conversation_from(row: Iterable[Any], text: Text = as_written) -> Conversation:
    """A conversation from a row of its key, its latest target, sender and time."""
    key, target, sender, time = row
    return Conversation(text(key), text(target), text(sender), time)


@dataclass(frozen=True, slots=True)
class Reads:
    """The queries of message and account rows, in one database's SQL. ``before`` and
    ``after`` take the parameters that :func:`before` and :func:`after` give; ``find``
    a conversation and a msgid; ``account`` a key; ``account_by_certificate`` a
    fingerprint."""

    before: str
    after: str
    find: str
    account: str
    account_by_certificate: str

    @classmethod
    def written_with(cls, mark: str, time_ms: str) -> Reads:
        """The reads with ``mark`` before each parameter's number (``$`` or ``?``) and
        ``time_ms``, the database's SQL for ``time`` in whole milliseconds, rounded half
        away from zero."""

        def around(earlier: bool) -> str:
            beyond, order = ("<", " DESC") if earlier else (">", "")
            # The bare time test follows from the millisecond one; it lets the index on
            # (conversation, time) bound the scan, where the rounding hides the column.
            return (
                f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation = {mark}1 "
                f"AND ({time_ms} {beyond} {mark}2 "
                f"OR ({time_ms} = {mark}2 AND id {beyond} {mark}3)) "
                f"AND time {beyond} {mark}5 ORDER BY time{order}, id{order} LIMIT {mark}4"
            )

        return cls(
            before=around(earlier=True),
            after=around(earlier=False),
            find=(
                f"SELECT {MESSAGE_COLUMNS} FROM messages "
                f"WHERE conversation = {mark}1 AND msgid = {mark}2"
            ),
            account=f"SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE key = {mark}1",
            account_by_certificate=(
                f"SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE uid = "
                f"(SELECT account FROM certificates WHERE fingerprint = {mark}1)"
            ),
        )


def before(
    conversation: str, time: float, limit: int, seq: int | None
) -> tuple[str, int, int, int, float]:
    """The parameters of :attr:`Reads.before` (see :meth:`HistoryStore.before`)."""
    ms = milliseconds(time)
    return conversation, ms, FIRST_SEQ if seq is None else seq, limit, (ms + 1) / 1000


def after(
    conversation: str, time: float, limit: int, seq: int | None
) -> tuple[str, int, int, int, float]:
    """The parameters of :attr:`Reads.after` (see :meth:`HistoryStore.after`)."""
    ms = milliseconds(time)
    return conversation, ms, LAST_SEQ if seq is None else seq, limit, (ms - 1) / 1000
