"""The client's modules without a server conversation: lib/irc.js (lines, tags, case
mapping, formatting codes, splitting), lib/sasl.js (SCRAM-SHA-256 against RFC 7677's
example) and ui/text.js (which text becomes a link), run in the browser itself."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import Page

from hubbub.server import Server
from tests.web.support import Pages, browser_test, page_url

pytestmark = browser_test


@pytest.fixture
async def page(server: Server, pages: Pages) -> Page:
    return await pages.open(page_url(server))


async def run(page: Page, module: str, body: str, arg: Any = None) -> Any:
    """Evaluates ``body`` (an async function of ``m``, the module, and ``arg``)."""
    script = f"async arg => {{ const m = await import('/{module}'); return ({body})(m, arg); }}"
    return await page.evaluate(script, arg)


PARSED = [
    (
        "@time=2024-01-01T00:00:00.000Z;msgid=abc :anna!a@host PRIVMSG #room :hi there",
        {
            "tags": {"time": "2024-01-01T00:00:00.000Z", "msgid": "abc"},
            "prefix": {"name": "anna", "user": "a", "host": "host"},
            "command": "PRIVMSG",
            "params": ["#room", "hi there"],
        },
    ),
    (
        r"@+typing=active;a=x\:y\sz\\w\n :s 001 me :",
        {
            "tags": {"+typing": "active", "a": "x;y z\\w\n"},
            "prefix": {"name": "s", "user": None, "host": None},
            "command": "001",
            "params": ["me", ""],
        },
    ),
    (
        "ping   :::x",
        {"tags": {}, "prefix": None, "command": "PING", "params": ["::x"]},
    ),
]


async def test_lines_parse_into_tags_prefix_command_and_params(page: Page) -> None:
    lines = [line for line, _ in PARSED]
    parsed = await run(page, "lib/irc.js", "(m, lines) => lines.map(m.parseMessage)", lines)
    assert parsed == [expected for _, expected in PARSED]


async def test_lines_without_a_command_parse_to_nothing(page: Page) -> None:
    lines = ["", "   ", "@a=b", ":prefix", "@a=b :prefix"]
    parsed = await run(page, "lib/irc.js", "(m, lines) => lines.map(m.parseMessage)", lines)
    assert parsed == [None] * len(lines)


async def test_formatted_lines_parse_back_to_the_same_message(page: Page) -> None:
    body = """(m) => [
        m.formatMessage({
            tags: {"+typing": "active", label: "a b;c\\\\"}, command: "TAGMSG", params: ["#r"],
        }),
        m.formatMessage({command: "PRIVMSG", params: ["#r", ":)"]}),
        m.formatMessage({command: "PRIVMSG", params: ["#r", ""]}),
        m.formatMessage({command: "PRIVMSG", params: ["#r", "one"]}),
        m.parseMessage(m.formatMessage({
            tags: {x: "a b;c\\\\"}, command: "X", params: ["a", "b c"],
        })),
    ]"""
    assert await run(page, "lib/irc.js", body) == [
        r"@+typing=active;label=a\sb\:c\\ TAGMSG #r",
        "PRIVMSG #r ::)",
        "PRIVMSG #r :",
        "PRIVMSG #r one",
        {"tags": {"x": "a b;c\\"}, "prefix": None, "command": "X", "params": ["a", "b c"]},
    ]


async def test_case_mappings_fold_names_as_the_server_says(page: Page) -> None:
    body = """(m) => [
        m.caseMapping("rfc1459")("Nick[]\\\\~"), m.caseMapping("ascii")("Nick[]"),
        m.caseMapping("rfc8265")("АННА"),
    ]"""
    assert await run(page, "lib/irc.js", body) == ["nick{}|^", "nick[]", "анна"]


async def test_formatting_codes_become_runs_of_style(page: Page) -> None:
    runs = await run(page, "lib/irc.js", "(m) => m.formatRuns('a\\x02b\\x0304,1c\\x0fd\\x01')")
    assert [(r["text"], r["bold"], r["fg"], r["bg"]) for r in runs] == [
        ("a", False, None, None),
        ("b", True, None, None),
        ("c", True, 4, 1),
        ("d", False, None, None),
    ]


async def test_long_text_is_split_at_spaces_within_the_byte_limit(page: Page) -> None:
    pieces = await run(page, "lib/irc.js", "(m) => m.splitText('ёж '.repeat(100), 50)")
    assert all(len(p.encode()) <= 50 for p in pieces)
    assert " ".join(pieces).split() == ["ёж"] * 100


async def test_scram_sha_256_matches_rfc_7677(page: Page) -> None:
    # RFC 7677 section 3: user "user", password "pencil".
    body = """async (m) => {
        const dec = new TextDecoder(), enc = new TextEncoder();
        const scram = new m.Scram("user", "pencil", "rOprNGfwEbeRWgbNEkqO");
        const first = dec.decode(await scram.step(new Uint8Array(0)));
        const final = dec.decode(await scram.step(enc.encode(
            "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")));
        const done = await scram.step(
            enc.encode("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="));
        let refused = null;
        const bad = new m.Scram("user", "pencil", "rOprNGfwEbeRWgbNEkqO");
        await bad.step(new Uint8Array(0));
        await bad.step(enc.encode(
            "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"));
        try { await bad.step(enc.encode("v=AAAA")); } catch (e) { refused = e.message; }
        return [first, final, done.length, refused];
    }"""
    assert await run(page, "lib/sasl.js", body) == [
        "n,,n=user,r=rOprNGfwEbeRWgbNEkqO",
        "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
        "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
        0,
        "SCRAM: the server's signature is wrong",
    ]


LINKS = [
    ("see https://example.org/a.", ["https://example.org/a"]),
    ("(https://en.wikipedia.org/wiki/Foo_(bar))", ["https://en.wikipedia.org/wiki/Foo_(bar)"]),
    (
        "www.example.org and http://x.test:8080/?q=1#f",
        ["www.example.org", "http://x.test:8080/?q=1#f"],
    ),
    ("javascript:alert(1) data:text/html,x vbscript:y file:///etc/passwd", []),
    ("https://exa mple.org", ["https://exa"]),
]


async def test_only_http_and_https_urls_become_links(page: Page) -> None:
    body = """(m, texts) => texts.map(text => m.linkify(text)
        .filter(x => typeof x !== "string").map(a => [a.textContent, a.protocol]))"""
    found = await run(page, "ui/text.js", body, [text for text, _ in LINKS])
    assert [[link for link, _ in links] for links in found] == [links for _, links in LINKS]
    protocols = {protocol for links in found for _, protocol in links}
    assert protocols == {"http:", "https:"}
