"""One account on many devices in storage: always-on users, what each account chose,
and when each of its devices last left (see :mod:`hubbub.core.presence`); the
write-behind keeper, and the SQLite and PostgreSQL stores' share of it.

All of it is kept by account id, never by name, and goes when the account is dropped.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from hubbub.core.presence import AccountChoices, KeptChannel, PresenceRecord
from hubbub.core.presences import DEVICES_KEPT
from hubbub.storage.errors import StorageError
from hubbub.storage.keeper import Keeper
from hubbub.storage.ports import PresenceStore
from hubbub.storage.postgres_text import get as _get
from hubbub.storage.postgres_text import put as _put

if TYPE_CHECKING:
    import asyncpg  # the postgres extra: only the PostgreSQL store runs these

logger = logging.getLogger(__name__)
T = TypeVar("T")

# The tables an account's rows are deleted from with it.
PRESENCE_TABLES = ("account_settings", "account_devices", "always_on")
_SETTINGS = {"multiclient": "multiclient", "always-on": "always_on"}


def encode_record(record: PresenceRecord) -> str:
    return json.dumps(
        {
            "account": record.account,
            "nick": record.nick,
            "username": record.username,
            "host": record.host,
            "realname": record.realname,
            "modes": record.modes,
            "away": record.away,
            "auto_away": record.auto_away,
            "channels": [
                [c.name, c.key, c.status, c.flags, c.limit, [list(e) for e in c.lists]]
                for c in record.channels
            ],
            "left": record.left,
        }
    )


def decode_record(text: str) -> PresenceRecord:
    """Raises:
    ValueError: the text is not a record (written by another version, or damaged)."""
    try:
        data = json.loads(text)
        return PresenceRecord(
            str(data["account"]),
            str(data["nick"]),
            str(data["username"]),
            str(data["host"]),
            str(data["realname"]),
            str(data["modes"]),
            None if data["away"] is None else str(data["away"]),
            bool(data["auto_away"]),
            tuple(_channel(entry) for entry in data["channels"]),
            float(data["left"]),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"not an always-on record: {error}") from error


def _channel(entry: list[Any]) -> KeptChannel:
    """A kept channel; as written by earlier versions too (name and key; then status
    and flags; then limit and lists)."""
    name, key, *rest = entry
    status, flags = (str(rest[0]), str(rest[1])) if len(rest) >= 2 else ("", "")
    limit = int(rest[2]) if len(rest) >= 3 and rest[2] is not None else None
    lists = tuple((str(mode), str(mask)) for mode, mask in rest[3]) if len(rest) >= 4 else ()
    return KeptChannel(str(name), None if key is None else str(key), status, flags, limit, lists)


class PresenceKeeper(Keeper[tuple[str, ...], object]):
    """Saves always-on users, accounts' choices and devices' read positions;
    implements the core's ``PresenceSink``."""

    def __init__(self, store: PresenceStore) -> None:
        async def write(key: tuple[str, ...], value: object) -> None:
            kind, account = key[0], key[1]
            if kind == "presence":
                record = encode_record(value) if isinstance(value, PresenceRecord) else None
                await store.save_always_on(account, record, self.node)
            elif kind == "setting":
                chosen = value if isinstance(value, str) else None
                await store.set_account_setting(account, key[2], chosen)
            elif isinstance(value, float):
                await store.set_device_seen(account, key[2], value)

        super().__init__(write, "presence")
        self._store = store
        # The node that keeps what this keeper saves (its stable name; '' on one server).
        self.node = ""

    def save(self, account: str, record: PresenceRecord | None) -> None:
        self.put(("presence", account), record)

    def choose(self, account: str, choices: AccountChoices) -> None:
        for name, field in _SETTINGS.items():
            chosen = getattr(choices, field)
            self.put(("setting", account, name), None if chosen is None else _on_off(chosen))

    def seen(self, account: str, device: str, time: float) -> None:
        self.put(("device", account, device), time)

    def forget_account(self, account: str) -> None:
        self.discard(lambda key: key[1] == account)

    async def loaded(self, account: str) -> tuple[AccountChoices, dict[str, float]]:
        try:
            settings = await self._store.account_settings(account)
            seen = await self._store.devices_seen(account)
        except StorageError as error:
            logger.error("cannot read the settings of account %s: %s", account, error)
            settings, seen = {}, {}
        for key, value in self.pending(lambda key: key[1] == account):
            if key[0] == "setting":
                if value is None:
                    settings.pop(key[2], None)
                else:
                    settings[key[2]] = str(value)
            elif key[0] == "device" and isinstance(value, float):
                seen[key[2]] = value
        chosen = {
            field: settings[name] == "on" for name, field in _SETTINGS.items() if name in settings
        }
        return AccountChoices(**chosen), seen

    async def presences(self) -> list[tuple[str, PresenceRecord, str]]:
        found = []
        for account, text, node in await self._store.always_on_records():
            try:
                found.append((account, decode_record(text), node))
            except ValueError as error:
                logger.error("always-on user of account %s not restored: %s", account, error)
        return found


def _on_off(chosen: bool) -> str:
    return "on" if chosen else "off"


