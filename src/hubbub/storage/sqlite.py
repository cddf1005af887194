"""The SQLite store: one file in the data folder, WAL, numbered schema migrations.

All database work runs on one dedicated thread, so the event loop never waits on disk
and SQLite sees a single writer.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from time import monotonic, sleep
from time import time as now
from typing import TypeVar

from hubbub.accounts.ports import Account
from hubbub.core.history import Conversation, NewMessage, StoredMessage
from hubbub.storage import rows
from hubbub.storage.errors import StorageError
from hubbub.storage.files import private_file, private_folder
from hubbub.storage.metadata import SqliteMetadata
from hubbub.storage.migrations import log_migrated, numbered_scripts, schema_too_new
from hubbub.storage.presences import PRESENCE_TABLES, SqlitePresences
from hubbub.storage.sqlite_orders import SqliteOrders
from hubbub.storage.timing import Latency

logger = logging.getLogger(__name__)
T = TypeVar("T")

# Times compare to the millisecond, as clients see them in server-time tags.
_MS = "CAST(ROUND(time * 1000) AS INTEGER)"
# An owner's private conversations, each found by one step along the index.
_FIRST_PRIVATE = (
    "SELECT conversation FROM messages WHERE conversation >= ? AND conversation < ? "
    "ORDER BY conversation LIMIT 1"
)
_NEXT_PRIVATE = _FIRST_PRIVATE.replace(">=", ">")
# A conversation's latest message, found at the end of its index range.
_LATEST = (
    "SELECT conversation, target, sender, time FROM messages WHERE conversation = ? "
    "ORDER BY time DESC, id DESC LIMIT 1"
)
_READS = rows.Reads.written_with("?", _MS)

# How long opening waits for a file that another connection has locked, in seconds.
_BUSY_TIMEOUT = 5.0

_FIELDS = 9  # the columns a message is inserted with
# The most rows one INSERT takes (a power of two, see _chunks): SQLite allows 32,766
# parameters in a statement since 3.32, 999 before.
_ROWS_PER_INSERT = 256 if sqlite3.sqlite_version_info >= (3, 32) else 64
# Most messages have no tags and no lines: those two are bound as the integer 0, which
# the statement turns into '[]'. The driver binds an int in a third of a text's time
# with the GIL held (0.1 against 0.36 µs), and each row binds nine values.
_NONE = 0
_ROW = "(?, ?, ?, ?, ?, ?, ?, coalesce(nullif(?, 0), '[]'), coalesce(nullif(?, 0), '[]'))"


@functools.lru_cache(maxsize=16)
def _insert_statement(size: int) -> str:
    """An INSERT of ``size`` messages."""
    values = ", ".join([_ROW] * size)
    return f"INSERT OR IGNORE INTO messages ({rows.NEW_MESSAGE_COLUMNS}) VALUES {values}"


def _chunks(count: int) -> Iterator[tuple[int, int]]:
    """``count`` rows as (start, size) statements, each size a power of two up to
    _ROWS_PER_INSERT. A batch is whatever arrived during a flush interval, so its size
    varies: a statement of each size was prepared again by SQLite (the driver caches
    them by their text), which cost a third of every row's insert (8.2 against 5.7 µs
    a row at 200-300 rows a batch). These are a handful of texts, all kept prepared."""
    start, size = 0, _ROWS_PER_INSERT
    while start < count:
        while size > count - start:
            size //= 2
        yield start, size
        start += size


def migrations() -> list[tuple[int, str]]:
    """The schema scripts shipped with hubbub, as (version, SQL), in order."""
    return numbered_scripts("schema")


class SqliteStore(SqliteOrders, SqliteMetadata, SqlitePresences):
    """History in an SQLite file.

    Use :meth:`open` to create one; it applies pending migrations.
    """

    def __init__(self, path: Path, connection: sqlite3.Connection, executor: ThreadPoolExecutor):
        self.path = path
        self._db = connection
        self._executor = executor
        self.latency = Latency()

    @classmethod
    async def open(cls, path: Path) -> SqliteStore:
        """Open (creating if needed) the database and bring its schema up to date.

        Raises:
            SchemaTooNew: the file was written by a newer hubbub.
            StorageError: the file cannot be opened, is locked or is not a database.
        """
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hubbub-sqlite")
        loop = asyncio.get_running_loop()
        try:
            connection = await loop.run_in_executor(executor, cls._connect, path)
        except BaseException:
            executor.shutdown(wait=False)
            raise
        return cls(path, connection, executor)

    @staticmethod
    def _connect(path: Path) -> sqlite3.Connection:
        try:
            private_folder(path.parent)
            private_file(path)
            connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            connection.row_factory = sqlite3.Row
            # First, so that a file another process holds is waited for, not refused.
            connection.execute(f"PRAGMA busy_timeout={round(_BUSY_TIMEOUT * 1000):d}")
            SqliteStore._use_wal(connection)
            connection.execute("PRAGMA synchronous=NORMAL")
            # A many-row INSERT inside a transaction keeps a statement journal (to undo
            # the statement alone if one of its rows fails): in a temporary file, each
            # batch of history cost its creation, writes and removal (a row of history
            # 5.1 -> 3.6 us of CPU in 250-row batches).
            connection.execute("PRAGMA temp_store=MEMORY")
            SqliteStore._migrate(connection, path)
        except sqlite3.Error as error:
            raise StorageError(f"{path}: {error}") from None
        except OSError as error:
            raise StorageError(f"{path}: {error.strerror}") from None
        return connection

    @staticmethod
    def _use_wal(connection: sqlite3.Connection) -> None:
        """Put the file in WAL mode, waiting for others that open it at the same moment.

        The busy timeout alone does not wait here. The switch reads the file's header
        under a shared lock, then upgrades that read to a write to mark the file WAL.
        When several connections switch a new file at once, one holds the write lock
        and waits for the others' shared locks to go, while they ask for the write lock
        holding theirs: a deadlock. So SQLite does not call the busy handler for the
        upgrade (see sqlite3_busy_handler), and gives SQLITE_BUSY ("database is
        locked") at once, its shared lock already let go. The winner then writes the
        header, and a second try finds the file WAL and writes nothing; until then,
        try again, within the busy timeout.
        """
        deadline = monotonic() + _BUSY_TIMEOUT
        pause = 0.001
        while True:
            try:
                connection.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as error:
                busy = error.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY
                if not busy or monotonic() + pause > deadline:
                    raise
            sleep(pause)
            pause = min(pause * 2, 0.05)

    @staticmethod
    def _migrate(connection: sqlite3.Connection, path: Path) -> None:
        """Apply the migrations the file lacks, one transaction each. The version is read
        under the write lock: another process (a second server, ``hubbub account``) may be
        migrating the same new file at the same moment."""
        scripts = migrations()
        latest = scripts[-1][0] if scripts else 0
        first: int | None = None
        while True:
            connection.execute("BEGIN IMMEDIATE")
            try:
                (current,) = connection.execute("PRAGMA user_version").fetchone()
                first = current if first is None else first
                if current > latest:
                    raise schema_too_new(str(path), current, latest)
                missing = [(version, script) for version, script in scripts if version > current]
                if missing:
                    version, script = missing[0]
                    logger.debug("applying schema migration %04d to %s", version, path)
                    for statement in script.split(";"):
                        if statement.strip():
                            connection.execute(statement)
                    connection.execute(f"PRAGMA user_version = {version:d}")
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")
            if not missing:
                log_migrated(str(path), first or 0, current)
                return

    async def _change(
        self, sql: str, parameters: Sequence[object], immediate: bool = False
    ) -> int:
        """Run one changing statement in a transaction of its own; return how many rows
        it changed. ``immediate`` takes the write lock at once (a check-then-insert)."""

        def work() -> int:
            with self._db:
                self._db.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
                return self._db.execute(sql, parameters).rowcount

        return await self._run(work)

    async def _run(self, work: Callable[[], T]) -> T:
        loop = asyncio.get_running_loop()
        try:
            with self.latency.timing():  # the wait for the one thread included
                return await loop.run_in_executor(self._executor, work)
        except sqlite3.Error as error:
            raise StorageError(f"{self.path}: {error}") from None

    async def append(self, messages: Sequence[NewMessage]) -> None:
        values: list[object] = []
        # On the event loop's thread: unpacking each row costs half of reading its
        # fields by name.
        for msgid, time, conversation, target, sender, kind, text, tags, lines, _ in messages:
            values += (
                msgid,
                time,
                conversation,
                target,
                sender,
                kind,
                text,
                json.dumps(tags) if tags else _NONE,
                json.dumps(lines) if lines else _NONE,
            )
        count = len(messages)

        def work() -> None:
            # Many rows per statement, not executemany: the thread takes the GIL back
            # after each statement, and while the event loop is busy every take waits
            # for a switch interval (5 ms): per row that made a burst's history crawl.
            with self._db:
                self._db.execute("BEGIN")
                for start, size in _chunks(count):
                    self._db.execute(
                        _insert_statement(size),
                        values[start * _FIELDS : (start + size) * _FIELDS],
                    )

        await self._run(work)

    async def _messages(self, sql: str, parameters: Sequence[object]) -> list[StoredMessage]:
        def work() -> list[StoredMessage]:
            return [rows.message_from(r) for r in self._db.execute(sql, parameters)]

        return await self._run(work)

    async def before(
        self, conversation: str, time: float, limit: int, seq: int | None = None
    ) -> list[StoredMessage]:
        found = await self._messages(_READS.before, rows.before(conversation, time, limit, seq))
        found.reverse()  # read newest first
        return found

    async def after(
        self, conversation: str, time: float, limit: int, seq: int | None = None
    ) -> list[StoredMessage]:
        return await self._messages(_READS.after, rows.after(conversation, time, limit, seq))

    async def delete(self, msgids: Sequence[str]) -> None:
        parameters = [(msgid,) for msgid in msgids]

        def work() -> None:
            with self._db:
                self._db.execute("BEGIN")
                self._db.executemany("DELETE FROM messages WHERE msgid = ?", parameters)

        await self._run(work)

    async def find(self, conversation: str, msgid: str) -> StoredMessage | None:
        found = await self._messages(_READS.find, (conversation, msgid))
        return found[0] if found else None

    async def conversations(
        self, keys: Sequence[str], owner: str, start: float, end: float, limit: int
    ) -> list[Conversation]:
        keys = list(keys)

        def work() -> list[Conversation]:
            db = self._db
            names = list(keys)
            # The owner's private conversations, one index step each (no scan).
            after, high = rows.private_range(owner)
            first = True
            for _ in range(rows.PRIVATE_CONVERSATIONS):
                step = _FIRST_PRIVATE if first else _NEXT_PRIVATE
                found = db.execute(step, (after, high)).fetchone()
                if found is None:
                    break
                after, first = found[0], False
                names.append(after)
            latest = []
            for name in names:
                row = db.execute(_LATEST, (name,)).fetchone()
                if row is not None:
                    latest.append(rows.conversation_from(row))
            return rows.in_window(latest, start, end, limit)

        return await self._run(work)

    async def prune(self, older_than: float, keep_per_conversation: int) -> int:
        def work() -> int:
            with self._db:
                self._db.execute("BEGIN")
                removed = self._db.execute(
                    "DELETE FROM messages WHERE time < ?", (older_than,)
                ).rowcount
                removed += self._db.execute(
                    "DELETE FROM messages WHERE id IN (SELECT id FROM (SELECT id, "
                    "ROW_NUMBER() OVER (PARTITION BY conversation ORDER BY time DESC) AS n "
                    "FROM messages) WHERE n > ?)",
                    (keep_per_conversation,),
                ).rowcount
            return removed

        return await self._run(work)

    # -- registered channels -------------------------------------------------------------

    async def save_channel(self, key: str, data: str) -> None:
        await self._change(
            "INSERT INTO channels (key, data) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET data = excluded.data",
            (key, data),
        )

    async def delete_channel(self, key: str) -> None:
        await self._change("DELETE FROM channels WHERE key = ?", (key,))

    async def load_channels(self) -> list[tuple[str, str]]:
        def work() -> list[tuple[str, str]]:
            found = self._db.execute("SELECT key, data FROM channels").fetchall()
            return [(row["key"], row["data"]) for row in found]

        return await self._run(work)

    # -- accounts ----------------------------------------------------------------------

    @asynccontextmanager
    async def registering(self) -> AsyncIterator[None]:
        # One server per SQLite file: its own lock (Accounts._registering) is enough, and
        # `hubbub account` beside it checks again as the insert takes the write lock.
        yield

    async def create_account(self, account: Account) -> bool:
        return (
            await self._change(
                f"INSERT OR IGNORE INTO accounts ({rows.ACCOUNT_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                rows.account_row(account),
                immediate=True,
            )
            == 1
        )

    async def _account(self, sql: str, parameters: Sequence[object]) -> Account | None:
        def work() -> Account | None:
            return rows.account_from(self._db.execute(sql, parameters).fetchone())

        return await self._run(work)

    async def get_account(self, key: str) -> Account | None:
        return await self._account(_READS.account, (key,))

    async def account_names(self) -> dict[str, str]:
        def work() -> dict[str, str]:
            rows = self._db.execute("SELECT key, name FROM accounts")
            return {row["key"]: row["name"] for row in rows}

        return await self._run(work)

    async def set_password(self, uid: str, password: str, scram: str) -> None:
        await self._change(
            "UPDATE accounts SET password = ?, scram = ? WHERE uid = ?",
            (password, scram, uid),
        )

    async def set_scram(self, uid: str, scram: str) -> None:
        await self._change(
            "UPDATE accounts SET scram = ? WHERE uid = ? AND scram = ''", (scram, uid)
        )

    async def delete_account(self, key: str) -> None:
        def work() -> None:
            with self._db:
                self._db.execute("BEGIN IMMEDIATE")
                row = self._db.execute("SELECT uid FROM accounts WHERE key = ?", (key,))
                found = row.fetchone()
                self._db.execute("DELETE FROM accounts WHERE key = ?", (key,))
                if found is None:
                    return
                uid = found["uid"]
                self._db.execute("DELETE FROM certificates WHERE account = ?", (uid,))
                self._db.execute("DELETE FROM read_markers WHERE account = ?", (uid,))
                self._db.execute("DELETE FROM account_metadata WHERE account = ?", (uid,))
                for table in PRESENCE_TABLES:
                    self._db.execute(f"DELETE FROM {table} WHERE account = ?", (uid,))
                # Its side of each private conversation ("a:<id> <other>"); the other
                # side's copy is the other person's.
                owner = f"a:{uid} "
                self._db.execute(
                    "DELETE FROM messages WHERE substr(conversation, 1, ?) = ?",
                    (len(owner), owner),
                )
                self._db.execute(
                    "DELETE FROM channels WHERE json_extract(data, '$.founder') = ?", (uid,)
                )

        await self._run(work)

    async def add_certificate(self, uid: str, fingerprint: str) -> bool:
        return (
            await self._change(
                "INSERT OR IGNORE INTO certificates (fingerprint, account, added) "
                "SELECT ?, uid, ? FROM accounts WHERE uid = ?",
                (fingerprint, now(), uid),
                immediate=True,
            )
            == 1
        )

    async def remove_certificate(self, uid: str, fingerprint: str) -> bool:
        return (
            await self._change(
                "DELETE FROM certificates WHERE account = ? AND fingerprint = ?",
                (uid, fingerprint),
            )
            == 1
        )

    async def certificates(self, uid: str) -> list[str]:
        def work() -> list[str]:
            found = self._db.execute(
                "SELECT fingerprint FROM certificates WHERE account = ? ORDER BY added, rowid",
                (uid,),
            )
            return [row["fingerprint"] for row in found]

        return await self._run(work)

    async def account_by_certificate(self, fingerprint: str) -> Account | None:
        return await self._account(_READS.account_by_certificate, (fingerprint,))

    # -- read markers --------------------------------------------------------------------

    async def set_marker(self, account: str, target: str, time: float) -> None:
        await self._change(
            "INSERT INTO read_markers (account, target, time) VALUES (?, ?, ?) "
            "ON CONFLICT (account, target) DO UPDATE SET time = excluded.time",
            (account, target, time),
        )

    async def forget_marker(self, account: str, target: str) -> None:
        await self._change(
            "DELETE FROM read_markers WHERE account = ? AND target = ?", (account, target)
        )

    async def markers(self, account: str) -> list[tuple[str, float]]:
        def work() -> list[tuple[str, float]]:
            found = self._db.execute(
                "SELECT target, time FROM read_markers WHERE account = ?", (account,)
            )
            return [(row["target"], row["time"]) for row in found]

        return await self._run(work)

    async def ping(self) -> None:
        await self._run(lambda: self._db.execute("SELECT count(*) FROM sqlite_master").fetchone())

    async def close(self) -> None:
        await self._run(self._db.close)
        self._executor.shutdown(wait=True)
