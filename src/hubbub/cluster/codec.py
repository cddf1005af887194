"""The bytes between nodes: a fact and the name of the node it came from, and back.

Format, version 1: one JSON array in UTF-8, written compactly::

    [1,"node-a","Parted",[["alice","~alice","203.0.113.7","Alice",null,false,"5f3.1"],"#a","bye"]]

the format's version (first in every version to come, so that a node can tell one it
cannot read), the origin node, the fact's class name, and its fields in the order of
its class. Inside, a record (``Actor``, ``ModeChange``, ``MessagePart``) is an array of
its fields too, tags an object, a tuple an array, an enum its value, None null; a float
is written as ``repr`` writes it, which reads back to the same float. Every field is
written, with its default too, so that a missing field is an error and never a guess.
``Actor.mask`` is not written: ``Actor`` makes it from the nick, user and host.

Arrays rather than objects of named fields: a channel message took 408 bytes as objects
and 250 as arrays, and JSON's encoder and decoder (half the codec's time) a third less.
JSON from the standard library: its C encoder and decoder do the byte work, it
needs no dependency, and a human can read what is on the stream with ``nats sub``
(:func:`written_fields` names the fields).

The kind of each field comes from its annotation in ``core/events.py`` (the table
:data:`_SCALARS` and :func:`_kind_of`), so a field added to a fact travels with no change
here, and an annotation the table does not know stops the import. The format changes
with the classes: a change of a fact's fields must raise :data:`VERSION` (a test pins
the fields of each fact, and the bytes of one message).

Hostile input. Anyone who can publish on NATS can hand :func:`decode` anything, so it
accepts only what :func:`encode` of a fact the core can hold writes, and raises
:class:`CodecError` for all else: more than :data:`MAX_BYTES`, bytes that are not UTF-8
(lone surrogates encoded in it included), not JSON, JSON nested past Python's recursion
limit, another version, an unknown fact, a field missing, extra, or of the wrong type, a
float that is not finite. A fact is built only once all of its fields are read.

No string holds NUL or a surrogate (:func:`encode` writes a character beyond U+FFFF as
itself, never as an escaped pair), which the core's text never does (the IRC
parser refuses a line with NUL or that is not UTF-8, the plain door reads with
replacement and removes controls, WebSocket text is UTF-8): a lone surrogate cannot be
encoded to UTF-8, so one let in would break the send of every session that must show
it, and PostgreSQL refuses NUL in text, so one would break the history writer. Those are
what would break a node. What a fact means (a nick's syntax, a CR in a reason) is the
core's to decide when it makes the fact, not the codec's to decide again: a multi-line
message's text holds LF, and whoever can publish on the nodes' subjects can forge any
fact anyway, so the subjects must be closed to all but the nodes.

:func:`encode` checks nothing of the values: every node, the origin included, applies
what its consumer reads back through :func:`decode`, so a fact the core should not have
made is refused everywhere alike.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import math
import re
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, Protocol

from hubbub.core.events import (
    AccountChanged,
    AccountDropped,
    AccountRegistered,
    Actor,
    AddressCounted,
    AttemptCounted,
    AwayChanged,
    Banned,
    BansChanged,
    ChannelModeChanged,
    ChannelRenamed,
    DeviceAttached,
    DeviceDetached,
    Fact,
    Invited,
    Joined,
    Kept,
    Kicked,
    Killed,
    MarkerMoved,
    MessageKind,
    MessagePart,
    MessagePosted,
    MessageRedacted,
    MetadataChanged,
    MetadataValue,
    NickChanged,
    NodeLost,
    Parted,
    Quit,
    RealnameChanged,
    RegistrationChanged,
    TopicChanged,
    UserArrived,
    UserModeChanged,
    Wallops,
)
from hubbub.core.modes import ModeChange

VERSION = 1
# The largest fact a node writes is a multi-line message (4096 bytes of text, in its
# lines and again whole) with 4094 bytes of client tags; JSON writes a control
# character (IRC formatting) in six. A quarter of NATS's default payload bound leaves
# room for that and takes about a millisecond to read at worst.
MAX_BYTES = 256 * 1024

# The facts that travel: every fact but the notices made while applying another one
# (MonitoredOnline, MonitoredOffline), which are never published.
FACTS: tuple[type[Fact], ...] = (
    MessagePosted,
    UserArrived,
    Joined,
    Parted,
    Kicked,
    Quit,
    Killed,
    Banned,
    NickChanged,
    TopicChanged,
    ChannelModeChanged,
    UserModeChanged,
    Invited,
    AwayChanged,
    AccountChanged,
    RealnameChanged,
    MessageRedacted,
    ChannelRenamed,
    Wallops,
    MarkerMoved,
    MetadataChanged,
    NodeLost,
    RegistrationChanged,
    AccountDropped,
    AccountRegistered,
    AttemptCounted,
    AddressCounted,
    BansChanged,
    DeviceAttached,
    DeviceDetached,
    Kept,
)


class CodecError(ValueError):
    """What :func:`decode` raises for anything but the bytes of a fact; :func:`encode`
    for a fact that does not travel or a value JSON cannot carry."""


class _Kind(Protocol):
    """How the values of one kind of field are written and read back."""

    @property
    def exact(self) -> type | None:
        """The type of the values JSON writes as they are and reads back as they were
        (str, bool), and so read with no call of :meth:`decode`; None for the others."""
        ...

    @property
    def plain(self) -> bool:
        """Whether JSON writes the value as it is, with no call of :meth:`encode`."""
        ...

    def encode(self, value: Any) -> object: ...

    def decode(self, data: object) -> object:
        """The value ``data`` (as read from JSON) stands for.

        Raises:
            CodecError: ``data`` is not one.
        """
        ...


class _Exact:
    """Values of one JSON type, read back as they are: str, bool, int (a bool is not
    one)."""

    __slots__ = ("_what", "exact")
    plain = True

    def __init__(self, exact: type, what: str) -> None:
        self.exact = exact
        self._what = what

    def encode(self, value: object) -> object:
        return value

    def decode(self, data: object) -> object:
        if type(data) is not self.exact:
            raise CodecError(f"not {self._what}")
        return data


class _Time:
    """A float; an int is taken too (a float such as 5.0 is written ``5.0``, but a clock
    given to the core may return ints)."""

    __slots__ = ()
    exact = None
    plain = True

    def encode(self, value: float) -> object:
        return value

    def decode(self, data: object) -> float:
        # Not bool, which is an int.
        if type(data) is not float and type(data) is not int:
            raise CodecError("not a number")
        try:
            value = float(data)
        except OverflowError:  # an int of hundreds of digits
            raise CodecError("not a float") from None
        # 1e999 reads as infinity; NaN and Infinity themselves are refused when read.
        if not math.isfinite(value):
            raise CodecError("not a finite number")
        return value


class _Choice:
    """A member of an enum, by its value."""

    __slots__ = ("_members", "_what", "plain")
    exact = None

    def __init__(self, enum_type: type[enum.Enum]) -> None:
        # By value in a dict: calling the enum took four times as long.
        self._members = {member.value: member for member in enum_type}
        self._what = f"not a {enum_type.__name__}"
        # JSON writes a member of a string enum as the string it is.
        self.plain = issubclass(enum_type, str)

    def encode(self, value: enum.Enum) -> object:
        return value.value

    def decode(self, data: object) -> enum.Enum:
        if type(data) is not str:
            raise CodecError("not a string")
        member = self._members.get(data)
        if member is None:
            raise CodecError(self._what)
        return member


_TEXT = _Exact(str, "a string")


class _Tags:
    """Tags: an object of strings, read back into a read-only mapping, as facts hold."""

    __slots__ = ()
    exact = None
    plain = False

    def encode(self, value: Mapping[str, str]) -> object:
        return dict(value)

    def decode(self, data: object) -> Mapping[str, str]:
        if type(data) is not dict:
            raise CodecError("not an object")
        for key, value in data.items():
            if type(value) is not str:
                raise CodecError(f"{key!r}: not a string")
        return MappingProxyType(data)


class _Optional:
    """A value of ``inner``'s kind, or None."""

    __slots__ = ("_inner", "plain")
    exact = None

    def __init__(self, inner: _Kind) -> None:
        self._inner = inner
        self.plain = inner.plain

    def encode(self, value: object) -> object:
        return None if value is None else self._inner.encode(value)

    def decode(self, data: object) -> object:
        return None if data is None else self._inner.decode(data)


