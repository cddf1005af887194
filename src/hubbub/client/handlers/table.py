"""The shape of the handler tables: one handler per command, registered with a decorator
as its module is read, and the topic tables merged into the one the client looks up."""

from __future__ import annotations

from collections.abc import Callable

from hubbub.client.state import ChatState
from hubbub.wire.message import Message

Handler = Callable[[ChatState, Message], None]


class Table:
    """One topic's handlers, by command."""

    def __init__(self) -> None:
        self.handlers: dict[str, Handler] = {}

    def handles(self, *commands: str) -> Callable[[Handler], Handler]:
        """Register the decorated function for ``commands`` (a later one replaces it)."""

        def register(handler: Handler) -> Handler:
            for command in commands:
                self.handlers[command] = handler
            return handler

        return register


def merged(*tables: Table) -> dict[str, Handler]:
    """One lookup table from the topic tables.

    Raises:
        ValueError: two tables handle the same command (a bug: one would be lost).
    """
    handlers: dict[str, Handler] = {}
    for table in tables:
        twice = handlers.keys() & table.handlers.keys()
        if twice:
            raise ValueError(f"handled in two tables: {sorted(twice)}")
        handlers.update(table.handlers)
    return handlers


def ignored(state: ChatState, message: Message) -> None:
    """Answered by the session, or nothing to show."""
