"""The reference config file (``hubbub config example``, kept as hubbub.example.toml),
made from the settings' own definitions: every key the config file reads, its default
from the dataclasses, and its explanation from the comment beside the field that holds
it, wherever a ring declares that field. A test keeps the kept file equal to this."""

from __future__ import annotations

import dataclasses
import enum
import functools
import inspect
import io
import json
import re
import textwrap
import tokenize
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hubbub.config import CLUSTER_KEYS, PLAIN_KEYS, SERVER_KEYS, WEB_KEYS
from hubbub.settings import Cluster, Limits, Listen, Oper, Settings

_WIDTH = 92
_NOTE_COLUMN = 29

# What to show, commented out, for a key whose default is none, or this machine's own
# (a host name, a home folder): an example of the form it takes.
EXAMPLES: dict[tuple[str, str], str] = {
    ("server", "name"): '"irc.example.org"',
    ("server", "data_dir"): '"/var/lib/hubbub"',
    ("server", "motd"): '"motd.txt"',
    ("server", "password"): '"secret"',
    ("server", "tls_cert"): '"cert.pem"',
    ("server", "tls_key"): '"key.pem"',
    ("server", "tls_client_ca"): '"ca.pem"',
    ("server", "trusted"): '["127.0.0.0/8"]',
    ("server", "database_url"): '"postgresql://hubbub:PASSWORD@db.example.org/hubbub"',
    ("server", "metrics_host"): '"10.0.0.5"',
    ("server", "metrics_port"): "9108",
    ("oper", "name"): '"alice"',
    ("oper", "password"): '"scrypt$..."',
    ("plain", "language"): '"ru"',
    ("web", "origins"): '["https://chat.example.org"]',
    ("web", "hosts"): '["chat.example.org"]',
    ("web", "tls"): "true",
    ("web", "root"): '"web"',
    ("cluster", "urls"): '["nats://10.0.0.5:4222", "nats://10.0.0.6:4222"]',
    ("cluster", "node"): '"irc1"',
    ("cluster", "credentials"): '"hubbub.creds"',
    ("cluster", "token"): '"s3cret"',
    ("cluster", "tls_ca"): '"nats-ca.pem"',
}

# What a table is for, written above its header.
_TABLES = {
    "server": "The server: its names, files, TLS, storage and logs.",
    "listen": "IRC listeners: as many [[listen]] blocks as needed, IPv4 and IPv6 (default: "
    "127.0.0.1 port 6667; with tls_cert, a TLS one on 6697 unless one is listed).",
    "oper": "Operators: an [[oper]] block each; the password is a hash from `hubbub mkpasswd`.",
    "plain": "The plain-text door, for nc, telnet and the seed's client.",
    "web": "The web client, and IRC over WebSocket at /irc.",
    "cluster": "Several nodes as one network, on NATS JetStream and one shared PostgreSQL "
    "(docs/cluster.md). Every node needs database_url.",
    "limits": "Bounds on clients and on what the server keeps.",
}


def reference_config() -> str:
    """The reference config file's text."""
    out = [
        "# hubbub's configuration: every key, with its default or (commented out) an example.",
        "# Made by `hubbub config example` from the settings' definitions; do not edit by hand.",
        "# Use it with: hubbub serve --config FILE. Every key is optional: keep what you change.",
    ]
    for table, header, rows in _tables():
        out.append("")
        out.extend(_comment(_TABLES[table]))
        commented = all(line.startswith("#") for _, line in rows if line)
        out.append(f"# {header}" if commented else header)
        for note, line in rows:
            out.extend(_with_note(line, note) if line else [""])
    return "\n".join(out) + "\n"


