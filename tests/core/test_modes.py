"""Channel and user modes: their kinds, what ISUPPORT says of them, and ban masks."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hubbub.core.modes import (
    CHANNEL_MODES,
    chanmodes_isupport,
    mask_pattern,
    normalize_mask,
    prefix_isupport,
    statuses_from,
    takes_param,
)


def test_isupport_names_the_modes_by_kind() -> None:
    assert chanmodes_isupport() == "beI,k,l,imnpstC"
    assert prefix_isupport() == "(ov)@+"


@pytest.mark.parametrize(
    ("mode", "adding", "takes"),
    [
        ("b", True, True),
        ("b", False, True),
        ("k", False, True),
        ("l", True, True),
        ("l", False, False),
        ("m", True, False),
        ("o", False, True),
    ],
)
def test_which_changes_consume_a_parameter(mode: str, adding: bool, takes: bool) -> None:
    assert takes_param(mode, adding) is takes


def test_a_status_counts_those_with_it_or_a_higher_one() -> None:
    assert statuses_from("o") == {"o"}
    assert statuses_from("v") == {"o", "v"}
    assert all(m in CHANNEL_MODES for m in statuses_from("v"))


@pytest.mark.parametrize(
    ("mask", "normal"),
    [
        ("bob", "bob!*@*"),
        ("bob@host", "*!bob@host"),
        ("bob!user", "bob!user@*"),
        ("a!b@c", "a!b@c"),
        ("m:bob", "m:bob!*@*"),
        ("m:*!*@host", "m:*!*@host"),
        ("*!*@2001:db8::1", "*!*@2001:db8::1"),
        # Extbans: this server's spelling, and those of other servers (probe 28).
        ("a:bob", "a:bob"),
        ("a:", "a:*"),
        ("$a:bob", "a:bob"),
        ("~a:bob", "a:bob"),
        ("A:bob", "a:bob"),
        ("m:", "m:*!*@*"),
        ("m:a:bob", "m:a:bob"),
        ("~m:bob", "m:bob!*@*"),
    ],
)
def test_a_mask_is_completed_to_nick_user_host(mask: str, normal: str) -> None:
    assert normalize_mask(mask) == normal


@pytest.mark.parametrize("mask", ["x:bob", "$z:bob", "*:*", "m:q:bob"])
def test_an_extban_this_server_does_not_have_is_refused(mask: str) -> None:
    # A nick holds no ":", so such a mask could never match: refused, not kept.
    with pytest.raises(ValueError, match="no extban"):
        normalize_mask(mask)


@pytest.mark.parametrize(
    ("mask", "subject", "matches"),
    [
        ("*!*@host", "bob!u@host", True),
        ("b?b!*@*", "bob!u@h", True),
        ("b?b!*@*", "boob!u@h", False),
        ("a.b!*@*", "axb!u@h", False),
        ("*", "any\nthing", True),
        ("bob!*@*", "bob!u@h.extra", True),
        ("bob!*@h", "bob!u@h.extra", False),
    ],
)
def test_a_mask_matches_whole_names_with_star_and_question_mark_only(
    mask: str, subject: str, matches: bool
) -> None:
    assert mask_pattern(mask).fullmatch(subject) is matches


def _as_regex(mask: str) -> re.Pattern[str]:
    """The mask as the regular expression it used to be compiled to (fnmatch's meaning)."""
    parts = (".*" if c == "*" else "." if c == "?" else re.escape(c) for c in mask)
    return re.compile("".join(parts), re.DOTALL)


@settings(max_examples=2000, deadline=None)
@given(st.text("ab.?*", max_size=8), st.text("ab.\n", max_size=10))
def test_a_mask_matches_as_a_star_and_question_mark_regular_expression_does(
    mask: str, subject: str
) -> None:
    expected = _as_regex(mask).fullmatch(subject) is not None
    assert mask_pattern(mask).fullmatch(subject) is expected


@pytest.mark.parametrize(
    ("mask", "subject", "matches"),
    [
        ("", "", True),
        ("", "a", False),
        ("*", "", True),
        ("?", "", False),
        ("a*", "a", True),
        ("*a", "a", True),
        ("a*a", "a", False),
        ("a*a", "aa", True),
        ("*?*", "", False),
        ("*ab*ab*", "abab", True),
        ("*ab*ab*", "aba", False),
        ("*aab", "aaab", True),
        ("*a?c*", "abxabc", True),
        ("a?b", "a\nb", True),
        ("a.b", "axb", False),
        ("a**b", "ab", True),
    ],
)
def test_a_mask_matches_at_its_edges_and_between_its_stars(
    mask: str, subject: str, matches: bool
) -> None:
    assert mask_pattern(mask).fullmatch(subject) is matches


def test_runs_of_stars_are_one_star() -> None:
    def pieces(mask: str) -> tuple[str, list[str], str | None]:
        glob = mask_pattern(mask)
        tail = glob.tail.text if glob.tail is not None else None
        return glob.head.text, [piece.text for piece in glob.middle], tail

    assert pieces("a***b") == pieces("a*b") == ("a", [], "b")
    assert pieces("**") == pieces("*") == ("", [], "")
    assert pieces("*x**y*") == ("", ["x", "y"], "")


def test_a_mask_of_many_stars_against_a_long_run_is_answered_at_once() -> None:
    # As a regular expression (.*a.*a…b) this backtracked for longer than the test's
    # timeout: 2 ** 40 ways to place the stars.
    hostile = mask_pattern("*a" * 40 + "*b!*@*")
    assert hostile.fullmatch("a" * 5000 + "!~" + "a" * 10 + "@127.0.0.1") is False
    assert hostile.fullmatch("a" * 5000 + "b!u@h") is True
    assert mask_pattern("*?" * 300 + "*x").fullmatch("y" * 5000) is False
