"""The codec between nodes: every fact that travels comes back exactly, with its origin,
and anything else is refused with CodecError and nothing else."""

from __future__ import annotations

import dataclasses
import json
import typing
from collections.abc import Callable, Mapping
from types import MappingProxyType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hubbub.cluster.codec import (
    FACTS,
    MAX_BYTES,
    VERSION,
    CodecError,
    decode,
    encode,
    written_fields,
)
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
    MonitoredOffline,
    MonitoredOnline,
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
from hubbub.wire.casemap import Key

ALICE = Actor("alice", "~alice", "203.0.113.7", "Alice Liddell", "alice", id="5f3a9c01.1")
BOT = Actor("ChanServ", "ChanServ", "services.example", "Channel services", None, bot=True)
SERVICE = Actor("irc.example", "", "")  # a server's own actor: no user, no id
NOW = 1717171717.123456

# The notices made while applying another fact, never published (see events.py).
NOT_PUBLISHED = {MonitoredOnline, MonitoredOffline}

SAMPLES: list[Fact] = [
    MessagePosted(
        ALICE,
        "#hubbub",
        "hello, \x02world\x02 ☕ 🎉",
        time=NOW,
        msgid="5f3a9c0142",
        to=Key("#hubbub"),
        kept_as=("#hubbub",),
    ),
    MessagePosted(
        ALICE,
        "#hubbub",
        "line one\nline two",
        MessageKind.NOTICE,
        "o",
        MappingProxyType({"+draft/reply": "5f3a9c0141", "+draft/react": "👍", "+x": ""}),
        NOW,
        "5f3a9c0143",
        (MessagePart("line one"), MessagePart("line two", concat=True)),
        Key("#hubbub"),
    ),
    MessagePosted(
        ALICE,
        "bob",
        "",
        MessageKind.TAGMSG,
        tags={"+typing": "active"},
        time=NOW,
        msgid="5f3a9c0144",
        to=Key("5f3a9c01.2"),
    ),
    UserArrived(ALICE, NOW, secure=True, account_id="17"),
    Joined(ALICE, "#hubbub", "o", NOW, "#hubbub 5f3a9c01.3"),
    Joined(BOT, "#hubbub"),
    Parted(ALICE, "#hubbub", "see you"),
    Kicked(ALICE, "#hubbub", "bob", "flooding", victim="5f3a9c01.2"),
    Quit(ALICE, "Connection closed"),
    Quit(ALICE, "Killed (oper (spam))", forced=True),
    Killed(SERVICE, "bob", "spam", victim="5f3a9c01.2"),
    Banned("5f3a9c01.2", "spam, and \u202eworse"),
    NickChanged(ALICE, "Alice_"),
    TopicChanged(ALICE, "#hubbub", "Release 1.0: ça marche", NOW),
    ChannelModeChanged(
        ALICE,
        "#hubbub",
        (
            ModeChange(True, "o", "bob"),
            ModeChange(False, "k", "*"),
            ModeChange(True, "l", "50"),
            ModeChange(True, "b", "m:*!*@198.51.100.*"),
            ModeChange(True, "t"),
        ),
        NOW,
    ),
    UserModeChanged(ALICE, "alice", (ModeChange(True, "o"),), oper_name="admin"),
    UserModeChanged(ALICE, "alice", (ModeChange(False, "i"),)),
    Invited(ALICE, "bob", "#hubbub", invitee="5f3a9c01.2", admits=True),
    AwayChanged(ALICE, "lunch"),
    AwayChanged(ALICE, None),
    AccountChanged(ALICE, "alice", "17"),
    AccountChanged(ALICE, None),
    RealnameChanged(ALICE, "Alice L."),
    MessageRedacted(ALICE, "bob", "5f3a9c0144", "typo", other="5f3a9c01.2"),
    ChannelRenamed(ALICE, "#hubbub", "#hubbub-dev", "moved"),
    Wallops(SERVICE, "maintenance at noon"),
    MarkerMoved("#hubbub", NOW, "a:17", Key("#hubbub"), Key("#old"), "5f3a9c01.1"),
    MarkerMoved("bob", 0.0, "5f3a9c01.1", quiet=True),
    NodeLost("5f3a9c01", "Node lost"),
    NodeLost("5f3a9c01", "Node lost", by="7e0b2d44"),
    Kept("5f3a9c01.1", True, True, NOW, None, True),
    Kept("5f3a9c01.1", False),
    DeviceAttached("5f3a9c01.1", "7e0b2d44"),
    DeviceDetached("5f3a9c01.1", "7e0b2d44", "Quit: bye"),
    RegistrationChanged(ALICE, Key("#hubbub"), '{"name": "#hubbub"}', new=True),
    RegistrationChanged(None, Key("#old"), ""),
    AccountDropped("a1b2c3", "carol"),
    MetadataChanged(
        ALICE,
        "5f3a9c01.1",
        "alice",
        (MetadataValue("display-name", "Alice"), MetadataValue("status", None)),
        account_id="17",
    ),
    MetadataChanged(None, "#hubbub", "#hubbub", (MetadataValue("url", "x"),), channel=True),
    AccountRegistered("carol"),
    AttemptCounted("login", "fail", ("carol", "2001:db8::/64"), "node-a", NOW),
    AddressCounted("5f3a9c01", "203.0.113.7", 3, NOW),
    BansChanged(ban='{"kind": "K", "mask": "*@203.0.113.7"}'),
    BansChanged(lifted=("D", "198.51.100.0/24")),
]


