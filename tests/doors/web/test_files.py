"""The web client's files: which path names which file, and the answer's fields."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from websockets.datastructures import Headers

from hubbub.doors.web.files import Reply, StaticFiles, accepts_gzip, matches

PAGE = b"<!doctype html><title>hubbub</title>\n" * 20


@pytest.fixture
def files(tmp_path: Path) -> StaticFiles:
    root = tmp_path / "web"
    (root / "lib").mkdir(parents=True)
    (root / "index.html").write_bytes(PAGE)
    (root / "app.js").write_bytes(b"export const x = 1;\n" * 30)
    (root / "app.3f2a9c1e.js").write_bytes(b"export const y = 2;\n")
    (root / "lib" / "irc.js").write_bytes(b"export const irc = 3;\n")
    (root / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    (root / "README.md").write_bytes(b"not served\n")
    (root / ".env").write_bytes(b"SECRET=1\n")
    (root / ".git").mkdir()
    (root / ".git" / "config.json").write_bytes(b"{}")
    (tmp_path / "secret.js").write_bytes(b"outside\n")
    (root / "link.js").symlink_to(tmp_path / "secret.js")
    (root / "inside.js").symlink_to(root / "lib" / "irc.js")
    return StaticFiles(root)


def answer(
    files: StaticFiles, target: str, *fields: tuple[str, str], method: str = "GET"
) -> Reply:
    return files.answer(method, target, Headers(list(fields)))


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("index.html", "text/html; charset=utf-8"),
        ("app.js", "text/javascript; charset=utf-8"),
        ("style.css", "text/css; charset=utf-8"),
        ("icon.svg", "image/svg+xml"),
        ("logo.png", "image/png"),
        ("data.json", "application/json"),
        ("site.webmanifest", "application/manifest+json"),
        ("font.woff2", "font/woff2"),
    ],
)
def test_each_kind_of_file_has_its_content_type(
    files: StaticFiles, name: str, content_type: str
) -> None:
    (files.root / name).write_bytes(b"x")
    reply = answer(files, f"/{name}")
    assert reply.status == 200
    assert dict(reply.headers)["Content-Type"] == content_type


def test_the_root_is_index_html(files: StaticFiles) -> None:
    reply = answer(files, "/")
    assert (reply.status, reply.body) == (200, PAGE)


def test_a_file_in_a_subfolder_is_served(files: StaticFiles) -> None:
    assert answer(files, "/lib/irc.js").body == b"export const irc = 3;\n"


@pytest.mark.parametrize(
    "target",
    [
        "/../secret.js",
        "/lib/../../secret.js",
        "/%2e%2e/secret.js",
        "/%2E%2E%2Fsecret.js",
        "/lib/..%2F..%2Fsecret.js",
        "/lib%5C..%5C..%5Csecret.js",
        "/./index.html",
        "//index.html",
        "/lib/",
        "/lib",
        "/link.js",
        "/.env",
        "/.git/config.json",
        "/README.md",
        "/index.html%00.js",
        "/%ff.js",
        "http://example.org/index.html",
        "*",
        "/missing.js",
    ],
)
def test_paths_outside_the_folder_hidden_unknown_or_missing_are_404(
    files: StaticFiles, target: str
) -> None:
    reply = answer(files, target)
    assert reply.status == 404
    assert b"outside" not in reply.body


def test_a_symbolic_link_inside_the_folder_is_followed(files: StaticFiles) -> None:
    assert answer(files, "/inside.js").status == 200


def test_index_html_is_revalidated_each_time_with_its_etag(files: StaticFiles) -> None:
    fields = dict(answer(files, "/index.html").headers)
    assert fields["Cache-Control"] == "no-cache"
    etag = fields["ETag"]
    again = answer(files, "/index.html", ("If-None-Match", etag))
    assert (again.status, again.body) == (304, b"")
    assert dict(again.headers)["ETag"] == etag


def test_a_changed_file_gets_a_new_etag_and_a_full_answer(files: StaticFiles) -> None:
    etag = dict(answer(files, "/app.js").headers)["ETag"]
    (files.root / "app.js").write_bytes(b"export const x = 2; // changed, and longer\n")
    reply = answer(files, "/app.js", ("If-None-Match", etag))
    assert reply.status == 200
    assert dict(reply.headers)["ETag"] != etag
    assert reply.body.startswith(b"export const x = 2;")


def test_a_hashed_name_or_a_version_query_is_immutable(files: StaticFiles) -> None:
    for target in ("/app.3f2a9c1e.js", "/app.js?v=3f2a9c1e", "/lib/irc.js?x=1&v=2"):
        cache = dict(answer(files, target).headers)["Cache-Control"]
        assert cache == "public, max-age=31536000, immutable", target
    assert dict(answer(files, "/app.js").headers)["Cache-Control"] == "no-cache"


def test_text_is_gzipped_for_a_client_that_accepts_it(files: StaticFiles) -> None:
    plain = answer(files, "/index.html")
    packed = answer(files, "/index.html", ("Accept-Encoding", "gzip, deflate, br"))
    fields = dict(packed.headers)
    assert fields["Content-Encoding"] == "gzip"
    assert fields["Vary"] == "Accept-Encoding"
    assert gzip.decompress(packed.body) == PAGE
    assert (
        fields["Content-Length"] == str(len(packed.body)) != dict(plain.headers)["Content-Length"]
    )
    # Each representation has its own validator.
    assert fields["ETag"] != dict(plain.headers)["ETag"]
    assert "Content-Encoding" not in dict(plain.headers)


def test_images_are_never_gzipped(files: StaticFiles) -> None:
    fields = dict(answer(files, "/logo.png", ("Accept-Encoding", "gzip")).headers)
    assert "Content-Encoding" not in fields
    assert "Vary" not in fields


def test_head_has_the_fields_of_get_and_no_body(files: StaticFiles) -> None:
    get = answer(files, "/app.js")
    head = answer(files, "/app.js", method="HEAD")
    assert head.headers == get.headers
    assert head.body == b""


@pytest.mark.parametrize(
    ("header", "accepted"),
    [
        (None, False),
        ("", False),
        ("gzip", True),
        ("deflate, gzip;q=0.5", True),
        ("GZIP", True),
        ("gzip;q=0", False),
        ("gzip;q=0.0", False),
        ("*", True),
        ("br", False),
        ("gzip;q=nonsense", False),
    ],
)
def test_accept_encoding(header: str | None, accepted: bool) -> None:
    assert accepts_gzip(header) is accepted


@pytest.mark.parametrize(
    ("header", "matched"),
    [
        ('"abc"', True),
        ('W/"abc"', True),
        ('"x", "abc"', True),
        ("*", True),
        ('"abcd"', False),
        ("abc", False),
        (None, False),
    ],
)
def test_if_none_match(header: str | None, matched: bool) -> None:
    assert matches(header, '"abc"') is matched


def test_a_field_sent_twice_is_read_as_one_list(files: StaticFiles) -> None:
    etag = dict(answer(files, "/app.js").headers)["ETag"]
    reply = answer(files, "/app.js", ("If-None-Match", '"other"'), ("If-None-Match", etag))
    assert reply.status == 304