class _Array:
    """A tuple of values of ``item``'s kind."""

    __slots__ = ("_item",)
    exact = None
    plain = False

    def __init__(self, item: _Kind) -> None:
        self._item = item

    def encode(self, value: tuple[object, ...]) -> object:
        if self._item.plain:
            return list(value)
        return [self._item.encode(item) for item in value]

    def decode(self, data: object) -> tuple[object, ...]:
        if type(data) is not list:
            raise CodecError("not an array")
        item, exact = self._item, self._item.exact
        if exact is not None:
            for element in data:
                if type(element) is not exact:
                    break
            else:
                return tuple(data)
        decoded = []
        for index, element in enumerate(data):
            try:
                decoded.append(item.decode(element))
            except CodecError as error:
                raise CodecError(f"[{index}]: {error}") from None
        return tuple(decoded)


class _Record:
    """A dataclass or named tuple, as an array of the fields its constructor takes."""

    __slots__ = ("_fewest", "_make", "_readers", "_writers", "fields", "name")
    exact = None
    plain = False

    def __init__(self, record: type[object]) -> None:
        self.name = record.__name__
        self._make: Callable[..., object] = record
        if dataclasses.is_dataclass(record):
            # Fields made by the class itself (Actor.mask) are not written.
            annotations = {f.name: f.type for f in dataclasses.fields(record) if f.init}
        else:
            # A named tuple keeps a deferred annotation as a ForwardRef of its text.
            annotations = {
                name: getattr(kind, "__forward_arg__", kind)
                for name, kind in record.__annotations__.items()
            }
        kinds = {name: _kind_of(str(kind)) for name, kind in annotations.items()}
        self.fields = tuple(kinds)
        # Fields of plain and exact kinds are written and read with no call (most of
        # them): each is (name, None or the call).
        self._writers = tuple(
            (name, None if kind.plain else kind.encode) for name, kind in kinds.items()
        )
        self._readers = tuple((name, kind.exact, kind.decode) for name, kind in kinds.items())
        # The fields a fact written before later ones were added has (they have defaults):
        # TopicChanged's msgid and kept_as came within version 1, after topics were
        # already in logs, so a log of an earlier node still reads.
        self._fewest = _AT_LEAST.get(self.name, len(self._readers))

    def encode(self, value: object) -> object:
        return [
            getattr(value, name) if write is None else write(getattr(value, name))
            for name, write in self._writers
        ]

    def decode(self, data: object) -> object:
        if type(data) is not list:
            raise CodecError(f"{self.name}: not an array")
        if not self._fewest <= len(data) <= len(self._readers):
            raise CodecError(f"{self.name}: {len(data)} fields, not {len(self._readers)}")
        values = {}
        for (name, exact, read), value in zip(self._readers, data, strict=False):
            if type(value) is exact:
                values[name] = value
                continue
            try:
                values[name] = read(value)
            except CodecError as error:
                raise CodecError(f"{self.name}.{name}: {error}") from None
        return self._make(**values)


