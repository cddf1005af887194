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

from hubbub.cluster.codec import FACTS, MAX_BYTES, VERSION, CodecError, decode, encode
from hubbub.core.events import (
    AccountChanged,
    Actor,
    AwayChanged,
    ChannelModeChanged,
    ChannelRenamed,
    Fact,
    Invited,
    Joined,
    Kicked,
    Killed,
    MarkerMoved,
    MessageKind,
    MessagePart,
    MessagePosted,
    MessageRedacted,
    MonitoredOffline,
    MonitoredOnline,
    NickChanged,
    Parted,
    Quit,
    RealnameChanged,
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
            '{"v":1,"o":"n1","t":"MessagePosted","f":{"actor":{"nick":"alice","username":"~alice",'
            '"host":"203.0.113.7","realname":"Alice Liddell","account":"alice","bot":false,'
            '"id":"5f3a9c01.1"},"target":"#a","text":"hi ☕","kind":"PRIVMSG","status":"",'
            '"tags":{},"time":0.1,"msgid":"m1","parts":[],"to":"#a","kept_as":[]}}'
        ).encode()
    )


# Each fact's fields as version 1 writes them. A change to a fact's fields changes the
# format: raise codec.VERSION with it (a node of the old version must refuse the new).
VERSION_1_FIELDS = {
    "MessagePosted": "actor target text kind status tags time msgid parts to kept_as",
    "UserArrived": "actor signon secure account_id",
    "Joined": "actor channel status created incarnation",
    "Parted": "actor channel reason",
    "Kicked": "actor channel nick reason victim",
    "Quit": "actor reason forced",
    "Killed": "actor nick reason victim",
    "NickChanged": "actor nick",
    "TopicChanged": "actor channel topic time",
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
}


def test_the_fields_of_version_1_are_unchanged() -> None:
    assert VERSION == 1
    written: dict[str, str] = {}
    for sample in SAMPLES:
        document = json.loads(encode(sample, "n"))
        written[document["t"]] = " ".join(document["f"])
    assert written == VERSION_1_FIELDS
    actor = json.loads(encode(Parted(ALICE, "#a", ""), "n"))["f"]["actor"]
    assert list(actor) == ["nick", "username", "host", "realname", "account", "bot", "id"]


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
    "str": _text,
    "Key": _text,
    "str | None": st.none() | _text,
    "Key | None": st.none() | _text,
    "bool": st.booleans(),
    "float": _time,
    "float | None": st.none() | _time,
    "MessageKind": st.sampled_from(MessageKind),
    "Mapping[str, str]": st.dictionaries(_text, _text).map(MappingProxyType),
    "tuple[MessagePart, ...]": st.lists(st.builds(MessagePart, _text, st.booleans())).map(tuple),
    "tuple[ModeChange, ...]": _modes,
    "tuple[str, ...]": st.lists(_text).map(tuple),
}


def _facts_of(kind: type[Fact]) -> st.SearchStrategy[Fact]:
    """Facts of ``kind`` with every field drawn, its defaulted ones too."""
    annotations = {
        name: str(getattr(annotation, "__forward_arg__", annotation))
        for name, annotation in kind.__annotations__.items()
        if name != "mask"
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

_PARTED = encode(Parted(ALICE, "#a", "bye"), "n").decode()


def _parted_with(old: str, new: str) -> bytes:
    assert old in _PARTED
    return _PARTED.replace(old, new, 1).encode()


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"", "not JSON"),
        (b"{", "not JSON"),
        (b'{"v":1}{"v":1}', "not JSON"),
        (b"\xff\xfe{}", "not JSON"),
        # A surrogate encoded in UTF-8 (which json.loads of bytes lets through).
        (_PARTED.encode().replace(b'"bye"', b'"\xed\xa0\x80"'), "not JSON"),
        (b"[" * MAX_BYTES + b"]" * MAX_BYTES, "bytes, more than"),
        (b"[" * 50_000 + b"]" * 50_000, "not JSON"),
        (b"x" * (MAX_BYTES + 1), "bytes, more than"),
        (b"[1]", "not an object"),
        (b"null", "not an object"),
        (_parted_with('"v":1', '"v":2').replace(b',"f":', b',"g":'), "version 2"),
        (_parted_with('"v":1', '"v":"1"'), "version '1'"),
        (_parted_with('"v":1', '"v":true'), "version True"),
        (_parted_with('"v":1', '"v":1.0'), "version 1.0"),
        (_parted_with('"v":1,', ""), "version None"),
        (_parted_with('"o":"n",', '"o":"n","x":0,'), "fields"),
        (_parted_with('"o":"n",', ""), "fields"),
        (_parted_with('"t":"Parted"', '"t":"Departed"'), "no fact is called 'Departed'"),
        (_parted_with('"t":"Parted"', '"t":"MonitoredOffline"'), "no fact is called"),
        (_parted_with('"t":"Parted"', '"t":["Parted"]'), "no fact is called"),
        (_parted_with('"o":"n"', '"o":""'), "origin '', not a node's name"),
        (_parted_with('"o":"n"', '"o":7'), "origin 7, not"),
        (_parted_with('"o":"n"', '"o":"n\\u0000"'), "NUL or a surrogate"),
        (json.dumps({"v": 1, "o": "n", "t": "Parted", "f": ["x"]}).encode(), "not an object"),
        (_parted_with(',"reason":"bye"', ""), r"missing \['reason'\], extra \[\]"),
        (_parted_with('"reason":"bye"', '"reason":"bye","why":"bye"'), r"extra \['why'\]"),
        (_parted_with('"reason":"bye"', '"why":"bye"'), r"missing \['reason'\], extra \['why'\]"),
        (_parted_with('"reason":"bye"', '"reason":null'), "Parted.reason: not a string"),
        (_parted_with('"reason":"bye"', '"reason":["bye"]'), "Parted.reason: not a string"),
        (_parted_with('"nick":"alice"', '"nick":7'), "Parted.actor: Actor.nick: not a string"),
        (_parted_with('"bot":false', '"bot":0'), "Actor.bot: not true or false"),
        (_parted_with('"bot":false', '"bot":"no"'), "Actor.bot: not true or false"),
        (_parted_with(',"id":"5f3a9c01.1"', ""), r"Actor: fields missing \['id'\]"),
        (_parted_with('"id":"5f3a9c01.1"', '"id":"x","mask":"a!b@c"'), r"extra \['mask'\]"),
        (_parted_with('"reason":"bye"', '"reason":"a\\u0000b"'), "NUL or a surrogate"),
        (_parted_with('"reason":"bye"', '"reason":"\\\\\\u0000"'), "NUL or a surrogate"),
        (_parted_with('"reason":"bye"', '"reason":"\\ud800"'), "NUL or a surrogate"),
        (_parted_with('"reason":"bye"', '"reason":"\\udfff\\ud800"'), "NUL or a surrogate"),
        # A pair is a character, but encode writes it as it is, never escaped.
        (_parted_with('"reason":"bye"', '"reason":"\\ud83d\\ude00"'), "NUL or a surrogate"),
        (_parted_with('"nick":"alice"', '"nick":"\\uDBFF"'), "NUL or a surrogate"),
        (_parted_with('"bye"', '"bye","\\u0000":0'), "NUL or a surrogate"),
        (_parted_with('"reason":"bye"', '"reason":' + "[" * 500 + "]" * 500), "not a string"),
    ],
)
def test_malformed_data_is_refused_with_codec_error(data: bytes, why: str) -> None:
    with pytest.raises(CodecError, match=why):
        decode(data)


