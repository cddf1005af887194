"""The K-line index (probe 23): masks whose host starts with a wildcard are found by a
piece of them, not tried in turn; IPv6 host globs match the address however it is
written; and the index finds exactly what a naive matcher does."""

from __future__ import annotations

import ipaddress
import random
import re

import pytest

from hubbub.core.ban_masks import MaskTest
from hubbub.core.server_bans import (
    BadBan,
    BanKind,
    ServerBan,
    ServerBans,
    ban_facts,
    mask_key,
    network_of,
)
from tests.core.world import World

NOW = 1_000_000.0


def kline(mask: str) -> ServerBan:
    key, label = mask_key(mask)
    return ServerBan(BanKind.MASK, key, label, "r", "op", NOW)


def dline(text: str) -> ServerBan:
    network = str(network_of(text))
    return ServerBan(BanKind.ADDRESS, network, network, "r", "op", NOW)


@pytest.fixture
def tried(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The masks each check tries with its matcher, in order."""
    calls: list[str] = []
    real = MaskTest.__call__

    def counted(self: MaskTest, username: str, host: str) -> bool:
        calls.append(username)
        return real(self, username, host)

    monkeypatch.setattr(MaskTest, "__call__", counted)
    return calls


def test_user_only_klines_are_looked_up_not_tried_in_turn(tried: list[str]) -> None:
    book = ServerBans(clock=lambda: NOW)
    for k in range(20_000):
        book.add(kline(f"*spam{k}x*@*"))
        book.add(kline(f"~bot{k}@*"))
        book.add(kline(f"*@*.{100 + k // 250}.{k % 250}"))
    assert book.user_ban("~innocent", "198.51.100.250", None) is None
    assert len(tried) < 20
    tried.clear()
    found = book.user_ban("~aspam1234xb", "198.51.100.250", None)
    assert found is not None
    assert found.label == "*spam1234x*@*"
    bot = book.user_ban("~bot777", "2001:db8::1", None)
    assert bot is not None
    assert bot.label == "~bot777@*"
    by_host = book.user_ban("~x", "10.0.104.9", None)
    assert by_host is not None
    assert by_host.label == "*@*.104.9"
    assert len(tried) < 60
    # Taken out, a mask is found no more, and the others still are.
    book.remove(BanKind.MASK, "~bot777@*")
    assert book.user_ban("~bot777", "2001:db8::1", None) is None
    assert book.user_ban("~bot778", "2001:db8::1", None) is not None


@pytest.mark.parametrize(
    "mask",
    [
        "~v6victim@0:0:0:0:0:0:0:*",
        "~v6victim@0000:*",
        "~v6victim@::*",
        "~v6victim@0:0:0:0:0:0:0:1",
        "~v6?ictim@0*:0001",
    ],
)
def test_an_ipv6_glob_matches_the_address_however_it_is_written(mask: str) -> None:
    book = ServerBans(clock=lambda: NOW)
    ban = kline(mask)
    book.add(ban)
    assert book.user_ban("~v6victim", "::1", None) == ban
    assert book.user_ban("~v6victim", "2001:db8::1", None) is None
    # Whoever is online is disconnected by the same test.
    victim, _ = World().add("v6victim")
    victim.username, victim.host = "~v6victim", "::1"
    assert len(ban_facts(ban, [victim])) == 2


@pytest.mark.parametrize(
    "mask", ["*@2001:0db8:*", "*@2001:db8:0:0:*", "*@2001:db8::*", "*@*:0db8:0000:*"]
)
def test_a_network_glob_in_any_form_covers_its_addresses(mask: str) -> None:
    book = ServerBans(clock=lambda: NOW)
    book.add(kline(mask))
    assert book.user_ban("~x", "2001:db8::5", None) is not None
    assert book.user_ban("~x", "2001:db9::5", None) is None


# A naive matcher to compare the index with: every ban tried, globs as regular
# expressions, an IPv6 host in its three written forms.


def _pattern(glob: str) -> re.Pattern[str]:
    return re.compile("".join({"*": ".*", "?": "."}.get(c, re.escape(c)) for c in glob))


def _forms(host: str) -> set[str]:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return {host.lower()}
    if address.version == 4:
        return {host}
    full = ":".join(group.lstrip("0") or "0" for group in address.exploded.split(":"))
    return {host.lower(), str(address), address.exploded, full}


def _naive(bans: dict[tuple[BanKind, str], ServerBan], username: str, host: str) -> bool:
    address = ipaddress.ip_address(host)
    for ban in bans.values():
        if ban.kind is BanKind.ADDRESS:
            if address in ipaddress.ip_network(ban.mask):
                return True
            continue
        user_glob, _, host_glob = ban.mask.rpartition("@")
        if not _pattern(user_glob).fullmatch(username.lower()):
            continue
        if "/" in host_glob:
            if address in ipaddress.ip_network(host_glob):
                return True
        elif "*" not in host_glob and "?" not in host_glob:
            if address == ipaddress.ip_address(host_glob):
                return True
        elif any(_pattern(host_glob).fullmatch(form) for form in _forms(host)):
            return True
    return False


def _host(rnd: random.Random) -> str:
    if rnd.random() < 0.5:
        return f"10.{rnd.randint(0, 2)}.{rnd.randint(0, 12)}.{rnd.randint(0, 12)}"
    groups = [rnd.choice(["0", "0", "db8", "1", "a0"]) for _ in range(8)]
    return str(ipaddress.ip_address(":".join(groups)))


def _username(rnd: random.Random) -> str:
    return rnd.choice(["~", ""]) + "".join(rnd.choice("abs0") for _ in range(rnd.randint(1, 7)))


def _blur(rnd: random.Random, text: str) -> str:
    """A glob some of whose text is wildcards: cut ends, ``?`` for characters."""
    chars = [("?" if rnd.random() < 0.15 else c) for c in text]
    cut = rnd.random()
    if cut < 0.3:
        chars = [*chars[: rnd.randint(0, len(chars))], "*"]
    elif cut < 0.6:
        chars = ["*", *chars[rnd.randint(0, len(chars)) :]]
    elif cut < 0.8:
        start = rnd.randint(0, len(chars))
        chars = ["*", *chars[start : rnd.randint(start, len(chars))], "*"]
    return "".join(chars)


def _mask(rnd: random.Random) -> ServerBan:
    host = _host(rnd)
    if rnd.random() < 0.1:
        return dline(f"{host}/{24 if '.' in host else 64}")
    user = _blur(rnd, _username(rnd)) if rnd.random() < 0.8 else "*"
    kind = rnd.random()
    if kind < 0.15:
        host_glob = host
    elif kind < 0.25:
        host_glob = f"{host}/{24 if '.' in host else 64}"
    else:
        host_glob = _blur(rnd, rnd.choice(sorted(_forms(host))))
    return kline(f"{user}@{host_glob}")


@pytest.mark.parametrize("seed", range(4))
def test_the_index_finds_what_a_naive_matcher_finds(seed: int) -> None:
    rnd = random.Random(seed)
    book = ServerBans(clock=lambda: NOW)
    held: dict[tuple[BanKind, str], ServerBan] = {}
    mismatches = []
    for _ in range(1200):
        step = rnd.random()
        if step < 0.4:
            try:
                ban = _mask(rnd)
            except BadBan:
                continue
            book.add(ban)
            held[ban.kind, ban.mask] = ban
        elif step < 0.5 and held:
            key = rnd.choice(sorted(held))
            assert book.remove(*key) == held.pop(key)
        else:
            username, host = _username(rnd), _host(rnd)
            found = book.user_ban(username, host, None)
            if (found is not None) != _naive(held, username, host):
                mismatches.append((username, host, found))
            if found is not None:
                assert (found.kind, found.mask) in held
    assert mismatches == []