# Annotations of events.py (strings: it defers them) and the kinds they are; "Key" is a
# folded name, a str at run time.
_SCALARS: dict[str, _Kind] = {
    "str": _TEXT,
    "Key": _TEXT,
    "bool": _Exact(bool, "true or false"),
    "int": _Exact(int, "a whole number"),
    "float": _Time(),
    "MessageKind": _Choice(MessageKind),
    "Mapping[str, str]": _Tags(),
}
# Facts that gained fields (at their end, with defaults) within version 1: the fewest a
# fact of theirs may be written with (NodeLost's ``by`` came with always-on users
# between nodes: one without it quits the lost run's users, as before).
_AT_LEAST = {"TopicChanged": 4, "NodeLost": 2}
_RECORDS: dict[str, type[object]] = {
    "Actor": Actor,
    "ModeChange": ModeChange,
    "MessagePart": MessagePart,
    "MetadataValue": MetadataValue,
}


def _kind_of(annotation: str) -> _Kind:
    """The kind of a field annotated ``annotation``: a scalar or a record, either of
    them ``X | None``, or a ``tuple[X, ...]``."""
    if annotation.endswith(" | None"):
        return _Optional(_kind_of(annotation.removesuffix(" | None")))
    if annotation.startswith("tuple[") and annotation.endswith(", ...]"):
        return _Array(_kind_of(annotation.removeprefix("tuple[").removesuffix(", ...]")))
    if annotation in _RECORDS:
        return _Record(_RECORDS[annotation])
    kind = _SCALARS.get(annotation)
    if kind is None:
        raise TypeError(f"the cluster codec has no kind for a field of type {annotation}")
    return kind


