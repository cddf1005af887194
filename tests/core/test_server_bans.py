"""The server ban list's matching (issue 17, probe 22): one check costs the same with
thousands of bans, each kind of host is matched by what it is, and an IPv4 client seen
through a dual-stack socket is the IPv4 address it is."""

from __future__ import annotations

import pytest

from hubbub.core.server_bans import (
    BadBan,
    BanKind,
    ServerBan,
    ServerBans,
    mask_key,
    network_of,
    reason_of,
)

NOW = 1_000_000.0


def kline(mask: str, expires: float | None = None) -> ServerBan:
    key, label = mask_key(mask)
    return ServerBan(BanKind.MASK, key, label, "r", "op", NOW, expires)


def dline(text: str, expires: float | None = None) -> ServerBan:
    network = str(network_of(text))
    return ServerBan(BanKind.ADDRESS, network, network, "r", "op", NOW, expires)


def held(*bans: ServerBan) -> ServerBans:
    book = ServerBans(clock=lambda: NOW)
    for ban in bans:
        book.add(ban)
    return book


def test_thousands_of_bans_are_each_found_and_others_left_alone() -> None:
    bans = [kline(f"*spam{k}*@10.{k // 250}.{k % 250}.*") for k in range(3000)]
    bans += [kline(f"*@192.0.{k // 250}.{k % 250}") for k in range(3000)]
    bans += [dline(f"198.{18 + k // 250}.{k % 250}.0/24") for k in range(3000)]
    book = held(*bans)
    assert len(book) == 9000
    assert book.user_ban("~spam1234x", "10.4.234.9", None) == bans[1234]
    assert book.user_ban("~alice", "10.4.234.9", None) is None
    assert book.user_ban("~anyone", "192.0.11.99", None) == bans[3000 + 2849]
    assert book.user_ban("~anyone", "198.28.249.77", None) == bans[6000 + 2749]
    assert book.address_ban("198.30.0.1") is None
    # A mask whose host starts with a wildcard, and one on a network, are found too.
    anywhere, network = kline("~spammer@*"), kline("*bot*@2001:db8:1::/48")
    book.add(anywhere)
    book.add(network)
    assert book.user_ban("~spammer", "203.0.113.50", None) == anywhere
    assert book.user_ban("~mybot", "2001:db8:1:2::3", None) == network
    assert book.user_ban("~mybot", "2001:db8:2::3", None) is None
    # Taken out one by one, each stops matching and the rest still do.
    for ban in bans[6000:6500]:
        assert book.remove(ban.kind, ban.mask) == ban
    assert book.address_ban("198.18.1.1") is None
    assert book.address_ban("198.20.1.1") == bans[6000 + 501]


def test_an_ipv4_client_seen_as_ipv6_is_the_ipv4_address() -> None:
    book = held(dline("203.0.113.0/24"), kline("*@198.51.100.7"))
    assert book.address_ban("::ffff:203.0.113.9") is not None
    assert book.user_ban("~x", "::ffff:198.51.100.7", None) is not None
    assert book.user_ban("~x", "0::ffff:c633:6407", None) is not None
    # A D-line written in the IPv6 form is the IPv4 network, and held to its width.
    assert str(network_of("::ffff:203.0.113.0/120")) == "203.0.113.0/24"
    with pytest.raises(BadBan, match="too wide: /16"):
        network_of("::ffff:0.0.0.0/96")


def test_an_address_is_matched_whatever_its_spelling() -> None:
    _, label = mask_key("*@2001:DB8:0:0::1")
    assert label == "*@2001:db8::1"
    book = held(kline("*@2001:db8:0000::1"))
    assert book.user_ban("~x", "2001:db8::1", None) is not None
    assert book.user_ban("~x", "2001:db8::2", None) is None


@pytest.mark.parametrize("mask", ["*@*.example.org", "*@localhost", "bob@host-1.isp.net"])
def test_a_host_name_is_refused_as_it_would_match_no_one(mask: str) -> None:
    with pytest.raises(BadBan, match="no host names are looked up"):
        mask_key(mask)


def test_a_wildcard_mask_matches_without_backtracking() -> None:
    # As a regular expression, *a*a*...*b against a long run of a took exponential time.
    book = held(kline("*" + "a*" * 40 + "b@10.0.0.*"))
    assert book.user_ban("a" * 150, "10.0.0.1", None) is None
    assert book.user_ban("a" * 60 + "b", "10.0.0.1", None) is not None


def test_an_ended_ban_matches_no_more() -> None:
    book = held(kline("*@192.0.2.1", expires=NOW - 1), dline("192.0.2.0/24", expires=NOW - 1))
    assert book.user_ban("~x", "192.0.2.1", None) is None
    assert {ban.kind for ban in book.expired()} == {BanKind.MASK, BanKind.ADDRESS}


def test_a_reason_keeps_no_control_characters() -> None:
    assert reason_of("spam\x1b[2J\x07 and\r\nmore\u202e") == "spam[2J and more"
