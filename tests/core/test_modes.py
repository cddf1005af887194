"""Channel and user modes: their kinds, what ISUPPORT says of them, and ban masks."""

from __future__ import annotations

import pytest

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
    ],
)
def test_a_mask_is_completed_to_nick_user_host(mask: str, normal: str) -> None:
    assert normalize_mask(mask) == normal


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
    assert (mask_pattern(mask).fullmatch(subject) is not None) is matches