_TOPIC = encode(TopicChanged(ALICE, "#a", "t", 1.5), "n").decode()
_MESSAGE = encode(SAMPLES[1], "n").decode()


@pytest.mark.parametrize(
    ("old", "new", "why"),
    [
        ('"time":1.5', '"time":"1.5"', "TopicChanged.time: not a number"),
        ('"time":1.5', '"time":true', "not a number"),
        ('"time":1.5', '"time":null', "not a number"),
        ('"time":1.5', '"time":NaN', "not JSON: NaN is not a number JSON has"),
        ('"time":1.5', '"time":-Infinity', "not JSON: -Infinity"),
        ('"time":1.5', '"time":1e999', "not a finite number"),
        ('"time":1.5', '"time":' + "9" * 400, "not a float"),
        ('"time":1.5', '"time":' + "9" * 5000, "not JSON"),
    ],
)
def test_a_time_that_is_not_a_finite_number_is_refused(old: str, new: str, why: str) -> None:
    assert old in _TOPIC
    with pytest.raises(CodecError, match=why):
        decode(_TOPIC.replace(old, new).encode())


def test_a_whole_number_is_a_time() -> None:
    fact, _ = decode(_TOPIC.replace('"time":1.5', '"time":2').encode())
    assert isinstance(fact, TopicChanged)
    assert fact.time == 2.0
    assert type(fact.time) is float


@pytest.mark.parametrize(
    ("old", "new", "why"),
    [
        ('"kind":"NOTICE"', '"kind":"SHOUT"', "MessagePosted.kind: not a MessageKind"),
        ('"kind":"NOTICE"', '"kind":"notice"', "not a MessageKind"),
        ('"kind":"NOTICE"', '"kind":2', "MessagePosted.kind: not a string"),
        ('"tags":{', '"tags":{"+n":1,', r"MessagePosted.tags: '\+n': not a string"),
        ('"tags":{', '"tags":{"+n":null,', r"MessagePosted.tags: '\+n': not a string"),
        ('"tags":{', '"tags":{"+n":"a\\u0000",', "NUL or a surrogate"),
        ('"tags":{', '"tags":[{', "not JSON"),
        ('"parts":[', '"parts":[7,', r"MessagePosted.parts: \[0\]: MessagePart: not an object"),
        ('"concat":true', '"concat":1', r"parts: \[1\]: MessagePart.concat: not true or false"),
        ('"concat":true', '"concat":true,"x":1', r"MessagePart: fields missing \[\], extra"),
        ('"parts":[', '"parts":{"a":', "not JSON"),
        ('"kept_as":[]', '"kept_as":{}', "MessagePosted.kept_as: not an array"),
        ('"kept_as":[]', '"kept_as":[null]', r"MessagePosted.kept_as: \[0\]: not a string"),
        ('"kept_as":[]', '"kept_as":"#a"', "MessagePosted.kept_as: not an array"),
    ],
)
def test_a_message_with_a_field_of_the_wrong_kind_is_refused(old: str, new: str, why: str) -> None:
    assert old in _MESSAGE
    with pytest.raises(CodecError, match=why):
        decode(_MESSAGE.replace(old, new, 1).encode())


def test_modes_of_the_wrong_shape_are_refused() -> None:
    (modes,) = (fact for fact in SAMPLES if isinstance(fact, ChannelModeChanged))
    data = encode(modes, "n").decode()
    for old, new, why in [
        ('"param":"bob"', '"param":7', r"changes: \[0\]: ModeChange.param: not a string"),
        ('"adding":true', '"adding":"+"', r"ModeChange.adding: not true or false"),
        ('"changes":[', '"changes":[[true,"o","bob"],', r"\[0\]: ModeChange: not an object"),
    ]:
        with pytest.raises(CodecError, match=why):
            decode(data.replace(old, new, 1).encode())
