"""Latency: durations counted into the buckets a Prometheus histogram shows."""

from __future__ import annotations

import pytest

from hubbub.storage.timing import BUCKETS, Latency


def test_a_duration_counts_in_the_first_bucket_it_fits_and_every_one_after() -> None:
    latency = Latency()
    for seconds in (0.0, 0.0005, 0.003, 7.0):
        latency.observe(seconds)
    cumulative = dict(latency.cumulative())
    # A bound holds what equals it: 0.0005 is in the first bucket.
    assert cumulative[0.0005] == 2
    assert cumulative[0.0025] == 2
    assert cumulative[0.005] == 3
    assert cumulative[BUCKETS[-1]] == 3
    assert cumulative[float("inf")] == latency.count == 4
    assert latency.sum == pytest.approx(7.0035)


def test_a_block_that_raises_is_timed_all_the_same() -> None:
    latency = Latency()
    with pytest.raises(ValueError, match="failed"), latency.timing():
        raise ValueError("failed")
    assert latency.count == 1
    assert [bound for bound, _ in latency.cumulative()] == [*BUCKETS, float("inf")]
