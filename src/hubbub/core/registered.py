"""Registered channels: what ChanServ keeps of a channel across restarts."""

from __future__ import annotations

from dataclasses import dataclass, field

from hubbub.core.model import Channel, ListEntry, Topic
from hubbub.wire.casemap import Key


@dataclass(frozen=True, slots=True)
class RegisteredChannel:
    """A snapshot of a registered channel's lasting state.

    Attributes:
        key: the folded channel name.
        founder: the folded account name of its founder.
        access: folded account name → the status mode it gets on joining (``o`` or
            ``v``); the founder always gets ``o``.
    """

    key: Key
    name: str
    founder: str
    created: float
    topic: Topic | None = None
    flags: str = ""
    password: str | None = None
    limit: int | None = None
    lists: tuple[tuple[str, ListEntry], ...] = ()
    access: dict[str, str] = field(default_factory=dict)

    def status_for(self, account_key: str | None) -> str:
        """The status mode an account gets on joining, or ""."""
        if account_key is None:
            return ""
        if account_key == self.founder:
            return "o"
        return self.access.get(account_key, "")

    def with_state_of(self, channel: Channel) -> RegisteredChannel:
        """This registration with the channel's current topic, modes and lists."""
        lists = tuple(
            (mode, entry) for mode, entries in channel.lists.items() for entry in entries
        )
        return RegisteredChannel(
            self.key,
            channel.name,
            self.founder,
            self.created,
            channel.topic,
            "".join(sorted(channel.flags)),
            channel.password,
            channel.limit,
            lists,
            dict(self.access),
        )

    def restore(self, channel: Channel) -> None:
        """Give a newly created channel its registered topic, modes and lists."""
        channel.topic = self.topic
        channel.flags = set(self.flags)
        channel.password = self.password
        channel.limit = self.limit
        for mode, entry in self.lists:
            channel.lists[mode].append(entry)
