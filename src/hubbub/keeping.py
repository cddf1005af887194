"""The write-behind keepers of what the store keeps beside history: registered channels,
read markers, accounts' metadata keys, and always-on users with their accounts'
choices and devices (each a :class:`~hubbub.storage.keeper.Keeper`), run and closed
together by the server."""

from __future__ import annotations

import asyncio
import dataclasses
import logging

from hubbub.accounts.service import Accounts
from hubbub.core.hub import Hub
from hubbub.core.presence import Choice, PresencePolicy, PresenceRecord
from hubbub.core.server_bans import ServerBans
from hubbub.settings import Settings
from hubbub.storage.channels import ChannelKeeper, MarkerKeeper
from hubbub.storage.errors import StorageError
from hubbub.storage.metadata import MetadataKeeper
from hubbub.storage.ports import Store
from hubbub.storage.presences import PresenceKeeper

logger = logging.getLogger(__name__)


class Keepers:
    """One keeper of each kind on ``store``."""

    def __init__(self, store: Store) -> None:
        self.channels = ChannelKeeper(store)
        self.markers = MarkerKeeper(store)
        self.metadata = MetadataKeeper(store)
        self.presences = PresenceKeeper(store)

    def start(self, tasks: asyncio.TaskGroup) -> None:
        tasks.create_task(self.channels.run(), name="channel keeper")
        tasks.create_task(self.markers.run(), name="read marker keeper")
        tasks.create_task(self.metadata.run(), name="metadata keeper")
        tasks.create_task(self.presences.run(), name="presence keeper")

    def close(self) -> None:
        """Write what is pending once more, then stop."""
        self.channels.close()
        self.markers.close()
        self.metadata.close()
        self.presences.close()


def detach_keepers(hub: Hub) -> None:
    """Hand the hub's changes to the keepers no more (as the server stops, before they
    write what they hold a last time)."""
    hub.state.channels.sink = None
    hub.marker_sink = None
    hub.presences.sink = None


def presence_policy(settings: Settings) -> PresencePolicy:
    """The server's multiclient and always-on defaults. Between nodes nobody is
    always-on: a user kept by one node would come back on every node after a restart
    (docs/cluster.md, Limits)."""
    always_on = Choice.OFF if settings.cluster is not None else settings.always_on
    return PresencePolicy(settings.multiclient, always_on)


async def restore_presences(
    hub: Hub, accounts: Accounts, keeper: PresenceKeeper, bans: ServerBans
) -> None:
    """Keep the hub's always-on users in ``keeper`` from now on, and bring back those
    kept when the server last ran (of accounts that still exist, are still always-on,
    and are under no ban: one set while no server ran too, probe 24)."""
    presences = hub.presences
    presences.sink = keeper
    try:
        kept = await keeper.presences()
    except StorageError as error:
        logger.error("always-on users cannot be read, none restored: %s", error)
        return
    back: list[tuple[str, PresenceRecord]] = []
    for account_id, record in kept:
        found = await accounts.find(record.account)
        if found is None or found.uid != account_id:
            keeper.save(account_id, None)  # dropped while no server ran
            continue
        choices, seen = await keeper.loaded(account_id)
        presences.loaded(account_id, choices, seen)
        banned = bans.user_ban(record.username, record.host, account_id)
        if not presences.always_on(account_id) or banned is not None:
            keeper.save(account_id, None)
            continue
        if accounts.is_registered(record.nick) and not accounts.owns(found.name, record.nick):
            # Another account's nick (taken within its grace as the server stopped) is
            # not brought back: the user comes back as its account's name.
            record = dataclasses.replace(record, nick=found.name)
        back.append((account_id, record))
    restored = presences.restore_all(back)
    if kept:
        logger.info("always-on: %d of %d users restored", len(restored), len(kept))
