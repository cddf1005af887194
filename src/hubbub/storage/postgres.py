"""The PostgreSQL store: history, accounts, read markers and registered channels in a
database named by a URL, through a pool of asyncpg connections.

It keeps the SQLite store's semantics query for query (see :mod:`hubbub.storage.sqlite`):
times compare to the millisecond with the order of storing breaking ties, a msgid is
unique within a conversation, owners' private conversations match by literal prefix.

Schema migrations are numbered scripts in ``schema/postgres/``, recorded in a
``schema_version`` table and applied in one transaction under an advisory lock, so that
servers starting at once against one database migrate it once.

PostgreSQL ``text`` cannot hold U+0000, which the store's callers may pass (the doors
never do: IRC lines cannot carry NUL and the plain door removes control characters).
So that every string still round-trips, text is written with NUL as U+FFFF "0" and
U+FFFF itself as U+FFFF U+FFFF; U+FFFF is a noncharacter, which text does not carry, so
the stored form is the text itself everywhere else. The escape keeps prefixes and
equality, which the queries rely on.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from time import time as now
from typing import Any

import asyncpg

from hubbub.accounts.ports import Account
from hubbub.core.history import Conversation, NewMessage, StoredMessage
from hubbub.storage import rows
from hubbub.storage.errors import StorageError
from hubbub.storage.metadata import PostgresMetadata
from hubbub.storage.migrations import log_migrated, numbered_scripts, schema_too_new
from hubbub.storage.postgres_text import changed as _changed
from hubbub.storage.postgres_text import describe
from hubbub.storage.postgres_text import get as _get
from hubbub.storage.postgres_text import put as _put
from hubbub.storage.presences import PRESENCE_TABLES, PostgresPresences
from hubbub.storage.timing import Latency

logger = logging.getLogger(__name__)

_POOL_SIZE = 8
_CONNECT_TIMEOUT = 10.0
_COMMAND_TIMEOUT = 30.0  # seconds
# Held while migrating: the key is "hubbub" in ASCII, a number no other program picks.
_MIGRATION_LOCK = 0x687562627562
_REGISTRATION_LOCK = 0x687562627563  # see registering
# What the driver raises; each becomes a StorageError naming the database.
_DRIVER_ERRORS = (
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.InternalClientError,
    OSError,
    TimeoutError,
)

# Times compare to the millisecond, rounded half away from zero as SQLite's ROUND does.
_MS = "trunc(time * 1000 + sign(time) * 0.5)::bigint"
_READS = rows.Reads.written_with("$", _MS)


def migrations() -> list[tuple[int, str]]:
    """The PostgreSQL schema scripts shipped with hubbub, as (version, SQL), in order."""
    return numbered_scripts("schema", "postgres")


class PostgresStore(PostgresMetadata, PostgresPresences):
    """History, accounts and registered channels in a PostgreSQL database.

    Use :meth:`open` to create one; it applies pending migrations.
    """

    def __init__(self, where: str, pool: asyncpg.Pool) -> None:
        self.where = where
        self._pool = pool
        self.latency = Latency()

    @classmethod
    async def open(cls, url: str, command_timeout: float = _COMMAND_TIMEOUT) -> PostgresStore:
        """Connect to the database and bring its schema up to date.

        Args:
            url: ``postgresql://user:password@host:port/database`` (asyncpg's form; a
                Unix socket folder goes in ``?host=``).
            command_timeout: seconds a query may take before it fails.

        Raises:
            SchemaTooNew: the database was written by a newer hubbub.
            StorageError: the server cannot be reached, refuses the login, or the
                database cannot be used; the message names it, never the password.
        """
        where = describe(url)
        try:
            pool = await asyncpg.create_pool(
                url,
                min_size=1,
                max_size=_POOL_SIZE,
                timeout=_CONNECT_TIMEOUT,
                # A stuck query must fail (StorageError) rather than hang logins,
                # history and the writer.
                command_timeout=command_timeout,
                server_settings={"application_name": "hubbub"},
            )
        except ValueError:
            # The driver's words might quote the URL, password and all.
            raise StorageError(f"{where}: not a valid PostgreSQL URL") from None
        except _DRIVER_ERRORS as error:
            raise StorageError(f"{where}: cannot connect: {_reason(error)}") from None
        store = cls(where, pool)
        try:
            with store._translated():
                await store._migrate()
        except BaseException:
            await pool.close()
            raise
        return store

    async def _migrate(self) -> None:
        scripts = migrations()
        latest = scripts[-1][0] if scripts else 0
        async with self._pool.acquire() as db, db.transaction():
            encoding = await db.fetchval("SHOW server_encoding")
            if encoding != "UTF8":
                raise StorageError(f"{self.where}: the database must use UTF8, not {encoding}")
            await db.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATION_LOCK)
            await db.execute(
                "CREATE TABLE IF NOT EXISTS schema_version ("
                "version INTEGER PRIMARY KEY, applied TIMESTAMPTZ NOT NULL DEFAULT now())"
            )
            current = await db.fetchval("SELECT coalesce(max(version), 0) FROM schema_version")
            if current > latest:
                raise schema_too_new(self.where, current, latest)
            for version, script in scripts:
                if version <= current:
                    continue
                logger.debug("applying schema migration %04d to %s", version, self.where)
                await db.execute(script)
                await db.execute("INSERT INTO schema_version (version) VALUES ($1)", version)
            log_migrated(self.where, current, max(current, scripts[-1][0] if scripts else 0))

    @contextmanager
    def _translated(self) -> Iterator[None]:
        """Driver and network errors as StorageError naming the database; and, as it is
        around every call to the database, how long each took."""
        try:
            with self.latency.timing():
                yield
        except _DRIVER_ERRORS as error:
            raise StorageError(f"{self.where}: {_reason(error)}") from None

    async def _execute(self, query: str, *args: Any) -> str:
        with self._translated():
            return await self._pool.execute(query, *args)

    async def _fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        with self._translated():
            return await self._pool.fetch(query, *args)

    async def _fetchrow(self, query: str, *args: Any) -> asyncpg.Record | None:
        with self._translated():
            return await self._pool.fetchrow(query, *args)

    # -- history -------------------------------------------------------------------------

    async def append(self, messages: Sequence[NewMessage]) -> None:
        values = [
            (
                _put(msgid),
                time,
                _put(conversation),
                _put(target),
                _put(sender),
                _put(kind),
                _put(text),
                json.dumps(tags) if tags else "[]",
                json.dumps(lines) if lines else "[]",
            )
            for msgid, time, conversation, target, sender, kind, text, tags, lines, _ in messages
        ]
        if not values:
            return
        with self._translated():
            async with self._pool.acquire() as db, db.transaction():
                await db.executemany(
                    f"INSERT INTO messages ({rows.NEW_MESSAGE_COLUMNS}) "
                    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) "
                    "ON CONFLICT (conversation, msgid) DO NOTHING",
                    values,
                )

    async def before(
        self, conversation: str, time: float, limit: int, seq: int | None = None
    ) -> list[StoredMessage]:
        found = await self._fetch(
            _READS.before, *rows.before(_put(conversation), time, limit, seq)
        )
        return [rows.message_from(r, _get) for r in reversed(found)]

    async def after(
        self, conversation: str, time: float, limit: int, seq: int | None = None
    ) -> list[StoredMessage]:
        found = await self._fetch(_READS.after, *rows.after(_put(conversation), time, limit, seq))
        return [rows.message_from(r, _get) for r in found]

    async def delete(self, msgids: Sequence[str]) -> None:
        if msgids:
            await self._execute(
                "DELETE FROM messages WHERE msgid = ANY($1::text[])", [_put(m) for m in msgids]
            )

    async def find(self, conversation: str, msgid: str) -> StoredMessage | None:
        row = await self._fetchrow(_READS.find, _put(conversation), _put(msgid))
        return None if row is None else rows.message_from(row, _get)

    async def conversations(
        self, keys: Sequence[str], owner: str, start: float, end: float, limit: int
    ) -> list[Conversation]:
        names = [_put(key) for key in keys]
        # The owner's private conversations, one index step each (no scan). Compared
        # byte by byte ("C"): the index serves it where the database's collation is C,
        # as docs/running.md asks, and the answer is right under any collation.
        after, high = (_put(bound) for bound in rows.private_range(owner))
        first = True
        for _ in range(rows.PRIVATE_CONVERSATIONS):
            found = await self._fetchrow(
                'SELECT conversation FROM messages WHERE conversation COLLATE "C" '
                + (">=" if first else ">")
                + ' $1 AND conversation COLLATE "C" < $2 '
                'ORDER BY conversation COLLATE "C" LIMIT 1',
                after,
                high,
            )
            if found is None:
                break
            after, first = found[0], False
            names.append(after)
        latest = []
        for name in names:
            row = await self._fetchrow(
                "SELECT conversation, target, sender, time FROM messages "
                "WHERE conversation = $1 ORDER BY time DESC, id DESC LIMIT 1",
                name,
            )
            if row is not None:
                latest.append(rows.conversation_from(row, _get))
        return rows.in_window(latest, start, end, limit)

    async def prune(self, older_than: float, keep_per_conversation: int) -> int:
        with self._translated():
            async with self._pool.acquire() as db, db.transaction():
                removed = _changed(
                    await db.execute("DELETE FROM messages WHERE time < $1", older_than)
                )
                removed += _changed(
                    await db.execute(
                        "DELETE FROM messages WHERE id IN (SELECT id FROM (SELECT id, "
                        "row_number() OVER (PARTITION BY conversation "
                        "ORDER BY time DESC, id DESC) AS n FROM messages) AS ranked "
                        "WHERE n > $1)",
                        keep_per_conversation,
                    )
                )
        return removed

    # -- registered channels -------------------------------------------------------------

    async def save_channel(self, key: str, data: str) -> None:
        await self._execute(
            "INSERT INTO channels (key, data) VALUES ($1, $2) "
            "ON CONFLICT (key) DO UPDATE SET data = excluded.data",
            _put(key),
            _put(data),
        )

    async def delete_channel(self, key: str) -> None:
        await self._execute("DELETE FROM channels WHERE key = $1", _put(key))

    async def load_channels(self) -> list[tuple[str, str]]:
        found = await self._fetch("SELECT key, data FROM channels")
        return [(_get(row["key"]), _get(row["data"])) for row in found]

    # -- server bans -----------------------------------------------------------------------

    async def save_ban(self, kind: str, mask: str, set_at: float, data: str) -> None:
        await self._execute(
            "INSERT INTO server_bans (kind, mask, set_at, data) VALUES ($1, $2, $3, $4) "
            "ON CONFLICT (kind, mask) DO UPDATE "
            "SET set_at = excluded.set_at, data = excluded.data",
            kind,
            _put(mask),
            set_at,
            _put(data),
        )

    async def delete_ban(self, kind: str, mask: str) -> bool:
        status = await self._execute(
            "DELETE FROM server_bans WHERE kind = $1 AND mask = $2", kind, _put(mask)
        )
        return _changed(status) == 1

    async def delete_ended_ban(self, kind: str, mask: str, set_at: float) -> bool:
        status = await self._execute(
            "DELETE FROM server_bans WHERE kind = $1 AND mask = $2 AND set_at = $3",
            kind,
            _put(mask),
            set_at,
        )
        return _changed(status) == 1

    async def load_bans(self) -> list[str]:
        return [_get(row["data"]) for row in await self._fetch("SELECT data FROM server_bans")]

    async def bans_version(self) -> str:
        row = await self._fetchrow(
            "SELECT md5(coalesce(string_agg(kind || ' ' || mask || ' ' || data, E'\\n' "
            "ORDER BY kind, mask), '')) AS digest FROM server_bans"
        )
        assert row is not None
        return str(row["digest"])

    # -- channel orders ----------------------------------------------------------------

    async def order_channel(self, key: str, order: str) -> int:
        row = await self._fetchrow(
            "INSERT INTO channel_orders (key, data) VALUES ($1, $2) RETURNING id",
            _put(key),
            _put(order),
        )
        assert row is not None
        return int(row["id"])

    async def channel_orders(self) -> list[tuple[int, str, str]]:
        found = await self._fetch("SELECT id, key, data FROM channel_orders ORDER BY id")
        return [(int(row["id"]), _get(row["key"]), _get(row["data"])) for row in found]

    async def take_channel_orders(self) -> list[tuple[int, str, str]]:
        # DELETE ... RETURNING: of several nodes, each order goes to the one that took it.
        found = await self._fetch("DELETE FROM channel_orders RETURNING id, key, data")
        rows = [(int(row["id"]), _get(row["key"]), _get(row["data"])) for row in found]
        return sorted(rows)

    # -- accounts ------------------------------------------------------------------------

    @asynccontextmanager
    async def registering(self) -> AsyncIterator[None]:
        # A lock of the session's own, held across the check and the insert: those run
        # on other connections of the pool.
        with self._translated():
            connection = await self._pool.acquire()
        try:
            with self._translated():
                await connection.execute("SELECT pg_advisory_lock($1)", _REGISTRATION_LOCK)
            try:
                yield
            finally:
                with self._translated():
                    await connection.execute("SELECT pg_advisory_unlock($1)", _REGISTRATION_LOCK)
        finally:
            await self._pool.release(connection)

    async def create_account(self, account: Account) -> bool:
        status = await self._execute(
            f"INSERT INTO accounts ({rows.ACCOUNT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7) "
            "ON CONFLICT (key) DO NOTHING",
            *rows.account_row(account, _put),
        )
        return _changed(status) == 1

    async def get_account(self, key: str) -> Account | None:
        return rows.account_from(await self._fetchrow(_READS.account, _put(key)), _get)

    async def account_names(self) -> dict[str, str]:
        rows = await self._fetch("SELECT key, name FROM accounts")
        return {_get(row["key"]): _get(row["name"]) for row in rows}

    async def set_password(self, uid: str, password: str, scram: str) -> None:
        await self._execute(
            "UPDATE accounts SET password = $1, scram = $2 WHERE uid = $3",
            _put(password),
            _put(scram),
            _put(uid),
        )

    async def set_scram(self, uid: str, scram: str) -> None:
        await self._execute(
            "UPDATE accounts SET scram = $1 WHERE uid = $2 AND scram = ''", _put(scram), _put(uid)
        )

    async def delete_account(self, key: str) -> None:
        with self._translated():
            async with self._pool.acquire() as db, db.transaction():
                uid = await db.fetchval(
                    "DELETE FROM accounts WHERE key = $1 RETURNING uid", _put(key)
                )
                if uid is None:
                    return
                await db.execute("DELETE FROM certificates WHERE account = $1", uid)
                await db.execute("DELETE FROM read_markers WHERE account = $1", uid)
                await db.execute("DELETE FROM account_metadata WHERE account = $1", uid)
                for table in PRESENCE_TABLES:
                    await db.execute(f"DELETE FROM {table} WHERE account = $1", uid)
                # Its side of each private conversation ("a:<id> <other>"); the other
                # side's copy is the other person's.
                owner = f"a:{_get(uid)} "
                await db.execute(
                    "DELETE FROM messages WHERE left(conversation, $1) = $2",
                    len(owner),
                    _put(owner),
                )
                await db.execute("DELETE FROM channels WHERE data::json->>'founder' = $1", uid)

    async def add_certificate(self, uid: str, fingerprint: str) -> bool:
        # The row locks the account (its foreign key): a drop under way waits for it, or
        # it for the drop, whose cascade then takes it too.
        with self._translated():
            try:
                status = await self._pool.execute(
                    "INSERT INTO certificates (fingerprint, account, added) "
                    "SELECT $1, uid, $3 FROM accounts WHERE uid = $2 "
                    "ON CONFLICT (fingerprint) DO NOTHING",
                    _put(fingerprint),
                    _put(uid),
                    now(),
                )
            except asyncpg.ForeignKeyViolationError:
                return False  # the account was dropped as it was added
        return _changed(status) == 1

    async def remove_certificate(self, uid: str, fingerprint: str) -> bool:
        status = await self._execute(
            "DELETE FROM certificates WHERE account = $1 AND fingerprint = $2",
            _put(uid),
            _put(fingerprint),
        )
        return _changed(status) == 1

    async def certificates(self, uid: str) -> list[str]:
        found = await self._fetch(
            "SELECT fingerprint FROM certificates WHERE account = $1 ORDER BY added, id",
            _put(uid),
        )
        return [_get(row["fingerprint"]) for row in found]

    async def account_by_certificate(self, fingerprint: str) -> Account | None:
        row = await self._fetchrow(_READS.account_by_certificate, _put(fingerprint))
        return rows.account_from(row, _get)

    # -- read markers --------------------------------------------------------------------

    async def set_marker(self, account: str, target: str, time: float) -> None:
        await self._execute(
            "INSERT INTO read_markers (account, target, time) VALUES ($1, $2, $3) "
            "ON CONFLICT (account, target) DO UPDATE SET time = excluded.time",
            _put(account),
            _put(target),
            time,
        )

    async def forget_marker(self, account: str, target: str) -> None:
        await self._execute(
            "DELETE FROM read_markers WHERE account = $1 AND target = $2",
            _put(account),
            _put(target),
        )

    async def markers(self, account: str) -> list[tuple[str, float]]:
        found = await self._fetch(
            "SELECT target, time FROM read_markers WHERE account = $1", _put(account)
        )
        return [(_get(row["target"]), row["time"]) for row in found]

    async def ping(self) -> None:
        await self._fetch("SELECT 1")

    async def close(self) -> None:
        with self._translated():
            await self._pool.close()


def _reason(error: BaseException) -> str:
    """The driver's explanation, or the system's for a network error."""
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    if isinstance(error, TimeoutError):
        return "timed out"
    return str(error) or type(error).__name__
