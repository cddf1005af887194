"""The core ring's refusals: one :class:`ChatError` carrying a :class:`Reason`.

Doors map each reason to their own reply (an IRC numeric, a plain-text line); the
refused user alone is told, and nothing else changes.
"""

from __future__ import annotations

import enum


class Reason(enum.Enum):
    NO_SUCH_NICK = enum.auto()
    NO_SUCH_CHANNEL = enum.auto()
    NICK_IN_USE = enum.auto()
    ERRONEOUS_NICK = enum.auto()
    BAD_CHANNEL_NAME = enum.auto()
    CANNOT_SEND = enum.auto()
    TOO_MANY_CHANNELS = enum.auto()
    NOT_ON_CHANNEL = enum.auto()
    USER_NOT_IN_CHANNEL = enum.auto()
    USER_ON_CHANNEL = enum.auto()
    CHANOP_NEEDED = enum.auto()
    CHANNEL_FULL = enum.auto()
    INVITE_ONLY = enum.auto()
    BANNED = enum.auto()
    BAD_KEY = enum.auto()
    LIST_FULL = enum.auto()
    INVALID_MODE_PARAM = enum.auto()
    NO_PRIVILEGES = enum.auto()
    USERS_DONT_MATCH = enum.auto()
    CANT_KILL_SERVER = enum.auto()
    UNKNOWN_MESSAGE = enum.auto()
    FORBIDDEN = enum.auto()
    NAME_IN_USE = enum.auto()
    # draft/metadata-3: a key's name, a value, permission, or the number of keys.
    INVALID_KEY = enum.auto()
    INVALID_VALUE = enum.auto()
    KEY_NO_PERMISSION = enum.auto()
    LIMIT_REACHED = enum.auto()


class ChatError(Exception):
    """A refused operation.

    Attributes:
        reason: why, as one of the :class:`Reason` values.
        subject: the nick or channel the refusal is about, as the user wrote it.
        detail: a human-readable explanation, or extra data the reply needs
            (the other name for USER_NOT_IN_CHANNEL, the mode letter for list and
            parameter errors).
    """

    def __init__(self, reason: Reason, subject: str = "", detail: str = "") -> None:
        super().__init__(f"{reason.name}: {subject} {detail}".rstrip())
        self.reason = reason
        self.subject = subject
        self.detail = detail
