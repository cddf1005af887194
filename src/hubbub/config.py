"""The config file: TOML read over the settings, every key checked, and every mistake
reported at once with the line it is on."""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import os
import re
import stat
import tomllib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from hubbub.accounts.passwords import is_hash
from hubbub.core.presence import Choice
from hubbub.doors.plain.i18n import available as available_languages
from hubbub.settings import (
    Cluster,
    ConfigError,
    Limits,
    Listen,
    Oper,
    Settings,
    validate,
)
from hubbub.wire.casemap import Casemapping
from hubbub.wire.redact import shown_text

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
    "log_format": ("log_format", str),
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
    "multiclient": ("multiclient", Choice),
    "always_on": ("always_on", Choice),
    "database_url": ("database_url", str),
    "metrics_host": ("metrics_host", str),
    "metrics_port": ("metrics_port", int),
}
# The doors' tables: each key and the setting it fills (``enabled``, ``host`` and
# ``port`` make the door's listener).
PLAIN_KEYS = {
    "enabled": "plain",
    "host": "plain",
    "port": "plain",
    "room": "plain_room",
    "language": "language",
}
WEB_KEYS = {
    "enabled": "web",
    "host": "web",
    "port": "web",
    "origins": "web_origins",
    "hosts": "web_hosts",
    "tls": "web_tls",
    "root": "web_root",
}
CLUSTER_KEYS = tuple(f.name for f in dataclasses.fields(Cluster))
# A config file is a few KiB; past this it is something else (a log, a disk image).
MAX_CONFIG_BYTES = 1 << 20
_SECTIONS = ("server", "listen", "oper", "plain", "web", "cluster", "limits")
# How a value of each kind is asked for, in an error.
_KIND_NAMES = {
    int: "a whole number",
    float: "a number",
    str: "text in quotes",
    bool: "true or false",
    list: "a list in brackets",
}


def load_config(path: Path, base: Settings | None = None, *, complete: bool = True) -> Settings:
    """Read a TOML config file over ``base`` (the defaults when None); with ``complete``
    False, settings that command-line flags may still give need not be there yet (the
    caller validates the whole).

    Raises:
        ConfigError: the file cannot be read, is not TOML, or has an invalid key.
    """
    text = _read_text(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    except RecursionError:
        # tomllib parses nested arrays and tables by recursion.
        raise ConfigError(f"{path}: not valid TOML: nested too deeply") from None
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
            elif section == "cluster":
                changes["cluster"] = reader.cluster(reader.table(value, section))
            elif section == "limits":
                changes["limits"] = reader.limits(reader.table(value, section), settings.limits)
            else:
                raise reader.unknown(section, None, section, _SECTIONS, "section")
    # What read well is checked too, so that one run reports every mistake: a misspelt
    # key does not hide a bad value elsewhere.
    settings = settings.replace(**changes)
    for name in ("motd_file", "tls_cert", "tls_key", "tls_client_ca", "web_root"):
        value = getattr(settings, name)
        if value is not None and not value.is_absolute():
            settings = settings.replace(**{name: path.parent / value})
    cluster = settings.cluster
    for name in ("credentials", "tls_ca"):
        value = getattr(cluster, name, None)
        if cluster is not None and value is not None and not value.is_absolute():
            cluster = dataclasses.replace(cluster, **{name: path.parent / value})
            settings = settings.replace(cluster=cluster)
    with reader.collecting():
        settings = validate(settings, reader.error, complete=complete)
    reader.raise_problems()
    return settings


def _read_text(path: Path) -> str:
    """The config file's text, read only if it is one: a regular file of UTF-8 text no
    larger than MAX_CONFIG_BYTES. A FIFO or a device (``/dev/zero``) would hang
    ``config check``, ``serve``, REHASH and SIGHUP, and a binary file made a traceback
    (probe 22).

    Raises:
        ConfigError: it cannot be opened or read, or it is not such a file.
    """
    try:
        # Not blocking: opening a FIFO to read would wait for a writer.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror}") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ConfigError(f"{path}: cannot read: not a regular file")
        data = os.read(fd, MAX_CONFIG_BYTES + 1)
        while data and len(data) <= MAX_CONFIG_BYTES:
            more = os.read(fd, MAX_CONFIG_BYTES + 1 - len(data))
            if not more:
                break
            data += more
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror}") from None
    finally:
        os.close(fd)
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{path}: larger than {MAX_CONFIG_BYTES >> 20} MiB: not a config file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a config file: not UTF-8 text") from None
    if "\0" in text:
        raise ConfigError(f"{path}: not a config file: binary (it holds NUL bytes)")
    return text


# Keys whose values are never shown in a message (passwords, tokens, URLs with them).
_SECRET_KEY = re.compile(r"password|token|secret|database_url|urls|credentials")


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
        # A key is any quoted text: shown escaped, so that no CR, LF or terminal
        # escape in it reaches an operator's terminal or IRC client (probe 22).
        name = shown_text(f"{table}.{key}" if key else table)
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
        if kind in (Casemapping, Choice):
            try:
                return kind(str(value))
            except ValueError:
                choices = ", ".join(c.value for c in kind)
                raise self.error(table, key, f"must be one of {choices}", block) from None
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            wanted = _KIND_NAMES.get(kind, kind.__name__)
            # A secret given in the wrong form is still a secret (probe 21).
            shown = (
                " (what was given is not shown)"
                if _SECRET_KEY.search(key)
                else f", not {_cut(repr(value))}"
            )
            raise self.error(table, key, f"must be {wanted}{shown}", block)
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
        known = tuple(PLAIN_KEYS)
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
        known = tuple(WEB_KEYS)
        listen = self.door("web", data, known, base.web or Listen("127.0.0.1", 8081))
        changes: dict[str, Any] = {"web": listen}
        if "origins" in data:
            origins = self.typed("web", "origins", data["origins"], list)
            changes["web_origins"] = tuple(self.typed("web", "origins", o, str) for o in origins)
        if "hosts" in data:
            hosts = self.typed("web", "hosts", data["hosts"], list)
            changes["web_hosts"] = tuple(self.typed("web", "hosts", h, str) for h in hosts)
        if "tls" in data:
            changes["web_tls"] = self.typed("web", "tls", data["tls"], bool)
        if "root" in data:
            changes["web_root"] = Path(self.typed("web", "root", data["root"], str))
        return changes

    def cluster(self, data: dict[str, Any]) -> Cluster:
        for key in data:
            if key not in CLUSTER_KEYS:
                raise self.unknown("cluster", key, key, CLUSTER_KEYS)
        urls = data.get("urls", [])
        if isinstance(urls, str):
            urls = [urls]
        urls = self.typed("cluster", "urls", urls, list)
        paths = {
            key: Path(self.typed("cluster", key, data[key], str))
            for key in ("credentials", "tls_ca")
            if key in data
        }
        return Cluster(
            urls=tuple(self.typed("cluster", "urls", url, str) for url in urls),
            node=self.typed("cluster", "node", data.get("node", ""), str),
            token=self.typed("cluster", "token", data["token"], str) if "token" in data else None,
            node_timeout=float(
                self.typed("cluster", "node_timeout", data.get("node_timeout", 3.0), float)
            ),
            snapshot_every=self.typed(
                "cluster", "snapshot_every", data.get("snapshot_every", 10_000), int
            ),
            **paths,
        )

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


def _cut(text: str, most: int = 60) -> str:
    """A value as an error quotes it: a whole array of a megabyte is not needed."""
    return text if len(text) <= most else text[:most] + "..."


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
