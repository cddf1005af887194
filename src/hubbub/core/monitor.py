"""MONITOR lists: who watches which nicks, bounded per user."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from hubbub.core.errors import ChatError, Reason
from hubbub.wire.errors import InvalidName

if TYPE_CHECKING:
    from hubbub.core.model import User
    from hubbub.wire.casemap import Casemap, Key


class Monitors:
    """The watchers of each nick, and each watcher's list (kept here, not on the user,
    so that the many users who monitor nobody carry nothing for it).

    Args:
        casemap: how nicks are folded.
        limit: the most nicks one user may monitor.
    """

    def __init__(self, casemap: Casemap, limit: int) -> None:
        self._casemap = casemap
        self.limit = limit
        self._watchers: dict[Key, set[User]] = {}
        # Each watcher's list: folded key → the nick as the user wrote it.
        self._lists: dict[User, dict[Key, str]] = {}

    def of(self, user: User) -> dict[Key, str]:
        """The nicks ``user`` monitors (do not modify)."""
        return self._lists.get(user, {})

    def watching(self, key: Key) -> set[User]:
        """The users monitoring a folded nick (do not modify)."""
        return self._watchers.get(key, set())

    def nicks_among(self, names: Iterable[str]) -> list[str]:
        """The names that could be nicks, in order: only those are watched (a list of
        anything else would be kept for nothing and echoed back by MONITOR L)."""
        found = []
        for name in names:
            try:
                self._casemap.check_nick(name)
            except InvalidName:
                continue
            found.append(name)
        return found

    def add(self, user: User, nicks: Iterable[str]) -> None:
        """Watch nicks (names that could not be nicks are left out).

        Raises:
            ChatError: LIST_FULL when the list would pass its limit; nicks before the
                one that did not fit were added, ``detail`` holds the rest.
        """
        nicks = self.nicks_among(nicks)
        for index, nick in enumerate(nicks):
            key = self._casemap.fold(nick)
            watched = self._lists.setdefault(user, {})
            if key in watched:
                continue
            if len(watched) >= self.limit:
                raise ChatError(Reason.LIST_FULL, str(self.limit), ",".join(nicks[index:]))
            watched[key] = nick
            self._watchers.setdefault(key, set()).add(user)

    def remove(self, user: User, nicks: Iterable[str]) -> None:
        for nick in nicks:
            key = self._casemap.fold(nick)
            if self._lists.get(user, {}).pop(key, None) is not None:
                self._unwatch(user, key)

    def clear(self, user: User) -> None:
        for key in self._lists.pop(user, {}):
            self._unwatch(user, key)

    def _unwatch(self, user: User, key: Key) -> None:
        watchers = self._watchers.get(key)
        if watchers is not None:
            watchers.discard(user)
            if not watchers:
                del self._watchers[key]
