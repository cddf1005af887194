"""hubbub: a multi-user chat server with an IRC door."""

from __future__ import annotations

__version__ = "0.1.0"
