"""The write-behind keepers of what the store keeps beside history: registered channels,
read markers, accounts' metadata keys, and always-on users with their accounts'
choices and devices (each a :class:`~hubbub.storage.keeper.Keeper`), run and closed
together by the server."""

from __future__ import annotations

import asyncio
import dataclasses
import logging

from hubbub.clustering import ClusterLink
from hubbub.core.events import Fact
from hubbub.core.hub import Hub
from hubbub.core.presence import PresencePolicy, PresenceRecord
from hubbub.doors.irc.context import IrcContext
from hubbub.settings import Settings
from hubbub.storage.channels import ChannelKeeper, MarkerKeeper
from hubbub.storage.errors import StorageError
from hubbub.storage.metadata import MetadataKeeper
from hubbub.storage.ports import Store
from hubbub.storage.presences import PresenceKeeper
from hubbub.wire.casemap import Key

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
    """The server's multiclient and always-on defaults."""
    return PresencePolicy(settings.multiclient, settings.always_on)


async def restore_presences(
    hub: Hub, irc: IrcContext, keeper: PresenceKeeper, cluster: ClusterLink | None = None
) -> None:
    """Keep the hub's always-on users in ``keeper`` from now on, and bring back those
    kept when the server last ran (of accounts that still exist, are still always-on,
    and are under no ban: one set while no server ran too, probe 24).

    Between nodes (``cluster``, once its replica has caught up with the log) a node
    brings back the records it kept (the store names the node), not those of users the
    network still holds (kept by a live node, or left by a node that stopped: the node
    that counts it lost keeps them, core/homes.py); the records of other nodes the
    network does not hold, after a node timeout, if their node was not heard meanwhile
    (gone for good, or its users lost with the log). Two nodes bringing one user back
    at once ask the log for its nick, which gives it to one.
    """
    presences = hub.presences
    presences.sink = keeper
    try:
        kept = await keeper.presences()
    except StorageError as error:
        logger.error("always-on users cannot be read, none restored: %s", error)
        return
    node = keeper.node = cluster.node if cluster is not None else ""
    mine = [(account, record) for account, record, at in kept if at in ("", node)]
    restored = await _restore(hub, irc, keeper, mine)
    theirs = [(account, record, at) for account, record, at in kept if at not in ("", node)]
    if theirs and cluster is not None:
        await asyncio.sleep(cluster.settings.node_timeout)
        heard = cluster.names_heard()
        orphans = [(account, record) for account, record, at in theirs if at not in heard]
        restored += await _restore(hub, irc, keeper, orphans)
    if kept:
        logger.info("always-on: %d of %d users restored", restored, len(kept))


async def _restore(
    hub: Hub, irc: IrcContext, keeper: PresenceKeeper, kept: list[tuple[str, PresenceRecord]]
) -> int:
    """Bring back the users of ``kept`` that the network does not hold; how many."""
    presences, accounts, metadata = hub.presences, irc.accounts, hub.metadata_sink
    if accounts is None:
        return 0
    back: list[tuple[str, PresenceRecord]] = []
    # What a login would load for the account: its read markers and metadata keys.
    loads: dict[str, tuple[list[tuple[str, float]], list[tuple[str, str]]]] = {}
    for account_id, record in kept:
        if hub.state.account_users.get(account_id):
            continue  # the network holds it (between nodes)
        found = await accounts.find(record.account)
        if found is None or found.uid != account_id:
            keeper.save(account_id, None)  # dropped while no server ran
            continue
        choices, seen = await keeper.loaded(account_id)
        presences.loaded(account_id, choices, seen)
        banned = irc.bans.user_ban(record.username, record.host, account_id)
        if not presences.always_on(account_id) or banned is not None:
            keeper.save(account_id, None)
            continue
        if accounts.is_registered(record.nick) and not accounts.owns(found.name, record.nick):
            # Another account's nick (taken within its grace as the server stopped) is
            # not brought back: the user comes back as its account's name.
            record = dataclasses.replace(record, nick=found.name)
        back.append((account_id, record))
        loads[account_id] = (
            await accounts.markers(found),
            await metadata.kept(account_id) if metadata is not None else [],
        )
    # A step at a time: between nodes each step's facts come back from the log before
    # the next step reads the state they make (on one node, at once).
    restoring = presences.restoring
    presences.restoring_accounts.update(loads)
    try:
        arrived = [(restoring.arrive(account_id, record), record) for account_id, record in back]
        await _settled(hub)
        users = []
        for user_id, record in arrived:
            user = restoring.settle(user_id, record) if user_id is not None else None
            if user is not None:
                users.append((user, record))
                if user.account_id in loads:
                    # As a login does: a device attaching later finds them (probe 33).
                    markers, profile = loads[user.account_id]
                    hub.load_markers(user.account_id, markers)
                    hub.load_metadata(user, profile)
        remade: set[Key] = set()
        modes: list[Fact] = []
        for user, channel in restoring.order(users):
            modes += restoring.rejoin(user, channel, remade)
            await _settled(hub)
    finally:
        presences.restoring_accounts.difference_update(loads)
    restoring.finish([user for user, _ in users], modes)
    await _settled(hub)
    return len(users)


async def _settled(hub: Hub) -> None:
    settled = hub.settled
    waiting = settled() if settled is not None else None
    if waiting is not None:
        await waiting
