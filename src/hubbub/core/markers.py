"""Read markers (draft/read-marker): how far each user or account has read each
conversation, bounded per owner."""

from __future__ import annotations

from collections.abc import ItemsView, Iterable

from hubbub.wire.casemap import Key


def owner_of(user_id: str, account_id: str | None) -> str:
    """Whose markers a user moves: its account's when logged in, else its own."""
    return "u:" + user_id if account_id is None else "a:" + account_id


def account_of(owner: str) -> str | None:
    """The account id of an owner, or None for a user not logged in."""
    return owner[2:] if owner.startswith("a:") else None


class ReadMarkers:
    """Markers by owner (see :func:`owner_of`): folded target → when it was last read
    (epoch seconds). An account's stay in memory while someone is logged in to it.

    Args:
        limit: the most markers one owner keeps; the oldest-read makes room.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._by_owner: dict[str, dict[Key, float]] = {}

    def get(self, owner: str, key: Key) -> float | None:
        markers = self._by_owner.get(owner)
        return None if markers is None else markers.get(key)

    def plan(
        self, owner: str, moves: Iterable[tuple[Key, float]]
    ) -> list[tuple[Key, float, Key | None]]:
        """What moving markers forward (never back) would change, changing nothing.

        Returns:
            for each marker that moves: its key, its new time, and the key of the
            oldest marker that must make room for it (or None).
        """
        markers = dict(self._by_owner.get(owner, {}))
        changes = []
        for key, moment in moves:
            forgotten = None
            if key not in markers and len(markers) >= self.limit:
                # The oldest-read conversation makes room: a bounded table, and the
                # markers that matter (recent ones) kept.
                forgotten = min(markers, key=markers.__getitem__)
                del markers[forgotten]
            marker = max(markers.get(key, moment), moment)
            if markers.get(key) != marker:
                markers[key] = marker
                changes.append((key, marker, forgotten))
        return changes

    def move(self, owner: str, key: Key, moment: float, forgotten: Key | None) -> None:
        markers = self._by_owner.setdefault(owner, {})
        if forgotten is not None:
            markers.pop(forgotten, None)
        markers[key] = moment

    def of(self, owner: str) -> dict[Key, float]:
        """A copy of an owner's markers."""
        return dict(self._by_owner.get(owner, {}))

    def items(self) -> ItemsView[str, dict[Key, float]]:
        """Every owner's markers (not to be changed: a snapshot reads them)."""
        return self._by_owner.items()

    def take(self, owner: str) -> dict[Key, float]:
        """Forget an owner's markers, returning them."""
        return self._by_owner.pop(owner, {})

    def load(
        self,
        owner: str,
        kept: Iterable[tuple[str, float]],
        unsaved: Iterable[tuple[str, float | None]],
    ) -> list[Key]:
        """Learn an owner's kept markers; markers moved meanwhile are kept when later,
        and changes still on their way to the store (``unsaved``; None: forgotten) are
        newer than what it returned. Past the limit the oldest are forgotten.

        Returns:
            the keys forgotten for the limit.
        """
        known = self._by_owner.setdefault(owner, {})
        for target, moment in kept:
            key = Key(target)
            known[key] = max(known.get(key, moment), moment)
        for target, changed in unsaved:
            key = Key(target)
            if changed is None:
                known.pop(key, None)
            else:
                known[key] = max(known.get(key, changed), changed)
        excess = len(known) - self.limit
        if excess <= 0:
            return []
        oldest = sorted(known, key=known.__getitem__)[:excess]
        for key in oldest:
            del known[key]
        return oldest
