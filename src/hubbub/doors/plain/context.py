"""What every plain-door session of one server shares."""

from __future__ import annotations

import gettext
from dataclasses import dataclass, field
from typing import Protocol

from hubbub.core.hub import Hub
from hubbub.core.server_bans import ServerBans
from hubbub.doors.plain.i18n import translations
from hubbub.doors.ports import RecentHistory
from hubbub.doors.tally import DoorTally


@dataclass(slots=True)
class RenderedMessage:
    """The last message rendered for plain users, by their current room."""

    event: object = None
    lines: dict[str | None, bytes] = field(default_factory=dict)


class RegisteredNames(Protocol):
    """What the door asks of the server's accounts (:class:`hubbub.accounts.Accounts`)."""

    def is_registered(self, nick: str) -> bool: ...


@dataclass(slots=True)
class PlainContext:
    """Server-wide state of the plain door.

    Attributes:
        hub: the chat.
        room: the room every plain user starts in.
        language: the catalog's language, or None for the environment's.
        accounts: the server's accounts, when it keeps them; their names are not
            given to plain users.
        line_length: the longest IRC line (``line_length`` of the limits): what a plain
            user says is relayed to IRC users in lines no longer.
        password: the server password, asked for before the name when set.
        bans: the server's bans, asked as a name is chosen.
        tally: what the doors count for the metrics.
    """

    hub: Hub
    room: str = "#lobby"
    language: str | None = None
    catalog: gettext.NullTranslations = field(init=False)
    history: RecentHistory | None = None
    backlog: int = 10
    accounts: RegisteredNames | None = None
    line_length: int = 512
    password: str | None = None
    bans: ServerBans = field(default_factory=ServerBans)
    rendered: RenderedMessage = field(default_factory=lambda: RenderedMessage())
    tally: DoorTally = field(default_factory=DoorTally)  # the server's: the gate's

    def __post_init__(self) -> None:
        self.catalog = translations(self.language)

    def _(self, message: str) -> str:
        return self.catalog.gettext(message)
