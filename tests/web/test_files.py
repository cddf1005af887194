"""The web client's files as shipped, read without a browser: within the first-load
budget, no way for text to become HTML, nothing inline that the Content-Security-Policy
would refuse, and every module that is imported exists."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pytest

import hubbub

WEB = Path(hubbub.__file__).parent / "web"
SCRIPTS = sorted(WEB.rglob("*.js"))
# The budget: a first load of at most 200 KB transferred, everything included.
BUDGET = 200_000


def test_the_whole_client_gzipped_is_within_the_first_load_budget() -> None:
    files = [path for path in WEB.rglob("*") if path.is_file()]
    total = sum(len(gzip.compress(path.read_bytes(), 9)) for path in files)
    assert total <= BUDGET, f"{total} bytes compressed"


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: str(p.relative_to(WEB)))
def test_no_script_makes_html_from_strings_or_code_from_text(path: Path) -> None:
    source = path.read_text()
    for pattern in (
        r"\.innerHTML",
        r"\.outerHTML",
        r"insertAdjacentHTML",
        r"document\.write",
        r"\beval\(",
        r"new Function\(",
        r"setAttribute\(\s*[\"']style",
        r"createContextualFragment",
    ):
        assert not re.search(pattern, source), f"{path.name}: {pattern}"


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: str(p.relative_to(WEB)))
def test_no_module_is_longer_than_500_lines(path: Path) -> None:
    assert len(path.read_text().splitlines()) <= 500


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: str(p.relative_to(WEB)))
def test_every_imported_module_exists(path: Path) -> None:
    for target in re.findall(r"^import .* from \"(\.[^\"]+)\";$", path.read_text(), re.M):
        assert (path.parent / target).resolve().is_file(), f"{path.name} imports {target}"


def test_the_page_has_no_inline_script_or_style_and_names_files_that_exist() -> None:
    page = (WEB / "index.html").read_text()
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)
    assert "<style" not in page
    assert not re.search(r"\sstyle=", page)
    assert not re.search(r"\son[a-z]+=", page)
    for name in re.findall(r'(?:src|href)="([^"#:]+)"', page):
        assert (WEB / name).is_file(), name
