"""IRC command handlers, one module per topic; importing them fills the command table."""

from __future__ import annotations

import importlib

_MODULES = (
    "registration",
    "channels",
    "messaging",
    "modes",
    "queries",
    "server",
    "monitor",
    "drafts",
    "multiline",
    "history",
    "accounts",
    "sasl",
    "chanserv",
)


def load() -> None:
    """Import every command module (each registers its commands on import)."""
    for name in _MODULES:
        importlib.import_module(f"{__name__}.{name}")
