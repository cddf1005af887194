"""The message catalogs: compiled, complete, consistent, and chosen like gettext does."""

from __future__ import annotations

import ast
import string
from pathlib import Path

import pytest

from hubbub.doors.plain.context import PlainContext
from hubbub.doors.plain.i18n import (
    DOMAIN,
    LOCALE_DIR,
    available,
    compile_po,
    parse_po,
    translations,
)
from tests.helpers import Harness

SOURCE = Path(__file__).resolve().parents[3] / "src" / "hubbub"
PLAIN_SOURCES = sorted((SOURCE / "doors" / "plain").glob("*.py"))
# The driver and the wiring hand these reasons to ``session.close``, which translates them.
DRIVER_SOURCES = [
    SOURCE / "doors" / "connection.py",
    SOURCE / "doors" / "driver.py",
    SOURCE / "server.py",
]
LANGUAGES = ["en", "ru"]
ENVIRONMENT = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")


def po_files() -> list[Path]:
    return sorted(LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))


def catalog(language: str) -> dict[str, str]:
    path = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    return parse_po(path.read_text(encoding="utf-8"))


def messages(language: str) -> dict[str, str]:
    """The catalog without its header entry."""
    return {k: v for k, v in catalog(language).items() if k}


def strings_in_calls(path: Path, names: set[str]) -> set[str]:
    """String constants among the arguments of calls to functions or methods in ``names``."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        if name not in names:
            continue
        for argument in node.args:
            # ``reason or "Goodbye!"`` counts; an f-string is not a msgid.
            options = argument.values if isinstance(argument, ast.BoolOp) else [argument]
            found.update(
                item.value
                for item in options
                if isinstance(item, ast.Constant) and isinstance(item.value, str)
            )
    return found


def used_msgids() -> set[str]:
    used: set[str] = set()
    for path in PLAIN_SOURCES:
        used |= strings_in_calls(path, {"_"})
    for path in [*PLAIN_SOURCES, *DRIVER_SOURCES]:
        used |= strings_in_calls(path, {"close", "shutdown"})
    return used


def placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


# -- the files -------------------------------------------------------------------------


def test_english_and_russian_catalogs_are_shipped() -> None:
    assert set(LANGUAGES) <= set(available())
    assert [p.parent.parent.name for p in po_files()] == available()


@pytest.mark.parametrize("po", po_files(), ids=lambda p: p.parent.parent.name)
def test_every_mo_file_is_compiled_from_its_po_file(po: Path) -> None:
    expected = compile_po(parse_po(po.read_text(encoding="utf-8")))
    assert po.with_suffix(".mo").read_bytes() == expected, "run: python -m hubbub.doors.plain.i18n"


def test_the_catalogs_have_the_same_msgids() -> None:
    english = set(messages("en"))
    russian = set(messages("ru"))
    assert english - russian == set(), "missing in ru"
    assert russian - english == set(), "missing in en"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_has_a_translation(language: str) -> None:
    assert [msgid for msgid, msgstr in messages(language).items() if not msgstr] == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_msgid_the_plain_door_uses_is_in_the_catalog(language: str) -> None:
    used = used_msgids()
    assert "Enter your name: " in used  # the scan finds the door's strings
    assert "Registration timeout" in used  # and the driver's reasons
    assert sorted(used - set(messages(language))) == []


def test_the_english_catalog_says_what_the_source_says() -> None:
    assert [k for k, v in messages("en").items() if k != v] == []


def test_russian_translations_keep_every_placeholder() -> None:
    russian = messages("ru")
    wrong = {
        msgid: msgstr
        for msgid, msgstr in russian.items()
        if placeholders(msgid) != placeholders(msgstr)
    }
    assert wrong == {}


def test_russian_translations_format_without_errors() -> None:
    for msgid, msgstr in messages("ru").items():
        values = {name: "x" for name in placeholders(msgid)}
        assert msgstr.format(**values)


@pytest.mark.parametrize(
    ("msgid", "russian"),
    [
        ("Enter your name: ", "Введите ваше имя: "),
        ("{name} joined the chat!", "{name} подключился к чату!"),
        ("{name} left.", "{name} отключился."),
    ],
)
def test_russian_wording_is_the_seeds(msgid: str, russian: str) -> None:
    assert translations("ru").gettext(msgid) == russian


def test_the_compiled_catalog_is_what_gettext_reads() -> None:
    for msgid, msgstr in messages("ru").items():
        assert translations("ru").gettext(msgid) == msgstr


# -- choosing the language -------------------------------------------------------------


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.mark.parametrize("variable", ENVIRONMENT)
def test_the_environment_selects_russian_when_no_language_is_set(
    clean_environment: pytest.MonkeyPatch, variable: str
) -> None:
    clean_environment.setenv(variable, "ru_RU.UTF-8")
    assert translations(None).gettext("Enter your name: ") == "Введите ваше имя: "


def test_lang_ru_selects_russian_for_a_plain_context_without_a_language(
    clean_environment: pytest.MonkeyPatch,
) -> None:
    clean_environment.setenv("LANG", "ru_RU.UTF-8")
    ctx = PlainContext(Harness().hub, "#lobby", None)
    assert ctx._("{name} left.") == "{name} отключился."


def test_language_outranks_lang_as_in_gettext(clean_environment: pytest.MonkeyPatch) -> None:
    clean_environment.setenv("LANG", "ru_RU.UTF-8")
    clean_environment.setenv("LANGUAGE", "en")
    assert translations(None).gettext("{name} left.") == "{name} left."


@pytest.mark.parametrize("lang", [None, "C", "C.UTF-8", "POSIX", "de_DE.UTF-8", "xx"])
def test_without_a_known_language_the_door_speaks_english(
    clean_environment: pytest.MonkeyPatch, lang: str | None
) -> None:
    if lang is not None:
        clean_environment.setenv("LANG", lang)
    assert translations(None).gettext("Enter your name: ") == "Enter your name: "


def test_an_explicit_language_outranks_the_environment(
    clean_environment: pytest.MonkeyPatch,
) -> None:
    clean_environment.setenv("LANG", "ru_RU.UTF-8")
    assert translations("en").gettext("{name} left.") == "{name} left."
    clean_environment.setenv("LANG", "en_US.UTF-8")
    assert translations("ru").gettext("{name} left.") == "{name} отключился."
