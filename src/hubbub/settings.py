"""Settings: one frozen value built from defaults, a TOML file and command-line flags.

The defaults are the embedded mode: IRC on 127.0.0.1:6667, data in the user's data
folder, a server name made from the host name. A config file is validated whole; an
error names the key and the line it is on.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import ipaddress
import os
import re
import socket
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hubbub.accounts.passwords import is_hash
from hubbub.accounts.service import AccountLimits
from hubbub.core.state import ChatLimits
from hubbub.doors.irc.limits import IrcLimits
from hubbub.doors.plain.i18n import available as available_languages
from hubbub.doors.ports import DoorLimits
from hubbub.storage.ports import HistoryLimits
from hubbub.wire.casemap import Casemapping, NameLimits


class ConfigError(Exception):
    """An invalid config file or flag; the message says where and why."""


@dataclass(frozen=True, slots=True)
class Listen:
    host: str
    port: int
    tls: bool = False


@dataclass(frozen=True, slots=True)
class Oper:
    """An operator block: a name and a password (an scrypt hash, or plain from a flag)."""

    name: str
    password: str


@dataclass(frozen=True)
class Limits(ChatLimits, NameLimits, DoorLimits, IrcLimits, HistoryLimits, AccountLimits):
    """Every bound on client input and server state: the ``[limits]`` of the config file.

    Each ring declares the bounds it enforces, with their defaults (the chat's, names',
    the doors', the IRC door's, history's, accounts'); this is all of them in one value,
    which each ring is handed whole.
    """


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "hubbub"


def default_server_name() -> str:
    host = re.sub(r"[^A-Za-z0-9.-]", "-", socket.gethostname()).strip(".-") or "localhost"
    return host if "." in host else f"{host}.hubbub"


@dataclass(frozen=True, slots=True)
class Settings:
    listen: tuple[Listen, ...] = (Listen("127.0.0.1", 6667),)
    data_dir: Path = field(default_factory=default_data_dir)
    server_name: str = field(default_factory=default_server_name)
    network_name: str = "hubbub"
    description: str = "hubbub chat server"
    motd_file: Path | None = None
    password: str | None = None
    opers: tuple[Oper, ...] = ()
    casemapping: Casemapping = Casemapping.PRECIS
    admin_location: str = "hubbub"
    admin_email: str = ""
    log_level: str = "INFO"
    config_file: Path | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None
    # CA certificates (PEM) whose client certificates are asked for, for SASL EXTERNAL.
    tls_client_ca: Path | None = None
    sts_duration: int = 86400  # seconds clients keep to TLS once they saw it (IRCv3 STS)
    trusted: tuple[str, ...] = ()  # networks free of flood control and per-IP limits
    plain: Listen | None = Listen("127.0.0.1", 8080)  # the plain-text door; None: off
    plain_room: str = "#lobby"  # where plain users start
    # The web listener: the web client's files and the WebSocket door; None: off.
    web: Listen | None = Listen("127.0.0.1", 8081)
    # Origins whose pages may open the WebSocket door besides the page's own ("*": any).
    web_origins: tuple[str, ...] = ()
    web_tls: bool | None = None  # HTTPS and wss; None: when tls_cert is set
    web_root: Path | None = None  # the web client's files; None: those shipped with hubbub
    language: str | None = None  # plain door language; None: from the environment
    history: bool = True  # keep message history in the data folder
    # Account registration (REGISTER): allowed before the connection is complete, and
    # whether it needs an email address (kept on the account, not verified by mail).
    register_before_connect: bool = True
    register_email_required: bool = False
    # TCP_NODELAY on client connections always. Off (like InspIRCd and ngircd), the
    # kernel joins small writes while earlier ones are unacknowledged (a quarter less
    # server CPU in the fan-out benchmark, and no later deliveries), and a connection
    # gets TCP_NODELAY only while its writes are large (see doors/driver.py).
    tcp_nodelay: bool = False
    # Deliver a message only once it is stored: nothing seen is lost to a kill, at the
    # cost of one commit of latency.
    history_sync: bool = False
    # A PostgreSQL database (postgresql://user:password@host/name) in place of the data
    # folder's SQLite file; kept out of repr for its password.
    database_url: str | None = field(default=None, repr=False)
    limits: Limits = field(default_factory=Limits)

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)

    @property
    def web_secure(self) -> bool:
        """Whether the web listener speaks TLS (with the IRC certificate)."""
        return self.tls_cert is not None if self.web_tls is None else self.web_tls

    def all_listeners(self) -> tuple[Listen, ...]:
        """The listeners, with a TLS one on port 6697 if a certificate is set and none
        of them is TLS."""
        if self.tls_cert is None or any(listen.tls for listen in self.listen):
            return self.listen
        return (*self.listen, Listen(self.listen[0].host, 6697, tls=True))


SERVER_KEYS: dict[str, tuple[str, type]] = {
    "name": ("server_name", str),
    "network": ("network_name", str),
    "description": ("description", str),
    "motd": ("motd_file", Path),
    "password": ("password", str),
    "data_dir": ("data_dir", Path),
    "casemapping": ("casemapping", Casemapping),
    "admin_location": ("admin_location", str),
    "admin_email": ("admin_email", str),
    "log_level": ("log_level", str),
    "tls_cert": ("tls_cert", Path),
    "tls_key": ("tls_key", Path),
    "tls_client_ca": ("tls_client_ca", Path),
    "sts_duration": ("sts_duration", int),
    "trusted": ("trusted", list),
    "history": ("history", bool),
    "register_before_connect": ("register_before_connect", bool),
    "register_email_required": ("register_email_required", bool),
    "tcp_nodelay": ("tcp_nodelay", bool),
    "history_sync": ("history_sync", bool),
    "database_url": ("database_url", str),
}
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_SECTIONS = ("server", "listen", "oper", "plain", "web", "limits")
# How a value of each kind is asked for, in an error.
_KIND_NAMES = {
    int: "a whole number",
    float: "a number",
    str: "text in quotes",
    bool: "true or false",
    list: "a list in brackets",
}
_SERVER_NAME = re.compile(r"^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
# RFC 6454 section 6.2: scheme "://" host [ ":" port ], as browsers send it; or "*".
_ORIGIN = re.compile(r"^(\*|https?://([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?)$")


def load_config(path: Path, base: Settings | None = None) -> Settings:
    """Read a TOML config file over ``base`` (the defaults when None).

    Raises:
        ConfigError: the file cannot be read, is not TOML, or has an invalid key.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    reader = _Reader(path, text)
    settings = base or Settings()
    changes: dict[str, Any] = {"config_file": path}
    for section, value in data.items():
        with reader.collecting():
            if section == "server":
                changes.update(reader.server(reader.table(value, section)))
            elif section == "listen":
                changes["listen"] = reader.listens(value)
            elif section == "oper":
                changes["opers"] = reader.opers(value)
            elif section == "plain":
                changes.update(reader.plain(reader.table(value, section), settings))
            elif section == "web":
                changes.update(reader.web(reader.table(value, section), settings))
            elif section == "limits":
                changes["limits"] = reader.limits(reader.table(value, section), settings.limits)
            else:
                raise reader.unknown(section, None, section, _SECTIONS, "section")
    reader.raise_problems()
    settings = settings.replace(**changes)
    for name in ("motd_file", "tls_cert", "tls_key", "tls_client_ca", "web_root"):
        value = getattr(settings, name)
        if value is not None and not value.is_absolute():
            settings = settings.replace(**{name: path.parent / value})
    return validate(settings, reader)


