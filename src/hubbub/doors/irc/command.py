"""A row of the IRC command table: a verb, its handler, and what the session checks
before calling it.

Each topic module of :mod:`hubbub.doors.irc.commands` lists its rows in ``COMMANDS``;
:mod:`hubbub.doors.irc.table` gathers them into the one table the session looks verbs
up in. The checks run in the order of the attributes below, each with the reply it
sends; a handler is only called once they all passed, so it does not repeat them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, TypeVar

if TYPE_CHECKING:
    from hubbub.core.model import User
    from hubbub.doors.irc.client import IrcClient
    from hubbub.wire.message import Message

# A handler returns None, or an awaitable when it must wait for storage (those are
# written as ``async def``; the driver pauses the client until they are done).
UserHandler = Callable[["IrcClient", "User", "Message"], Awaitable[None] | None]
ConnectionHandler = Callable[["IrcClient", "Message"], Awaitable[None] | None]

# Users a WHO looks at (and channels a LIST) for the price of one line of flood control.
# One user's fold and match cost up to 4 µs (a 200-byte mask of ``?``), so at the default
# rate (10 lines a second) one client's searches take at most about 0.4 % of a core.
SEARCHED_PER_LINE = 100
# Lines of a long reply (LIST, WHO) sent before it waits for the client to read them.
PACED_LINES = 200

_T = TypeVar("_T")


def send_paced(
    session: IrcClient, items: Sequence[_T], reply: Callable[[_T], None], end: Callable[[], None]
) -> Awaitable[None] | None:
    """Send each item's reply, then ``end``. A reply of many items goes out as fast as
    the client reads it (SAFELIST): the command waits meanwhile (the driver reads no more
    from this client), and everyone else goes on."""
    if len(items) <= PACED_LINES:
        for item in items:
            reply(item)
        end()
        return None
    return _send_paced(session, items, reply, end)


async def _send_paced(
    session: IrcClient, items: Sequence[_T], reply: Callable[[_T], None], end: Callable[[], None]
) -> None:
    for start in range(0, len(items), PACED_LINES):
        if start:
            await session.peer.drained()
            if session.closed:
                return
        for item in items[start : start + PACED_LINES]:
            reply(item)
    end()


@dataclass(frozen=True, slots=True)
class UserCommand:
    """A command of registered users; its handler is given the user.

    Attributes:
        name: the verb.
        handler: called with the session, its user and the parsed message.
        min_params: fewer parameters get ERR_NEEDMOREPARAMS (checked after registration:
            before it, ERR_NOTREGISTERED).
        oper: whether only IRC operators may use it (others get ERR_NOPRIVILEGES).
    """

    name: str
    handler: UserHandler
    min_params: int = 0
    oper: bool = False
    # Tells the two kinds of row apart with one attribute read (and narrows the type).
    registered: Literal[True] = field(default=True, init=False, repr=False)


@dataclass(frozen=True, slots=True)
class ConnectionCommand:
    """A command a client may send before it has registered, as well as after:
    registration itself, keep-alive, SASL, account registration.

    Attributes:
        name: the verb.
        handler: called with the session and the parsed message.
        min_params: fewer parameters get ERR_NEEDMOREPARAMS.
        before_registration: whether it is refused once registered (ERR_ALREADYREGISTERED).
    """

    name: str
    handler: ConnectionHandler
    min_params: int = 0
    before_registration: bool = False
    registered: Literal[False] = field(default=False, init=False, repr=False)


Command = UserCommand | ConnectionCommand
