"""Registered channels: what ChanServ keeps of a channel across restarts."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

from hubbub.core.model import Channel, ListEntry, Topic
from hubbub.wire.casemap import Key


@dataclass(frozen=True, slots=True)
class RegisteredChannel:
    """A snapshot of a registered channel's lasting state.

    Accounts are named by their stable ids, never by their names: an account dropped
    and registered again by someone else is another account, with no rights here.

    Attributes:
        key: the folded channel name.
        founder: the id of its founder's account.
        access: account id → the status mode it gets on joining (``o`` or ``v``); the
            founder always gets ``o``.
        names: account id → the account's name, for showing the founder and access list.
        incarnation: where the channel's history is kept while it is closed (see
            :class:`~hubbub.core.model.Channel`); empty for registrations made before
            incarnations, whose history is kept under the folded name alone.
        metadata: the channel's metadata keys (draft/metadata-3), as (key, value).
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
    names: dict[str, str] = field(default_factory=dict)
    incarnation: str = ""
    metadata: tuple[tuple[str, str], ...] = ()

    def status_for(self, account_id: str | None) -> str:
        """The status mode an account gets on joining, or ""."""
        if account_id is None:
            return ""
        if account_id == self.founder:
            return "o"
        return self.access.get(account_id, "")

    def name_of(self, account_id: str) -> str:
        return self.names.get(account_id, account_id)

    def with_state_of(self, channel: Channel) -> RegisteredChannel:
        """This registration with the channel's current topic, modes and lists."""
        lists = tuple(
            (mode, entry) for mode, entries in channel.lists.items() for entry in entries
        )
        return replace(
            self,
            name=channel.name,
            topic=channel.topic,
            flags="".join(sorted(channel.flags)),
            password=channel.password,
            limit=channel.limit,
            lists=lists,
            metadata=tuple(sorted(channel.metadata.items())),
        )

    def restore(self, channel: Channel) -> None:
        """Give a newly created channel its registered incarnation, topic, modes and
        lists."""
        channel.incarnation = self.incarnation or self.key
        channel.topic = self.topic
        channel.flags = set(self.flags)
        channel.password = self.password
        channel.limit = self.limit
        for mode, entry in self.lists:
            channel.lists[mode].append(entry)
        if self.metadata:
            channel.metadata = dict(self.metadata)


def to_json(record: RegisteredChannel) -> str:
    """The registration as it is stored, and as it travels between nodes."""
    topic = record.topic
    return json.dumps(
        {
            "name": record.name,
            "founder": record.founder,
            "created": record.created,
            "topic": [topic.text, topic.setter, topic.time] if topic else None,
            "flags": record.flags,
            "password": record.password,
            "limit": record.limit,
            "lists": [[m, e.mask, e.setter, e.time, e.folded] for m, e in record.lists],
            "access": record.access,
            "names": record.names,
            "incarnation": record.incarnation,
            "metadata": [[key, value] for key, value in record.metadata],
        }
    )


def from_json(key: str, text: str) -> RegisteredChannel:
    data: dict[str, Any] = json.loads(text)
    topic = data.get("topic")
    return RegisteredChannel(
        Key(key),
        str(data["name"]),
        str(data["founder"]),
        float(data["created"]),
        Topic(str(topic[0]), str(topic[1]), float(topic[2])) if topic else None,
        str(data.get("flags", "")),
        data.get("password"),
        data.get("limit"),
        tuple(
            (str(m), ListEntry(str(mask), str(setter), float(t), str(folded)))
            for m, mask, setter, t, folded in data.get("lists", [])
        ),
        {str(k): str(v) for k, v in data.get("access", {}).items()},
        {str(k): str(v) for k, v in data.get("names", {}).items()},
        str(data.get("incarnation", "")),
        tuple((str(key), str(value)) for key, value in data.get("metadata", [])),
    )