def validate(settings: Settings, reader: _Reader | None = None) -> Settings:
    """Check values that every source must respect.

    Raises:
        ConfigError: naming each setting that is wrong (and its line, for a config
            file), one per line.
    """

    problems: list[ConfigError] = []

    def fail(table: str, key: str, message: str) -> None:
        problems.append(
            reader.error(table, key, message)
            if reader is not None
            else ConfigError(f"{key}: {message}")
        )

    if not _SERVER_NAME.match(settings.server_name) or len(settings.server_name) > 63:
        fail("server", "name", "must be a host name with a dot, like irc.example.org")
    if not settings.network_name or not re.fullmatch(r"[A-Za-z0-9._-]+", settings.network_name):
        fail("server", "network", "must be letters, digits, '.', '_' or '-'")
    if settings.log_level.upper() not in _LOG_LEVELS:
        fail("server", "log_level", "must be one of " + ", ".join(_LOG_LEVELS))
    if not settings.listen:
        fail("listen", "port", "at least one listener is needed")
    for listen in settings.listen:
        if not 0 <= listen.port <= 65535:
            fail("listen", "port", f"{listen.port} is not a port number")
    if settings.language is not None and settings.language not in available_languages():
        choices = ", ".join(available_languages())
        fail("plain", "language", f"must be one of {choices}")
    if not settings.plain_room.startswith("#") or " " in settings.plain_room:
        fail("plain", "room", "must be a channel name like #lobby")
    if (settings.tls_cert is None) != (settings.tls_key is None):
        fail("server", "tls_cert", "tls_cert and tls_key go together")
    if not settings.history and settings.history_sync:
        fail("server", "history_sync", "there is no history to keep in sync (history off)")
    if not settings.history and settings.database_url is not None:
        fail("server", "database_url", "a database is not used with history off")
    if settings.web_tls and settings.tls_cert is None:
        fail("web", "tls", "HTTPS needs tls_cert and tls_key")
    if settings.web is not None and not 0 <= settings.web.port <= 65535:
        fail("web", "port", f"{settings.web.port} is not a port number")
    for origin in settings.web_origins:
        if not _ORIGIN.match(origin):
            fail("web", "origins", f"{origin!r} is not an origin like https://example.org")
    if settings.tls_client_ca is not None and settings.tls_cert is None:
        fail("server", "tls_client_ca", "client certificates need tls_cert and tls_key")
    if any(listen.tls for listen in settings.listen) and settings.tls_cert is None:
        fail("listen", "tls", "a TLS listener needs tls_cert and tls_key")
    for network in settings.trusted:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError:
            fail("server", "trusted", f"{network!r} is not an address or network")
    if settings.database_url is not None and not settings.database_url.startswith(
        ("postgresql://", "postgres://")
    ):
        fail("server", "database_url", "must be a URL like postgresql://user@host/name")
    limits = settings.limits
    may_be_zero = {
        "connections_per_ip",
        "flood_rate",
        "plain_backlog",
        "history_flush",
        "register_per_address",
        "max_connections",
    }
    for item in dataclasses.fields(limits):
        value = getattr(limits, item.name)
        if value < 0 or (value == 0 and item.name not in may_be_zero):
            fail("limits", item.name, "must be positive")
    if limits.line_length < 512:
        fail("limits", "line_length", "must be at least 512 (RFC 1459)")
    if not 9 <= limits.nicklen <= 200:
        fail("limits", "nicklen", "must be between 9 and 200")
    if problems:
        raise ConfigError("\n".join(str(problem) for problem in problems))
    return settings


