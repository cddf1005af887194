"""Settings: one frozen value built from defaults, a TOML file and command-line flags.

The defaults are the embedded mode: IRC on 127.0.0.1:6667, data in the user's data
folder, a server name made from the host name. A config file is validated whole; an
error names the key and the line it is on.
"""

from __future__ import annotations

import dataclasses
import functools
import ipaddress
import logging
import math
import os
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from hubbub.accounts.service import AccountLimits
from hubbub.core.presence import Choice
from hubbub.core.state import ChatLimits
from hubbub.doors.irc.limits import IrcLimits
from hubbub.doors.plain.i18n import available as available_languages
from hubbub.doors.ports import DoorLimits
from hubbub.storage.metadata import KEPT_AT_MOST
from hubbub.storage.ports import HistoryLimits
from hubbub.wire.casemap import Casemapping, NameLimits
from hubbub.wire.redact import shown_url

logger = logging.getLogger(__name__)


class ConfigError(Exception):
    """An invalid config file or flag; the message says where and why."""


@dataclass(frozen=True, slots=True)
class Listen:
    host: str  # an address of this machine: 0.0.0.0 or :: for every one
    port: int
    tls: bool = False  # TLS on this listener, with tls_cert and tls_key


@dataclass(frozen=True, slots=True)
class Oper:
    """An operator block: a name and a password (an scrypt hash, or plain from a flag)."""

    name: str  # what OPER is given
    password: str  # a hash from `hubbub mkpasswd` (a plain one only from a flag)


@dataclass(frozen=True, slots=True)
class Cluster:
    """This node's place in a network of nodes sharing NATS and PostgreSQL (issue 16)."""

    urls: tuple[str, ...]  # nats://host:port or tls://host:port, tried in turn
    node: str = ""  # unique in the network; "": the host name and the first IRC port
    credentials: Path | None = None  # a NATS credentials (.creds) file
    token: str | None = field(default=None, repr=False)  # or a NATS token
    tls_ca: Path | None = None  # the CA that signed NATS's certificate (tls:// URLs)
    node_timeout: float = 3.0  # seconds without a node's heartbeat before its users quit
    # Log messages between two snapshots of the state (nodes start from the newest).
    snapshot_every: int = 10_000

    def node_name(self, settings: Settings) -> str:
        if self.node:
            return self.node
        host = re.sub(r"[^A-Za-z0-9_-]", "-", socket.gethostname().split(".")[0]) or "node"
        return f"{host}-{settings.listen[0].port}"


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
    # Accounts, history and bans (the SQLite file); default ~/.local/share/hubbub.
    data_dir: Path = field(default_factory=default_data_dir)
    server_name: str = field(default_factory=default_server_name)  # default: the host name
    network_name: str = "hubbub"  # in the welcome and ISUPPORT NETWORK
    description: str = "hubbub chat server"  # in WHOIS and LINKS
    # The message of the day (a file relative to the config file); default: a short one.
    motd_file: Path | None = None
    password: str | None = None  # a server password (PASS) every client must give
    opers: tuple[Oper, ...] = ()
    casemapping: Casemapping = Casemapping.PRECIS  # or "ascii", "rfc1459"
    admin_location: str = "hubbub"  # what ADMIN answers
    admin_email: str = ""
    log_level: str = "INFO"  # or DEBUG, WARNING, ERROR
    log_format: str = "text"  # or "json": one object a line, for a log collector
    config_file: Path | None = None
    # A PEM certificate chain; with tls_key, TLS on 6697 (or the listeners marked tls)
    # and HTTPS on the web listener.
    tls_cert: Path | None = None
    tls_key: Path | None = None  # the certificate's private key (PEM)
    # CA certificates (PEM) whose client certificates are asked for, for SASL EXTERNAL.
    tls_client_ca: Path | None = None
    sts_duration: int = 86400  # seconds clients keep to TLS once they saw it (IRCv3 STS)
    trusted: tuple[str, ...] = ()  # networks free of flood control and per-IP limits
    plain: Listen | None = Listen("127.0.0.1", 8080)  # the plain-text door; false: off
    plain_room: str = "#lobby"  # where plain users start
    # The web listener: the web client's files and the WebSocket door; false: off.
    web: Listen | None = Listen("127.0.0.1", 8081)
    # Origins whose pages may open the WebSocket door besides the page's own ("*": any).
    web_origins: tuple[str, ...] = ()
    # Names the web listener answers to besides server_name, localhost, the hosts of
    # web_origins and addresses (a request for any other is refused: DNS rebinding).
    web_hosts: tuple[str, ...] = ()
    web_tls: bool | None = None  # HTTPS and wss; default: when tls_cert is set
    web_root: Path | None = None  # the web client's files; default: those shipped with hubbub
    # /metrics on a listener of its own (plain HTTP, for a private address), and then only
    # there; default: on the web listener.
    metrics_host: str | None = None  # with metrics_port; default 127.0.0.1
    metrics_port: int | None = None
    language: str | None = None  # plain door language; default: from the environment
    # Keep accounts, message history and bans (in the data folder, or database_url); false:
    # none of them.
    history: bool = True
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
    # Several connections logged in to one account share its user, nick and channels
    # (multiclient): "opt-out" (each account may turn it off with NickServ SET
    # MULTICLIENT), "opt-in" or "off".
    multiclient: Choice = Choice.OPT_OUT
    # An account's user stays, away, when its last connection leaves, and comes back after
    # a restart (always-on, NickServ SET ALWAYS-ON): "opt-in", "opt-out" or "off".
    always_on: Choice = Choice.OPT_IN
    # A PostgreSQL database (postgresql://user:password@host/name) in place of the data
    # folder's SQLite file.
    database_url: str | None = field(default=None, repr=False)
    # Several nodes as one network, on NATS JetStream and a shared PostgreSQL; None: this
    # server is the whole network.
    cluster: Cluster | None = None
    limits: Limits = field(default_factory=Limits)

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)

    def web_names(self) -> frozenset[str]:
        """The names a request to the web listener may give as its ``Host``."""
        # The machine's own names too: what a browser on the LAN types.
        names = {"localhost", self.server_name, *self.web_hosts, *_machine_names()}
        if self.web is not None:
            names.add(self.web.host)
        names.update(urlsplit(origin).hostname or "" for origin in self.web_origins)
        return frozenset(name.lower().rstrip(".") for name in names if name)

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


