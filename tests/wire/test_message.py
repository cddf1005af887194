"""IRC message parsing and encoding: public vectors and properties."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from parser_tests import data as vectors

from hubbub.wire.errors import InvalidUtf8, MalformedMessage, ProtocolError
from hubbub.wire.message import (
    Message,
    encode,
    escape_tag_value,
    fit_line,
    parse,
    unescape_tag_value,
)


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


# -- fitting a line to 512 bytes ---------------------------------------------------------------

MASK = ":" + "ж" * 30 + "!~" + "u" * 18 + "@" + "h" * 63


def _bytes(line: str) -> int:
    """A line's length as the limit counts it: CRLF in, tags out."""
    data = line.encode()
    if data.startswith(b"@"):
        data = data.split(b" ", 1)[1]
    return len(data) + 2


@pytest.mark.parametrize("letter", ["a", "ж", "日", "😀"])
def test_a_long_trailing_parameter_is_cut_on_a_character_boundary(letter: str) -> None:
    line = f"{MASK} TOPIC #chan :{letter * 600}"
    fitted = fit_line(line)
    assert line.startswith(fitted)
    assert 512 - len(letter.encode()) < _bytes(fitted) <= 512
    assert parse(fitted.encode()).params == ("#chan", letter * (len(fitted) - len(line) + 600))


def test_a_line_that_fits_is_left_alone() -> None:
    assert fit_line(f"{MASK} QUIT :bye") == f"{MASK} QUIT :bye"
    assert fit_line(f"{MASK} JOIN #{'ж' * 150}") == f"{MASK} JOIN #{'ж' * 150}"


def test_a_line_too_long_without_a_trailing_parameter_has_its_longest_one_cut() -> None:
    fitted = fit_line(f"{MASK} JOIN #{'ж' * 300}")
    assert 510 < _bytes(fitted) <= 512
    assert fitted == f"{MASK} JOIN #{'ж' * ((512 - 2 - len(MASK.encode()) - 7) // 2)}"


def test_tags_do_not_count_and_are_kept() -> None:
    tags = "@time=2026-01-01T00:00:00.000Z;msgid=" + "x" * 400
    fitted = fit_line(f"{tags} {MASK} PART #chan :{'y' * 600}")
    assert fitted.startswith(tags + " " + MASK)
    assert _bytes(fitted) == 512


def test_middle_parameters_that_fill_the_line_are_cut_and_the_trailing_one_kept() -> None:
    # A client's long word echoed back before the description (ERR_NOSUCHNICK): the
    # longest parameters are cut to one length, the description stays whole.
    fitted = fit_line(f":irc.test 401 nick {'é' * 250} {'x' * 240} :No such nick/channel")
    assert 508 < _bytes(fitted) <= 512
    params = parse(fitted.encode()).params
    assert params[0] == "nick"
    assert params[-1] == "No such nick/channel"
    assert "é" * 120 > params[1] > "é" * 110, params[1]
    assert "x" * 240 > params[2] > "x" * 220, params[2]


def test_a_trailing_parameter_too_long_to_keep_beside_cut_middles_is_left_empty() -> None:
    fitted = fit_line(f"{MASK} KICK #{'ж' * 250} nick :{'r' * 600}")
    assert 510 < _bytes(fitted) <= 512
    channel, nick, reason = parse(fitted.encode()).params
    assert (nick, reason) == ("nick", "")
    assert channel.startswith("#жжж")


def test_a_line_whose_source_and_command_fill_it_is_left_alone() -> None:
    line = f":{'s' * 600} PING x :y"
    assert fit_line(line) == line


def test_a_colon_inside_the_source_or_a_middle_parameter_is_not_the_trailing_one() -> None:
    fitted = fit_line(f":a:b!u@h KICK #c:d nick :{'z' * 600}", 100)
    assert fitted.startswith(":a:b!u@h KICK #c:d nick :zz")
    assert _bytes(fitted) == 100


def test_encode_fits_the_line_when_given_a_length() -> None:
    message = Message("332", ("nick", "#chan", "ж" * 400), "irc.test")
    assert len(encode(message)) > 512
    fitted = encode(message, 512)
    assert len(fitted) == 512
    assert fitted.endswith(b"\r\n")
    assert parse(fitted.rstrip(b"\r\n")).params[-1] == "ж" * 242
    # A line that fits is encoded as without a length; one that does not has its last
    # parameter made a trailing one (it had no space), to be cut.
    assert encode(Message("AWAY", ("gone",), "n!u@h"), 512) == b":n!u@h AWAY gone\r\n"
    cut = encode(Message("AWAY", ("x" * 600,), "n!u@h"), 512)
    assert cut == b":n!u@h AWAY :" + b"x" * (510 - len(":n!u@h AWAY :")) + b"\r\n"


# Lines come from decoded UTF-8: no surrogates.
_target = st.text(
    st.characters(exclude_categories=["Cs"], exclude_characters=" :\r\n\0"), max_size=300
)
_said = st.text(st.characters(exclude_categories=["Cs"]), max_size=300)


@given(_target, _said, st.integers(100, 600))
def test_a_fitted_line_is_the_line_itself_or_within_the_length(
    target: str, trailing: str, length: int
) -> None:
    line = f":n!u@h PRIVMSG #{target} :{trailing}"
    fitted = fit_line(line, length)
    if _bytes(line) <= length:
        assert fitted == line
    else:
        assert _bytes(fitted) <= length
        # Each parameter is a beginning of what it was; the trailing one may be empty.
        before, after = parse(line.encode()).params, parse(fitted.encode()).params
        assert len(after) == len(before)
        assert after[0]
        assert before[0].startswith(after[0])
        assert before[1].startswith(after[1])


@given(messages(), st.integers(200, 600))
def test_any_message_encoded_with_a_line_length_fits_it(message: Message, length: int) -> None:
    # Server-made lines: a source and command that fit, with room for each parameter.
    source = None if message.source is None else message.source[:20]
    message = Message(message.command, message.params, source, message.tags)
    encoded = encode(message, length)
    body = encoded.split(b" ", 1)[1] if encoded.startswith(b"@") else encoded
    assert len(body) <= length
    decoded = parse(encoded[:-2])
    assert decoded.tags == message.tags
    assert decoded.source == message.source
    assert len(decoded.params) == len(message.params)
    for cut, whole in zip(decoded.params, message.params, strict=True):
        assert whole.startswith(cut)
