"""Where to connect and as whom: addresses, the TOML config file, and their defaults.

With no address and no config file the client reaches a local ``hubbub serve``: IRC on
127.0.0.1:6667 (``--plain``: the plain door on 127.0.0.1:8080), with a nick made from the
OS user name. The config file (``~/.config/hubbub/chat.toml``) can name networks::

    nick = "anna"                 # default nick everywhere
    device = "laptop"             # this machine's name to the server (default: its host name)
    default = "home"              # the network used when no address is given

    [networks.home]
    address = "ircs://irc.example.org:6697"
    nick = "anna"                 # optional, overrides the top-level nick
    account = "anna"              # SASL PLAIN, with password
    device = "laptop"             # optional, overrides the top-level device
    password = "secret"
    join = ["#rust", "#lobby"]
    verify_tls = true             # false accepts any certificate
    tls_ca = "/path/to/ca.pem"    # trust this CA instead of the system's

``hubbub chat home`` then connects there; flags override the file.
"""

from __future__ import annotations

import getpass
import os
import re
import socket
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

IRC_PORT = 6667
IRCS_PORT = 6697
PLAIN_PORT = 8080
LOCAL_HOST = "127.0.0.1"
NICK_LENGTH = 16  # RFC 2812 allows 9; every current server allows more than 16
_NICK_FIRST = re.compile(r"[A-Za-z\[\]\\`_^{|}]")
_NICK_JUNK = re.compile(r"[^A-Za-z0-9\[\]\\`_^{|}-]")
# A device's name, sent after the account as "account@device" (hubbub's multiclient).
DEVICE = re.compile(r"[A-Za-z0-9._-]{1,32}")
_DEVICE_JUNK = re.compile(r"[^A-Za-z0-9._-]")


class ChatConfigError(Exception):
    """An address, flag or config file that cannot be used; the message says why."""