_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_SERVER_NAME = re.compile(r"^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
# RFC 6454 section 6.2: scheme "://" host [ ":" port ], as browsers send it; or "*".
_ORIGIN = re.compile(r"^(\*|https?://([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?)$")


DEFAULT_MOTD = [
    "Welcome to hubbub.",
    "Join a channel with /join #name; /help lists every command.",
]


def read_motd(settings: Settings) -> list[str]:
    """The MOTD lines: the configured file, or a short default."""
    if settings.motd_file is None:
        return list(DEFAULT_MOTD)
    try:
        text = settings.motd_file.read_text(encoding="utf-8", errors="replace")
    except OSError as error:
        logger.warning("cannot read MOTD file %s: %s", settings.motd_file, error.strerror)
        return []
    return [line.rstrip("\r")[:400] for line in text.splitlines()[:200]]


# What a running server cannot change: its listeners, its names, where and how it keeps
# data, its cluster and its log. REHASH keeps these as they were and says so.
RESTART_ONLY = (
    "listen",
    "server_name",
    "casemapping",
    "data_dir",
    "history",
    "history_sync",
    "database_url",
    "plain",
    "web",
    "web_tls",
    "web_root",
    "cluster",
    "log_level",
    "log_format",
)


# The limits a running server has built into what it made at start: the casemap's name
# lengths (which every node of a cluster and ``hubbub admin`` must fold names by, and
# which ISUPPORT advertises: advertising a new one the casemap does not enforce misled
# clients, probe 22), the store's and the history writer's, the output batcher's, the
# accounts service's and the registration throttle's.
RESTART_ONLY_LIMITS = (
    "nicklen",
    "channellen",
    "database_timeout",
    "history_flush",
    "history_read_wait",
    "history_sync_wait",
    "password_min",
    "certificates",
    "register_per_address",
    "register_window",
)


def restart_needed(running: Settings, loaded: Settings) -> list[str]:
    """The settings ``loaded`` changes that only a restart applies (``RESTART_ONLY``,
    ``RESTART_ONLY_LIMITS``), named as in the config file where they differ."""
    shown = {"server_name": "name"}
    return [
        shown.get(name, name)
        for name in RESTART_ONLY
        if getattr(running, name) != getattr(loaded, name)
    ] + [
        f"limits.{name}"
        for name in RESTART_ONLY_LIMITS
        if getattr(running.limits, name) != getattr(loaded.limits, name)
    ]


def kept_for_restart(running: Settings, loaded: Settings) -> Settings:
    """``loaded`` with what only a restart applies as ``running`` has it, so that the
    server goes on advertising (ISUPPORT) the limits it enforces."""
    limits = dataclasses.replace(
        loaded.limits, **{name: getattr(running.limits, name) for name in RESTART_ONLY_LIMITS}
    )
    kept = {name: getattr(running, name) for name in RESTART_ONLY}
    return loaded.replace(limits=limits, **kept)


def validate(
    settings: Settings,
    locate: Callable[[str, str, str], ConfigError] | None = None,
    *,
    complete: bool = True,
) -> Settings:
    """Check values that every source must respect; with ``complete`` False (a config
    file that command-line flags will complete), not what a flag may still give (a
    cluster's NATS URLs and database).

    Raises:
        ConfigError: naming each setting that is wrong (and its line, for a config
            file), one per line.
    """

    problems: list[ConfigError] = []

    def fail(table: str, key: str, message: str) -> None:
        problems.append(
            locate(table, key, message) if locate is not None else ConfigError(f"{key}: {message}")
        )

    if not _SERVER_NAME.match(settings.server_name) or len(settings.server_name) > 63:
        fail("server", "name", "must be a host name with a dot, like irc.example.org")
    if not settings.network_name or not re.fullmatch(r"[A-Za-z0-9._-]+", settings.network_name):
        fail("server", "network", "must be letters, digits, '.', '_' or '-'")
    if settings.log_format not in ("text", "json"):
        fail("server", "log_format", "must be text or json")
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
    if settings.metrics_port is not None and not 0 <= settings.metrics_port <= 65535:
        fail("server", "metrics_port", f"{settings.metrics_port} is not a port number")
    if settings.metrics_host is not None and settings.metrics_port is None:
        fail("server", "metrics_host", "needs metrics_port too")
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
    if settings.cluster is not None:
        cluster = settings.cluster
        if complete and not cluster.urls:
            fail("cluster", "urls", "at least one NATS URL is needed")
        for url in cluster.urls:
            if not url.startswith(("nats://", "tls://")):
                shown = shown_url(url)
                fail("cluster", "urls", f"{shown!r} is not a URL like nats://host:4222")
        if not math.isfinite(cluster.node_timeout):
            fail("cluster", "node_timeout", "must be a finite number")
        elif not cluster.node_timeout > 0:
            fail("cluster", "node_timeout", "must be positive")
        if not 10 <= cluster.snapshot_every <= 10_000_000:
            fail("cluster", "snapshot_every", "must be between 10 and 10000000")
        if cluster.node and not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", cluster.node):
            fail("cluster", "node", "must be 1 to 64 letters, digits, '_' or '-'")
        if complete and settings.history and settings.database_url is None:
            # Each node's own SQLite file would keep its own accounts and history.
            fail(
                "cluster",
                "urls",
                "the nodes of a cluster share one PostgreSQL: set database_url"
                " (or turn history off)",
            )
    limits = settings.limits
    may_be_zero = {
        "connections_per_ip",
        "flood_rate",
        "plain_backlog",
        "history_flush",
        "register_per_address",
        "max_connections",
        "always_on_users",
    }
    for item in dataclasses.fields(limits):
        value = getattr(limits, item.name)
        if not math.isfinite(value):
            # NaN passes every comparison below as if in range, and a NaN timeout
            # never fires: registration_timeout = nan turned it off (probe 22).
            fail("limits", item.name, "must be a finite number")
        elif item.name in may_be_zero:
            if value < 0:
                fail("limits", item.name, "must be 0 or more")
        elif value <= 0:
            fail("limits", item.name, "must be positive")
    if limits.line_length < 512:
        fail("limits", "line_length", "must be at least 512 (RFC 1459)")
    if not 9 <= limits.nicklen <= 200:
        fail("limits", "nicklen", "must be between 9 and 200")
    if limits.metadata_keys > KEPT_AT_MOST:
        fail("limits", "metadata_keys", f"must be at most {KEPT_AT_MOST} (what an account keeps)")
    if problems:
        raise ConfigError("\n".join(str(problem) for problem in problems))
    return settings


@functools.cache
def _machine_names() -> tuple[str, ...]:
    return (socket.gethostname(), socket.getfqdn())
