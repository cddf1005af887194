"""Making text safe for a terminal, and cutting it into pieces that fit an IRC line."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hubbub.doors.plain.text import clean, split_text, terminal_bytes
from tests.doors.plain.support import TERMINAL_CONTROL

# Bidirectional embeddings, overrides, isolates and marks; line and paragraph separators.
REORDERING = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u2028\u2029"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain text", "plain text"),
        ("\x1b[31mred\x1b[0m", "red"),
        ("\x1b[2J\x1b[1;1Hhome", "home"),
        ("\x1b]0;title\x07after", "after"),
        ("\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\", "link"),
        ("\x9b31mc1", "c1"),
        ("\x0304,01colour\x03", "colour"),
        ("\x04ff0000hex\x04", "hex"),
        ("\x02b\x1du\x1fi\x16r\x0f", "buir"),
        ("bell\x07 nul\x00 del\x7f", "bell nul del"),
        ("tab\there", "tab here"),
        ("Привет 👋 漢字", "Привет 👋 漢字"),
        ("\ud800surrogate", "surrogate"),
        ("\u202egnp.exe\u202c", "gnp.exe"),
        ("\u2067\u05e9\u05dc\u05d5\u05dd\u2069 ok", "\u05e9\u05dc\u05d5\u05dd ok"),
        ("a\u200fb\u200ec\u061cd", "abcd"),
        ("one\u2028two\u2029three", "onetwothree"),
        # An escape sequence left open loses its escape, not the text after it.
        ("\x1b]0;title", "0;title"),
    ],
)
def test_clean_removes_escapes_colours_and_controls(text: str, expected: str) -> None:
    assert clean(text) == expected


@given(st.text())
def test_clean_never_leaves_a_terminal_control_byte(text: str) -> None:
    cleaned = clean(text)
    assert "\n" not in cleaned
    assert TERMINAL_CONTROL.search(cleaned.encode()) is None


@given(st.text())
def test_clean_never_leaves_a_character_that_reorders_a_line(text: str) -> None:
    assert not set(clean(text)) & set(REORDERING)


@given(st.text(st.sampled_from(REORDERING + "ab\x1b\x07")))
def test_clean_removes_every_reordering_character_however_they_are_mixed(text: str) -> None:
    assert set(clean(text)) <= set("ab")


def test_the_letters_of_right_to_left_scripts_are_kept() -> None:
    assert clean("\u0645\u0631\u062d\u0628\u0627 \u05e9\u05dc\u05d5\u05dd") == (
        "\u0645\u0631\u062d\u0628\u0627 \u05e9\u05dc\u05d5\u05dd"
    )


@given(st.lists(st.text()))
def test_terminal_bytes_sends_each_line_cleaned_on_a_line_of_its_own(lines: list[str]) -> None:
    data = terminal_bytes(lines)
    assert data == "".join(clean(line) + "\n" for line in lines).encode()
    assert data.count(b"\n") == len(lines)
    assert TERMINAL_CONTROL.search(data) is None


def test_an_open_escape_in_one_field_does_not_hide_the_fields_after_it() -> None:
    assert terminal_bytes(["#a\x1b]0; changed the topic: \x1b]0;t\x07x"]) == (
        b"#a0; changed the topic: x\n"
    )


@given(st.text(), st.integers(min_value=8, max_value=600))
def test_split_text_pieces_fit_the_limit_and_keep_every_non_space_character(
    text: str, limit: int
) -> None:
    pieces = split_text(text, limit)
    assert all(0 < len(piece.encode()) <= limit for piece in pieces)
    assert "".join("".join(pieces).split()) == "".join(text.split())


@pytest.mark.parametrize("final", ["c", "7", "8", "=", ">", "M", "(B", "#8"])
def test_clean_leaves_no_escape_character_whatever_follows_it(final: str) -> None:
    assert "\x1b" not in clean(f"a\x1b{final}b")


def test_split_text_prefers_spaces() -> None:
    assert split_text("aaaa bbbb cccc", 10) == ["aaaa bbbb", "cccc"]


def test_split_text_never_cuts_a_character() -> None:
    pieces = split_text("я" * 11, 5)
    assert pieces == ["яя", "яя", "яя", "яя", "яя", "я"]


def test_split_text_of_short_and_empty_text() -> None:
    assert split_text("hi", 400) == ["hi"]
    assert split_text("", 400) == []


@pytest.mark.parametrize(
    "hidden",
    [
        "\U000e0041\U000e0042",  # the tag block: text a reader cannot see
        "\u200b\u200c\u200d\u2060\ufeff",  # zero-width characters
        "\u206e\u206f",  # deprecated shaping controls
        "\ufff9\ufffa\ufffb",  # interlinear annotation
        "\u180e\u00ad",
        "\ue000\U000f0000",  # private use
    ],
)
def test_format_and_private_use_characters_are_removed(hidden: str) -> None:
    assert clean(f"a{hidden}b") == "ab"


def test_stacked_combining_marks_and_long_runs_of_spaces_are_cut() -> None:
    assert clean("x" + "\u0301" * 200 + "y") == "x\u0301\u0301y"
    assert clean(" " * 300 + "opuser: send me your password") == (
        " " * 16 + "opuser: send me your password"
    )
    # Accents as people write them are kept.
    assert clean("café naïve Ё") == "café naïve Ё"
