"""What every IRC session of one server shares: the hub, the settings, server facts."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from hubbub import __version__
from hubbub.accounts.service import Accounts
from hubbub.core.history import HistoryReader
from hubbub.core.hub import Hub
from hubbub.core.modes import USER_MODES, chanmodes_isupport, prefix_isupport
from hubbub.core.server_bans import ServerBans
from hubbub.doors.irc.audience import Audiences
from hubbub.doors.irc.nick_guards import NickGuards
from hubbub.doors.irc.options import ServerOptions
from hubbub.doors.irc.render import RenderCache
from hubbub.doors.ports import BanBook
from hubbub.doors.tally import DoorTally

# Replies encoded but for the client's nick, as the bytes before and after it: 002-005,
# and the MOTD (see welcome.py).
WelcomeTemplates = tuple[list[tuple[bytes, bytes]], list[tuple[bytes, bytes]]]


@dataclass(slots=True)
class IrcContext:
    """Server-wide state of the IRC door.

    Attributes:
        hub: the chat.
        settings: the current settings; REHASH replaces them.
        motd: the message of the day, one line per entry.
        rehash: reloads the config file; returns an error message or None.
        unregistered: connections that have not finished registration.
    """

    hub: Hub
    settings: ServerOptions
    motd: list[str] = field(default_factory=list)
    rehash: Callable[[], str | None] = lambda: "no config file to reload"
    # What the last REHASH read but only a restart applies, by config name.
    restart_pending: tuple[str, ...] = ()
    created: float = field(default_factory=time.time)
    unregistered: int = 0
    # Message history, when kept (CHATHISTORY).
    history: HistoryReader | None = None
    # One CHATHISTORY TARGETS at a time on the store: each is up to a couple of thousand
    # lookups, and side by side they held every other history read for half a second.
    targets: asyncio.Lock = field(default_factory=asyncio.Lock)
    # Accounts, when kept (SASL, REGISTER, NickServ).
    accounts: Accounts | None = None
    # The event loop's call_later, for the one timer a session needs (nick ownership).
    call_later: Callable[[float, Callable[[], None]], object] | None = None
    # Registered nicks held without their accounts: graces and holds, by account.
    nick_guards: NickGuards = field(default_factory=NickGuards)
    # The server's bans, asked at registration and login; and where KLINE and the like
    # change them (kept in the store, enforced), None until the wiring hands it.
    bans: ServerBans = field(default_factory=ServerBans)
    ban_book: BanBook | None = None
    # The port a TLS listener is bound to, for STS; None without one.
    tls_port: int | None = None
    # While the server shuts down, closing sessions do not announce quits to each other.
    shutting_down: bool = False
    cache: RenderCache = field(default_factory=RenderCache)
    # Sessions grouped by how a channel message reaches them (see audience.py).
    audiences: Audiences = field(init=False)
    # Replies that only change with the settings, built once: ISUPPORT tokens, and the
    # encoded CAP LS reply by (LS version, client name, TLS) for cap_ls_settings.
    _isupport: tuple[object, list[str]] = (None, [])
    cap_ls: dict[tuple[object, ...], bytes] = field(default_factory=dict)
    cap_ls_settings: ServerOptions | None = None  # the settings cap_ls was built for
    # The welcome burst's fixed parts, by (settings, history, MOTD); see welcome.py.
    _welcome: tuple[object, WelcomeTemplates] = (None, ([], []))
    version: str = f"hubbub-{__version__}"
    tally: DoorTally = field(default_factory=DoorTally)  # the server's: the gate's

    def __post_init__(self) -> None:
        self.cache.line_length = self.settings.limits.line_length
        self.audiences = Audiences(self.cache)

    def configure(self, settings: ServerOptions) -> None:
        """Take new settings (REHASH): what is built from them is built again."""
        self.settings = settings
        self.cache.line_length = settings.limits.line_length

    @property
    def server_name(self) -> str:
        return self.settings.server_name

    def welcome_templates(self, build: Callable[[], WelcomeTemplates]) -> WelcomeTemplates:
        """The welcome burst's templates: built by ``build`` once per settings and MOTD."""
        # The objects themselves, not their ids: an id can be reused once freed.
        key = (self.settings, self.history is not None, self.motd)
        if self._welcome[0] != key:
            self._welcome = (key, build())
        return self._welcome[1]

    def isupport(self) -> list[str]:
        """The RPL_ISUPPORT tokens, in order (built once per settings)."""
        # The settings object itself: an id can be reused once the old one is freed.
        key = (self.settings, self.history is not None)
        if self._isupport[0] != key:
            self._isupport = (key, self._build_isupport())
        return self._isupport[1]

    def _build_isupport(self) -> list[str]:
        s = self.settings
        limits = s.limits
        targets = limits.targets
        return [
            f"AWAYLEN={limits.awaylen}",
            "BOT=B",
            f"CASEMAPPING={s.casemapping.value}",
            f"CHANLIMIT=#:{limits.channels_per_user}",
            f"CHANMODES={chanmodes_isupport()}",
            f"CHANNELLEN={limits.channellen}",
            "CHANTYPES=#",
            *([f"CHATHISTORY={limits.chathistory}"] if self.history is not None else []),
            "ELIST=CMNTU",
            "EXCEPTS=e",
            "EXTBAN=,am",
            "INVEX=I",
            f"KICKLEN={limits.kicklen}",
            f"LINELEN={limits.line_length}",
            f"MAXLIST=beI:{limits.list_length}",
            f"MAXTARGETS={targets}",
            f"MODES={limits.modes}",
            f"MONITOR={limits.monitor}",
            *(["MSGREFTYPES=timestamp,msgid"] if self.history is not None else []),
            f"NETWORK={s.network_name}",
            f"NICKLEN={limits.nicklen}",
            f"PREFIX={prefix_isupport()}",
            "SAFELIST",
            "STATUSMSG=@+",
            f"TARGMAX=JOIN:,KICK:{targets},LIST:,NAMES:{targets},NOTICE:{targets},PART:,"
            f"PRIVMSG:{targets},WHOIS:1",
            f"TOPICLEN={limits.topiclen}",
            f"USERLEN={limits.userlen}",
            "UTF8ONLY",
            "WHOX",
            # Where clients start by default (the plain door's room), so that every
            # door's newcomers meet in one place.
            f"hubbub/LOBBY={s.plain_room}",
        ]

    def sts_value(self, secure: bool) -> str | None:
        """The IRCv3 STS policy to advertise, or None without a TLS listener.

        On a plain connection it names the TLS port; on a TLS one, how long to persist.
        """
        if self.tls_port is None:
            return None
        if secure:
            return f"duration={self.settings.sts_duration}"
        return f"port={self.tls_port}"

    @staticmethod
    def user_modes() -> str:
        return "".join(sorted(USER_MODES))