def exactly(value: object) -> object:
    """``value`` with all it holds, fields left out of ``==`` too (``Actor.id``), each
    value with its type and repr (so that 1 is not 1.0 and -0.0 is not 0.0)."""
    if isinstance(value, MessagePosted):
        return ("MessagePosted", *map(exactly, value))
    if dataclasses.is_dataclass(value):
        fields = dataclasses.fields(value)
        return (type(value).__name__, *(exactly(getattr(value, f.name)) for f in fields))
    if isinstance(value, Mapping):
        return ("tags", *((key, exactly(item)) for key, item in value.items()))
    if isinstance(value, tuple):
        return tuple(map(exactly, value))
    return (type(value).__name__, repr(value))


def round_trip(fact: Fact, origin: str = "node-a") -> Fact:
    decoded, decoded_origin = decode(encode(fact, origin))
    assert decoded == fact
    assert exactly(decoded) == exactly(fact)
    assert decoded_origin == origin
    return decoded


def test_every_published_fact_travels_and_has_a_sample() -> None:
    published = set(typing.get_args(Fact)) - NOT_PUBLISHED
    assert set(FACTS) == published
    assert {type(sample) for sample in SAMPLES} == published


@pytest.mark.parametrize("fact", SAMPLES, ids=lambda fact: type(fact).__name__)
def test_a_fact_comes_back_exactly_with_its_origin(fact: Fact) -> None:
    round_trip(fact)


def test_the_actor_comes_back_with_its_id_and_its_mask() -> None:
    decoded = round_trip(Parted(ALICE, "#a", ""))
    assert isinstance(decoded, Parted)
    assert decoded.actor.id == "5f3a9c01.1"
    assert decoded.actor.mask == "alice!~alice@203.0.113.7"


def test_tags_come_back_read_only() -> None:
    decoded = round_trip(SAMPLES[1])
    assert isinstance(decoded, MessagePosted)
    assert isinstance(decoded.tags, MappingProxyType)


def test_a_tag_value_may_hold_a_line_break_which_irc_escapes() -> None:
    round_trip(MessagePosted(ALICE, "#a", "x", tags={"+note": "a;b c\\d\r\ne"}, time=NOW))


def test_a_backslash_and_u_in_text_is_not_an_escape() -> None:
    round_trip(Parted(ALICE, "#a", "C:\\u0000 and \\ud800 are text here, \x03 is a colour"))


def test_version_1_writes_a_message_as_documented() -> None:
    data = encode(MessagePosted(ALICE, "#a", "hi ☕", time=0.1, msgid="m1", to=Key("#a")), "n1")
    assert (
        data
        == (
            '[1,"n1","MessagePosted",[["alice","~alice","203.0.113.7","Alice Liddell","alice",'
            'false,"5f3a9c01.1"],"#a","hi ☕","PRIVMSG","",{},0.1,"m1",[],"#a",[]]]'
        ).encode()
    )


