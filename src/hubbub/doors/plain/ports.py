"""What the plain door's commands and renderer need of a session.

:class:`~hubbub.doors.plain.session.PlainSession` is one. They name this protocol rather
than the session class, because the session runs the commands and renders with them: the
imports then point one way, from the session to its helpers.
"""

from __future__ import annotations

from typing import Protocol

from hubbub.core.model import User
from hubbub.doors.plain.context import PlainContext


class SessionView(Protocol):
    """One plain user's session, as a command or the renderer sees it."""

    ctx: PlainContext
    user: User | None  # None until the user has a name
    room: str | None  # the current room: where what the user types is said

    def tell(self, *lines: str) -> None:
        """Send lines of text to the user."""
        ...

    def join(self, room: str, announce_self: bool = True) -> None:
        """Join a room, which becomes the current room."""
        ...

    def say(self, text: str, target: str | None = None) -> str | None:
        """Say text in a room or to a user (the current room by default); the room or
        user as the server names it, or None when refused (the user was told why)."""
        ...

    def refuse_owned(self, name: str) -> bool:
        """Whether ``name`` belongs to an account, telling the user so when it does."""
        ...

    def forget_room(self, room: str) -> None:
        """After leaving ``room``: the current room becomes another one the user is in."""
        ...

    def close(self, reason: str) -> None:
        """Leave the chat and close the connection."""
        ...

    def spend(self, cost: int) -> None:
        """Take ``cost`` lines more from flood control, for a command that costs more
        than a line to answer (a list of every room)."""
        ...
