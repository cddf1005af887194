"""The chat's state as the operations read it and :mod:`~hubbub.core.apply` changes
it: its owners (users, channels, read markers, recent messages, MONITOR lists), the
limits, the clock and the source of ids."""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from hubbub.core.channels import Channels
from hubbub.core.markers import ReadMarkers
from hubbub.core.model import User
from hubbub.core.modes import ACCOUNT_PREFIX
from hubbub.core.monitor import Monitors
from hubbub.core.ports import Registry
from hubbub.core.recent import RecentMessages
from hubbub.core.spread import Spread
from hubbub.core.users import Users
from hubbub.wire.casemap import Casemap


@dataclass(frozen=True)
class ChatLimits:
    """Bounds the chat enforces, with their defaults; each is a ``[limits]`` setting
    (:class:`hubbub.settings.Limits` is made of these and the other rings' limits)."""

    channels_per_user: int = 50  # channels one user may be in at once
    channels_per_account: int = 10  # channels one account may register (ChanServ)
    topiclen: int = 390  # characters of a topic
    kicklen: int = 390  # characters of a KICK's reason
    awaylen: int = 390  # characters of an AWAY message
    list_length: int = 100  # entries of the ban, exception and invite lists together
    whowas: int = 1000  # remembered departed nicks
    monitor: int = 100  # nicks one user may MONITOR
    read_markers: int = 1000  # conversations whose read marker a user or account keeps
    recent_messages: int = 10_000  # messages remembered for REDACT
    metadata_keys: int = 20  # metadata keys one user or channel may have (draft/metadata-3)
    metadata_key_length: int = 64  # bytes of a metadata key's name
    metadata_value_bytes: int = 300  # bytes of a metadata value (an avatar's data: URL too)
    clients_per_account: int = 8  # connections attached at once to one account's user
    always_on_users: int = 1000  # always-on users kept with no connection attached


class Ids:
    """Message ids and user and channel-incarnation ids: unique within this process by
    a counter, across restarts (and nodes) by a random prefix."""

    __slots__ = ("_ids", "_msgids", "prefix")

    def __init__(self) -> None:
        self.prefix = secrets.token_hex(4)
        self._msgids = itertools.count(1)
        self._ids = itertools.count(1)

    def msgid(self) -> str:
        return f"{self.prefix}{next(self._msgids):x}"

    def new(self) -> str:
        return f"{self.prefix}.{next(self._ids):x}"


class State:
    """Everything the chat knows, by owner.

    Args:
        casemap: how names are folded and validated.
        limits: the bounds to enforce.
        clock: the wall clock, in seconds since the epoch.
        registry: where nicks and channel names are claimed.
    """

    def __init__(
        self,
        casemap: Casemap,
        limits: ChatLimits,
        clock: Callable[[], float],
        registry: Registry,
    ) -> None:
        self.casemap = casemap
        self.limits = limits
        self.clock = clock
        self.ids = Ids()
        self.users = Users(casemap, registry, limits.whowas)
        self.channels = Channels(casemap, registry)
        self.markers = ReadMarkers(limits.read_markers)
        self.recent = RecentMessages(limits.recent_messages)
        self.monitors = Monitors(casemap, limits.monitor)
        # Who is logged in to each account, by account id.
        self.account_users: dict[str, set[User]] = {}
        # Accounts dropped while this server ran: a login that was under way when its
        # account went (a SASL exchange before CAP END, a password check awaiting the
        # store) must not take effect. Ids are never reused, so this only grows by
        # drops.
        self.dropped_accounts: set[str] = set()
        # Which node runs hold each user's devices, between nodes (core/spread.py).
        self.spread = Spread()

    def neighbours(self, user: User) -> set[User]:
        """Everyone who shares a channel with ``user``, ``user`` excluded."""
        seen: set[User] = set()
        for channel in user.channels.values():
            seen.update(channel.members)
        seen.discard(user)
        return seen

    def masks_of(self, user: User) -> tuple[str, ...]:
        """The folded masks that bans and exceptions are matched against: the user's
        ``nick!user@host``, and ``a:account`` when logged in (the account extban)."""
        mask = self.casemap.fold(user.mask)
        if user.account is None:
            return (mask,)
        return (mask, ACCOUNT_PREFIX + self.casemap.fold(user.account))