# Each fact's fields as version 1 writes them, in order. A change to a fact's fields
# changes the format: raise codec.VERSION with it (a node of the old version must refuse
# the new).
VERSION_1_FIELDS = {
    "MessagePosted": "actor target text kind status tags time msgid parts to kept_as",
    "UserArrived": "actor signon secure account_id",
    "Joined": "actor channel status created incarnation",
    "Parted": "actor channel reason",
    "Kicked": "actor channel nick reason victim",
    "Quit": "actor reason forced",
    "Killed": "actor nick reason victim",
    "NickChanged": "actor nick",
    # msgid and kept_as added within version 1 (event-playback): read without them.
    "TopicChanged": "actor channel topic time msgid kept_as",
    "ChannelModeChanged": "actor channel changes time",
    "UserModeChanged": "actor nick changes oper_name",
    "Invited": "actor nick channel invitee admits",
    "AwayChanged": "actor message",
    "AccountChanged": "actor account account_id",
    "RealnameChanged": "actor realname",
    "MessageRedacted": "actor target msgid reason other",
    "ChannelRenamed": "actor old new reason",
    "Wallops": "actor text",
    "MarkerMoved": "target time owner key forgotten by quiet",
    # by added within version 1 (always-on users between nodes): read without it.
    "NodeLost": "prefix reason by",
    "RegistrationChanged": "actor key record new",
    "AccountDropped": "account_id name",
    "AccountRegistered": "name",
    "AttemptCounted": "throttle step keys node time",
    "AddressCounted": "node block count time",
    "BansChanged": "ban lifted",
    # Added within version 1: a node that does not know it skips it and logs an error
    # (the forced Quit that follows still disconnects the user).
    "Banned": "victim reason",
    "MetadataChanged": "actor target shown changes channel account_id loaded",
    # Devices of one user on several nodes, added within version 1 too: a node that
    # does not know them skips them (a node of an earlier build has no devices of users
    # of other nodes, and keeps a user whose home's last device left until it quits).
    "DeviceAttached": "user node",
    "DeviceDetached": "user node reason",
    # Always-on users between nodes, added within version 1 too.
    "Kept": "user on absent left multiclient always_on",
    # The records inside facts.
    "Actor": "nick username host realname account bot id",
    "ModeChange": "adding mode param",
    "MessagePart": "text concat",
    "MetadataValue": "key value",
}


def test_the_fields_of_version_1_are_unchanged() -> None:
    assert VERSION == 1
    written = {kind.__name__: " ".join(written_fields(kind)) for kind in FACTS}
    for record in (Actor, ModeChange, MessagePart, MetadataValue):
        written[record.__name__] = " ".join(f.name for f in dataclasses.fields(record) if f.init)
    assert written == VERSION_1_FIELDS


def test_a_notice_that_is_never_published_is_not_encoded() -> None:
    with pytest.raises(CodecError, match="does not travel"):
        encode(MonitoredOffline("bob"), "n")


@pytest.mark.parametrize(
    "fact",
    [
        TopicChanged(ALICE, "#a", "t", float("nan")),
        TopicChanged(ALICE, "#a", "t", float("inf")),
        TopicChanged(ALICE, "#a", "lone \ud800 surrogate"),
    ],
    ids=["nan", "infinity", "lone-surrogate"],
)
def test_a_value_json_or_utf8_cannot_carry_is_refused_when_encoded(fact: Fact) -> None:
    with pytest.raises(CodecError, match="cannot be written"):
        encode(fact, "n")


# -- property tests --------------------------------------------------------------------

# What the core's text can hold: anything but NUL and lone surrogates.
_text = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\0"))
_time = st.floats(allow_nan=False, allow_infinity=False)
_actors = st.builds(
    Actor,
    _text,
    _text,
    _text,
    _text,
    st.none() | _text,
    st.booleans(),
    id=_text,
)
_modes = st.lists(st.builds(ModeChange, st.booleans(), _text, st.none() | _text)).map(tuple)
# The strategy for each annotation of events.py (which defers them: they are strings).
_BY_ANNOTATION: dict[str, st.SearchStrategy[typing.Any]] = {
    "Actor": _actors,
    "Actor | None": st.none() | _actors,
    "str": _text,
    "Key": _text,
    "str | None": st.none() | _text,
    "Key | None": st.none() | _text,
    "bool": st.booleans(),
    "bool | None": st.none() | st.booleans(),
    "int": st.integers(),
    "float": _time,
    "float | None": st.none() | _time,
    "MessageKind": st.sampled_from(MessageKind),
    "Mapping[str, str]": st.dictionaries(_text, _text).map(MappingProxyType),
    "tuple[MessagePart, ...]": st.lists(st.builds(MessagePart, _text, st.booleans())).map(tuple),
    "tuple[ModeChange, ...]": _modes,
    "tuple[MetadataValue, ...]": st.lists(st.builds(MetadataValue, _text, st.none() | _text)).map(
        tuple
    ),
    "tuple[str, ...]": st.lists(_text).map(tuple),
}


