"""Probe 21: letters whose capital is drawn unlike the small letter it folds to (Ə and
ə, Ɓ and ɓ): two spellings of one nick must never be held by two users, in either
order, and the nick stays usable after."""

from __future__ import annotations

import unicodedata

import pytest

from hubbub.wire import numerics as n
from hubbub.wire.casemap import Casemap, Casemapping
from hubbub.wire.errors import InvalidName
from tests.helpers import Harness

CASEMAP = Casemap(Casemapping.PRECIS)
SUFFIX = "li"


def _split_letters() -> list[tuple[str, str]]:
    """(small, capital) pairs whose capital's skeleton is not its folded form's."""
    pairs = []
    for code in range(0x80, 0x2C00):
        capital = chr(code)
        if unicodedata.category(capital) != "Lu":
            continue
        nick = capital + SUFFIX
        small = CASEMAP.fold(nick)[:1]
        if small == capital.lower() and CASEMAP.skeleton(nick) != CASEMAP.skeleton(
            CASEMAP.fold(nick)
        ):
            try:
                CASEMAP.check_nick(nick)
                CASEMAP.check_nick(small + SUFFIX)
            except InvalidName:
                continue
            pairs.append((small, capital))
    return pairs


SPLIT = _split_letters()


def test_the_scan_finds_the_letters_the_probe_found() -> None:
    found = {capital for _, capital in SPLIT}
    assert "Ə" in found, sorted(found)
    # The hooked ones are their plain letter in either case now.
    plain = {"Ɓ": "b", "ɓ": "b", "Ɗ": "d", "ɗ": "d", "Ƙ": "k", "ƙ": "k"}
    for letter, latin in plain.items():
        assert CASEMAP.skeleton(letter + SUFFIX) == CASEMAP.skeleton(latin + SUFFIX)


@pytest.mark.parametrize(("small", "capital"), SPLIT, ids=lambda c: f"U+{ord(c):04X}")
def test_two_spellings_of_one_nick_are_one_nick(small: str, capital: str) -> None:
    for first, second in ((small, capital), (capital, small)):
        harness = Harness()
        holder = harness.register(first + SUFFIX)
        bystander = harness.register("bystander")
        squatter = harness.client()
        squatter.send(f"NICK {second}{SUFFIX}")
        squatter.send("USER s 0 * :s")
        assert n.ERR_NICKNAMEINUSE in squatter.numerics()
        assert not squatter.session.registered
        # A message to either spelling reaches the one who holds it.
        bystander.send(f"PRIVMSG {second}{SUFFIX} :for you")
        got = holder.take()
        assert [m.params[-1] for m in got if m.command == "PRIVMSG"] == ["for you"]
        # And the nick goes and comes back whole.
        holder.send("NICK elsewhere")
        assert [m.command for m in holder.take()] == ["NICK"]
        squatter.send(f"NICK {second}{SUFFIX}")
        assert squatter.session.registered, squatter.take()
        bystander.send("QUIT")
