"""The storage ring's exception family.

::

    StoreUnavailable         (core.ports) what inner rings catch
    └── StorageError         the store cannot be used (locked, corrupt, unwritable)
        └── SchemaTooNew     the database was written by a newer hubbub
"""

from __future__ import annotations

from hubbub.core.ports import StoreUnavailable


class StorageError(StoreUnavailable):
    """The store cannot be opened or used; the message says why and where."""


class SchemaTooNew(StorageError):
    """The database's schema is newer than this version of hubbub understands."""
