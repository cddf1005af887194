"""How long storage takes: durations counted into fixed buckets, which the metrics
read when scraped (one comparison loop per database call, no allocation)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

# Upper bounds in seconds, from a cached SQLite read to a PostgreSQL that is struggling.
BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Latency:
    """A histogram of durations: how many took at most each bound, and their sum."""

    __slots__ = ("count", "counts", "sum")

    def __init__(self) -> None:
        # counts[i]: durations in (BUCKETS[i-1], BUCKETS[i]]; the last: above them all.
        self.counts = [0] * (len(BUCKETS) + 1)
        self.count = 0
        self.sum = 0.0

    def observe(self, seconds: float) -> None:
        index = 0
        for bound in BUCKETS:
            if seconds <= bound:
                break
            index += 1
        self.counts[index] += 1
        self.count += 1
        self.sum += seconds

    def cumulative(self) -> list[tuple[float, int]]:
        """(bound, durations at most that long) for each bound, then (inf, all)."""
        out = []
        running = 0
        for bound, count in zip((*BUCKETS, float("inf")), self.counts, strict=True):
            running += count
            out.append((bound, running))
        return out

    @contextmanager
    def timing(self) -> Iterator[None]:
        """Observe how long the block took, whether it succeeded or raised."""
        began = time.perf_counter()
        try:
            yield
        finally:
            self.observe(time.perf_counter() - began)
