"""Channel and user modes: which exist, which take a parameter, and how masks match."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from functools import lru_cache


class ModeKind(enum.Enum):
    """How a channel mode takes its parameter (the ISUPPORT CHANMODES classes)."""

    LIST = "A"  # b e I: a list; parameter to add or remove, none to query
    ALWAYS = "B"  # k: parameter to set and to unset
    ON_SET = "C"  # l: parameter to set only
    FLAG = "D"  # i m n p s t: never a parameter
    PREFIX = "P"  # o v: a member's status; a nick as parameter


CHANNEL_MODES: dict[str, ModeKind] = {
    "b": ModeKind.LIST,
    "e": ModeKind.LIST,
    "I": ModeKind.LIST,
    "k": ModeKind.ALWAYS,
    "l": ModeKind.ON_SET,
    "i": ModeKind.FLAG,
    "m": ModeKind.FLAG,
    "n": ModeKind.FLAG,
    "p": ModeKind.FLAG,
    "s": ModeKind.FLAG,
    "t": ModeKind.FLAG,
    "C": ModeKind.FLAG,
    "o": ModeKind.PREFIX,
    "v": ModeKind.PREFIX,
}

# Status modes from the highest rank down, with the prefix shown in NAMES and WHO.
PREFIXES: dict[str, str] = {"o": "@", "v": "+"}
USER_MODES = frozenset("Biorw")


def statuses_from(status: str) -> frozenset[str]:
    """The status modes at least as high as ``status``: ``v`` → ``{o, v}``."""
    order = list(PREFIXES)
    return frozenset(order[: order.index(status) + 1])


DEFAULT_CHANNEL_MODES = "nt"


def takes_param(mode: str, adding: bool) -> bool:
    """Whether a channel mode change consumes a parameter."""
    kind = CHANNEL_MODES[mode]
    if kind is ModeKind.FLAG:
        return False
    if kind is ModeKind.ON_SET:
        return adding
    return True


def chanmodes_isupport() -> str:
    """The ISUPPORT CHANMODES value, ``A,B,C,D``."""
    groups = [
        "".join(m for m, k in CHANNEL_MODES.items() if k is kind)
        for kind in (ModeKind.LIST, ModeKind.ALWAYS, ModeKind.ON_SET, ModeKind.FLAG)
    ]
    return ",".join(groups)


def prefix_isupport() -> str:
    """The ISUPPORT PREFIX value, ``(ov)@+``."""
    return "(" + "".join(PREFIXES) + ")" + "".join(PREFIXES.values())


@dataclass(frozen=True, slots=True)
class ModeChange:
    """One mode set or unset, as applied: ``+o alice`` is ``ModeChange(True, "o", "alice")``."""

    adding: bool
    mode: str
    param: str | None = None


# The mute extban: ``+b m:mask`` keeps matching users from speaking, not from joining.
MUTE_PREFIX = "m:"


def normalize_mask(mask: str) -> str:
    """Complete a ban mask to ``nick!user@host`` form: ``bob`` → ``bob!*@*``."""
    if mask.startswith(MUTE_PREFIX):
        return MUTE_PREFIX + normalize_mask(mask[len(MUTE_PREFIX) :])
    if "!" not in mask and "@" not in mask:
        return f"{mask}!*@*"
    if "!" not in mask:
        return f"*!{mask}"
    if "@" not in mask:
        return f"{mask}@*"
    return mask


@lru_cache(maxsize=4096)
def mask_pattern(folded_mask: str) -> re.Pattern[str]:
    """A regular expression for a glob mask with ``*`` and ``?`` (already case-folded)."""
    parts = (".*" if c == "*" else "." if c == "?" else re.escape(c) for c in folded_mask)
    return re.compile("".join(parts), re.DOTALL)