class SqlitePresences:
    """The presence tables on a SQLite database (mixed into the store, which provides
    the connection and the two ways of running work on its thread)."""

    _db: sqlite3.Connection

    async def _change(
        self, sql: str, parameters: Sequence[object], immediate: bool = False
    ) -> int:
        raise NotImplementedError

    async def _run(self, work: Callable[[], T]) -> T:
        raise NotImplementedError

    async def set_account_setting(self, account: str, key: str, value: str | None) -> None:
        if value is None:
            await self._change(
                "DELETE FROM account_settings WHERE account = ? AND key = ?", (account, key)
            )
            return
        await self._change(
            "INSERT INTO account_settings (account, key, value) VALUES (?, ?, ?) "
            "ON CONFLICT (account, key) DO UPDATE SET value = excluded.value",
            (account, key, value),
        )

    async def account_settings(self, account: str) -> dict[str, str]:
        def work() -> dict[str, str]:
            found = self._db.execute(
                "SELECT key, value FROM account_settings WHERE account = ?", (account,)
            )
            return {row[0]: row[1] for row in found}

        return await self._run(work)

    async def set_device_seen(self, account: str, device: str, seen: float) -> None:
        await self._change(
            "INSERT INTO account_devices (account, device, seen) VALUES (?, ?, ?) "
            "ON CONFLICT (account, device) DO UPDATE SET seen = excluded.seen",
            (account, device, seen),
        )
        await self._change(
            "DELETE FROM account_devices WHERE account = ? AND device NOT IN "
            "(SELECT device FROM account_devices WHERE account = ? ORDER BY seen DESC LIMIT ?)",
            (account, account, DEVICES_KEPT),
        )

    async def devices_seen(self, account: str) -> dict[str, float]:
        def work() -> dict[str, float]:
            found = self._db.execute(
                "SELECT device, seen FROM account_devices WHERE account = ?", (account,)
            )
            return {row[0]: float(row[1]) for row in found}

        return await self._run(work)

    async def save_always_on(self, account: str, record: str | None, node: str = "") -> None:
        if record is None:
            await self._change("DELETE FROM always_on WHERE account = ?", (account,))
            return
        await self._change(
            "INSERT INTO always_on (account, record, node) VALUES (?, ?, ?) "
            "ON CONFLICT (account) DO UPDATE SET record = excluded.record, node = excluded.node",
            (account, record, node),
        )

    async def always_on_records(self) -> list[tuple[str, str, str]]:
        def work() -> list[tuple[str, str, str]]:
            found = self._db.execute(
                "SELECT account, record, node FROM always_on ORDER BY account"
            )
            return [(row[0], row[1], row[2]) for row in found]

        return await self._run(work)


class PostgresPresences:
    """The presence tables on a PostgreSQL database (mixed into the store, which
    provides the pool's two ways of running a statement)."""

    async def _execute(self, query: str, *args: Any) -> str:
        raise NotImplementedError

    async def _fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        raise NotImplementedError

    async def set_account_setting(self, account: str, key: str, value: str | None) -> None:
        if value is None:
            await self._execute(
                "DELETE FROM account_settings WHERE account = $1 AND key = $2",
                _put(account),
                _put(key),
            )
            return
        await self._execute(
            "INSERT INTO account_settings (account, key, value) VALUES ($1, $2, $3) "
            "ON CONFLICT (account, key) DO UPDATE SET value = excluded.value",
            _put(account),
            _put(key),
            _put(value),
        )

    async def account_settings(self, account: str) -> dict[str, str]:
        found = await self._fetch(
            "SELECT key, value FROM account_settings WHERE account = $1", _put(account)
        )
        return {_get(row["key"]): _get(row["value"]) for row in found}

    async def set_device_seen(self, account: str, device: str, seen: float) -> None:
        await self._execute(
            "INSERT INTO account_devices (account, device, seen) VALUES ($1, $2, $3) "
            "ON CONFLICT (account, device) DO UPDATE SET seen = excluded.seen",
            _put(account),
            _put(device),
            seen,
        )
        await self._execute(
            "DELETE FROM account_devices WHERE account = $1 AND device NOT IN "
            "(SELECT device FROM account_devices WHERE account = $1 "
            "ORDER BY seen DESC LIMIT $2)",
            _put(account),
            DEVICES_KEPT,
        )

    async def devices_seen(self, account: str) -> dict[str, float]:
        found = await self._fetch(
            "SELECT device, seen FROM account_devices WHERE account = $1", _put(account)
        )
        return {_get(row["device"]): float(row["seen"]) for row in found}

    async def save_always_on(self, account: str, record: str | None, node: str = "") -> None:
        if record is None:
            await self._execute("DELETE FROM always_on WHERE account = $1", _put(account))
            return
        await self._execute(
            "INSERT INTO always_on (account, record, node) VALUES ($1, $2, $3) "
            "ON CONFLICT (account) DO UPDATE SET record = excluded.record, node = excluded.node",
            _put(account),
            _put(record),
            _put(node),
        )

    async def always_on_records(self) -> list[tuple[str, str, str]]:
        found = await self._fetch("SELECT account, record, node FROM always_on ORDER BY account")
        return [(_get(row["account"]), _get(row["record"]), _get(row["node"])) for row in found]
