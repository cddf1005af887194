from __future__ import annotations

import gc
import warnings
from collections.abc import Iterator

import pytest

from tests.nats_server import NatsServer


@pytest.fixture
def nats_server() -> Iterator[NatsServer]:
    """A NATS server with JetStream of the test's own (about 50 ms to start)."""
    server = NatsServer.start()
    try:
        yield server
    finally:
        server.stop()
        # A nats-py client drops, unclosed, the socket of a connection it replaced
        # (NATS halted past a ping, under load): collected here, with the test that made
        # it, not as an "unraisable" warning failing whichever test runs next.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            gc.collect()
