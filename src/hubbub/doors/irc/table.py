"""The IRC command table: every topic's rows, by verb, in one dict built here."""

from __future__ import annotations

from collections.abc import Iterable

from hubbub.doors.irc.command import Command
from hubbub.doors.irc.commands import (
    accounts,
    bans,
    channels,
    chanserv,
    drafts,
    history,
    messaging,
    metadata_early,
    modes,
    monitor,
    multiline,
    nickserv,
    queries,
    registration,
    sasl,
    server,
)


def build_table(*topics: Iterable[Command]) -> dict[str, Command]:
    """One table from the rows of several topics.

    Raises:
        ValueError: when two rows name the same verb.
    """
    table: dict[str, Command] = {}
    for rows in topics:
        for row in rows:
            if row.name in table:
                raise ValueError(f"command {row.name} is listed twice")
            table[row.name] = row
    return table


COMMANDS: dict[str, Command] = build_table(
    registration.COMMANDS,
    sasl.COMMANDS,
    accounts.COMMANDS,
    nickserv.COMMANDS,
    channels.COMMANDS,
    messaging.COMMANDS,
    multiline.COMMANDS,
    modes.COMMANDS,
    queries.COMMANDS,
    server.COMMANDS,
    bans.COMMANDS,
    monitor.COMMANDS,
    metadata_early.COMMANDS,
    drafts.COMMANDS,
    history.COMMANDS,
    chanserv.COMMANDS,
)
