"""draft/metadata-3 over real sockets: keys kept for accounts across restarts (SQLite and
PostgreSQL), private keys, limits and bad names answered with the documented FAIL,
subscribers told once, authorization, hostile METADATA lines, and the rate limit."""

from __future__ import annotations

import base64
import contextlib
import sqlite3
from pathlib import Path

from hubbub.server import Server
from hubbub.wire import numerics as n
from hubbub.wire.message import Message
from tests.helpers import LineClient, running_server
from tests.integration.conftest import Clients, make_settings, port_of

PASSWORD = "correct-horse-battery"
CAPS = "draft/metadata-3 batch"


async def metadata_client(port: int, nick: str, *, login: bool = False) -> LineClient:
    """A registered client with draft/metadata-3 and batch, logged in to the account
    named like it when told."""
    client = await LineClient.open(port)
    await client.send(f"CAP REQ :{CAPS} sasl", f"NICK {nick}", f"USER {nick} 0 * :{nick}")
    await client.read_until("CAP")
    if login:
        await client.send("AUTHENTICATE PLAIN")
        await client.read_until("AUTHENTICATE")
        payload = base64.b64encode(f"\0{nick}\0{PASSWORD}".encode()).decode()
        await client.send(f"AUTHENTICATE {payload}")
        await client.read_until(n.RPL_SASLSUCCESS)
    await client.send("CAP END")
    await client.read_until(n.RPL_ENDOFMOTD)
    return client


async def make_account(port: int, nick: str) -> None:
    owner = await LineClient.open(port)
    await owner.register(nick)
    await owner.send(f"NS REGISTER {PASSWORD}")
    await owner.read_until(n.RPL_LOGGEDIN)
    await owner.close()


def fails(lines: list[Message]) -> list[tuple[str, ...]]:
    return [m.params for m in lines if m.command == "FAIL"]


def values(lines: list[Message]) -> dict[tuple[str, str], str | None]:
    """(target, key) → value from RPL_KEYVALUE (and None from RPL_KEYNOTSET) lines."""
    found: dict[tuple[str, str], str | None] = {}
    for m in lines:
        if m.command == n.RPL_KEYVALUE:
            found[m.params[1], m.params[2]] = m.params[4]
        elif m.command == n.RPL_KEYNOTSET:
            found[m.params[1], m.params[2]] = None
    return found


async def get(client: LineClient, target: str, *keys: str) -> dict[tuple[str, str], str | None]:
    await client.send(f"METADATA {target} GET {' '.join(keys)}")
    return values(await client.sync())


async def test_an_accounts_keys_survive_a_restart_and_a_guests_go_with_it(
    tmp_path: Path,
) -> None:
    settings = make_settings(tmp_path)
    async with running_server(settings) as server:
        await make_account(port_of(server), "alice")
        alice = await metadata_client(port_of(server), "alice", login=True)
        guest = await metadata_client(port_of(server), "guest")
        await alice.send(
            "METADATA * SET display-name :Alice Liddell", "METADATA * SET status :away"
        )
        await guest.send("METADATA * SET display-name :Just Visiting")
        assert values(await alice.sync())[("alice", "display-name")] == "Alice Liddell"
        await guest.sync()
        await alice.send("METADATA * SET status")  # removed: not kept either
        await alice.sync()
        await alice.close()
        await guest.close()
    async with running_server(settings) as server:
        again = await metadata_client(port_of(server), "alice", login=True)
        assert await get(again, "*", "display-name", "status") == {
            ("alice", "display-name"): "Alice Liddell",
            ("alice", "status"): None,
        }
        guest = await metadata_client(port_of(server), "guest")
        assert await get(guest, "*", "display-name") == {("guest", "display-name"): None}
        await again.close()
        await guest.close()
    # Kept under the account's id, never under its name.
    with contextlib.closing(sqlite3.connect(tmp_path / "hubbub.sqlite3")) as db:
        kept = db.execute("SELECT account, key, value FROM account_metadata").fetchall()
        (uid,) = db.execute("SELECT uid FROM accounts WHERE key = 'alice'").fetchone()
    assert kept == [(uid, "display-name", "Alice Liddell")]
    assert uid != "alice"