@dataclass(frozen=True, slots=True)
class Network:
    """Everything needed to connect to one network.

    Attributes:
        name: shown on the server buffer (until the server says its NETWORK name).
        plain: speak plain text (lines in, lines out) instead of IRC.
        account: with ``password``, log in with SASL PLAIN.
        device: names this client to the server as ``account@device`` when logging
            in: on hubbub, a connection of an account that asks for the nick of that
            account's user already there joins it, and each device keeps its own place.
        server_password: sent with ``PASS`` before registering.
        join: channels joined once registered (and after each reconnection); with
            none, the client joins the server's lobby when it advertises one.
    """

    name: str
    host: str = LOCAL_HOST
    port: int = IRC_PORT
    tls: bool = False
    verify_tls: bool = True
    ca_file: str | None = None  # trust this CA (PEM) instead of the system's
    nick: str = "guest"
    username: str = "hubbub"
    realname: str = "hubbub chat"
    account: str | None = None
    password: str | None = None
    device: str = "chat"
    server_password: str | None = None
    join: tuple[str, ...] = ()
    plain: bool = False

    @property
    def address(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        scheme = "plain" if self.plain else "ircs" if self.tls else "irc"
        return f"{scheme}://{host}:{self.port}"


@dataclass(frozen=True, slots=True)
class Address:
    host: str
    port: int
    tls: bool
    channels: tuple[str, ...] = ()


def default_config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "hubbub" / "chat.toml"


def sanitise_nick(name: str) -> str:
    """A valid IRC nick made from ``name`` (an OS user name), or ``guest``."""
    nick = _NICK_JUNK.sub("", name.replace(" ", "_").replace(".", "_"))
    while nick and not _NICK_FIRST.match(nick[0]):
        nick = nick[1:]
    return nick[:NICK_LENGTH] or "guest"


def sanitise_device(name: str) -> str:
    """A device name made from ``name`` (a host name): its first label, with only the
    characters a device's name may have, or ``chat``."""
    short = _DEVICE_JUNK.sub("", name.partition(".")[0])
    return short[:32] or "chat"


def default_device() -> str:
    """This machine's short host name, as a device name."""
    try:
        return sanitise_device(socket.gethostname())
    except OSError:
        return "chat"


def default_nick() -> str:
    try:
        return sanitise_nick(getpass.getuser())
    except (KeyError, OSError):  # no user name in the environment or the passwd file
        return "guest"


def parse_address(text: str, plain: bool = False) -> Address:
    """``[irc://|ircs://]host[:port][/#channel,...]`` as an :class:`Address`.

    Raises:
        ChatConfigError: an unknown scheme, a bad port or no host.
    """
    scheme, sep, rest = text.partition("://")
    if not sep:
        scheme, rest = "", text
    scheme = scheme.lower()
    if scheme not in ("", "irc", "ircs"):
        raise ChatConfigError(f"{text!r}: the address must start with irc:// or ircs://")
    tls = scheme == "ircs"
    rest, _, path = rest.partition("/")
    channels = tuple(
        name if name[0] in "#&" else "#" + name for name in path.split(",") if name.strip()
    )
    if rest.startswith("["):
        host, bracket, after = rest[1:].partition("]")
        if not bracket:
            raise ChatConfigError(f"{text!r}: no closing ] after an IPv6 address")
        port_text = after.removeprefix(":")
    elif rest.count(":") == 1:
        host, _, port_text = rest.partition(":")
    else:
        host, port_text = rest, ""
    if not host:
        raise ChatConfigError(f"{text!r}: no host name")
    default = PLAIN_PORT if plain else IRCS_PORT if tls else IRC_PORT
    try:
        port = int(port_text) if port_text else default
    except ValueError:
        raise ChatConfigError(f"{text!r}: {port_text!r} is not a port number") from None
    if not 0 < port < 65536:
        raise ChatConfigError(f"{text!r}: port {port} is out of range")
    return Address(host, port, tls, channels)


def load_file(path: Path) -> dict[str, Any]:
    """The TOML config file as a table; an empty table if the file does not exist.

    Raises:
        ChatConfigError: the file cannot be read or is not TOML.
    """
    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except FileNotFoundError:
        return {}
    except OSError as error:
        raise ChatConfigError(f"{path}: {error.strerror}") from None
    except tomllib.TOMLDecodeError as error:
        raise ChatConfigError(f"{path}: {error}") from None


def _get(table: dict[str, Any], key: str, kind: type, where: str) -> Any:
    value = table.get(key)
    if value is not None and not isinstance(value, kind):
        raise ChatConfigError(f"{where}: {key} must be a {kind.__name__}")
    return value


def resolve(
    target: str | None,
    *,
    nick: str | None = None,
    join: str | None = None,
    plain: bool = False,
    device: str | None = None,
    config: dict[str, Any] | None = None,
) -> Network:
    """The network to connect to, from an address or config network name and the flags.

    Args:
        target: an address, a network name from the config file, or None for the
            config's ``default`` network (or the local hubbub server).
        nick: ``--nick``; join: ``--join`` (comma-separated); plain: ``--plain``.
        device: the device's name given as a flag, over the config file's.
        config: the config file's table.

    Raises:
        ChatConfigError: an invalid address, flag or config entry.
    """
    config = config or {}
    networks = _get(config, "networks", dict, "config") or {}
    top_nick = _get(config, "nick", str, "config")
    top_device = _get(config, "device", str, "config")
    if target is None:
        target = _get(config, "default", str, "config")
    table: dict[str, Any] = {}
    if target is not None and target in networks:
        table = networks[target]
        if not isinstance(table, dict):
            raise ChatConfigError(f"networks.{target} must be a table")
        where = f"networks.{target}"
        address_text = _get(table, "address", str, where)
        if address_text is None:
            raise ChatConfigError(f"{where}: no address")
        name = target
    else:
        where = "config"
        address_text = target
        name = ""
    plain = plain or bool(_get(table, "plain", bool, where))
    if address_text is None:
        address = Address(LOCAL_HOST, PLAIN_PORT if plain else IRC_PORT, False)
    else:
        address = parse_address(address_text, plain)
    network = Network(
        name=name or address.host, host=address.host, port=address.port, tls=address.tls
    )
    joins = list(address.channels)
    joins += _get(table, "join", list, where) or []
    if join:
        joins += [item.strip() for item in join.split(",") if item.strip()]
    chosen_nick = nick or _get(table, "nick", str, where) or top_nick or default_nick()
    if not chosen_nick or any(c in chosen_nick for c in " ,*?!@:\r\n\0"):
        raise ChatConfigError(f"{chosen_nick!r} cannot be a nick")
    password = _get(table, "password", str, where) or os.environ.get("HUBBUB_CHAT_PASSWORD")
    chosen_device = device or _get(table, "device", str, where) or top_device or default_device()
    if DEVICE.fullmatch(chosen_device) is None:
        raise ChatConfigError(
            f"{chosen_device!r} cannot be a device's name: "
            "1 to 32 letters, digits, '.', '-' or '_'"
        )
    verify = _get(table, "verify_tls", bool, where)
    return replace(
        network,
        nick=chosen_nick,
        username=sanitise_nick(chosen_nick).lower()[:10] or "hubbub",
        realname=_get(table, "realname", str, where) or chosen_nick,
        account=_get(table, "account", str, where),
        password=password,
        device=chosen_device,
        server_password=_get(table, "server_password", str, where),
        tls=bool(_get(table, "tls", bool, where)) or network.tls,
        verify_tls=True if verify is None else verify,
        ca_file=_get(table, "tls_ca", str, where),
        join=tuple(dict.fromkeys(name if name[:1] in "#&" else "#" + name for name in joins)),
        plain=plain,
    )
