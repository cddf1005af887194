"""What the WebSocket handshake decides: the subprotocol, the origins let in, the
client's address behind a proxy; and the fields every HTTP answer carries."""

from __future__ import annotations

import re
from collections.abc import Sequence

import pytest
from websockets.datastructures import Headers
from websockets.typing import Subprotocol

from hubbub.doors.gate import Gate
from hubbub.doors.web.files import Reply
from hubbub.doors.web.handshake import (
    BadForwarding,
    allowed_origins,
    client_address,
    forwarded_secure,
    response,
    select_subprotocol,
)

PROXY = "10.0.0.1"
OTHER_PROXY = "10.0.0.2"
TRUSTED = Gate(trusted=("10.0.0.0/8",))


@pytest.mark.parametrize(
    ("offered", "chosen"),
    [
        (["binary.ircv3.net"], "binary.ircv3.net"),
        (["text.ircv3.net"], "text.ircv3.net"),
        (["binary.ircv3.net", "text.ircv3.net"], "binary.ircv3.net"),
        (["text.ircv3.net", "binary.ircv3.net"], "text.ircv3.net"),
        (["chat", "text.ircv3.net"], "text.ircv3.net"),
        (["chat"], None),
        ([], None),
    ],
)
def test_the_clients_first_supported_subprotocol_is_chosen(
    offered: list[str], chosen: str | None
) -> None:
    assert select_subprotocol([Subprotocol(s) for s in offered]) == chosen


def test_an_untrusted_peer_is_its_own_address_whatever_it_forwards() -> None:
    headers = Headers([("X-Forwarded-For", "203.0.113.9")])
    assert client_address("198.51.100.7", headers, TRUSTED.is_trusted) == "198.51.100.7"


def test_a_trusted_proxy_names_the_client() -> None:
    headers = Headers([("X-Forwarded-For", "203.0.113.9")])
    assert client_address(PROXY, headers, TRUSTED.is_trusted) == "203.0.113.9"


def test_a_trusted_proxy_without_the_field_is_the_client() -> None:
    assert client_address(PROXY, Headers(), TRUSTED.is_trusted) == PROXY


def test_the_list_is_read_from_its_end_past_trusted_proxies_only() -> None:
    # The client claims to be 192.0.2.66; the first proxy saw 203.0.113.9.
    headers = Headers([("X-Forwarded-For", f"192.0.2.66, 203.0.113.9, {OTHER_PROXY}")])
    assert client_address(PROXY, headers, TRUSTED.is_trusted) == "203.0.113.9"


def test_fields_sent_twice_are_one_list() -> None:
    headers = Headers([("X-Forwarded-For", "192.0.2.66"), ("X-Forwarded-For", "203.0.113.9")])
    assert client_address(PROXY, headers, TRUSTED.is_trusted) == "203.0.113.9"


def test_ipv6_is_normalised() -> None:
    headers = Headers([("X-Forwarded-For", "2001:DB8:0:0::1")])
    assert client_address(PROXY, headers, TRUSTED.is_trusted) == "2001:db8::1"


@pytest.mark.parametrize(
    "forwarded", ["unknown", "203.0.113.9:4000", "", "1.2.3.4 5.6.7.8", "x" * 500]
)
def test_a_trusted_proxy_forwarding_no_address_is_refused(forwarded: str) -> None:
    headers = Headers([("X-Forwarded-For", forwarded)])
    with pytest.raises(BadForwarding):
        client_address(PROXY, headers, TRUSTED.is_trusted)


def test_forwarded_https() -> None:
    assert forwarded_secure(Headers([("X-Forwarded-Proto", "https")]))
    assert forwarded_secure(Headers([("X-Forwarded-Proto", "HTTPS, http")]))
    assert not forwarded_secure(Headers([("X-Forwarded-Proto", "http")]))
    assert not forwarded_secure(Headers())


def admitted(origins: Sequence[object], origin: str | None) -> bool:
    return any(
        allowed == origin
        or (
            isinstance(allowed, re.Pattern)
            and origin is not None
            and allowed.fullmatch(origin) is not None
        )
        for allowed in origins
    )


def test_the_pages_own_origin_and_no_origin_are_let_in() -> None:
    origins = allowed_origins(Headers([("Host", "chat.example.org:8081")]), False, ())
    assert admitted(origins, None)
    assert admitted(origins, "http://chat.example.org:8081")
    assert admitted(origins, "http://CHAT.example.org:8081")
    assert not admitted(origins, "https://chat.example.org:8081")
    assert not admitted(origins, "http://chat.example.org")
    assert not admitted(origins, "http://evil.example:8081")
    assert not admitted(origins, "http://chat.example.org:8081.evil.example")
    assert not admitted(origins, "null")


def test_over_tls_the_own_origin_is_https() -> None:
    origins = allowed_origins(Headers([("Host", "chat.example.org")]), True, ())
    assert admitted(origins, "https://chat.example.org")
    assert not admitted(origins, "http://chat.example.org")


def test_configured_origins_and_a_star() -> None:
    origins = allowed_origins(Headers([("Host", "h")]), False, ("https://app.example.org/",))
    assert admitted(origins, "https://app.example.org")
    assert not admitted(origins, "https://app.example.org.evil.example")
    assert admitted(allowed_origins(Headers(), False, ("*",)), "https://anyone.example")


def test_every_answer_carries_the_security_fields() -> None:
    fields = response(Reply(404, (), b"Not found\n")).headers
    assert fields["Content-Security-Policy"].startswith("default-src 'self'")
    assert "frame-ancestors 'none'" in fields["Content-Security-Policy"]
    assert "'unsafe-inline'" not in fields["Content-Security-Policy"]
    assert fields["X-Content-Type-Options"] == "nosniff"
    assert fields["Referrer-Policy"] == "no-referrer"
    assert fields["Content-Length"] == "10"