_BY_TYPE = {fact: _Record(fact) for fact in FACTS}
_BY_NAME = {record.name: record for record in _BY_TYPE.values()}


# NUL and surrogates get into a string only escaped: strict JSON refuses a raw control
# character, strict UTF-8 a raw surrogate. An escape is a backslash after an even number
# of them (``\\u0000`` is a backslash and "u0000").
_REFUSED_ESCAPE = re.compile(r"(?<!\\)(?:\\\\)*\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")


def _shown(value: object) -> str:
    """``value`` as an error message shows it: the start of its repr (what a sender put
    in place of a name may be a quarter of a megabyte)."""
    shown = repr(value)
    return shown if len(shown) <= 40 else shown[:40] + "..."


def _refuse_constant(name: str) -> object:
    raise ValueError(f"{name} is not a number JSON has")


_ENCODER = json.JSONEncoder(
    ensure_ascii=False, check_circular=False, allow_nan=False, separators=(",", ":")
)
_DECODER = json.JSONDecoder(parse_constant=_refuse_constant)


def written_fields(fact: type[Fact]) -> tuple[str, ...]:
    """The names of the fields of ``fact`` in the order they are written."""
    return _BY_TYPE[fact].fields


def encode(fact: Fact, origin: str) -> bytes:
    """The bytes that carry ``fact``, made on the node named ``origin``, to the others.

    Raises:
        CodecError: ``fact`` is not one that travels (see :data:`FACTS`), or holds what
            JSON or UTF-8 cannot carry (a float that is not finite, a lone surrogate).
    """
    record = _BY_TYPE.get(type(fact))
    if record is None:
        raise CodecError(f"{type(fact).__name__} does not travel between nodes")
    document = [VERSION, origin, record.name, record.encode(fact)]
    try:
        return _ENCODER.encode(document).encode("utf-8")
    except ValueError as error:  # UnicodeEncodeError is one
        raise CodecError(f"{record.name} cannot be written: {error}") from None


def decode(data: bytes) -> tuple[Fact, str]:
    """The fact ``data`` carries and the name of the node it came from.

    Raises:
        CodecError: ``data`` is anything else (see the module's docstring).
    """
    if len(data) > MAX_BYTES:
        raise CodecError(f"{len(data)} bytes, more than {MAX_BYTES}")
    try:
        # Strict UTF-8 first: json.loads of bytes lets encoded surrogates through.
        text = data.decode("utf-8")
        document = _DECODER.decode(text)
    except (ValueError, RecursionError) as error:
        raise CodecError(f"not JSON: {error}") from None
    if "\\u" in text and _REFUSED_ESCAPE.search(text):
        raise CodecError("a string holds NUL or a surrogate")
    if type(document) is not list or not document:
        raise CodecError("not an array of a version and a fact")
    # The version before the rest: another version may be shaped otherwise.
    version = document[0]
    if type(version) is not int or version != VERSION:
        raise CodecError(f"format version {_shown(version)}, not {VERSION}")
    if len(document) != 4:
        raise CodecError(f"{len(document)} items, not a version, origin, name and fields")
    _, origin, name, fields = document
    record = _BY_NAME.get(name) if type(name) is str else None
    if record is None:
        raise CodecError(f"no fact is called {_shown(name)}")
    if type(origin) is not str or not origin:
        raise CodecError(f"origin {_shown(origin)}, not a node's name")
    fact: Fact = record.decode(fields)  # type: ignore[assignment]
    return fact, origin