def _facts_of(kind: type[Fact]) -> st.SearchStrategy[Fact]:
    """Facts of ``kind`` with every field drawn, its defaulted ones too."""
    annotations = {
        name: str(getattr(annotation, "__forward_arg__", annotation))
        for name, annotation in kind.__annotations__.items()
    }
    fields = {name: _BY_ANNOTATION[annotation] for name, annotation in annotations.items()}
    builds: Callable[..., st.SearchStrategy[Fact]] = st.builds
    return builds(kind, **fields)


_facts = st.one_of([_facts_of(kind) for kind in FACTS])


@given(_facts, _text.filter(bool))
def test_any_fact_the_core_can_hold_comes_back_exactly(fact: Fact, origin: str) -> None:
    round_trip(fact, origin)


def _decodes_or_refuses(data: bytes) -> None:
    try:
        fact, origin = decode(data)
    except CodecError:
        return
    # Accepted: then it is a whole fact, which encodes again.
    assert type(fact) in FACTS
    decode(encode(fact, origin))


@given(st.binary(max_size=400))
def test_any_bytes_are_a_fact_or_refused(data: bytes) -> None:
    _decodes_or_refuses(data)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=10,
)


@settings(max_examples=300)
@given(st.sampled_from(SAMPLES), st.data())
def test_a_fact_with_any_value_put_in_it_is_a_fact_or_refused(
    fact: Fact, data: st.DataObject
) -> None:
    document = json.loads(encode(fact, "n"))
    # Walk down to a random object or array inside, and put any JSON value in its place
    # or beside what it holds.
    node: typing.Any = document
    while True:
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        if not keys:
            break
        key = data.draw(st.sampled_from(keys))
        if not isinstance(node[key], dict | list) or data.draw(st.booleans()):
            break
        node = node[key]
    if isinstance(node, dict):
        node[data.draw(st.sampled_from([*node, "extra"]))] = data.draw(_json)
    elif node:
        node[data.draw(st.integers(0, len(node) - 1))] = data.draw(_json)
    else:
        node.append(data.draw(_json))
    _decodes_or_refuses(json.dumps(document).encode())


@given(st.sampled_from(SAMPLES), st.data())
def test_a_fact_with_its_bytes_damaged_is_a_fact_or_refused(
    fact: Fact, data: st.DataObject
) -> None:
    encoded = bytearray(encode(fact, "n"))
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(0, len(encoded) - 1))
        encoded[position] = data.draw(st.integers(0, 255))
    _decodes_or_refuses(bytes(encoded))


# -- hostile input ---------------------------------------------------------------------


def _sample(kind: type[Fact]) -> Fact:
    return next(fact for fact in SAMPLES if type(fact) is kind)


def _changed(fact: Fact, path: tuple[str | int, ...], value: object) -> bytes:
    """The bytes of ``fact`` with ``value`` put at ``path``: the name of one of its
    fields, then indexes (or keys) inside it; ``...`` as the value removes that item."""
    document = json.loads(encode(fact, "n"))
    field, *inside = path
    node = document[3]
    key: str | int = written_fields(type(fact)).index(str(field))
    for step in inside:
        node, key = node[key], step
    if value is ...:
        del node[key]
    elif isinstance(node, list) and key == len(node):
        node.append(value)
    else:
        node[key] = value
    # As encode writes it; NUL comes out escaped, and so does a lone surrogate (which
    # json.dumps leaves as it is) by the backslash escape of UTF-8, which is JSON's.
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    return text.encode("utf-8", "backslashreplace")


_PARTED = Parted(ALICE, "#a", "bye")
_PARTED_TEXT = encode(_PARTED, "n").decode()


def _parted_with(old: str, new: str) -> bytes:
    assert old in _PARTED_TEXT
    return _PARTED_TEXT.replace(old, new, 1).encode()


def _parted_document(*items: object) -> bytes:
    return json.dumps(list(items)).encode()


