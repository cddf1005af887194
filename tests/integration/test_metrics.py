"""``/metrics`` (issue 17): scraped before and after real traffic on every door, the
counters move by exactly what the traffic did; the text is what prometheus_client's own
parser reads; with ``metrics_port`` the metrics are on a listener of their own, and
only there."""

from __future__ import annotations

import asyncio
import base64
import re
import time
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from hubbub.settings import Oper
from hubbub.wire import numerics as n
from tests.helpers import LineClient, running_server
from tests.integration.conftest import Clients, make_settings, port_of
from tests.integration.web import WsClient, get, http, web_port, web_settings

ROOM = "#metrics"
PASSWORD = "long-enough-password"
ROOT = Path(__file__).resolve().parents[2]

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def scrape(port: int) -> Samples:
    """Every sample of ``/metrics`` on ``port``, by name and labels."""
    status, fields, body = await http(port, get("/metrics"))
    assert status == 200, body
    assert fields["content-type"].startswith("text/plain; version=")
    assert fields["cache-control"] == "no-store"
    samples: Samples = {}
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


def moved(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


async def plain_user(port: int, name: str) -> asyncio.StreamWriter:
    """A user of the plain door, once welcomed."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(name.encode() + b"\n")
    async with asyncio.timeout(5):
        await reader.readuntil(f"Welcome, {name}!".encode())
    return writer


async def failed_sasl_login(port: int) -> LineClient:
    """A client whose SASL PLAIN login is refused for a wrong password, left
    unregistered."""
    client = await LineClient.open(port)
    await client.send("CAP REQ :sasl", "NICK guesser", "USER guesser 0 * :guesser")
    await client.read_until("CAP")
    await client.send("AUTHENTICATE PLAIN")
    await client.read_until("AUTHENTICATE")
    payload = base64.b64encode(b"\0owner\0not-the-password").decode()
    await client.send(f"AUTHENTICATE {payload}")
    await client.read_until(n.ERR_SASLFAIL)
    return client


async def test_counters_move_by_exactly_what_the_traffic_did(
    tmp_path: Path, clients: Clients
) -> None:
    async with running_server(web_settings(tmp_path)) as server:
        assert server.irc.accounts is not None
        await server.irc.accounts.register("owner", PASSWORD)
        port = web_port(server)
        before = await scrape(port)

        alice = await clients.connect(server, "alice", ROOM)
        bob = await clients.connect(server, "bob", ROOM)
        carol = await WsClient.open(port)
        try:
            await carol.register("carol")
            await carol.send(f"JOIN {ROOM}")
            await carol.read_until(n.RPL_ENDOFNAMES)
            dave = await plain_user(server.plain_addresses[0][1], "dave")
            guesser = await failed_sasl_login(port_of(server))
            clients.opened.append(guesser)

            await alice.send(f"PRIVMSG {ROOM} :hello all")
            await bob.read_until("PRIVMSG")
            await carol.read_until("PRIVMSG")
            await bob.send("PRIVMSG alice :hello you")
            await alice.read_until("PRIVMSG")
            # A history read waits until the writer has stored what was said; the PONG
            # comes after its answer.
            await alice.send(f"CHATHISTORY LATEST {ROOM} * 10")
            await alice.sync()
            after = await scrape(port)
        finally:
            await carol.close()

        for door, count in (("irc", 2), ("web", 1), ("plain", 1)):
            assert moved(before, after, "hubbub_registrations_total", door=door) == count
            assert value(after, "hubbub_users", door=door) == count
        # The guesser connected but never registered.
        assert moved(before, after, "hubbub_connections_total", door="irc") == 3
        assert moved(before, after, "hubbub_connections_total", door="web") == 1
        assert moved(before, after, "hubbub_connections_total", door="plain") == 1
        assert value(after, "hubbub_network_users") == 4
        assert value(after, "hubbub_channels") == 2  # #metrics, and the plain door's #lobby
        assert moved(before, after, "hubbub_messages_in_total") == 2
        assert moved(before, after, "hubbub_messages_out_total") == 2
        # The channel message reached bob and carol (not alice: her echo is no delivery);
        # the private one, alice.
        assert moved(before, after, "hubbub_deliveries_total") == 3
        assert moved(before, after, "hubbub_login_failures_total", reason="credentials") == 1
        assert moved(before, after, "hubbub_login_failures_total", reason="throttled") == 0
        # A private message is kept once in each side's conversation.
        assert moved(before, after, "hubbub_history_written_total") == 3
        assert moved(before, after, "hubbub_history_commit_seconds_count") >= 1
        assert moved(before, after, "hubbub_storage_seconds_count") >= 1
        assert value(after, "hubbub_history_queue_depth") == 0
        assert moved(before, after, "hubbub_sendq_exceeded_total") == 0
        assert moved(before, after, "hubbub_flood_throttled_total") == 0
        # The scrape's own connection is open while it is answered.
        assert value(after, "hubbub_open_connections") == 6
        dave.close()


async def test_a_burst_past_flood_control_is_counted_once(
    tmp_path: Path, clients: Clients
) -> None:
    settings = make_settings(tmp_path, flood_burst=10, flood_rate=100).replace(
        web=web_settings(tmp_path).web, web_root=web_settings(tmp_path).web_root
    )
    async with running_server(settings) as server:
        port = web_port(server)
        flooder = await clients.connect(server, "flooder")
        before = await scrape(port)
        # One write: the burst arrives at once, and is held back once.
        await flooder.send(b"\r\n".join(b"PING f%02d" % i for i in range(30)))
        await flooder.read_until(lambda m: m.command == "PONG" and m.params[-1] == "f29")
        after = await scrape(port)
        assert moved(before, after, "hubbub_flood_throttled_total") == 1


async def test_refused_oper_and_server_passwords_are_counted(
    tmp_path: Path, clients: Clients
) -> None:
    settings = make_settings(tmp_path).replace(
        web=web_settings(tmp_path).web,
        web_root=web_settings(tmp_path).web_root,
        password="server-secret",
        opers=(Oper("boss", "operpass"),),
    )
    async with running_server(settings) as server:
        port = web_port(server)
        before = await scrape(port)
        wrong = await LineClient.open(port_of(server))
        await wrong.send("PASS not-it", "NICK wrong", "USER wrong 0 * :wrong")
        await wrong.read_until(n.ERR_PASSWDMISMATCH)
        missing = await LineClient.open(port_of(server))
        await missing.send("NICK missing", "USER missing 0 * :missing")
        await missing.read_until(n.ERR_PASSWDMISMATCH)
        user = await LineClient.open(port_of(server))
        await user.send("PASS server-secret", "NICK guesser", "USER guesser 0 * :guesser")
        await user.read_until(n.RPL_ENDOFMOTD)
        await user.send("OPER boss wrong")
        await user.read_until(n.ERR_PASSWDMISMATCH)
        await user.send("OPER nobody operpass")
        await user.read_until(n.ERR_PASSWDMISMATCH)
        await user.send("OPER boss operpass")
        await user.read_until(n.RPL_YOUREOPER)
        after = await scrape(port)
        assert moved(before, after, "hubbub_server_password_failures_total") == 2
        assert moved(before, after, "hubbub_oper_failures_total") == 2
        assert moved(before, after, "hubbub_registrations_total", door="irc") == 1
        for client in (wrong, missing, user):
            await client.close()


async def test_open_sessions_are_counted_by_door_as_they_come_and_go(
    tmp_path: Path, clients: Clients
) -> None:
    settings = make_settings(tmp_path).replace(
        web=web_settings(tmp_path).web, web_root=web_settings(tmp_path).web_root
    )
    async with running_server(settings) as server:
        port = web_port(server)
        before = await scrape(port)
        unregistered = await LineClient.open(port_of(server))
        await unregistered.send("PING early")  # a session before registration counts
        await unregistered.read_until("PONG")
        user = await clients.connect(server, "counted")
        plain = await plain_user(server.plain_addresses[0][1], "plainuser")
        during = await scrape(port)
        assert moved(before, during, "hubbub_sessions", door="irc") == 2
        assert moved(before, during, "hubbub_sessions", door="plain") == 1
        await unregistered.close()
        await user.close()
        plain.close()
        await plain.wait_closed()
        async with asyncio.timeout(10):
            await server.connections.wait_empty()
        after = await scrape(port)
        for door in ("irc", "plain", "web"):
            assert moved(before, after, "hubbub_sessions", door=door) == 0, door


async def test_a_client_cut_off_at_its_sendq_is_counted(tmp_path: Path, clients: Clients) -> None:
    settings = web_settings(tmp_path, sendq=32_768, flood_rate=0)
    async with running_server(settings) as server:
        port = web_port(server)
        alice = await clients.connect(server, "alice", ROOM)
        bob = await clients.connect(server, "bob", ROOM)
        hog = await clients.open_slow_reader(server)
        transport = hog.writer.transport
        assert isinstance(transport, asyncio.Transport)
        await hog.register("hog")
        await hog.send(f"JOIN {ROOM}")
        await hog.read_until(n.RPL_ENDOFNAMES)
        before = await scrape(port)
        transport.pause_reading()
        text = "x" * 400
        # The bound keeps the loop finite should the hog never be cut off.
        for batch in range(2000):
            await alice.send(*[f"PRIVMSG {ROOM} :{batch} {text}"] * 10)
            if any(m.command == "QUIT" for m in await bob.sync()):
                break
        after = await scrape(port)
        assert moved(before, after, "hubbub_sendq_exceeded_total") == 1


def hold_the_loop(seconds: float) -> None:
    """Keep the event loop (the server's too: it runs in this process) from doing
    anything else, as a handler that blocked would: the lag to be measured."""
    time.sleep(seconds)


async def test_a_blocked_event_loop_shows_as_lag(tmp_path: Path) -> None:
    async with running_server(web_settings(tmp_path)) as server:
        port = web_port(server)
        before = await scrape(port)
        # Blocking twice, with a pass of the loop between: the second block finds a
        # measurement scheduled, whichever moment the first one fell on.
        hold_the_loop(0.6)
        await scrape(port)
        hold_the_loop(0.6)
        after = await scrape(port)
        late = moved(before, after, "hubbub_event_loop_lag_seconds_count") - moved(
            before, after, "hubbub_event_loop_lag_seconds_bucket", le="0.1"
        )
        assert late >= 1
        assert moved(before, after, "hubbub_event_loop_lag_seconds_sum") >= 0.1


async def test_bad_requests_for_metrics_get_the_answers_other_paths_get(tmp_path: Path) -> None:
    async with running_server(web_settings(tmp_path)) as server:
        port = web_port(server)
        for path in ("/metrics", "/healthz"):
            status, fields, _ = await http(port, get(path, method="POST"))
            assert (status, fields["allow"]) == (405, "GET, HEAD")
            status, _, _ = await http(port, get(path + "?" + "x" * 40_000))
            assert status in (414, 431)
            request = f"GET {path} HTTP/1.1\r\nHost: evil.example\r\n\r\n".encode()
            status, _, _ = await http(port, request)
            assert status == 421
        status, fields, body = await http(port, get("/metrics", method="HEAD"))
        assert (status, body) == (200, b"")
        assert int(fields["content-length"]) > 0


async def test_with_a_metrics_port_the_metrics_are_there_and_only_there(tmp_path: Path) -> None:
    async with running_server(web_settings(tmp_path).replace(metrics_port=0)) as server:
        port = server.metrics.addresses[0][1]
        samples = await scrape(port)
        assert value(samples, "hubbub_registrations_total", door="irc") == 0
        # Not on the web listener, which goes on serving everything else.
        status, _, _ = await http(web_port(server), get("/metrics"))
        assert status == 404
        status, _, body = await http(web_port(server), get("/healthz"))
        assert (status, body) == (200, b"ok\n")
        # And the metrics' listener serves nothing else: no files, no health, no IRC.
        for path in ("/", "/index.html", "/healthz", "/irc"):
            status, _, _ = await http(port, get(path))
            assert status == 404, path
        handshake = get(
            "/irc",
            "Upgrade: websocket",
            "Connection: Upgrade",
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
            "Sec-WebSocket-Version: 13",
        )
        status, _, _ = await http(port, handshake)
        assert status == 404
        status, fields, _ = await http(port, get("/metrics", method="POST"))
        assert (status, fields["allow"]) == (405, "GET, HEAD")
        status, _, _ = await http(port, get("/metrics?" + "x" * 40_000))
        assert status in (414, 431)


async def test_every_metric_served_is_listed_in_the_operators_docs(tmp_path: Path) -> None:
    async with running_server(web_settings(tmp_path)) as server:
        _, _, body = await http(web_port(server), get("/metrics"))
    served = {
        family.name + "_total" if family.type == "counter" else family.name
        for family in text_string_to_metric_families(body.decode())
    }
    listed = set(re.findall(r"^- `(hubbub_\w+)[`{]", (ROOT / "docs/running.md").read_text(), re.M))
    # A cluster's node serves these too (tests/cluster/test_serve_cluster.py).
    cluster = {name for name in listed if name.startswith("hubbub_cluster_")}
    assert len(cluster) == 5
    assert served == listed - cluster
