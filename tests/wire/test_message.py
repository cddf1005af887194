"""IRC message parsing and encoding: public vectors and properties."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from parser_tests import data as vectors

from hubbub.wire.errors import InvalidUtf8, MalformedMessage, ProtocolError
from hubbub.wire.message import Message, encode, escape_tag_value, parse, unescape_tag_value


def _split_cases() -> list[dict[str, Any]]:
    return list(vectors.msg_split["tests"])


def _join_cases() -> list[dict[str, Any]]:
    return list(vectors.msg_join["tests"])


@pytest.mark.parametrize("case", _split_cases(), ids=lambda c: c["input"][:40])
def test_parse_matches_the_public_msg_split_vectors(case: dict[str, Any]) -> None:
    atoms = case["atoms"]
    message = parse(case["input"].encode())
    assert message.tags == (atoms.get("tags") or {})
    assert message.source == atoms.get("source")
    # The vectors keep the verb's case; commands are upper-cased here, as servers do.
    assert message.command == atoms["verb"].upper()
    assert list(message.params) == atoms.get("params", [])


@pytest.mark.parametrize("case", _join_cases(), ids=lambda c: c.get("desc", "")[:40])
def test_encode_produces_a_line_from_the_public_msg_join_vectors(case: dict[str, Any]) -> None:
    atoms = case["atoms"]
    message = Message(
        atoms["verb"],
        tuple(atoms.get("params", [])),
        atoms.get("source"),
        atoms.get("tags") or {},
    )
    line = encode(message)
    assert line.endswith(b"\r\n")
    # Equal to one of the accepted spellings, or at least parsing back the same.
    if line[:-2].decode() not in case["matches"]:
        assert parse(line[:-2]) == message


def test_parse_upper_cases_word_commands_and_keeps_numerics() -> None:
    assert parse(b"privmsg #a :hi").command == "PRIVMSG"
    assert parse(b":srv 001 me :hi").command == "001"


def test_parse_collapses_runs_of_spaces_between_params() -> None:
    assert parse(b"WHOIS  coolNick").params == ("coolNick",)


def test_parse_keeps_the_trailing_param_verbatim() -> None:
    assert parse(b"PRIVMSG #a :  two  spaces :colon").params == ("#a", "  two  spaces :colon")


def test_parse_empty_trailing_param_is_an_empty_string() -> None:
    assert parse(b"TOPIC #a :").params == ("#a", "")


@pytest.mark.parametrize("line", [b"", b"   ", b":source", b"@a=b", b"@a=b :src", b":"])
def test_lines_without_a_command_are_empty(line: bytes) -> None:
    with pytest.raises(MalformedMessage):
        parse(line)


def test_nul_bytes_are_malformed() -> None:
    with pytest.raises(MalformedMessage):
        parse(b"PRIVMSG #a :a\x00b")


def test_invalid_utf8_names_the_command() -> None:
    with pytest.raises(InvalidUtf8) as caught:
        parse(b"@t=1 :src privmsg #a :\xff\xfe")
    assert caught.value.command == "PRIVMSG"


def test_tag_values_are_unescaped_and_the_last_duplicate_wins() -> None:
    message = parse(b"@a=1\\s2\\:3\\\\;b;a=x\\ PING x")
    assert message.tags == {"a": "x", "b": ""}
    assert parse(b"@k=\\s\\:\\\\\\r\\n\\q PING x").tags == {"k": " ;\\\r\nq"}


def test_tag_without_a_key_is_malformed() -> None:
    with pytest.raises(MalformedMessage):
        parse(b"@=value PING x")


def test_encode_makes_the_last_param_trailing_only_when_needed() -> None:
    assert encode(Message("PONG", ("srv", "tok"))) == b"PONG srv tok\r\n"
    assert encode(Message("PONG", ("srv", ""))) == b"PONG srv :\r\n"
    assert encode(Message("PRIVMSG", ("#a", "hi there"))) == b"PRIVMSG #a :hi there\r\n"
    assert encode(Message("PRIVMSG", ("#a", ":)"))) == b"PRIVMSG #a ::)\r\n"


# -- properties ------------------------------------------------------------------------

_middle = st.text(
    st.characters(exclude_characters=" \r\n\x00:", exclude_categories=["Cs"]), min_size=1
).filter(lambda s: not s.startswith(":"))
_trailing = st.text(st.characters(exclude_characters="\r\n\x00", exclude_categories=["Cs"]))
_key = st.from_regex(r"\A\+?[a-z][a-z0-9-]{0,10}\Z")
_command = st.from_regex(r"\A([A-Z]{1,10}|[0-9]{3})\Z")


@st.composite
def messages(draw: st.DrawFn) -> Message:
    params = draw(st.lists(_middle, max_size=5))
    if draw(st.booleans()):
        params.append(draw(_trailing))
    tags = draw(st.dictionaries(_key, _trailing, max_size=3))
    source = draw(st.none() | _middle.filter(lambda s: s[0] not in "@!"))
    return Message(draw(_command), tuple(params), source, tags)


@given(messages())
def test_parse_of_encode_is_identity(message: Message) -> None:
    assert parse(encode(message)[:-2]) == message


@given(st.binary(max_size=600))
def test_any_bytes_parse_or_raise_protocol_error(data: bytes) -> None:
    try:
        message = parse(data)
    except ProtocolError:
        return
    assert message.command


@given(_trailing)
def test_tag_escaping_round_trips(value: str) -> None:
    escaped = escape_tag_value(value)
    assert " " not in escaped
    assert ";" not in escaped
    assert unescape_tag_value(escaped) == value
