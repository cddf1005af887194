"""The hub: every operation on the chat, its rules, and who hears about it.

Each operation checks its rules first and raises :class:`ChatError` before changing
anything; then it changes state and delivers one event to each listener that must see
it, in one synchronous pass. Operations are grouped by topic: users here, channels in
:mod:`~hubbub.core.channel_ops`, messages in :mod:`~hubbub.core.messaging`, shared state
and lookups in :mod:`~hubbub.core.hub_base`.
"""

from __future__ import annotations

from collections.abc import Iterable

from hubbub.core.channel_ops import ChannelOperations
from hubbub.core.errors import ChatError, Reason
from hubbub.core.events import (
    AccountChanged,
    AwayChanged,
    Killed,
    Listener,
    MarkerMoved,
    MonitoredOffline,
    MonitoredOnline,
    NickChanged,
    Quit,
    RealnameChanged,
    UserModeChanged,
    Wallops,
)
from hubbub.core.hub_base import HubLimits, WhowasEntry
from hubbub.core.messaging import Messaging
from hubbub.core.model import User
from hubbub.core.modes import ModeChange
from hubbub.wire.casemap import Key

__all__ = ["Hub", "HubLimits", "WhowasEntry"]


class Hub(ChannelOperations, Messaging):
    """All users and channels of this server, and the operations on them.

    Args:
        casemap: how names are folded and validated.
        limits: the bounds to enforce.
        clock: the wall clock, in seconds since the epoch.
    """

    def register(
        self,
        nick: str,
        username: str,
        host: str,
        realname: str,
        listener: Listener,
        secure: bool = False,
        account: str | None = None,
        account_id: str | None = None,
    ) -> User:
        """Add a user that finished registration, logged in to ``account`` (its name and
        stable id) if it did so before.

        Raises:
            ChatError: ERRONEOUS_NICK or NICK_IN_USE.
        """
        nick = self.check_nick(nick)
        user = User(
            self._new_id(),
            nick,
            self._same(nick, self.casemap.fold(nick)),
            self._same(nick, self.casemap.skeleton(nick)),
            username,
            host,
            realname,
            listener,
            self.clock(),
        )
        user.secure = secure
        if account is not None and account_id is not None:
            user.account, user.account_id = account, account_id
            self.account_users.setdefault(account_id, set()).add(user)
        self.users[user.key] = user
        self._skeletons[user.skeleton] = user
        self.peak_users = max(self.peak_users, len(self.users))
        watchers = self.monitors.watching(user.key)
        if watchers:
            # Only then: most users are watched by nobody, and an idle user need not
            # carry an Actor.
            self._deliver(watchers, MonitoredOnline(user.actor))
        return user

    @staticmethod
    def _same(nick: str, form: Key) -> Key:
        """A nick's folded form or skeleton, as the nick's own string when they are
        equal (most nicks are lower case): one string per user instead of three."""
        return Key(nick) if form == nick else form

    def change_nick(self, user: User, nick: str) -> None:
        """Rename ``user``; everyone sharing a channel with them is told.

        Raises:
            ChatError: ERRONEOUS_NICK or NICK_IN_USE.
        """
        nick = self.check_nick(nick, user)
        if nick == user.nick:
            return
        event = NickChanged(user.actor, nick)
        self._remember(user)
        del self.users[user.key]
        del self._skeletons[user.skeleton]
        old_key = user.key
        user.nick = nick
        user.key = self._same(nick, self.casemap.fold(nick))
        user.skeleton = self._same(nick, self.casemap.skeleton(nick))
        self.users[user.key] = user
        self._skeletons[user.skeleton] = user
        user.changed()
        user.listener.deliver(event)
        self._deliver(self.neighbours(user), event)
        if old_key != user.key:
            self._deliver(self.monitors.watching(old_key), MonitoredOffline(event.actor.nick))
            self._deliver(self.monitors.watching(user.key), MonitoredOnline(user.actor))

    def quit(self, user: User, reason: str) -> None:
        """Remove a user; everyone sharing a channel with them sees the quit."""
        if self.users.get(user.key) is not user:
            return
        event = Quit(user.actor, reason)
        self._deliver(self.neighbours(user), event)
        for channel in list(user.channels.values()):
            self._leave(user, channel)
        self._remember(user)
        del self.users[user.key]
        del self._skeletons[user.skeleton]
        for channel in list(self.invites.get(user, ())):
            self._uninvite(user, channel)
        self.mode_counts.subtract(user.modes)
        self.read_markers.pop(user, None)
        self._leave_account(user)
        self.monitors.clear(user)
        self._deliver(self.monitors.watching(user.key), MonitoredOffline(user.nick))

    def kill(self, killer: User, nick: str, reason: str) -> User:
        """Disconnect another user by operator's order.

        Raises:
            ChatError: NO_PRIVILEGES or NO_SUCH_NICK.
        """
        if not killer.is_oper:
            raise ChatError(Reason.NO_PRIVILEGES)
        victim = self.find_user(nick)
        if victim is None:
            raise ChatError(Reason.NO_SUCH_NICK, nick)
        victim.listener.deliver(Killed(killer.actor, victim.nick, reason))
        message = f"Killed ({killer.nick} ({reason}))"
        self.quit(victim, message)
        victim.listener.disconnect(message)
        return victim

    def set_away(self, user: User, text: str | None) -> None:
        """Mark ``user`` away (or back); neighbours and watchers are told (away-notify)."""
        away = text[: self.limits.away_length] if text else None
        if away == user.away:
            return
        user.away = away
        self._announce(user, AwayChanged(user.actor, away))

    def log_in(self, user: User, account: str | None, account_id: str | None) -> None:
        """Mark ``user`` as logged in to an account (its name and stable id), or out with
        None; neighbours and watchers are told (account-notify)."""
        if account is None or account_id is None:
            account = account_id = None
        if user.account_id == account_id and user.account == account:
            return
        self._leave_account(user)
        user.account, user.account_id = account, account_id
        if account_id is not None:
            self.account_users.setdefault(account_id, set()).add(user)
            # What was read before logging in counts for the account.
            for target, moment in self.read_markers.pop(user, {}).items():
                self._move_marker(user, target, moment)
        user.changed()
        self._announce(user, AccountChanged(user.actor, account))

    def set_realname(self, user: User, realname: str) -> None:
        """Change ``user``'s real name (SETNAME); neighbours and watchers are told."""
        user.realname = realname
        user.changed()
        event = RealnameChanged(user.actor, realname)
        user.listener.deliver(event)
        self._announce(user, event)

    def make_oper(self, user: User, oper_name: str) -> None:
        user.oper_name = oper_name
        self.change_user_modes(user, [ModeChange(True, "o")], allow_oper=True)

    def change_user_modes(
        self, user: User, changes: Iterable[ModeChange], allow_oper: bool = False
    ) -> list[ModeChange]:
        """Apply user mode changes; return those that changed something.

        ``+o`` comes only from OPER; a user may drop it with ``-o``.
        """
        applied = []
        for change in changes:
            if change.mode == "o" and change.adding and not allow_oper:
                continue
            if change.mode == "r":
                continue
            if change.mode == "B":
                user.changed()
            if change.adding and change.mode not in user.modes:
                user.modes = user.modes | {change.mode}
                self.mode_counts[change.mode] += 1
            elif not change.adding and change.mode in user.modes:
                user.modes = user.modes - {change.mode}
                self.mode_counts[change.mode] -= 1
                if change.mode == "o":
                    user.oper_name = None
            else:
                continue
            applied.append(change)
        if applied:
            user.listener.deliver(UserModeChanged(user.actor, user.nick, tuple(applied)))
        return applied

    def wallops(self, user: User, text: str) -> None:
        """Send a message to every user with mode +w.

        Raises:
            ChatError: NO_PRIVILEGES for a non-operator.
        """
        if not user.is_oper:
            raise ChatError(Reason.NO_PRIVILEGES)
        event = Wallops(user.actor, text)
        self._deliver((u for u in self.users.values() if "w" in u.modes), event)

    def mark_read(self, user: User, target: str, moment: float) -> float:
        """Move ``user``'s read marker of a target forward (never back); return it.

        A logged-in user's markers are their account's: kept, and shown to the
        account's other connections (MarkerMoved).
        """
        key = self.casemap.fold(target)
        before = self._markers_of(user).get(key)
        marker = self._move_marker(user, key, moment)
        if user.account_id is not None and marker != before:
            others = self.account_users.get(user.account_id, ())
            self._deliver((u for u in others if u is not user), MarkerMoved(target, marker))
        return marker

    def read_marker(self, user: User, target: str) -> float | None:
        return self._markers_of(user).get(self.casemap.fold(target))

    def load_markers(self, account_id: str, markers: Iterable[tuple[str, float]]) -> None:
        """Learn an account's stored markers as someone logs in to it (call once a user
        is logged in to it); markers moved meanwhile by its connections already here
        are kept when later. Past the limit the oldest are forgotten, here and kept."""
        if account_id not in self.account_users:
            return  # nobody is logged in to it any more
        known = self.account_markers.setdefault(account_id, {})
        for target, moment in markers:
            key = Key(target)
            known[key] = max(known.get(key, moment), moment)
        # Changes still on their way to the store are newer than what it returned.
        unsaved = self.marker_sink.unsaved(account_id) if self.marker_sink is not None else []
        for target, changed in unsaved:
            key = Key(target)
            if changed is None:
                known.pop(key, None)
            else:
                known[key] = max(known.get(key, changed), changed)
        excess = len(known) - self.limits.read_markers
        if excess > 0:
            for key in sorted(known, key=known.__getitem__)[:excess]:
                del known[key]
                if self.marker_sink is not None:
                    self.marker_sink.forget(account_id, key)

    def drop_account(self, account_id: str) -> None:
        """An account is being deleted: everyone logged in to it is logged out, its read
        markers are forgotten, and it loses its channels (see forget_account_rights).
        Its private history stays with its id, which no later account has."""
        for user in list(self.account_users.get(account_id, ())):
            self.log_in(user, None, None)
        self.account_markers.pop(account_id, None)
        if self.marker_sink is not None:
            self.marker_sink.forget_account(account_id)
        self.forget_account_rights(account_id)

    def _markers_of(self, user: User) -> dict[Key, float]:
        if user.account_id is None:
            return self.read_markers.setdefault(user, {})
        return self.account_markers.setdefault(user.account_id, {})

    def _move_marker(self, user: User, key: Key, moment: float) -> float:
        markers = self._markers_of(user)
        if key not in markers and len(markers) >= self.limits.read_markers:
            # The oldest-read conversation makes room: a bounded table, and the markers
            # that matter (recent ones) kept.
            oldest = min(markers, key=markers.__getitem__)
            del markers[oldest]
            if user.account_id is not None and self.marker_sink is not None:
                self.marker_sink.forget(user.account_id, oldest)
        marker = max(markers.get(key, moment), moment)
        if markers.get(key) != marker:
            markers[key] = marker
            if user.account_id is not None and self.marker_sink is not None:
                self.marker_sink.save(user.account_id, key, marker)
        return marker

    def _leave_account(self, user: User) -> None:
        """Forget a user in its account's set; the account's markers stay in memory only
        while someone is logged in to it."""
        if user.account_id is None:
            return
        key = user.account_id
        users = self.account_users.get(key)
        if users is not None:
            users.discard(user)
            if not users:
                del self.account_users[key]
                self.account_markers.pop(key, None)
