"""Message catalogs (gettext) for human-facing text, and a small ``msgfmt``.

Catalogs live in ``hubbub/doors/plain/locale/<lang>/LC_MESSAGES/hubbub.po`` with their compiled
``.mo`` beside them. After editing a ``.po`` file, run ``python -m hubbub.doors.plain.i18n`` to
compile it again; a test checks that every ``.mo`` matches its ``.po``.
"""

from __future__ import annotations

import ast
import gettext
import struct
from pathlib import Path

DOMAIN = "hubbub"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"


def translations(language: str | None) -> gettext.NullTranslations:
    """The catalog for ``language``, or, when None, for the environment's language as
    gettext chooses it (LANGUAGE, LC_ALL, LC_MESSAGES, LANG); English when none fits."""
    languages = [language] if language else None
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=languages, fallback=True)


def available() -> list[str]:
    return sorted(p.parent.parent.name for p in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.mo"))


def parse_po(text: str) -> dict[str, str]:
    """The msgid → msgstr pairs of a ``.po`` file (no plurals or contexts: none are used)."""
    entries: dict[str, str] = {}
    msgid: list[str] | None = None
    msgstr: list[str] | None = None
    current: list[str] | None = None

    def flush() -> None:
        if msgid is not None and msgstr is not None:
            entries["".join(msgid)] = "".join(msgstr)

    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("msgid "):
            flush()
            msgid, msgstr = [ast.literal_eval(line[6:])], None
            current = msgid
        elif line.startswith("msgstr "):
            msgstr = [ast.literal_eval(line[7:])]
            current = msgstr
        elif line.startswith('"') and current is not None:
            current.append(ast.literal_eval(line))
    flush()
    return entries


def compile_po(entries: dict[str, str]) -> bytes:
    """The GNU ``.mo`` encoding of a catalog (the format ``gettext`` reads)."""
    keys = sorted(entries)
    ids = [k.encode() for k in keys]
    strs = [entries[k].encode() for k in keys]
    count = len(keys)
    header = 7 * 4
    ids_table = header
    strs_table = ids_table + count * 8
    data_start = strs_table + count * 8
    id_offsets: list[tuple[int, int]] = []
    blob = b""
    for item in ids:
        id_offsets.append((len(item), data_start + len(blob)))
        blob += item + b"\0"
    str_offsets: list[tuple[int, int]] = []
    for item in strs:
        str_offsets.append((len(item), data_start + len(blob)))
        blob += item + b"\0"
    out = struct.pack("<7I", 0x950412DE, 0, count, ids_table, strs_table, 0, 0)
    out += b"".join(struct.pack("<2I", *pair) for pair in id_offsets)
    out += b"".join(struct.pack("<2I", *pair) for pair in str_offsets)
    return out + blob


def compile_all() -> list[Path]:
    """Compile every catalog; return the ``.mo`` files written."""
    written = []
    for po in sorted(LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        mo = po.with_suffix(".mo")
        mo.write_bytes(compile_po(parse_po(po.read_text(encoding="utf-8"))))
        written.append(mo)
    return written


if __name__ == "__main__":
    for path in compile_all():
        print(path)  # noqa: T201
