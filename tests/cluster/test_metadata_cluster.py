"""draft/metadata-3 across ``hubbub serve --cluster`` nodes: a key set on one node is read
and heard on the other (MetadataChanged travels as every fact does)."""

from __future__ import annotations

from hubbub.wire import numerics as n
from tests.cluster.test_serve_cluster import CHAN, Cluster, cluster
from tests.helpers import LineClient

__all__ = ["cluster"]  # the fixture, used by name


async def metadata_client(port: int, nick: str) -> LineClient:
    client = await LineClient.open(port)
    await client.send("CAP REQ :draft/metadata-3 batch", "CAP END")
    await client.register(nick)
    await client.send(f"JOIN {CHAN}")
    await client.read_until(n.RPL_ENDOFNAMES, seconds=10)
    return client


async def test_a_key_set_on_one_node_is_heard_and_read_on_the_other(cluster: Cluster) -> None:
    _, port_a = await cluster.node("a")
    _, port_b = await cluster.node("b")
    alice = await metadata_client(port_a, "alice")  # first in: the channel's operator
    bob = await metadata_client(port_b, "bob")
    try:
        await bob.send("METADATA * SUB display-name")
        await bob.read_until(n.RPL_METADATASUBOK)
        # In this order: once bob hears of the name, node b has applied the url (the
        # nodes apply facts in the log's order).
        await alice.send(
            "METADATA #room SET url :https://a", "METADATA * SET display-name :Alice of A"
        )
        told = await bob.read_until(n.RPL_KEYVALUE, seconds=10)
        assert told[-1].params == ("bob", "alice", "display-name", "*", "Alice of A")
        await bob.send("METADATA #room GET url", "METADATA alice GET display-name")
        got = [m.params for m in await bob.sync() if m.command == n.RPL_KEYVALUE]
        assert got == [
            ("bob", "#room", "url", "*", "https://a"),
            ("bob", "alice", "display-name", "*", "Alice of A"),
        ]
    finally:
        await alice.close()
        await bob.close()
