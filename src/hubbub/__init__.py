"""hubbub: a multi-user chat server with an IRC door."""

from __future__ import annotations

# The one place of the version: the package metadata is made from it (pyproject.toml).
__version__ = "0.1.0"
