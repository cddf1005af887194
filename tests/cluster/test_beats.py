"""Heartbeats as they travel: what a node says of itself, and what is not a beat (anyone
who can publish on NATS can send anything on the subject)."""

from __future__ import annotations

import pytest

from hubbub.cluster.nodes import Beat, parse_beat


def test_a_beat_reads_back_as_written() -> None:
    beat = Beat("5f3a9c01", "node-a", 12, 3456)
    assert parse_beat(beat.encode()) == beat


@pytest.mark.parametrize(
    "junk",
    [
        b"",
        b"5f3a9c01",  # a bare run
        b"[1,2]",
        b'{"run": ""}',
        b'{"run": 7, "node": "a", "users": 0, "applied": 0}',
        b'{"run": "r", "node": "a", "users": -1, "applied": 0}',
        b'{"run": "r", "node": "a", "users": true, "applied": 0}',
        b'{"run": "r", "node": "a", "users": 1.5, "applied": 0}',
        b'{"run": "r", "node": null, "users": 0, "applied": 0}',
        b'{"run": "' + b"r" * 2000 + b'", "node": "a", "users": 0, "applied": 0}',
        b"\xff\xfe",
        b"[" * 10_000,
        b"[" * 1000,  # short enough to parse, nested past Python's recursion limit
    ],
)
def test_what_is_not_a_beat_is_ignored(junk: bytes) -> None:
    assert parse_beat(junk) is None
