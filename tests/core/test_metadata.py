"""Metadata (draft/metadata-3) in the core: who may set what, the rules of keys and
values, and who is handed a change."""

from __future__ import annotations

import pytest

from hubbub.core.errors import ChatError, Reason
from hubbub.core.events import MetadataChanged, MetadataValue
from hubbub.core.metadata import valid_avatar
from hubbub.core.registered import RegisteredChannel, from_json, to_json
from hubbub.wire.casemap import Key
from tests.core.world import World


def test_a_user_sets_its_own_keys_and_its_neighbours_are_handed_the_change() -> None:
    world = World()
    alice, alice_session = world.add("alice", "#a")
    bob, bob_session = world.add("bob", "#a")
    _, carol_session = world.add("carol", "#elsewhere")
    world.hub.set_metadata(alice, "*", "Display-Name", "Alice")
    assert alice.metadata == {"display-name": "Alice"}
    changes = [e for e in bob_session.events if isinstance(e, MetadataChanged)]
    assert [e.changes for e in changes] == [(MetadataValue("display-name", "Alice"),)]
    assert [e for e in alice_session.events if isinstance(e, MetadataChanged)]
    assert not [e for e in carol_session.events if isinstance(e, MetadataChanged)]
    assert bob.metadata == {}


def test_nobody_sets_another_users_keys() -> None:
    world = World()
    alice, _ = world.add("alice")
    bob, _ = world.add("bob")
    with pytest.raises(ChatError) as refused:
        world.hub.set_metadata(bob, "alice", "display-name", "Not Alice")
    assert refused.value.reason is Reason.KEY_NO_PERMISSION
    assert alice.metadata == {}


def test_only_a_channel_operator_sets_its_keys() -> None:
    world = World()
    alice, _ = world.add("alice", "#a")
    bob, _ = world.add("bob", "#a")
    with pytest.raises(ChatError) as refused:
        world.hub.set_metadata(bob, "#a", "url", "https://example.com")
    assert refused.value.reason is Reason.KEY_NO_PERMISSION
    world.hub.set_metadata(alice, "#a", "url", "https://example.com")
    channel = world.hub.find_channel("#a")
    assert channel is not None
    assert channel.metadata == {"url": "https://example.com"}


@pytest.mark.parametrize(
    ("key", "value", "reason"),
    [
        ("bad key", "x", Reason.INVALID_KEY),
        (":colon", "x", Reason.INVALID_KEY),
        ("k" * 65, "x", Reason.INVALID_KEY),
        ("status", "x" * 301, Reason.INVALID_VALUE),
        ("status", "bell\x07", Reason.INVALID_VALUE),
        ("avatar", "http://example.com/a.png", Reason.INVALID_VALUE),
    ],
)
def test_bad_keys_and_values_are_refused(key: str, value: str, reason: Reason) -> None:
    world = World()
    alice, _ = world.add("alice")
    with pytest.raises(ChatError) as refused:
        world.hub.set_metadata(alice, "*", key, value)
    assert refused.value.reason is reason
    assert alice.metadata == {}


def test_an_unchanged_value_is_no_fact() -> None:
    world = World()
    alice, _ = world.add("alice")
    facts: list[object] = []
    world.bus.subscribe(facts.append)
    world.hub.set_metadata(alice, "*", "status", "here")
    world.hub.set_metadata(alice, "*", "status", "here")
    world.hub.set_metadata(alice, "*", "mood", None)
    assert len([f for f in facts if isinstance(f, MetadataChanged)]) == 1


def test_kept_keys_load_at_login_without_passing_the_limits() -> None:
    world = World()
    alice, _ = world.add("alice", account="acct")
    world.hub.load_metadata(alice, [("status", "x" * 400), ("bad key", "y"), ("pronouns", "she")])
    assert alice.metadata == {"pronouns": "she"}


@pytest.mark.parametrize(
    ("url", "valid"),
    [
        ("https://example.com/a.png", True),
        ("HTTPS://EXAMPLE.COM", True),
        ("data:image/webp;base64,UklGRg==", True),
        ("https://u:p@example.com/", False),
        ("https://example.com/a b.png", False),
        ("data:text/html;base64,PGI+", False),
        ("data:image/svg+xml;base64,PHN2Zz4=", False),
        ("ftp://example.com/a.png", False),
    ],
)
def test_an_avatar_is_https_or_an_inline_raster_image(url: str, valid: bool) -> None:
    assert valid_avatar(url) is valid


def test_a_registration_keeps_the_channels_keys() -> None:
    record = RegisteredChannel(Key("#a"), "#a", "acct", 1.0, metadata=(("url", "https://x"),))
    assert from_json("#a", to_json(record)).metadata == (("url", "https://x"),)
    # A registration written before metadata reads back with none.
    old = to_json(record).replace(', "metadata": [["url", "https://x"]]', "")
    assert from_json("#a", old).metadata == ()
