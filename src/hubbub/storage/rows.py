"""The rows both stores share: the columns of a message and of an account, how a row of
them becomes a value, and times as whole milliseconds."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from typing import Any

from hubbub.storage.ports import Account, Conversation, StoredMessage

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


def conversation_from(row: Iterable[Any], text: Text = as_written) -> Conversation:
    """A conversation from a row of its key, its latest target, sender and time."""
    key, target, sender, time = row
    return Conversation(text(key), text(target), text(sender), time)
