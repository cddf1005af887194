"""The data folder and the database file, kept from other users of the machine."""

from __future__ import annotations

import contextlib
import logging
import os
import stat
from pathlib import Path

logger = logging.getLogger(__name__)

# The server and its store each make sure of the data folder as they start; the
# operator needs to read of an open one once.
_warned: set[Path] = set()


def private_folder(path: Path) -> None:
    """Make the data folder, for its owner alone (0700): it holds password hashes and
    private messages. An existing folder is left as it is, with a warning if others may
    enter it.

    Raises:
        OSError: the folder cannot be made.
    """
    if not path.is_dir():
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):
            path.mkdir(mode=0o700)
    warn_if_open(path)


def warn_if_open(path: Path) -> None:
    """Warn when others than the owner may read a file or enter a folder of ours."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return
    if mode & (stat.S_IRWXG | stat.S_IRWXO) and path not in _warned:
        _warned.add(path)
        logger.warning(
            "%s is open to other users (mode %s); it holds password hashes and private "
            "messages: chmod %s %s",
            path,
            stat.filemode(mode),
            "700" if stat.S_ISDIR(mode) else "600",
            path,
        )


def private_file(path: Path) -> None:
    """Create a file for its owner alone (0600) unless it exists; SQLite gives its
    ``-wal`` and ``-shm`` files the database file's permissions."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        warn_if_open(path)
