"""The NATS fixture the cluster's tests stand on: JetStream keeps a stream, in order,
across a restart of the server (what a NATS outage looks like to a node)."""

from __future__ import annotations

import nats
from nats.js.api import StreamConfig

from tests.nats_server import NatsServer


async def test_a_stream_keeps_its_messages_in_order_across_a_restart(
    nats_server: NatsServer,
) -> None:
    client = await nats.connect(nats_server.url)
    try:
        stream = client.jetstream()
        await stream.add_stream(StreamConfig(name="T", subjects=["t.>"]))
        for k in range(50):
            await stream.publish(f"t.{k % 3}", str(k).encode())
    finally:
        await client.close()
    port = nats_server.port
    nats_server.halt()
    nats_server.resume()
    assert nats_server.port == port
    client = await nats.connect(nats_server.url)
    try:
        stream = client.jetstream()
        reader = await stream.pull_subscribe("t.>", durable="reader")
        got: list[int] = []
        while len(got) < 50:
            got += [int(m.data) for m in await reader.fetch(50 - len(got), timeout=5)]
        assert got == list(range(50))
        info = await stream.stream_info("T")
        assert info.state.messages == 50
    finally:
        await client.close()
