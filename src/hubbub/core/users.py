"""The users of the network: by nick, by id, their nick claims, and who had a nick."""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass

from hubbub.core.errors import ChatError, Reason
from hubbub.core.model import User
from hubbub.core.ports import Registry
from hubbub.wire.casemap import Casemap, Key
from hubbub.wire.errors import InvalidName

# The holder of the names the built-in services answer to.
SERVICES = "services"


@dataclass(frozen=True, slots=True)
class WhowasEntry:
    nick: str
    key: Key
    username: str
    host: str
    realname: str
    time: float


class Users:
    """Every user, by folded nick and by id. A nick is held through the registry, by
    its skeleton, so that no two users hold look-alike nicks on any node.

    Args:
        casemap: how nicks are folded and validated.
        registry: where nicks are claimed.
        whowas_length: how many former nicks WHOWAS remembers.
    """

    def __init__(self, casemap: Casemap, registry: Registry, whowas_length: int) -> None:
        self.casemap = casemap
        self.registry = registry
        self.by_key: dict[Key, User] = {}
        self.by_id: dict[str, User] = {}
        self.peak = 0
        # How many users have each user mode (LUSERS counts invisible users and opers).
        self.mode_counts: Counter[str] = Counter()
        self.whowas_entries: deque[WhowasEntry] = deque(maxlen=whowas_length)
        # Skeletons claimed by users of this node, until their arrival or rename applies.
        self._claimed: dict[str, Key] = {}
        # The look of each nick spelt with a capital I or a digit one (drawn like an l),
        # by holder: a second key new nicks are checked against, so that a "cIaire"
        # keeps out a later "claire" as much as the other way round (probe 16).
        self._looks: dict[Key, str] = {}

    def __len__(self) -> int:
        return len(self.by_key)

    def __iter__(self) -> Iterator[User]:
        return iter(self.by_key.values())

    def find(self, nick: str) -> User | None:
        return self.by_key.get(self.casemap.fold(nick))

    def reserve(self, nick: str) -> None:
        """Keep a nick (and its look-alikes) for the built-in services."""
        self.registry.claim(self.casemap.skeleton(nick), SERVICES)

    def check_nick(self, nick: str, holder: str | None = None) -> str:
        """Validate a nick and check that nobody but ``holder`` (a user id) holds it or
        a look-alike.

        Returns:
            the nick in normal form.

        Raises:
            ChatError: ERRONEOUS_NICK or NICK_IN_USE.
        """
        try:
            nick = self.casemap.check_nick(nick)
        except InvalidName as error:
            raise ChatError(Reason.ERRONEOUS_NICK, nick, str(error)) from None
        skeleton = self.casemap.skeleton(nick)
        for key in (skeleton, *self._looks_of(nick, skeleton)):
            taken_by = self.registry.holder(key) or self._looks.get(key)
            if taken_by is not None and taken_by != holder:
                raise ChatError(Reason.NICK_IN_USE, nick)
        return nick

    def _looks_of(self, nick: str, skeleton: Key) -> list[Key]:
        """The keys besides its skeleton that a nick is checked against and holds: the
        skeleton of its folded form, where a capital is drawn unlike the small letter it
        folds to (``Əli`` and ``əli`` are one nick, probe 21), and the look of its
        spelling (see Casemap.spelled_skeleton)."""
        looks = []
        if not nick.isascii():
            folded = self.casemap.skeleton(self.casemap.fold(nick))
            if folded != skeleton:
                looks.append(folded)
        if self.casemap.looks_spelt(nick):
            look = self.casemap.spelled_skeleton(nick)
            if look != skeleton and look not in looks:
                looks.append(look)
        return looks

    def look_alike(self, nick: str) -> User | None:
        """The user holding ``nick``'s skeleton or the look of its spelling, if any."""
        skeleton = self.casemap.skeleton(nick)
        for key in (skeleton, *self._looks_of(nick, skeleton)):
            holder = self.registry.holder(key) or self._looks.get(key)
            user = self.by_id.get(holder) if holder is not None else None
            if user is not None:
                return user
        return None

    def claim(self, nick: str, holder: str) -> None:
        """Claim a checked nick for a user about to take it.

        Raises:
            ChatError: NICK_IN_USE when another node's user claimed it meanwhile.
        """
        skeleton = same(nick, self.casemap.skeleton(nick))
        if not self.registry.claim(skeleton, holder):
            raise ChatError(Reason.NICK_IN_USE, nick)
        # The string the registry keeps, for the user to keep too (see skeleton_of):
        # one string per user, not two equal ones.
        self._claimed[holder] = skeleton

    def settle(self, nick: str, holder: str) -> bool:
        """As a fact giving ``holder`` (a user id) ``nick`` is applied: whether it may
        have it. The log's order decides: a claim not applied yet (a user's arrival or
        nick change decided here, later in the log) gives way; the nick of a user, or
        of the services, refuses the fact (on every node alike)."""
        skeleton = self._claimed.get(holder) or self.casemap.skeleton(nick)
        same_key = self.by_key.get(self.casemap.fold(nick))
        if self._look_taken(nick, skeleton, holder) or (
            same_key is not None and same_key.id != holder
        ):
            # A look-alike by the spelling (cIarkx beside clarkx) given out on another
            # node at once (probe 17): only skeletons are claimed, so it is settled here.
            self._claimed.pop(holder, None)
            self.registry.release(skeleton, holder)
            return False
        current = self.registry.holder(skeleton)
        if current == holder:
            return True
        if current is not None:
            owner = self.by_id.get(current)
            if current == SERVICES or (owner is not None and owner.skeleton == skeleton):
                self._claimed.pop(holder, None)
                return False
            self.registry.release(skeleton, current)
            self._claimed.pop(current, None)
        return self.registry.claim(skeleton, holder)

    def _look_taken(self, nick: str, skeleton: Key, holder: str) -> bool:
        """Whether another user holds ``nick``'s skeleton as its look, or the look of
        ``nick``'s spelling in any way: users as applied, never a claim of this node's
        not applied yet (the log's order decides, on every node alike: counting those
        made nodes disagree for good, probe 18)."""
        taken_by = self._looks.get(skeleton)
        for look in self._looks_of(nick, skeleton) if taken_by is None else ():
            taken_by = self._looks.get(look)
            if taken_by is None:
                user = self.by_id.get(self.registry.holder(look) or "")
                taken_by = user.id if user is not None and user.skeleton == look else None
            if taken_by is not None:
                break
        return taken_by is not None and taken_by != holder and taken_by in self.by_id

    def skeleton_of(self, holder: str, nick: str) -> Key:
        """The skeleton of a nick a user is taking: the one claimed on this node, or
        (for a user of another node) made here."""
        skeleton = self._claimed.pop(holder, None)
        if skeleton is None:
            skeleton = self.casemap.skeleton(nick)
        return same(nick, skeleton)

    def add(self, user: User) -> None:
        self.by_key[user.key] = user
        self.by_id[user.id] = user
        self._hold_look(user)
        self.peak = max(self.peak, len(self.by_key))

    def rename(self, user: User, nick: str, when: float) -> None:
        """Give ``user`` a new nick (claimed already); its old one is free again."""
        self.remember(user, when)
        del self.by_key[user.key]
        self._drop_look(user)
        skeleton = self.skeleton_of(user.id, nick)
        if skeleton != user.skeleton:
            self.registry.release(user.skeleton, user.id)
        user.nick = nick
        user.key = same(nick, self.casemap.fold(nick))
        user.skeleton = skeleton
        self.by_key[user.key] = user
        self._hold_look(user)
        user.changed()

    def remove(self, user: User, when: float) -> None:
        self.remember(user, when)
        del self.by_key[user.key]
        del self.by_id[user.id]
        self._drop_look(user)
        self.registry.release(user.skeleton, user.id)
        self.mode_counts.subtract(user.modes)

    def _hold_look(self, user: User) -> None:
        for look in self._looks_of(user.nick, user.skeleton):
            self._looks.setdefault(look, user.id)

    def _drop_look(self, user: User) -> None:
        for look in self._looks_of(user.nick, user.skeleton):
            if self._looks.get(look) == user.id:
                del self._looks[look]

    def remember(self, user: User, when: float) -> None:
        self.whowas_entries.append(
            WhowasEntry(user.nick, user.key, user.username, user.host, user.realname, when)
        )

    def whowas(self, nick: str) -> list[WhowasEntry]:
        """Former users of ``nick``, newest first."""
        key = self.casemap.fold(nick)
        return [entry for entry in reversed(self.whowas_entries) if entry.key == key]


def same(nick: str, form: Key) -> Key:
    """A nick's folded form or skeleton, as the nick's own string when they are equal
    (most nicks are lower case): one string per user instead of three."""
    return Key(nick) if form == nick else form
