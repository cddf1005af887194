from __future__ import annotations

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
