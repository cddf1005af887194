"""The numbered schema scripts, as both stores find them and refuse a newer schema; each
store applies them in its own way (see its ``_migrate``)."""

from __future__ import annotations

import logging
from importlib import resources

from hubbub.storage.errors import SchemaTooNew

logger = logging.getLogger(__name__)


def numbered_scripts(*folder: str) -> list[tuple[int, str]]:
    """The scripts in a folder of this package (``schema``, ``schema/postgres``), as
    (version, SQL), in order; a script's name starts with its four-digit version."""
    found = []
    for entry in resources.files("hubbub.storage").joinpath(*folder).iterdir():
        name = entry.name
        if name.endswith(".sql") and name[:4].isdigit():
            found.append((int(name[:4]), entry.read_text(encoding="utf-8")))
    return sorted(found)


def schema_too_new(where: str, current: int, latest: int) -> SchemaTooNew:
    """The refusal of a database whose schema ``current`` is past the ``latest`` that
    this hubbub ships."""
    return SchemaTooNew(
        f"{where}: schema version {current} is newer than this hubbub knows ({latest}); "
        "use a newer hubbub or a backup"
    )


def log_migrated(where: str, before: int, after: int) -> None:
    """One line for what opening a database did to its schema: made it, upgraded it, or
    nothing (then nothing is said)."""
    if before == after:
        return
    if before == 0:
        logger.info("created the database %s (schema %d)", where, after)
    else:
        logger.info("upgraded the database %s from schema %d to %d", where, before, after)