_ACTOR = json.loads(_PARTED_TEXT)[3][0]


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"", "not JSON"),
        (b"[", "not JSON"),
        (b"[1][1]", "not JSON"),
        (b"\xff\xfe[]", "not JSON"),
        # A surrogate encoded in UTF-8 (which json.loads of bytes lets through).
        (_PARTED_TEXT.encode().replace(b'"bye"', b'"\xed\xa0\x80"'), "not JSON"),
        (b"[" * MAX_BYTES + b"]" * MAX_BYTES, "bytes, more than"),
        (b"[" * 50_000 + b"]" * 50_000, "not JSON"),
        (b"x" * (MAX_BYTES + 1), "bytes, more than"),
        (b"{}", "not an array of a version and a fact"),
        (b"null", "not an array"),
        (b"[]", "not an array"),
        (_parted_document(2, {"a": "fact shaped otherwise"}), "version 2, not 1"),
        (_parted_document("1", "n", "Parted", []), "version '1'"),
        (_parted_document(True, "n", "Parted", []), "version True"),
        (_parted_document(1.0, "n", "Parted", []), "version 1.0"),
        (_parted_document(None, "n", "Parted", []), "version None"),
        (_parted_document(1, "n", "Parted"), "3 items, not"),
        (_parted_document(1, "n", "Parted", [_ACTOR, "#a", "bye"], 0), "5 items, not"),
        (_parted_document(1, "n", "Departed", []), "no fact is called 'Departed'"),
        (_parted_document(1, "n", "MonitoredOffline", ["bob"]), "no fact is called"),
        (_parted_document(1, "n", ["Parted"], []), r"no fact is called \['Parted'\]"),
        (_parted_document(1, "n", "x" * 1000, []), "no fact is called 'xxxxx.*[.][.][.]$"),
        (_parted_document(1, "", "Parted", [_ACTOR, "#a", "bye"]), "origin '', not a node"),
        (_parted_document(1, 7, "Parted", [_ACTOR, "#a", "bye"]), "origin 7, not a node"),
        (_parted_document(1, "n\0", "Parted", [_ACTOR, "#a", "bye"]), "NUL or a surrogate"),
        (_parted_document(1, "n", "Parted", {"reason": "bye"}), "Parted: not an array"),
        (_parted_document(1, "n", "Parted", [_ACTOR, "#a"]), "Parted: 2 fields, not 3"),
        (_parted_document(1, "n", "Parted", [_ACTOR, "#a", "bye", ""]), "Parted: 4 fields"),
        (_changed(_PARTED, ("reason",), None), "Parted.reason: not a string"),
        (_changed(_PARTED, ("reason",), ["bye"]), "Parted.reason: not a string"),
        (_changed(_PARTED, ("reason",), [[[]]] * 3), "Parted.reason: not a string"),
        (_changed(_PARTED, ("actor", 0), 7), "Parted.actor: Actor.nick: not a string"),
        (_changed(_PARTED, ("actor", 5), 0), "Actor.bot: not true or false"),
        (_changed(_PARTED, ("actor", 5), "no"), "Actor.bot: not true or false"),
        (_changed(_PARTED, ("actor", 6), ...), "Actor: 6 fields, not 7"),
        (_changed(_PARTED, ("actor", 7), "alice!~alice@host"), "Actor: 8 fields, not 7"),
        (_changed(_PARTED, ("actor",), {"nick": "alice"}), "Parted.actor: Actor: not an array"),
        (_changed(_PARTED, ("reason",), "a\0b"), "NUL or a surrogate"),
        (_changed(_PARTED, ("reason",), "\ud800"), "NUL or a surrogate"),
        (_changed(_PARTED, ("reason",), "\udfff\ud800"), "NUL or a surrogate"),
        # A pair is a character, but encode writes it as it is, never escaped.
        (_parted_with('"bye"', '"\\ud83d\\ude00"'), "NUL or a surrogate"),
        (_changed(_PARTED, ("actor", 0), "\udbff"), "NUL or a surrogate"),
        # An escaped backslash, then an escaped NUL.
        (_parted_with('"bye"', '"\\\\\\u0000"'), "NUL or a surrogate"),
        (_parted_with('"bye"', '"\\U0000"'), "not JSON"),
    ],
)
def test_malformed_data_is_refused_with_codec_error(data: bytes, why: str) -> None:
    with pytest.raises(CodecError, match=why):
        decode(data)


