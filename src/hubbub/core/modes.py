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
# The account extban: ``+I a:alice`` names whoever is logged in to the account alice,
# whatever nick they hold (a nick mask matches whoever holds the nick: during another
# account's grace too, probe 27); ``a:*`` anyone logged in.
ACCOUNT_PREFIX = "a:"


def normalize_mask(mask: str) -> str:
    """Complete a ban mask to ``nick!user@host`` form: ``bob`` → ``bob!*@*``; an
    account mask stays as it is (``a:`` alone is ``a:*``). Extbans as other servers
    spell them (``$a:``, ``~a:``, ``A:``) are this server's (``a:``); a nick holds no
    ``:``, so any other ``x:`` is an extban this server does not have.

    Raises:
        ValueError: an extban type this server does not have.
    """
    kind, colon, rest = mask.partition(":")
    if colon and len(kind.lstrip("$~")) == 1 and kind[:-1] in ("", "$", "~"):
        kind = kind[-1].lower()
        if kind + colon == MUTE_PREFIX:
            return MUTE_PREFIX + normalize_mask(rest or "*")
        if kind + colon == ACCOUNT_PREFIX:
            return ACCOUNT_PREFIX + (rest or "*")
        raise ValueError(f"no extban {kind}")
    if "!" not in mask and "@" not in mask:
        return f"{mask}!*@*"
    if "!" not in mask:
        return f"*!{mask}"
    if "@" not in mask:
        return f"{mask}@*"
    return mask


# The longest mask in UTF-8 bytes: of a list entry (+b, +e, +I, with the m: of a mute)
# and of a WHO or LIST search. A complete mask of the longest names is about 120 bytes in
# ASCII (nick 30, ~user 19, host 63, and "m:"), so 200 leaves room for wildcards and
# letters of two bytes; charybdis and solanum stop at 195 (BANLEN). The bound keeps the
# lines that show a mask within 512 bytes (the MODE relayed to every member: a 245-letter
# mask of é made one of 537 bytes; RPL_BANLIST, which adds the setter's mask and a time)
# and a search's cost per name matched, which is the mask's length times the name's.
MASK_BYTES = 200


class _Piece:
    """A star-free piece of a mask: found with ``str.find`` when it has no ``?``, else
    with a regular expression (``.`` for each ``?``, no repetition: it cannot backtrack)."""

    __slots__ = ("length", "pattern", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.length = len(text)
        self.pattern = (
            re.compile("".join("." if c == "?" else re.escape(c) for c in text), re.DOTALL)
            if "?" in text
            else None
        )

    def at(self, text: str, position: int) -> bool:
        """Whether the piece is found at ``position`` of ``text``, exactly there."""
        if self.pattern is None:
            return text.startswith(self.text, position)
        return self.pattern.match(text, position) is not None

    def find(self, text: str, start: int, end: int) -> int:
        """Where the piece first fits whole in ``text[start:end]``, or -1."""
        if self.pattern is None:
            return text.find(self.text, start, end)
        found = self.pattern.search(text, start, end)
        return -1 if found is None else found.start()


class Glob:
    """A glob mask with ``*`` (any run of characters) and ``?`` (any one character).

    A mask such as ``*a*a*a*…*b`` once became the regular expression ``.*a.*a…b``, whose
    backtracking against a long run of ``a`` takes exponential time: one ban, ``WHO`` or
    ``LIST`` from an ordinary user stalled the whole server. Here the pieces between stars
    have fixed lengths, so the leftmost place each one fits is the right one to take (as a
    two-pointer matcher that backtracks to the last star finds): a match costs at most
    the text's length times the mask's. A glob is made once per list entry
    (:class:`~hubbub.core.model.ListEntry`), not per check: making one per check from a
    shared cache let thousands of distinct bans thrash it, and every message then made
    them all again.

    Attributes:
        head: the piece before the first star (the whole mask when it has none).
        middle: the pieces between stars; empty ones (from ``**``) are left out.
        tail: the piece after the last star; None when the mask has no star.
    """

    __slots__ = ("head", "middle", "tail")

    def __init__(self, mask: str) -> None:
        """The glob for ``mask``, already case-folded."""
        head, *rest = mask.split("*")
        self.head = _Piece(head)
        self.tail: _Piece | None = None
        self.middle: tuple[_Piece, ...] = ()
        if rest:
            *middle, tail = rest
            self.middle = tuple(_Piece(p) for p in middle if p)
            self.tail = _Piece(tail)

    def fullmatch(self, text: str) -> bool:
        """Whether the whole of ``text`` matches the mask."""
        head, tail = self.head, self.tail
        if tail is None:
            return len(text) == head.length and head.at(text, 0)
        end = len(text) - tail.length
        if end < head.length or not head.at(text, 0) or not tail.at(text, end):
            return False
        position = head.length
        for piece in self.middle:
            found = piece.find(text, position, end)
            if found < 0:
                return False
            position = found + piece.length
        return True


@lru_cache(maxsize=4096)
def mask_pattern(folded_mask: str) -> Glob:
    """The matcher for a glob mask with ``*`` and ``?`` (already case-folded), for masks
    given with a command (WHO, LIST); list entries keep their own."""
    return Glob(folded_mask)
