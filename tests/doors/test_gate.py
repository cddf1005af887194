"""The gate's account of what it refuses: a line a minute per address, not one per
connection (one address connecting thousands of times a second filled the log)."""

from __future__ import annotations

import time

import pytest

from hubbub.doors.gate import Gate


def test_refusals_of_one_address_are_logged_once_a_minute_with_a_count(
    caplog: pytest.LogCaptureFixture,
) -> None:
    gate = Gate(per_ip=1)
    assert gate.admit("203.0.113.7", trusted=False)
    with caplog.at_level("INFO", logger="hubbub.doors.gate"):
        for _ in range(1000):
            assert not gate.admit("203.0.113.7", trusted=False)
            gate.log_refusal("203.0.113.7")
        # Another address (an IPv6 /64 is one) has its own line.
        assert gate.admit("2001:db8::1", trusted=False)
        for host in ("2001:db8::2", "2001:db8::3"):
            assert not gate.admit(host, trusted=False)
            gate.log_refusal(host)
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        "refused 203.0.113.7: too many connections from it",
        "refused 2001:db8::2: too many connections from it",
    ]


def test_a_refusal_because_the_server_is_full_says_so() -> None:
    gate = Gate(per_ip=50, most=2)
    assert gate.admit("203.0.113.7", trusted=False)
    assert not gate.full
    assert gate.admit("198.51.100.1", trusted=True)
    assert gate.full
    assert not gate.admit("192.0.2.9", trusted=True)
    gate.release("203.0.113.7")
    assert not gate.full


def test_an_addresss_connections_are_logged_twenty_a_minute(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Probe 14: every admitted connection logged two lines, with no bound per address.
    now = [1000.0]
    monkeypatch.setattr("hubbub.doors.gate.time.monotonic", lambda: now[0])
    gate = Gate()
    with caplog.at_level("INFO", logger="hubbub.doors.gate"):
        logged = [gate.log_connection("203.0.113.7") for _ in range(500)]
        assert gate.log_connection("198.51.100.1"), "another address has its own share"
        now[0] += 61
        assert gate.log_connection("203.0.113.7")
    assert logged == [True] * 20 + [False] * 480
    assert [r.getMessage() for r in caplog.records] == [
        "more connections from 203.0.113.7 this minute go unlogged",
        "480 connections from 203.0.113.7 went unlogged in a minute",
    ]


def test_other_nodes_counts_of_an_address_share_its_allowance() -> None:
    told: list[tuple[str, int]] = []
    gate = Gate(per_ip=3)
    gate.share = lambda block, count: told.append((block, count))
    gate.heard("node-b", "198.51.100.7", 2, time.time())
    assert gate.admit("198.51.100.7", trusted=False)
    assert not gate.admit("198.51.100.7", trusted=False)  # 1 here + 2 there
    # Told once the connection is a chat session, not as it is accepted (a web
    # request or a scrape would cost the log two facts each).
    assert told == []
    gate.tell("198.51.100.7")
    assert told == [("198.51.100.7", 1)]
    # Another address has its own allowance.
    assert gate.admit("198.51.100.8", trusted=False)
    gate.release("198.51.100.8")
    assert told == [("198.51.100.7", 1)]
    gate.release("198.51.100.7", told=True)
    assert told[-1] == ("198.51.100.7", 0)


def test_a_lost_nodes_counts_and_stale_ones_no_longer_count() -> None:
    gate = Gate(per_ip=1)
    gate.heard("node-b", "198.51.100.7", 1, time.time())
    assert not gate.admit("198.51.100.7", trusted=False)
    gate.lost("node-b")
    assert gate.admit("198.51.100.7", trusted=False)
    gate.release("198.51.100.7")
    # Not heard again for long: a node gone without a word.
    gate.heard("node-c", "198.51.100.7", 1, time.time() - 3600)
    assert gate.admit("198.51.100.7", trusted=False)
    # A count of 0 forgets the node's share.
    gate.release("198.51.100.7")
    gate.heard("node-d", "198.51.100.7", 1, time.time())
    gate.heard("node-d", "198.51.100.7", 0, time.time())
    assert gate.admit("198.51.100.7", trusted=False)
    assert gate.shared_counts() == [("198.51.100.7", 1)]
