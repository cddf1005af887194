"""Making server text safe to show, and the text helpers."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from hubbub.client.text import MAX_SHOWN, clean, mentions, nick_colour, split_utf8

CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def test_escape_sequences_and_irc_formatting_are_removed() -> None:
    hostile = (
        "\x1b[2J\x1b[H\x1b]0;title\x07\x1b[31mred\x1b[0m \x0304,01colour\x03 \x02bold\x02"
        " \x07bell\x08\x7f \x9b31mend\x1bc \u202eevil\t!"
    )
    assert clean(hostile) == "red colour bold bell end evil !"


@given(st.text())
def test_clean_never_leaves_a_control_character(text: str) -> None:
    cleaned = clean(text)
    assert not CONTROL.search(cleaned)
    assert len(cleaned) <= MAX_SHOWN + 1


def test_ordinary_text_is_unchanged() -> None:
    assert clean("héllo, мир 👋") == "héllo, мир 👋"


@given(st.text(), st.integers(min_value=4, max_value=50))
def test_split_utf8_keeps_every_word_within_the_limit(text: str, limit: int) -> None:
    pieces = split_utf8(text, limit)
    assert all(len(piece.encode()) <= limit for piece in pieces)
    assert "".join(pieces).replace(" ", "") == text.replace(" ", "")


def test_mentions_match_whole_nicks_in_any_case() -> None:
    assert mentions("hey Anna, look", "anna")
    assert mentions("anna: hi", "anna")
    assert not mentions("annabel is here", "anna")
    assert not mentions("hi", "")


def test_nick_colours_are_stable() -> None:
    assert nick_colour("anna") == nick_colour("ANNA")
    assert len({nick_colour(f"user{i}") for i in range(50)}) > 5