def _tables() -> Iterator[tuple[str, str, list[tuple[str, str]]]]:
    defaults = Settings()
    settings_notes = notes_of(Settings)
    server = [
        _row("server", key, settings_notes.get(attribute, ""), getattr(defaults, attribute))
        for key, (attribute, _) in SERVER_KEYS.items()
    ]
    yield "server", "[server]", server
    listen_notes = notes_of(Listen)
    first = defaults.listen[0]
    yield (
        "listen",
        "[[listen]]",
        [
            _row("listen", f.name, listen_notes.get(f.name, ""), getattr(first, f.name))
            for f in dataclasses.fields(Listen)
        ],
    )
    oper_notes = notes_of(Oper)
    yield (
        "oper",
        "[[oper]]",
        [_row("oper", f.name, oper_notes.get(f.name, ""), None) for f in dataclasses.fields(Oper)],
    )
    for table, keys in (("plain", PLAIN_KEYS), ("web", WEB_KEYS)):
        door = getattr(defaults, table)
        listener = {"enabled": door is not None, "host": door.host, "port": door.port}
        rows = []
        for key, attribute in keys.items():
            # A door's host and port need no words; its on/off is the door's own note.
            note = "" if key in ("host", "port") else settings_notes.get(attribute, "")
            value = listener[key] if key in listener else getattr(defaults, attribute)
            rows.append(_row(table, key, note, value))
        yield table, f"[{table}]", rows
    cluster_notes = notes_of(Cluster)
    unset = Cluster(urls=())
    rows = []
    for key in CLUSTER_KEYS:
        note, line = _row("cluster", key, cluster_notes.get(key, ""), getattr(unset, key))
        # A cluster is not the default: every line of its table is an example.
        rows.append((note, line if line.startswith("#") else f"# {line}"))
    yield "cluster", "[cluster]", rows
    limits = Limits()
    limit_notes = notes_of(Limits)
    rows = []
    for ring in reversed(Limits.__mro__[1:]):
        if not dataclasses.is_dataclass(ring):
            continue
        # Each ring's bounds together, under what its class says they are.
        rows.append(("", ""))
        rows.extend(("", f"# {line}") for line in _comment_lines(_first_sentence(ring)))
        for name in ring.__annotations__:
            rows.append(_row("limits", name, limit_notes.get(name, ""), getattr(limits, name)))
    yield "limits", "[limits]", rows[1:]


def _row(table: str, key: str, note: str, default: Any) -> tuple[str, str]:
    example = EXAMPLES.get((table, key))
    if example is not None and (default is None or default == () or _machine_default(table, key)):
        return note, f"# {key} = {example}"
    return note, f"{key} = {_toml(default)}"


def _machine_default(table: str, key: str) -> bool:
    # Defaults made from this machine (its host name, the user's home) would make the
    # reference differ from one machine to the next.
    return (table, key) in {("server", "name"), ("server", "data_dir")}


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, enum.Enum):
        return json.dumps(value.value)
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str | Path):
        return json.dumps(str(value), ensure_ascii=False)
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    raise TypeError(f"no TOML form for {value!r}")


def _with_note(line: str, note: str) -> list[str]:
    """``line`` with ``note`` beside it when both fit on a line, else above it."""
    if not note:
        return [line]
    beside = f"{line:<{_NOTE_COLUMN - 1}} # {note}"
    if len(beside) <= _WIDTH:
        return [beside]
    return [*_comment(note), line]


def _comment(text: str) -> list[str]:
    return [f"# {part}" for part in _comment_lines(text)]


def _comment_lines(text: str) -> list[str]:
    return textwrap.wrap(text, _WIDTH - 2)


def _first_sentence(cls: type) -> str:
    """What a ring's limits are, from its class's docstring (none under ``python -OO``)."""
    doc = " ".join((cls.__doc__ or "").replace("``", "").split())
    if not doc:
        return ""
    return doc.split(", with their defaults")[0].split(": ")[0].split(". ")[0].rstrip(".") + ":"


@functools.cache
def notes_of(cls: type) -> dict[str, str]:
    """The comment that explains each field of the dataclass ``cls`` and of the
    dataclasses it is made of: the one at the end of the field's line, or the lines of
    comment just above it."""
    notes: dict[str, str] = {}
    for base in reversed(cls.__mro__):
        if dataclasses.is_dataclass(base) and base.__module__.startswith("hubbub."):
            notes.update(_field_comments(inspect.getsource(base)))
    return notes


_FIELD = re.compile(r"^    (\w+): ")


def _field_comments(source: str) -> dict[str, str]:
    comments: dict[int, tuple[str, bool]] = {}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            whole_line = not token.line[: token.start[1]].strip()
            comments[token.start[0]] = (token.string.lstrip("#").strip(), whole_line)
    notes: dict[str, str] = {}
    above: list[str] = []
    for number, line in enumerate(source.splitlines(), 1):
        comment = comments.get(number)
        if comment is not None and comment[1]:
            above.append(comment[0])
            continue
        found = _FIELD.match(line)
        if found:
            beside = comment[0] if comment is not None else ""
            note = " ".join([*above, beside]).strip() if above else beside
            if note:
                notes[found[1]] = note
        above = []
    return notes
