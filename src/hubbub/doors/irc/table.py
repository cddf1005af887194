"""The IRC command table: each command's handler and the checks made before calling it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hubbub.doors.irc.session import IrcSession
    from hubbub.wire.message import Message

# A handler returns None, or an awaitable when it must wait for storage (those are
# written as ``async def``; the driver pauses the client until they are done).
Handler = Callable[["IrcSession", "Message"], Awaitable[None] | None]


@dataclass(frozen=True, slots=True)
class Command:
    """A command and its preconditions.

    Attributes:
        name: the verb.
        handler: called with the session and the parsed message once every check passed.
        min_params: fewer parameters get ERR_NEEDMOREPARAMS.
        registered: whether the client must have completed registration.
    """

    name: str
    handler: Handler
    min_params: int = 0
    registered: bool = True


COMMANDS: dict[str, Command] = {}


def command(
    *names: str, min_params: int = 0, registered: bool = True
) -> Callable[[Handler], Handler]:
    """Register a handler under one or more verbs."""

    def register(handler: Handler) -> Handler:
        for name in names:
            if name in COMMANDS:
                raise ValueError(f"command {name} registered twice")
            COMMANDS[name] = Command(name, handler, min_params, registered)
        return handler

    return register