class _Reader:
    """Checks the config file's values and finds the line of a key for error messages."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = text.splitlines()
        # Every mistake is reported in one run, not only the first.
        self.problems: list[ConfigError] = []

    @contextlib.contextmanager
    def collecting(self) -> Iterator[None]:
        """Note a mistake in what the block reads, and go on with the next block."""
        try:
            yield
        except ConfigError as problem:
            self.problems.append(problem)

    def raise_problems(self) -> None:
        if self.problems:
            raise ConfigError("\n".join(str(problem) for problem in self.problems))

    def unknown(
        self,
        table: str,
        key: str | None,
        name: str,
        known: Iterable[str],
        what: str = "key",
        block: int = 0,
    ) -> ConfigError:
        """An unknown key or section, with the known name it is nearest to, if any."""
        near = difflib.get_close_matches(name, list(known), n=1, cutoff=0.7)
        hint = f" (did you mean {near[0]!r}?)" if near else ""
        return self.error(table, key, f"unknown {what}{hint}", block)

    def error(self, table: str, key: str | None, message: str, block: int = 0) -> ConfigError:
        """An error naming ``table.key`` and its line (in the ``block``-th ``[[table]]``)."""
        name = f"{table}.{key}" if key else table
        line = self._line_of(table, key, block)
        where = f"{self.path}:{line}" if line else str(self.path)
        return ConfigError(f"{where}: {name}: {message}")

    def _line_of(self, table: str, key: str | None, block: int) -> int | None:
        header = re.compile(r"^\s*\[\[?\s*" + re.escape(table) + r"\s*\]\]?\s*(#.*)?$")
        any_header = re.compile(r"^\s*\[")
        seen = -1
        inside = False
        for number, line in enumerate(self.lines, 1):
            if header.match(line):
                seen += 1
                inside = seen == block
                if inside and key is None:
                    return number
            elif any_header.match(line):
                inside = False
            elif inside and key and re.match(r"^\s*" + re.escape(key) + r"\s*=", line):
                return number
        return None

    def table(self, value: object, name: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.error(name, None, "must be a table")
        return value

    def typed(self, table: str, key: str, value: object, kind: type, block: int = 0) -> Any:
        if kind is Path:
            kind = str
        if kind is Casemapping:
            try:
                return Casemapping(str(value))
            except ValueError:
                choices = ", ".join(c.value for c in Casemapping)
                raise self.error(table, key, f"must be one of {choices}", block) from None
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            wanted = _KIND_NAMES.get(kind, kind.__name__)
            raise self.error(table, key, f"must be {wanted}, not {value!r}", block)
        return value

    def server(self, data: dict[str, Any]) -> dict[str, Any]:
        changes: dict[str, Any] = {}
        for key, value in data.items():
            with self.collecting():
                if key not in SERVER_KEYS:
                    raise self.unknown("server", key, key, SERVER_KEYS)
                attribute, kind = SERVER_KEYS[key]
                checked = self.typed("server", key, value, kind)
                if kind is list:
                    checked = tuple(self.typed("server", key, item, str) for item in checked)
                changes[attribute] = Path(checked) if kind is Path else checked
        return changes

    def listens(self, value: object) -> tuple[Listen, ...]:
        if not isinstance(value, list):
            raise self.error("listen", None, "must be an array of tables: [[listen]]")
        out = []
        for block, item in enumerate(value):
            table = self.table(item, "listen")
            for key in table:
                if key not in ("host", "port", "tls"):
                    raise self.unknown("listen", key, key, ("host", "port", "tls"), block=block)
            host = self.typed("listen", "host", table.get("host", "127.0.0.1"), str, block)
            tls = self.typed("listen", "tls", table.get("tls", False), bool, block)
            default_port = 6697 if tls else 6667
            port = self.typed("listen", "port", table.get("port", default_port), int, block)
            if not 0 <= port <= 65535:
                raise self.error("listen", "port", f"{port} is not a port number", block)
            out.append(Listen(host, port, tls))
        return tuple(out)

    def opers(self, value: object) -> tuple[Oper, ...]:
        if not isinstance(value, list):
            raise self.error("oper", None, "must be an array of tables: [[oper]]")
        out = []
        for block, item in enumerate(value):
            table = self.table(item, "oper")
            for key in table:
                if key not in ("name", "password"):
                    raise self.unknown("oper", key, key, ("name", "password"), block=block)
            name = self.typed("oper", "name", table.get("name"), str, block)
            password = self.typed("oper", "password", table.get("password"), str, block)
            if not is_hash(password):
                raise self.error(
                    "oper", "password", "must be a hash from `hubbub mkpasswd`", block
                )
            out.append(Oper(name, password))
        return tuple(out)

    def door(
        self, table: str, data: dict[str, Any], known: tuple[str, ...], default: Listen
    ) -> Listen | None:
        """A door's own listener (``[plain]``, ``[web]``): its keys checked, and its
        ``enabled``, ``host`` and ``port`` read over ``default``; None when turned off."""
        for key in data:
            if key not in known:
                self.problems.append(self.unknown(table, key, key, known))
        enabled = self.typed(table, "enabled", data.get("enabled", True), bool)
        host = self.typed(table, "host", data.get("host", default.host), str)
        port = self.typed(table, "port", data.get("port", default.port), int)
        if not 0 <= port <= 65535:
            raise self.error(table, "port", f"{port} is not a port number")
        return Listen(host, port) if enabled else None

    def plain(self, data: dict[str, Any], base: Settings) -> dict[str, Any]:
        known = ("enabled", "host", "port", "room", "language")
        listen = self.door("plain", data, known, base.plain or Listen("127.0.0.1", 8080))
        room = self.typed("plain", "room", data.get("room", base.plain_room), str)
        if not room.startswith("#") or " " in room or "," in room:
            raise self.error("plain", "room", "must be a channel name like #lobby")
        changes: dict[str, Any] = {"plain": listen, "plain_room": room}
        if "language" in data:
            language = self.typed("plain", "language", data["language"], str)
            if language not in available_languages():
                choices = ", ".join(available_languages())
                raise self.error("plain", "language", f"must be one of {choices}")
            changes["language"] = language
        return changes

    def web(self, data: dict[str, Any], base: Settings) -> dict[str, Any]:
        known = ("enabled", "host", "port", "origins", "tls", "root")
        listen = self.door("web", data, known, base.web or Listen("127.0.0.1", 8081))
        changes: dict[str, Any] = {"web": listen}
        if "origins" in data:
            origins = self.typed("web", "origins", data["origins"], list)
            changes["web_origins"] = tuple(self.typed("web", "origins", o, str) for o in origins)
        if "tls" in data:
            changes["web_tls"] = self.typed("web", "tls", data["tls"], bool)
        if "root" in data:
            changes["web_root"] = Path(self.typed("web", "root", data["root"], str))
        return changes

    def limits(self, data: dict[str, Any], base: Limits) -> Limits:
        kinds = {f.name: f.type for f in dataclasses.fields(Limits)}
        changes = {}
        for key, value in data.items():
            with self.collecting():
                if key not in kinds:
                    raise self.unknown("limits", key, key, kinds)
                kind = float if kinds[key] in (float, "float") else int
                changes[key] = self.typed("limits", key, value, kind)
        return dataclasses.replace(base, **changes)


def limits_from_flags(base: Limits, items: list[str]) -> Limits:
    """``--limit NAME=VALUE`` flags over the limits.

    Raises:
        ConfigError: an unknown name or a value that is not a number.
    """
    kinds = {f.name: f.type for f in dataclasses.fields(Limits)}
    changes: dict[str, Any] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or name not in kinds:
            raise ConfigError(
                f"--limit {item!r}: expected NAME=VALUE with NAME one of " + ", ".join(kinds)
            )
        try:
            changes[name] = float(value) if kinds[name] in (float, "float") else int(value)
        except ValueError:
            raise ConfigError(f"--limit {item!r}: {value!r} is not a number") from None
    return dataclasses.replace(base, **changes)
