"""The wire ring's exception family.

::

    ProtocolError            bytes that are not a valid IRC message
    ├── LineTooLong          a line over the configured limit (ERR_INPUTTOOLONG)
    ├── InvalidUtf8          a line that is not UTF-8 (UTF8ONLY)
    ├── MalformedMessage     a NUL, CR or LF inside, a broken tag section
    │   └── EmptyMessage     no command (only spaces, tags or a source)
    └── InvalidName          a nickname or channel name that breaks the naming rules
"""

from __future__ import annotations


class ProtocolError(Exception):
    """Input that cannot be read as an IRC message."""


class LineTooLong(ProtocolError):
    """A line longer than the limit; the line was discarded."""


class InvalidUtf8(ProtocolError):
    """A line that does not decode as UTF-8.

    Attributes:
        command: the command word, when it could be read, so the reply can name it.
    """

    def __init__(self, command: str) -> None:
        super().__init__(f"invalid UTF-8 in {command or 'line'}")
        self.command = command


class MalformedMessage(ProtocolError):
    """A line that decodes but does not have the shape of an IRC message."""


class EmptyMessage(MalformedMessage):
    """A line with no command: the modern IRC client protocol ignores those silently."""


class InvalidName(ProtocolError):
    """A nickname or channel name that breaks the naming rules; the message says which."""