_TOPIC_TEXT = encode(TopicChanged(ALICE, "#a", "t", 1.5), "n").decode()
# The time, then an empty msgid and no history (the fields after it).
_TIME_AT_END = ',1.5,"",[]]]'


@pytest.mark.parametrize(
    ("time", "why"),
    [
        ('"1.5"', "TopicChanged.time: not a number"),
        ("true", "not a number"),
        ("null", "not a number"),
        ("NaN", "not JSON: NaN is not a number JSON has"),
        ("-Infinity", "not JSON: -Infinity"),
        ("1e999", "not a finite number"),
        ("9" * 400, "not a float"),
        ("9" * 5000, "not JSON"),
    ],
)
def test_a_time_that_is_not_a_finite_number_is_refused(time: str, why: str) -> None:
    assert _TOPIC_TEXT.endswith(_TIME_AT_END)
    with pytest.raises(CodecError, match=why):
        decode(_TOPIC_TEXT.replace(_TIME_AT_END, _TIME_AT_END.replace("1.5", time)).encode())


def test_a_whole_number_is_a_time() -> None:
    fact, _ = decode(_TOPIC_TEXT.replace(_TIME_AT_END, _TIME_AT_END.replace("1.5", "2")).encode())
    assert isinstance(fact, TopicChanged)
    assert fact.time == 2.0
    assert type(fact.time) is float


_MESSAGE = SAMPLES[1]


@pytest.mark.parametrize(
    ("path", "value", "why"),
    [
        (("kind",), "SHOUT", "MessagePosted.kind: not a MessageKind"),
        (("kind",), "notice", "not a MessageKind"),
        (("kind",), 2, "MessagePosted.kind: not a string"),
        (("tags", "+n"), 1, r"MessagePosted.tags: '\+n': not a string"),
        (("tags", "+n"), None, r"MessagePosted.tags: '\+n': not a string"),
        (("tags", "+n"), "a\0", "NUL or a surrogate"),
        (("tags",), [["+n", "a"]], "MessagePosted.tags: not an object"),
        (("parts", 0), 7, r"MessagePosted.parts: \[0\]: MessagePart: not an array"),
        (("parts", 1, 1), 1, r"parts: \[1\]: MessagePart.concat: not true or false"),
        (("parts", 1, 2), "x", r"MessagePart: 3 fields, not 2"),
        (("parts",), {"0": ["a", False]}, "MessagePosted.parts: not an array"),
        (("kept_as",), {}, "MessagePosted.kept_as: not an array"),
        (("kept_as", 0), None, r"MessagePosted.kept_as: \[0\]: not a string"),
        (("kept_as",), "#a", "MessagePosted.kept_as: not an array"),
        (("time",), "now", "MessagePosted.time: not a number"),
    ],
)
def test_a_message_with_a_field_of_the_wrong_kind_is_refused(
    path: tuple[str | int, ...], value: object, why: str
) -> None:
    with pytest.raises(CodecError, match=why):
        decode(_changed(_MESSAGE, path, value))


@pytest.mark.parametrize(
    ("path", "value", "why"),
    [
        (("changes", 0, 2), 7, r"changes: \[0\]: ModeChange.param: not a string"),
        (("changes", 0, 0), "+", "ModeChange.adding: not true or false"),
        (("changes", 0), {"adding": True}, r"\[0\]: ModeChange: not an array"),
        (("time",), None, "ChannelModeChanged.time: not a number"),
    ],
)
def test_modes_of_the_wrong_shape_are_refused(
    path: tuple[str | int, ...], value: object, why: str
) -> None:
    with pytest.raises(CodecError, match=why):
        decode(_changed(_sample(ChannelModeChanged), path, value))


def test_a_topic_written_before_it_had_a_msgid_still_reads() -> None:
    # As a node of an earlier release wrote it into the log: four fields.
    older = b'[1,"n","TopicChanged",[["a","b","c","",null,false,""],"#a","news",1.5]]'
    fact, _ = decode(older)
    assert isinstance(fact, TopicChanged)
    assert (fact.topic, fact.msgid, fact.kept_as) == ("news", "", ())
    with pytest.raises(CodecError, match="3 fields"):
        decode(older.replace(b",1.5]]", b"]]"))
