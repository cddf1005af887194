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


def _piece(text: str) -> re.Pattern[str]:
    """A star-free piece of a mask as a regular expression: ``?`` is any one character."""
    return re.compile("".join("." if c == "?" else re.escape(c) for c in text), re.DOTALL)


@dataclass(frozen=True, slots=True)
class Glob:
    """A glob mask with ``*`` (any run of characters) and ``?`` (any one character).

    A mask such as ``*a*a*a*…*b`` once became the regular expression ``.*a.*a…b``, whose
    backtracking against a long run of ``a`` takes exponential time: one ban, ``WHO`` or
    ``LIST`` from an ordinary user stalled the whole server. Here the pieces between stars
    have fixed lengths, so the leftmost place each one fits is the right one to take (as a
    two-pointer matcher that backtracks to the last star finds), and each piece is a
    regular expression with no repetition or alternation, which cannot backtrack: a
    match costs at most the text's length times the mask's.

    Attributes:
        head: the piece before the first star (the whole mask when it has none).
        middle: the pieces between stars; empty ones (from ``**``) are left out.
        tail: the piece after the last star; None when the mask has no star.
        head_length: the number of characters ``head`` matches.
        tail_length: the number of characters ``tail`` matches.
    """

    head: re.Pattern[str]
    middle: tuple[re.Pattern[str], ...]
    tail: re.Pattern[str] | None
    head_length: int
    tail_length: int

    @classmethod
    def parse(cls, mask: str) -> Glob:
        """The glob for ``mask``, already case-folded."""
        head, *rest = mask.split("*")
        if not rest:
            return cls(_piece(head), (), None, len(head), 0)
        *middle, tail = rest
        pieces = tuple(_piece(p) for p in middle if p)
        return cls(_piece(head), pieces, _piece(tail), len(head), len(tail))

    def fullmatch(self, text: str) -> bool:
        """Whether the whole of ``text`` matches the mask."""
        if self.tail is None:
            return self.head.fullmatch(text) is not None
        end = len(text) - self.tail_length
        if end < self.head_length:
            return False
        if self.head.match(text) is None or self.tail.match(text, end) is None:
            return False
        position = self.head_length
        for piece in self.middle:
            found = piece.search(text, position, end)
            if found is None:
                return False
            position = found.end()
        return True


@lru_cache(maxsize=4096)
def mask_pattern(folded_mask: str) -> Glob:
    """The matcher for a glob mask with ``*`` and ``?`` (already case-folded)."""
    return Glob.parse(folded_mask)
