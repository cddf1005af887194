"""``hubbub admin``: an operator's tool for accounts, registered channels and bans,
straight on the server's database, with the server running or not.

What each reaches of a running server:

- accounts: a login reads the account from the database, so a new account or password
  works at once (as with ``hubbub account``); a suspension is a ban of the account,
  which the server reads within two seconds and enforces: whoever is logged in to it is
  disconnected, and no one can log in to it until it is lifted or ends;
- bans: the same, for K-lines and D-lines;
- channels: the running server holds the registrations and keeps them, so a drop or a
  transfer is an order it carries out, as ChanServ would (within two seconds; a
  server that is not running carries it out as it starts). The command waits a few
  seconds to say whether a server took it.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime
import functools
import getpass
import ipaddress
import json
import sys
import time
from collections.abc import Awaitable, Callable
from typing import TextIO

from hubbub import account_admin
from hubbub.account_admin import Refused, existing, read_password, shown
from hubbub.accounts.errors import AccountError
from hubbub.accounts.service import Accounts
from hubbub.core.registered import RegisteredChannel, from_json
from hubbub.core.server_bans import (
    ACCOUNT_PREFIX,
    BadBan,
    BanKind,
    ServerBan,
    expiry,
    mask_key,
    network_of,
    reason_of,
)
from hubbub.core.server_bans import from_json as ban_from_json
from hubbub.core.server_bans import to_json as ban_to_json
from hubbub.settings import Settings
from hubbub.storage.backends import SQLITE_FILE, open_store
from hubbub.storage.errors import StorageError
from hubbub.storage.ports import Store
from hubbub.wire.casemap import Casemap

# How long ``channels drop`` and ``transfer`` wait for a running server to take the
# order, and how often they look.
_ORDER_WAIT = 5.0
_ORDER_LOOK = 0.2


class Admin:
    """What the actions work on: the store, the accounts over it, the casemap."""

    def __init__(self, store: Store, accounts: Accounts, casemap: Casemap) -> None:
        self.store = store
        self.accounts = accounts
        self.casemap = casemap
        self.clock = time.time

    async def bans(self) -> list[ServerBan]:
        found = []
        for text in await self.store.load_bans():
            try:
                found.append(ban_from_json(text))
            except (ValueError, KeyError, TypeError):
                continue  # the server logs it; listing what can be read is enough here
        return sorted(found, key=lambda b: (list(BanKind).index(b.kind), b.set_at))

    async def registrations(self) -> dict[str, RegisteredChannel]:
        records = {}
        for key, data in await self.store.load_channels():
            try:
                records[key] = from_json(key, data)
            except (ValueError, KeyError, TypeError, IndexError):
                continue
        return records


Action = Callable[[Admin], Awaitable[str]]


def add_parser(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    where: argparse.ArgumentParser,
    where_late: argparse.ArgumentParser,
) -> None:
    """``hubbub admin`` and its groups; ``where`` has the flags that find the database,
    ``where_late`` the same flags as an action takes them: they go before the group or
    after the action."""
    admin = commands.add_parser(
        "admin",
        parents=[where],
        help="accounts, registered channels and bans, on the server's database",
        description="Administer the server's accounts, registered channels and bans in its "
        "database, with the server running or not: a running server takes bans and "
        "suspensions within two seconds, and carries out channel drops and transfers.",
    )
    groups = admin.add_subparsers(dest="group", metavar="GROUP", required=True)

    accounts = groups.add_parser("accounts", help="list, show, suspend, reset accounts")
    actions = accounts.add_subparsers(dest="action", metavar="ACTION", required=True)
    actions.add_parser("list", parents=[where_late], help="list the accounts")
    show = actions.add_parser("show", parents=[where_late], help="one account in full")
    show.add_argument("name")
    create = actions.add_parser("create", parents=[where_late], help="register an account")
    create.add_argument("name")
    create.add_argument("--email", default="", help="the account's email address")
    password = actions.add_parser(
        "password",
        parents=[where_late],
        help="set a new password (read from the terminal or stdin)",
    )
    password.add_argument("name")
    suspend = actions.add_parser(
        "suspend", parents=[where_late], help="ban the account: no one may log in to it"
    )
    suspend.add_argument("name")
    _ban_options(suspend)
    unsuspend = actions.add_parser("unsuspend", parents=[where_late], help="lift a suspension")
    unsuspend.add_argument("name")
    drop = actions.add_parser("drop", parents=[where_late], help="delete an account")
    drop.add_argument("name")

    channels = groups.add_parser("channels", help="list, drop, transfer registered channels")
    actions = channels.add_subparsers(dest="action", metavar="ACTION", required=True)
    actions.add_parser("list", parents=[where_late], help="list the registered channels")
    show = actions.add_parser("show", parents=[where_late], help="one registration in full")
    show.add_argument("channel")
    drop = actions.add_parser("drop", parents=[where_late], help="forget a registration")
    drop.add_argument("channel")
    transfer = actions.add_parser(
        "transfer", parents=[where_late], help="give a registered channel to another account"
    )
    transfer.add_argument("channel")
    transfer.add_argument("account")

    bans = groups.add_parser("bans", help="add, list, remove server bans")
    actions = bans.add_subparsers(dest="action", metavar="ACTION", required=True)
    actions.add_parser("list", parents=[where_late], help="list the bans in force")
    add = actions.add_parser(
        "add",
        parents=[where_late],
        help="ban user@host (K-line), an address or network (D-line), or $a:ACCOUNT",
    )
    add.add_argument("target")
    _ban_options(add)
    remove = actions.add_parser("remove", parents=[where_late], help="lift a ban")
    remove.add_argument("target")


def _ban_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--minutes", type=int, help="how long (default: until lifted)")
    parser.add_argument("--reason", default="", help="what the banned user is told")


def run(
    args: argparse.Namespace,
    settings: Settings,
    stdin: TextIO | None = None,
    program: str = "hubbub admin",
) -> int:
    """Carry out ``hubbub admin GROUP ACTION`` (or ``hubbub account ACTION``, its
    accounts group under the older name, as ``program`` says in its messages); the exit
    status."""
    fail = functools.partial(_fail, program)
    try:
        if not settings.history:
            raise Refused("the server keeps no database (history = false)")
        creating = (args.group, args.action) == ("accounts", "create")
        if not creating and settings.database_url is None:
            path = settings.data_dir / SQLITE_FILE
            if not path.exists():
                raise Refused(f"there is no database at {path}")
        action = _action(args, stdin or sys.stdin)
    except (Refused, BadBan) as error:
        return fail(str(error))
    casemap = Casemap(settings.casemapping, settings.limits.nicklen, settings.limits.channellen)

    async def main() -> str:
        store = await open_store(
            settings.data_dir, settings.database_url, settings.limits.database_timeout
        )
        try:
            accounts = Accounts(store, casemap, password_min=settings.limits.password_min)
            return await action(Admin(store, accounts, casemap))
        finally:
            await store.close()

    try:
        print(asyncio.run(main()))
    except (AccountError, Refused, BadBan) as error:
        return fail(str(error))
    except StorageError as error:
        return fail(f"cannot open the database: {error}")
    return 0


def _action(args: argparse.Namespace, stdin: TextIO) -> Action:
    """The action the arguments name (passwords are read now, before the database).

    Raises:
        Refused: no password given.
    """
    group, verb = args.group, args.action
    if group == "accounts":
        if verb in ("create", "password"):
            password = read_password(stdin)
            if verb == "create":
                made = functools.partial(
                    account_admin.create, name=args.name, password=password, email=args.email
                )
            else:
                made = functools.partial(
                    account_admin.change_password, name=args.name, password=password
                )
            return lambda admin: made(admin.accounts)
        if verb == "list":
            return lambda admin: account_admin.listing(admin.accounts)
        if verb == "drop":
            return functools.partial(_drop_account, name=args.name)
        if verb == "show":
            return functools.partial(_show_account, name=args.name)
        if verb == "suspend":
            return functools.partial(
                _add_ban,
                target=ACCOUNT_PREFIX + args.name,
                minutes=args.minutes,
                reason=args.reason,
            )
        return functools.partial(_remove_ban, target=ACCOUNT_PREFIX + args.name)
    if group == "channels":
        if verb == "list":
            return _list_channels
        if verb == "show":
            return functools.partial(_show_channel, name=args.channel)
        if verb == "drop":
            return functools.partial(_order, name=args.channel, account=None)
        return functools.partial(_order, name=args.channel, account=args.account)
    if verb == "list":
        return _list_bans
    if verb == "add":
        return functools.partial(
            _add_ban, target=args.target, minutes=args.minutes, reason=args.reason
        )
    return functools.partial(_remove_ban, target=args.target)


# -- accounts ------------------------------------------------------------------------------


def _when(moment: float) -> str:
    return f"{datetime.datetime.fromtimestamp(moment, datetime.UTC):%Y-%m-%d %H:%M}Z"


async def _show_account(admin: Admin, name: str) -> str:
    account = await existing(admin.accounts, name)
    certificates = await admin.accounts.certificates(account)
    founded = sorted(
        r.name for r in (await admin.registrations()).values() if r.founder == account.uid
    )
    bans = [b for b in await admin.bans() if b.kind is BanKind.ACCOUNT and b.mask == account.uid]
    now = admin.clock()
    lines = [
        f"account: {shown(account.name)}",
        f"id: {account.uid}",
        f"registered: {_when(account.created)}",
        f"email: {shown(account.email) or '(none)'}",
        f"certificates: {len(certificates)}",
        f"founder of: {', '.join(founded) or '(none)'}",
        f"suspended: {shown(bans[0].describe(now)) if bans and bans[0].active(now) else 'no'}",
    ]
    return "\n".join(lines)


# -- channels ------------------------------------------------------------------------------


async def _registration(admin: Admin, name: str) -> RegisteredChannel:
    key = admin.casemap.fold(name)
    record = (await admin.registrations()).get(key)
    if record is None:
        raise Refused(f"{name} is not registered")
    return record


async def _list_channels(admin: Admin) -> str:
    records = sorted((await admin.registrations()).values(), key=lambda r: r.key)
    rows = [f"{shown(r.name)}\t{shown(r.name_of(r.founder))}\t{_when(r.created)}" for r in records]
    waiting = await admin.store.channel_orders()
    rows += [f"(waiting for the server: {shown(key)} {shown(data)})" for _, key, data in waiting]
    rows.append(f"{len(records)} registered channel{'' if len(records) == 1 else 's'}")
    return "\n".join(rows)


async def _show_channel(admin: Admin, name: str) -> str:
    record = await _registration(admin, name)
    lines = [
        f"channel: {shown(record.name)}",
        f"founder: {shown(record.name_of(record.founder))}",
        f"registered: {_when(record.created)}",
        f"topic: {shown(record.topic.text) if record.topic is not None else '(none)'}",
    ]
    lines += [f"access: {shown(record.name_of(a))} {s}" for a, s in sorted(record.access.items())]
    return "\n".join(lines)


async def _order(admin: Admin, name: str, account: str | None) -> str:
    """Queue a drop (``account`` None) or a transfer, and wait a little for a running
    server to take it."""
    record = await _registration(admin, name)
    if account is None:
        order: dict[str, object] = {"drop": True}
        done = f"{record.name} is no longer registered"
    else:
        found = await existing(admin.accounts, account)
        if found.uid == record.founder:
            raise Refused(f"{found.name} is the founder of {record.name} already")
        order = {"founder": found.uid, "name": found.name}
        done = f"{record.name} now belongs to {found.name}"
    return await carried_out(admin, record, order, done)


async def carried_out(
    admin: Admin, record: RegisteredChannel, order: dict[str, object], done: str
) -> str:
    """Queue ``order`` for the registration ``record``; what came of it.

    Raises:
        Refused: a running server took it, but the registration is not as ordered.
    """
    number = await admin.store.order_channel(record.name, json.dumps(order))
    said = await _taken(admin, number, done)
    if not said.endswith("(carried out by the running server)"):
        return said
    # The server takes every order, and does what still applies: a channel renamed or
    # dropped meanwhile is left as it is (probe 22). Its keeper writes what it did soon.
    wanted = order.get("founder")
    for _ in range(round(_ORDER_WAIT / _ORDER_LOOK)):
        # The registration is known by when it was made: a rename keeps that.
        same = [r for r in (await admin.registrations()).values() if r.created == record.created]
        if (same[0].founder if same else None) == wanted:
            return said
        await asyncio.sleep(_ORDER_LOOK)
    raise Refused(
        f"the running server took the order, but {record.name} is not as ordered: it was "
        "renamed, dropped or given away meanwhile (the server's log says which)"
    )


async def _taken(
    admin: Admin,
    number: int,
    done: str,
    later: str = " once the server starts (no running server took the order yet)",
) -> str:
    """``done``, once a running server took order ``number``, or ``later`` added after
    a few seconds."""
    for _ in range(round(_ORDER_WAIT / _ORDER_LOOK)):
        if all(n != number for n, _, _ in await admin.store.channel_orders()):
            return f"{done} (carried out by the running server)"
        await asyncio.sleep(_ORDER_LOOK)
    return done + later


async def _drop_account(admin: Admin, name: str) -> str:
    """Order the running server to forget what it holds of an account (the channels it
    founded, its places on access lists, the channel entries that name it: the server
    keeps those, and would write them back at their next change, probe 22), then
    delete it. In that order: deleted first, its name could be registered again before
    the server took the order, and the newcomer let in by the old ``a:name`` entries
    (probe 29)."""
    account = await existing(admin.accounts, name)
    order = {"account_dropped": account.uid, "name": account.name}
    number = await admin.store.order_channel("", json.dumps(order))
    done = await _taken(
        admin,
        number,
        f"account {account.name} dropped",
        "; its channels are forgotten when a server starts (none running took the order)",
    )
    try:
        await admin.accounts.drop(account)
    except AccountError as error:
        # Ordered, maybe carried out, but still in the store: saying so, since a drop
        # again finishes it (probe 32: "failed" hid a half-done drop).
        raise Refused(
            f"account {account.name}: the server was ordered to forget it, but it is not "
            f"deleted ({error}); run the drop again"
        ) from None
    return done


# -- bans ----------------------------------------------------------------------------------


async def _ban_of(admin: Admin, target: str) -> tuple[BanKind, str, str]:
    """A ban's kind, key and label from what the operator typed.

    Raises:
        BadBan: not a mask, an address or network, or an account.
        Refused: no such account.
    """
    target = target.strip()
    if target.startswith(ACCOUNT_PREFIX):
        account = await existing(admin.accounts, target[len(ACCOUNT_PREFIX) :])
        return BanKind.ACCOUNT, account.uid, account.name
    if "@" not in target:
        try:
            ipaddress.ip_network(target, strict=False)
        except ValueError:
            raise BadBan(
                f"{target[:60]!r}: give user@host, an address or network, or $a:ACCOUNT"
            ) from None
        network = str(network_of(target))  # within the narrowest allowed
        return BanKind.ADDRESS, network, network
    key, label = mask_key(target)
    return BanKind.MASK, key, label


async def _add_ban(admin: Admin, target: str, minutes: int | None, reason: str) -> str:
    kind, key, label = await _ban_of(admin, target)
    now = admin.clock()
    who = f"{getpass.getuser()} (hubbub admin)"
    ban = ServerBan(kind, key, label, reason_of(reason), who, now, expiry(minutes, now))
    await admin.store.save_ban(kind.value, key, now, ban_to_json(ban))
    return f"banned: {shown(ban.describe(now))}"


async def _remove_ban(admin: Admin, target: str) -> str:
    kind, key, label = await _ban_of(admin, target)
    if not await admin.store.delete_ban(kind.value, key):
        raise Refused(f"there is no ban on {label}")
    return f"ban on {label} lifted"


_KINDS = {BanKind.MASK: "K-line", BanKind.ADDRESS: "D-line", BanKind.ACCOUNT: "account"}


def _as_typed(ban: ServerBan) -> ServerBan:
    """The ban labelled as ``bans remove`` takes it: an account as ``$a:NAME``."""
    if ban.kind is BanKind.ACCOUNT:
        return dataclasses.replace(ban, label=ACCOUNT_PREFIX + ban.label)
    return ban


async def _list_bans(admin: Admin) -> str:
    now = admin.clock()
    bans = [b for b in await admin.bans() if b.active(now)]
    rows = [f"{_KINDS[b.kind]}\t{shown(_as_typed(b).describe(now))}" for b in bans]
    rows.append(f"{len(bans)} ban{'' if len(bans) == 1 else 's'}")
    return "\n".join(rows)


def _fail(program: str, message: str) -> int:
    print(f"{program}: {message}", file=sys.stderr)
    return 1
