"""``hubbub account``: an operator's tool for accounts, straight on the server's database;
the older name of ``hubbub admin accounts``, whose runner carries it out.

It is how a team server with registration closed gets its accounts, and how an operator
resets a forgotten password. It opens the same database as ``hubbub serve`` (the data
folder's SQLite file, or PostgreSQL), and may run beside a running server: a login reads
the account from the database, so a new account or password works at once, while the
guard on an account's nick starts or ends at the server's next lookup of that name (a
login, NickServ INFO) or its next start.
"""

from __future__ import annotations

import argparse
import datetime
import getpass
from typing import TextIO

from hubbub.accounts.ports import Account
from hubbub.accounts.service import Accounts


def add_parser(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    where: argparse.ArgumentParser,
    where_late: argparse.ArgumentParser,
) -> None:
    """``hubbub account`` and its actions; ``where`` has the flags that find the database
    (``where_late`` the same flags, taken after the action)."""
    account = commands.add_parser(
        "account",
        parents=[where],
        help="create, list, reset and drop accounts",
        description="Manage accounts in the server's database, with the server running or "
        "not. Passwords are read from the terminal, or as one line from standard input.",
    )
    # Run by ``hubbub admin``'s runner, as its ``accounts`` group.
    account.set_defaults(group="accounts")
    actions = account.add_subparsers(dest="action", metavar="ACTION", required=True)
    create = actions.add_parser("create", parents=[where_late], help="register an account")
    create.add_argument("name")
    create.add_argument("--email", default="", help="the account's email address")
    password = actions.add_parser("password", parents=[where_late], help="set a new password")
    password.add_argument("name")
    drop = actions.add_parser("drop", parents=[where_late], help="delete an account")
    drop.add_argument("name")
    actions.add_parser("list", parents=[where_late], help="list the accounts")


class Refused(Exception):
    """Why an action cannot be done, for the operator."""


async def create(accounts: Accounts, name: str, password: str, email: str) -> str:
    account = await accounts.register(name, password, email)
    return f"account {account.name} created"


async def change_password(accounts: Accounts, name: str, password: str) -> str:
    account = await existing(accounts, name)
    await accounts.change_password(account, password)
    return f"password of {account.name} changed"


async def listing(accounts: Accounts) -> str:
    await accounts.load()
    rows = []
    for key in sorted(accounts.names):
        account = await accounts.find(key)
        if account is not None:
            created = datetime.datetime.fromtimestamp(account.created, datetime.UTC)
            line = f"{shown(account.name)}\t{created:%Y-%m-%d %H:%M}Z\t{shown(account.email)}"
            rows.append(line.rstrip())
    rows.append(f"{len(rows)} account{'' if len(rows) == 1 else 's'}")
    return "\n".join(rows)


async def existing(accounts: Accounts, name: str) -> Account:
    account = await accounts.find(name)
    if account is None:
        raise Refused(f"there is no account {name}")
    return account


def read_password(stdin: TextIO) -> str:
    """A password typed twice at a terminal, or one line of piped input.

    Raises:
        Refused: none given, or the two typed differ.
    """
    if stdin.isatty():
        password = getpass.getpass("Password: ")
        if password and getpass.getpass("Again: ") != password:
            raise Refused("the passwords differ")
    else:
        password = stdin.readline().rstrip("\r\n")
    if not password:
        raise Refused("no password given")
    return password


def shown(text: str) -> str:
    """Text as a terminal may print it: what is not printable (controls, escapes,
    bidi and other format characters, tabs that would forge columns) as ``\\uXXXX``.
    Kept data may predate the checks on it (an email stored before probe 21)."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in text)