async def test_keys_set_after_a_later_login_are_kept_and_loaded_at_the_next(
    tmp_path: Path,
) -> None:
    settings = make_settings(tmp_path)
    async with running_server(settings) as server:
        await make_account(port_of(server), "alice")
        alice = await metadata_client(port_of(server), "alice")
        await alice.send(f"NS IDENTIFY alice {PASSWORD}")
        await alice.read_until(n.RPL_LOGGEDIN)
        await alice.send("METADATA * SET pronouns :she/her")
        await alice.sync()
        await alice.close()
        # A reconnection at once reads what was just set, saved or not yet.
        again = await metadata_client(port_of(server), "alice")
        await again.send(f"NS IDENTIFY alice {PASSWORD}")
        await again.read_until(n.RPL_LOGGEDIN)
        assert await get(again, "*", "pronouns") == {("alice", "pronouns"): "she/her"}
        await again.close()


async def test_a_dropped_accounts_keys_go_with_it(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    async with running_server(settings) as server:
        await make_account(port_of(server), "alice")
        alice = await metadata_client(port_of(server), "alice", login=True)
        await alice.send("METADATA * SET display-name :Alice")
        await alice.sync()
        await alice.send(f"NS DROP {PASSWORD}")
        assert "dropped" in (await alice.read_until("NOTICE"))[-1].params[-1]
        await alice.close()
    with contextlib.closing(sqlite3.connect(tmp_path / "hubbub.sqlite3")) as db:
        assert db.execute("SELECT COUNT(*) FROM account_metadata").fetchone() == (0,)


async def test_an_accounts_keys_survive_a_restart_on_postgresql(
    tmp_path: Path, postgres_url: str
) -> None:
    settings = make_settings(tmp_path).replace(database_url=postgres_url)
    async with running_server(settings) as server:
        await make_account(port_of(server), "alice")
        alice = await metadata_client(port_of(server), "alice", login=True)
        await alice.send("METADATA * SET avatar :https://example.com/a.png")
        await alice.sync()
        await alice.close()
    async with running_server(settings) as server:
        again = await metadata_client(port_of(server), "alice", login=True)
        assert await get(again, "*", "avatar") == {
            ("alice", "avatar"): "https://example.com/a.png"
        }
        await again.close()


async def test_a_registered_channels_keys_are_kept_with_its_registration(
    tmp_path: Path,
) -> None:
    settings = make_settings(tmp_path)
    async with running_server(settings) as server:
        await make_account(port_of(server), "alice")
        alice = await metadata_client(port_of(server), "alice", login=True)
        await alice.send("JOIN #kept", "CS REGISTER #kept")
        await alice.send("METADATA #kept SET url :https://example.com/kept")
        assert values(await alice.sync())[("#kept", "url")] == "https://example.com/kept"
        await alice.close()
    async with running_server(settings) as server:
        bob = await metadata_client(port_of(server), "bob")
        await bob.send("JOIN #kept")
        await bob.read_until(n.RPL_ENDOFNAMES)
        assert await get(bob, "#kept", "url") == {("#kept", "url"): "https://example.com/kept"}
        await bob.close()


async def test_a_private_key_is_read_by_its_owner_only(server: Server, clients: Clients) -> None:
    alice = await metadata_client(port_of(server), "alice")
    bob = await metadata_client(port_of(server), "bob")
    await alice.send("METADATA * SET private.note :only mine", "METADATA * SET status :here")
    answer = await alice.sync()
    assert ("alice", "private.note") in values(answer)
    assert [m.params[3] for m in answer if m.command == n.RPL_KEYVALUE] == ["private", "*"]
    await bob.send("METADATA alice GET private.note")
    refused = await bob.sync()
    assert fails(refused) == [
        ("METADATA", "KEY_NO_PERMISSION", "alice", "private.note", "Permission denied")
    ]
    assert not [m for m in refused if "only mine" in m.params]
    await bob.send("METADATA alice LIST")
    listed = await bob.sync()
    assert values(listed) == {("alice", "status"): "here"}
    assert await get(alice, "*", "private.note") == {("alice", "private.note"): "only mine"}
    await alice.close()
    await bob.close()


async def test_a_value_over_the_limit_and_bad_key_names_get_the_documented_fail(
    tmp_path: Path,
) -> None:
    async with running_server(make_settings(tmp_path, metadata_value_bytes=10)) as server:
        alice = await metadata_client(port_of(server), "alice")
        await alice.send("METADATA * SET status :eleven char")
        assert fails(await alice.sync()) == [
            ("METADATA", "INVALID_VALUE", "status", "Invalid value: longer than 10 bytes")
        ]
        for key in ("$url$", "a/b", "sp\u00e9cial"):
            await alice.send(f"METADATA * SET {key} :x")
            assert fails(await alice.sync()) == [("METADATA", "INVALID_KEY", key, "Invalid key")]
        await alice.send("METADATA * GET bad! status")
        answer = await alice.sync()
        assert [m.command for m in answer] == ["BATCH", "FAIL", n.RPL_KEYNOTSET, "BATCH"]
        # The value was not set by any of it.
        assert await get(alice, "*", "status") == {("alice", "status"): None}
        await alice.close()


async def test_too_many_keys_reach_the_limit(tmp_path: Path) -> None:
    async with running_server(make_settings(tmp_path, metadata_keys=2)) as server:
        alice = await metadata_client(port_of(server), "alice")
        await alice.send("METADATA * SET a :1", "METADATA * SET b :2", "METADATA * SET c :3")
        answer = await alice.sync()
        assert fails(answer) == [("METADATA", "LIMIT_REACHED", "alice", "Metadata limit reached")]
        # Changing a key already set is no new key.
        await alice.send("METADATA * SET a :one")
        assert values(await alice.sync()) == {("alice", "a"): "one"}
        await alice.close()


async def test_an_avatar_must_be_https_or_a_small_inline_image(server: Server) -> None:
    alice = await metadata_client(port_of(server), "alice")
    for bad in (
        "http://example.com/a.png",
        "javascript:alert(1)",
        "data:image/svg+xml;base64,PHN2Zz4=",
        "https://",
        "https://user@evil.example/a.png",
    ):
        await alice.send(f"METADATA * SET avatar :{bad}")
        (fail,) = fails(await alice.sync())
        assert fail[:3] == ("METADATA", "INVALID_VALUE", "avatar")
    for good in ("https://example.com/a.png?s=64", "data:image/png;base64,iVBORw0KGgo="):
        await alice.send(f"METADATA * SET avatar :{good}")
        assert values(await alice.sync()) == {("alice", "avatar"): good}
    await alice.close()


async def test_a_subscriber_gets_a_change_once_and_others_nothing(
    server: Server, clients: Clients
) -> None:
    alice = await metadata_client(port_of(server), "alice")
    bob = await metadata_client(port_of(server), "bob")
    carol = await metadata_client(port_of(server), "carol")  # not subscribed
    await bob.send("METADATA * SUB display-name")
    assert [m.params for m in await bob.sync() if m.command == n.RPL_METADATASUBOK] == [
        ("bob", "display-name")
    ]
    for client in (alice, bob, carol):
        await client.send("JOIN #a,#b")  # two shared channels: still told once
        await client.read_until(lambda m: m.command == n.RPL_ENDOFNAMES and m.params[1] == "#b")
    await bob.sync()
    await carol.sync()
    await alice.send("METADATA * SET display-name :Alice", "METADATA * SET status :busy")
    await alice.sync()
    told = [m for m in await bob.sync() if m.command in (n.RPL_KEYVALUE, n.RPL_KEYNOTSET)]
    assert [m.params for m in told] == [("bob", "alice", "display-name", "*", "Alice")]
    assert not [m for m in await carol.sync() if m.command.startswith("76")]
    await alice.close()
    await bob.close()
    await carol.close()


async def test_a_subscriber_joining_gets_the_channels_and_members_keys(
    server: Server, clients: Clients
) -> None:
    alice = await metadata_client(port_of(server), "alice")
    await alice.send("JOIN #a")
    await alice.read_until(n.RPL_ENDOFNAMES)
    await alice.send("METADATA * SET display-name :Alice", "METADATA #a SET display-name :Room A")
    await alice.sync()
    bob = await metadata_client(port_of(server), "bob")
    await bob.send("METADATA * SUB display-name", "JOIN #a")
    burst = await bob.sync()
    assert values(burst) == {("#a", "display-name"): "Room A", ("alice", "display-name"): "Alice"}
    assert [m.params[1] for m in burst if m.command == "BATCH" and len(m.params) > 1] == [
        "metadata"
    ]
    await alice.close()
    await bob.close()


async def test_a_large_burst_is_postponed_to_sync(tmp_path: Path) -> None:
    async with running_server(make_settings(tmp_path, metadata_sync_lines=1)) as server:
        alice = await metadata_client(port_of(server), "alice")
        await alice.send("JOIN #a", "METADATA #a SET a :1", "METADATA #a SET b :2")
        await alice.sync()
        bob = await metadata_client(port_of(server), "bob")
        await bob.send("METADATA * SUB a b", "JOIN #a")
        burst = await bob.sync()
        assert [m.params for m in burst if m.command == n.RPL_METADATASYNCLATER] == [("bob", "#a")]
        assert not values(burst)
        await bob.send("METADATA #a SYNC")
        assert values(await bob.sync()) == {("#a", "a"): "1", ("#a", "b"): "2"}
        await alice.close()
        await bob.close()


async def test_nobody_sets_another_users_keys_nor_a_non_operator_a_channels(
    server: Server, clients: Clients
) -> None:
    alice = await metadata_client(port_of(server), "alice")
    bob = await metadata_client(port_of(server), "bob")
    await alice.send("JOIN #a")
    await alice.read_until(n.RPL_ENDOFNAMES)
    await bob.send("JOIN #a")
    await bob.read_until(n.RPL_ENDOFNAMES)
    await alice.sync()
    await bob.send(
        "METADATA alice SET display-name :Not Alice",
        "METADATA alice CLEAR",
        "METADATA #a SET display-name :Bob's room",
        "METADATA #a CLEAR",
    )
    assert fails(await bob.sync()) == [
        ("METADATA", "KEY_NO_PERMISSION", "alice", "display-name", "Permission denied"),
        ("METADATA", "KEY_NO_PERMISSION", "alice", "*", "Permission denied"),
        ("METADATA", "KEY_NO_PERMISSION", "#a", "display-name", "Permission denied"),
        ("METADATA", "KEY_NO_PERMISSION", "#a", "*", "Permission denied"),
    ]
    assert not [m for m in await alice.sync() if m.command != "PONG"]
    assert await get(bob, "#a", "display-name") == {("#a", "display-name"): None}
    await alice.close()
    await bob.close()


async def test_malformed_and_hostile_metadata_lines_get_clear_errors_and_harm_nobody(
    server: Server, clients: Clients
) -> None:
    alice = await metadata_client(port_of(server), "alice")
    bob = await metadata_client(port_of(server), "bob")
    await bob.send("METADATA * SUB display-name", "JOIN #a")
    await alice.send("JOIN #a")
    await alice.read_until(n.RPL_ENDOFNAMES)
    await bob.sync()
    await alice.send("METADATA")
    assert [m.command for m in await alice.sync()] == [n.ERR_NEEDMOREPARAMS]
    await alice.send("METADATA *")
    assert [m.command for m in await alice.sync()] == [n.ERR_NEEDMOREPARAMS]
    await alice.send("METADATA * DESTROY everything")
    assert fails(await alice.sync()) == [
        ("METADATA", "INVALID_SUBCOMMAND", "DESTROY", "Invalid subcommand")
    ]
    await alice.send("METADATA nobody LIST", "METADATA #nowhere GET url")
    assert fails(await alice.sync()) == [
        ("METADATA", "INVALID_TARGET", "nobody", "Invalid metadata target"),
        ("METADATA", "INVALID_TARGET", "#nowhere", "Invalid metadata target"),
    ]
    await alice.send("METADATA * SET", "METADATA * GET", "METADATA * SUB")
    assert [m.command for m in await alice.sync()] == [n.ERR_NEEDMOREPARAMS] * 3
    await alice.send(b"METADATA * SET display-name :bad \xff utf-8")
    assert fails(await alice.sync()) == [
        ("METADATA", "INVALID_UTF8", "Message rejected, your message contained invalid UTF-8")
    ]
    await alice.send("METADATA * SET display-name :\x1b[2Jclear screen")
    assert fails(await alice.sync())[0][:3] == ("METADATA", "INVALID_VALUE", "display-name")
    await alice.send("METADATA * SET " + "k" * 100 + " :x")
    assert fails(await alice.sync())[0][1] == "INVALID_KEY"
    await alice.send("METADATA * SET display-name :" + "x" * 600)
    assert [m.command for m in await alice.sync()] == [n.ERR_INPUTTOOLONG]
    # Nothing of it reached bob, and both are still served.
    assert not [m for m in await bob.sync() if m.command.startswith("76")]
    await alice.send("METADATA * SET display-name :Alice")
    await alice.sync()
    told = [m.params for m in await bob.sync() if m.command == n.RPL_KEYVALUE]
    assert told == [("bob", "alice", "display-name", "*", "Alice")]
    await alice.close()
    await bob.close()


async def test_subscription_churn_is_rate_limited(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, metadata_commands=4, metadata_interval=60.0)
    async with running_server(settings) as server:
        churner = await metadata_client(port_of(server), "churner")
        for _ in range(2):
            await churner.send("METADATA * SUB avatar", "METADATA * UNSUB avatar")
        answers = await churner.sync()
        assert [m.command for m in answers] == [
            n.RPL_METADATASUBOK,
            n.RPL_METADATAUNSUBOK,
        ] * 2
        await churner.send("METADATA * SUB avatar")
        (fail,) = fails(await churner.sync())
        assert fail[:4] == ("METADATA", "RATE_LIMITED", "*", "avatar")
        assert int(fail[4]) >= 1
        # Reading is not rate limited, and the churner is still served.
        await churner.send("METADATA * SUBS", "METADATA * GET avatar")
        assert n.RPL_KEYNOTSET in [m.command for m in await churner.sync()]
        await churner.close()


async def test_too_many_subscriptions_stop_at_the_first_key_refused(tmp_path: Path) -> None:
    async with running_server(make_settings(tmp_path, metadata_subs=2)) as server:
        client = await metadata_client(port_of(server), "client")
        await client.send("METADATA * SUB a b c d")
        answer = await client.sync()
        assert fails(answer) == [("METADATA", "TOO_MANY_SUBS", "c", "Too many subscriptions")]
        assert [m.params for m in answer if m.command == n.RPL_METADATASUBOK] == [
            ("client", "a", "b")
        ]
        await client.send("METADATA * SUBS")
        assert [m.params for m in await client.sync()] == [("client", "a", "b")]
        await client.close()


async def test_whois_shows_the_display_name_and_status(server: Server, clients: Clients) -> None:
    alice = await metadata_client(port_of(server), "alice")
    bob = await clients.connect(server, "bob")
    await alice.send(
        "METADATA * SET display-name :Alice L.", "METADATA * SET avatar :https://a.b/c"
    )
    await alice.sync()
    await bob.send("WHOIS alice")
    whois = await bob.read_until(n.RPL_ENDOFWHOIS)
    assert [m.params for m in whois if m.command == n.RPL_WHOISKEYVALUE] == [
        ("bob", "alice", "display-name", "*", "Alice L.")
    ]
    await alice.close()


async def test_the_capability_advertises_the_limits(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, metadata_subs=7, metadata_keys=5, metadata_value_bytes=99)
    async with running_server(settings) as server:
        client = await LineClient.open(port_of(server))
        await client.send("CAP LS 302")
        listed = await client.read_until(lambda m: m.command == "CAP" and m.params[2] != "*")
        caps = [cap for m in listed if m.command == "CAP" for cap in m.params[-1].split()]
        assert "draft/metadata-3=before-connect,max-subs=7,max-keys=5,max-value-bytes=99" in caps
        await client.close()


async def test_keys_set_while_registering_are_the_users_and_come_with_the_welcome(
    server: Server, clients: Clients
) -> None:
    early = await clients.open(server)
    await early.send("CAP LS 302", f"CAP REQ :{CAPS}", "NICK early")
    await early.send(
        "METADATA * SET display-name :Early Bird",
        "METADATA someone SET display-name :Not Mine",
        "METADATA * SET bad! :x",
        "METADATA * SUB display-name",
        "METADATA * SYNC",
    )
    before = await early.read_until(
        lambda m: m.command == "FAIL" and m.params[1] == "INVALID_SUBCOMMAND"
    )
    assert values(before) == {("*", "display-name"): "Early Bird"}
    assert [f[:3] for f in fails(before)] == [
        ("METADATA", "INVALID_TARGET", "someone"),
        ("METADATA", "INVALID_KEY", "bad!"),
        ("METADATA", "INVALID_SUBCOMMAND", "SYNC"),
    ]
    await early.send("USER early 0 * :e", "CAP END")
    burst = await early.read_until(lambda m: m.command == "BATCH" and m.params[0].startswith("-"))
    assert values(burst) == {("early", "display-name"): "Early Bird"}
    bob = await metadata_client(port_of(server), "bob")
    assert await get(bob, "early", "display-name") == {("early", "display-name"): "Early Bird"}
    await bob.close()
