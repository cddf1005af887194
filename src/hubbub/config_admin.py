"""``hubbub config check FILE`` and ``hubbub config show [FILE]``: a config file checked
before a server is started with it, and the settings a server would run with."""

from __future__ import annotations

import argparse
import dataclasses
import enum
import getpass
import os
import sys
from pathlib import Path
from typing import Any

from hubbub.accounts.passwords import hash_password
from hubbub.config import load_config
from hubbub.reference import reference_config
from hubbub.settings import ConfigError, Settings
from hubbub.wire.redact import shown_text, shown_url

# Settings shown only as set or not: passwords, the database's (in its URL), tokens.
_SECRET = frozenset({"password", "database_url", "token"})


def add_parser(commands: Any) -> None:
    config = commands.add_parser(
        "config",
        help="check a config file, or show the settings a server would run with",
        description="Check a config file, or show the settings a server would run with.",
    )
    actions = config.add_subparsers(dest="action", metavar="ACTION", required=True)
    check = actions.add_parser(
        "check",
        help="check a config file: every mistake, with its key and line",
        description="Read FILE as 'hubbub serve --config FILE' would and say what is wrong "
        "in it, one line each with the key and the line; exit 2 if anything is, else 0.",
    )
    check.add_argument("file", type=Path, metavar="FILE")
    show = actions.add_parser(
        "show",
        help="the settings in effect: the defaults, then FILE",
        description="Print every setting a server started with FILE (or none) would run "
        "with, one 'name = value' a line; secrets only as set or not.",
    )
    show.add_argument("file", type=Path, metavar="FILE", nargs="?")
    actions.add_parser(
        "example",
        help="print the reference config file: every key, its default and what it does",
        description="Print a commented config file with every key: the defaults, and "
        "examples (commented out) where there is none. hubbub.example.toml is this.",
    )


def run(args: argparse.Namespace) -> int:
    if args.action == "example":
        return _write(reference_config())
    try:
        # Shown as the file has it, which flags may complete; checked as it must be alone.
        complete = args.action == "check"
        settings = load_config(args.file, complete=complete) if args.file else Settings()
    except ConfigError as error:
        # One line per mistake; in each, nothing a terminal would act on (a key may be
        # any text, and this checks files one was handed, before trusting them).
        for line in str(error).split("\n"):
            print(f"hubbub config: {shown_text(line)}", file=sys.stderr)
        return 2
    if args.action == "check":
        print(f"{shown_text(str(args.file))}: no mistakes found")
        return 0
    return _write("\n".join(show(settings)) + "\n")


def _write(text: str) -> int:
    try:
        print(text, end="", flush=True)
    except BrokenPipeError:
        # Its reader stopped early (``| head``): no error, and nothing more to write.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def show(settings: Settings) -> list[str]:
    """Every setting as ``name = value`` (nested ones as ``table.name``)."""
    return list(_lines(settings, ""))


def _lines(value: Any, prefix: str) -> Any:
    for field in dataclasses.fields(value):
        name, item = prefix + field.name, getattr(value, field.name)
        if field.name in _SECRET:
            yield f"{name} = {'(set)' if item else '(not set)'}"
        elif field.name == "urls":
            yield f"{name} = {_shown(tuple(shown_url(url) for url in item))}"
        elif dataclasses.is_dataclass(item) and field.name != "listen":
            yield from _lines(item, name + ".")
        else:
            yield f"{name} = {_shown(item)}"


def _shown(item: Any) -> str:
    if isinstance(item, tuple):
        return "[" + ", ".join(_shown(part) for part in item) + "]"
    if type(item).__name__ == "Oper":
        return f"{item.name} (password set)"
    if dataclasses.is_dataclass(item):
        fields = (f"{f.name}={_shown(getattr(item, f.name))}" for f in dataclasses.fields(item))
        return "{" + ", ".join(fields) + "}"
    if isinstance(item, enum.Enum):
        return str(item.value)
    if isinstance(item, str):
        return repr(item)
    if item is None:
        return "none"
    return str(item)


def mkpasswd() -> int:
    """``hubbub mkpasswd``: a password hash for an ``[[oper]]`` block, from the terminal
    or one line of standard input."""
    password = getpass.getpass("Password: ") if sys.stdin.isatty() else sys.stdin.readline()
    password = password.rstrip("\n")
    if not password:
        print("hubbub: empty password", file=sys.stderr)
        return 2
    print(hash_password(password))
    return 0
