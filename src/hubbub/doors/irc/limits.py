"""Bounds the IRC door holds clients to, beyond those of every door."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class IrcLimits:
    """The IRC door's bounds, with their defaults; each is a ``[limits]`` setting, and
    those a client should know are advertised in RPL_ISUPPORT."""

    realnamelen: int = 150  # characters of the real name (USER, SETNAME)
    userlen: int = 18  # of the user name (ident), as USER gives it
    targets: int = 4  # targets of one PRIVMSG/NOTICE
    modes: int = 20  # parameterised mode changes in one MODE
    chathistory: int = 100  # most messages, and lines, one CHATHISTORY reply holds
    nick_grace: float = 60.0  # seconds to log in before a registered nick is taken back
    multiline_max_bytes: int = 4096  # of one draft/multiline message, advertised in CAP LS
    multiline_max_lines: int = 32  # lines of one draft/multiline message
    metadata_subs: int = 50  # metadata keys one connection may subscribe to (max-subs)
    metadata_sync_lines: int = 100  # metadata lines sent on JOIN before "sync later" (774)
    metadata_commands: int = 20  # METADATA SET, CLEAR, SUB and UNSUB in one burst
    metadata_interval: float = 1.0  # seconds that give back one of those past the burst
