"""The server's work in the background while it runs: keeping the server bans (the ban
book, which the IRC door's KLINE and DLINE change and ``hubbub admin bans`` reaches
through the store), forgetting old history, and logging out accounts dropped from the
shell."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable

from hubbub.accounts.errors import AccountError
from hubbub.accounts.service import Accounts
from hubbub.core.errors import ChatError
from hubbub.core.events import BansChanged, Fact
from hubbub.core.hub import Hub
from hubbub.core.ports import Bus
from hubbub.core.server_bans import BanKind, ServerBan, ServerBans, from_json, to_json
from hubbub.storage.errors import StorageError
from hubbub.storage.ports import BanStore, ChannelOrders, HistoryStore

logger = logging.getLogger(__name__)

_PRUNE_INTERVAL = 3600.0
# Seconds between two looks at the store for bans changed by ``hubbub admin`` or by
# another node: how late such a ban may be enforced.
BAN_POLL_INTERVAL = 2.0


class BanKeeper:
    """The server's bans: held in memory for the doors' checks, kept in the store (when
    there is one), and enforced on the users they cover as they are set.

    Args:
        hub: the chat, whose users a new ban disconnects.
        bans: the list the doors ask.
        store: where bans are kept; None keeps them in memory only (``history = false``).
    """

    def __init__(
        self, hub: Hub, bans: ServerBans, store: BanStore | None, bus: Bus | None = None
    ) -> None:
        self.hub = hub
        self.bans = bans
        self._store = store
        self._reading: asyncio.Task[None] | None = None
        self._read_again = False
        self._bus = bus
        if bus is not None and store is not None:
            bus.subscribe(self._heard, kinds=frozenset({BansChanged}))
        self._version: str | None = None
        # Set by this server's own changes, so that the next look reads the store's list
        # whatever its digest (it may have come back to one seen before).
        self._changed_here = False

    @property
    def kept(self) -> bool:
        return self._store is not None

    async def load(self) -> None:
        """Take the stored bans (at start, before anyone connects)."""
        if self._store is not None:
            self._version = await self._store.bans_version()
            self.bans.replace(self._read(await self._store.load_bans()))
            if len(self.bans):
                logger.info("%d server bans in force", len(self.bans))

    async def add(self, ban: ServerBan) -> int:
        if self._store is not None:
            await self._store.save_ban(ban.kind.value, ban.mask, ban.set_at, to_json(ban))
            self._changed_here = True
        self.bans.add(ban)
        disconnected = self.hub.ban(ban, everywhere=True)
        if self._store is not None:
            self.hub.publish(BansChanged(ban=to_json(ban)))
        return disconnected

    async def remove(self, kind: BanKind, mask: str) -> ServerBan | None:
        store = self._store
        if store is not None and self.bans.get(kind, mask) is None:
            # Set elsewhere (another node, the shell) since the last look: read it first,
            # so that the operator is told what was lifted.
            await self.refresh()
        found = self.bans.get(kind, mask)
        if store is not None:
            deleted = await store.delete_ban(kind.value, mask)
            self._changed_here = True
            if not deleted and found is None:
                return None
            self.hub.publish(BansChanged(lifted=(kind.value, mask)))
        return self.bans.remove(kind, mask) or found

    def _heard(self, fact: Fact) -> None:
        """A node changed the bans: hold the change at once and, for another node's,
        read them all again (what the shell changed meanwhile comes with them)."""
        if type(fact) is not BansChanged:
            return
        own = self._bus is None or self._bus.applying_own
        try:
            if fact.ban:
                ban = from_json(fact.ban)
                self.bans.add(ban)
                if not own and ban.active(self.bans.clock()):
                    # Its node made the users it covers quit; this node's devices of
                    # users living elsewhere, on a covered address, are closed here.
                    self.hub.ban_devices(ban)
            elif len(fact.lifted) == 2:
                self.bans.remove(BanKind(fact.lifted[0]), fact.lifted[1])
        except (ValueError, KeyError, TypeError) as error:
            logger.error("a ban change from the network is unreadable: %r", error)
        if own:
            return  # this node's own change: its next look reads the store (changed_here)
        if self._reading is not None and not self._reading.done():
            self._read_again = True
            return
        self._reading = asyncio.get_running_loop().create_task(self._read_now())

    async def _read_now(self) -> None:
        while True:
            self._read_again = False
            try:
                await self.refresh()
            except StorageError as error:
                logger.warning("cannot read the server bans: %s", error)
            if not self._read_again:
                return

    async def poll(self, interval: float = BAN_POLL_INTERVAL) -> None:
        """Follow the store: bans set or lifted elsewhere (``hubbub admin``, another
        node) are taken, and new ones enforced on this node's users; ended ones are
        forgotten."""
        while self._store is not None:
            await asyncio.sleep(interval)
            try:
                await self.refresh()
            except StorageError as error:
                logger.warning("cannot read the server bans: %s", error)

    async def refresh(self) -> None:
        """One look at the store (see :meth:`poll`)."""
        store = self._store
        if store is None:
            return
        ended = self.bans.expired()
        for ban in ended:
            logger.info("ban ended: %s", ban.label)
            self.bans.remove(ban.kind, ban.mask)
        if ended and not await self._delete_ended(store, ended):
            self._changed_here = True  # set again meanwhile: read what is there now
        self._changed_here, changed_here = False, self._changed_here
        version = await store.bans_version()
        if version == self._version and not changed_here:
            return
        self._version = version
        for ban in self.bans.replace(self._read(await store.load_bans())):
            # Each node disconnects its own users: a ban set on another node was
            # enforced everywhere already, and one from the shell nowhere yet.
            if ban.active(self.bans.clock()):
                self.hub.ban(ban, everywhere=False)

    @staticmethod
    async def _delete_ended(store: BanStore, ended: list[ServerBan]) -> bool:
        """Delete the ended bans from the store, but none set again since it was read;
        whether all of them were (else the store holds a newer one)."""
        deleted = [
            await store.delete_ended_ban(ban.kind.value, ban.mask, ban.set_at) for ban in ended
        ]
        return all(deleted)

    @staticmethod
    def _read(rows: list[str]) -> list[ServerBan]:
        bans = []
        for text in rows:
            try:
                bans.append(from_json(text))
            except (ValueError, KeyError, TypeError) as error:
                logger.error("a stored server ban is unreadable, skipped: %r", error)
        return bans


async def follow_channel_orders(
    hub: Hub, store: ChannelOrders, interval: float = BAN_POLL_INTERVAL
) -> None:
    """Carry out what operators order from the shell for registered channels, every
    ``interval`` (see :func:`carry_out_channel_orders`)."""
    while True:
        await asyncio.sleep(interval)
        await carry_out_channel_orders(hub, store)


async def carry_out_channel_orders(hub: Hub, store: ChannelOrders) -> None:
    """Carry out what operators ordered from the shell for registered channels
    (``hubbub admin channels drop`` and ``transfer``) and for accounts dropped there.
    Each becomes the fact ChanServ would publish, so every node and the store follow it
    as they follow ChanServ.

    Orders leave the store as they are taken: a stop (cancellation) that comes while
    they are being taken waits for them and carries them out before it goes on (probe
    30: a shutdown landing on the take lost them, and the shell had said "carried out").
    """
    taking = asyncio.ensure_future(store.take_channel_orders())
    try:
        orders = await asyncio.shield(taking)
    except asyncio.CancelledError:
        with contextlib.suppress(StorageError):
            _carry_out(hub, await taking)
        raise
    except StorageError as error:
        logger.warning("cannot read the channel orders: %s", error)
        return
    _carry_out(hub, orders)


def _carry_out(hub: Hub, orders: list[tuple[int, str, str]]) -> None:
    for number, name, text in orders:
        try:
            order = json.loads(text)
            if isinstance(order, dict) and "account_dropped" in order:
                # Dropped from the shell: what the server holds of it goes as it would
                # for an account dropped here (its channels, its places on access lists).
                hub.drop_account(str(order["account_dropped"]), str(order.get("name", "")))
                logger.info("order %d: account %s was dropped", number, order.get("name"))
                continue
            hub.carry_out(name, order)
        except ChatError:
            logger.warning("channel order %d: %s is not registered; nothing done", number, name)
        except (ValueError, TypeError) as error:
            logger.error("channel order %d is unreadable, skipped: %r", number, error)
        else:
            logger.info("channel order %d for %s carried out: %s", number, name, text)


async def prune_history(
    store: HistoryStore, clock: Callable[[], float], limits: Callable[[], tuple[float, int]]
) -> None:
    """Forget history past its retention (``limits()``: days, and messages kept per
    conversation, read afresh each time: REHASH may change them), at start and hourly."""
    while True:
        days, per_conversation = limits()
        try:
            removed = await store.prune(clock() - days * 86400, per_conversation)
        except StorageError as error:
            logger.error("history pruning failed: %s", error)
        else:
            if removed:
                logger.info("history: forgot %d old messages", removed)
        await asyncio.sleep(_PRUNE_INTERVAL)


async def notice_dropped_accounts(
    hub: Hub, accounts: Accounts, every: Callable[[], float]
) -> None:
    """Log out, everywhere, the accounts that are gone from the store (dropped from the
    shell while their users stayed logged in): their rights end with them."""
    while True:
        await asyncio.sleep(every())
        for account_id, name in hub.logged_in_accounts():
            try:
                found = await accounts.find(name)
            except AccountError:
                break  # the store is unavailable: try again next time
            if found is None or found.uid != account_id:
                logger.info("account %s was dropped: its connections are logged out", name)
                hub.drop_account(account_id)
