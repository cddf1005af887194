"""The history part of every store, on each backend: append, before, after, find,
conversations, prune, delete, hostile texts."""

from __future__ import annotations

import asyncio
import math
import random

import pytest

from hubbub.core.history import Conversation, StoredMessage
from hubbub.storage.ports import Store
from tests.storage.conftest import CountRows
from tests.storage.samples import CHAN, T0, message, texts

# -- append, before, after, find -------------------------------------------------------


async def test_before_returns_the_latest_messages_strictly_before_oldest_first(
    store: Store,
) -> None:
    await store.append([message(n) for n in range(10)])

    assert texts(await store.before(CHAN, T0 + 7, 3)) == ["message 4", "message 5", "message 6"]
    # A message exactly at the bound is not "before" it.
    assert "message 7" not in texts(await store.before(CHAN, T0 + 7, 100))
    assert texts(await store.before(CHAN, T0 + 7, 100)) == [f"message {n}" for n in range(7)]
    assert texts(await store.before(CHAN, math.inf, 2)) == ["message 8", "message 9"]
    assert await store.before(CHAN, T0, 10) == []


async def test_after_returns_the_first_messages_strictly_after_oldest_first(
    store: Store,
) -> None:
    await store.append([message(n) for n in range(10)])

    assert texts(await store.after(CHAN, T0 + 2, 3)) == ["message 3", "message 4", "message 5"]
    assert texts(await store.after(CHAN, T0 + 6, 100)) == ["message 7", "message 8", "message 9"]
    assert await store.after(CHAN, T0 + 9, 10) == []
    assert texts(await store.after(CHAN, -math.inf, 1)) == ["message 0"]


async def test_messages_with_the_same_time_keep_the_order_they_were_appended_in(
    store: Store,
) -> None:
    same = [message(n, at=T0 + 5) for n in (3, 1, 2)]
    await store.append([message(0), *same, message(9)])

    assert texts(await store.after(CHAN, T0, 10)) == [
        "message 3",
        "message 1",
        "message 2",
        "message 9",
    ]
    assert texts(await store.before(CHAN, T0 + 9, 2)) == ["message 1", "message 2"]


async def test_messages_appended_out_of_order_come_back_in_time_order(
    store: Store,
) -> None:
    numbers = list(range(20))
    random.Random(3).shuffle(numbers)
    for number in numbers:
        await store.append([message(number)])

    assert texts(await store.before(CHAN, math.inf, 100)) == [f"message {n}" for n in range(20)]


async def test_conversations_do_not_mix(store: Store) -> None:
    await store.append([message(1, "#a"), message(2, "#b"), message(3, "#a"), message(4, "#A")])

    assert texts(await store.before("#a", math.inf, 10)) == ["message 1", "message 3"]
    assert texts(await store.after("#b", 0.0, 10)) == ["message 2"]
    assert texts(await store.before("#A", math.inf, 10)) == ["message 4"]
    assert await store.before("#c", math.inf, 10) == []


async def test_a_limit_larger_than_the_history_returns_all_of_it(store: Store) -> None:
    await store.append([message(n) for n in range(3)])
    assert len(await store.before(CHAN, math.inf, 1_000_000)) == 3
    assert len(await store.after(CHAN, 0.0, 1_000_000)) == 3


async def test_find_looks_a_message_up_in_its_own_conversation_only(store: Store) -> None:
    stored = message(5)
    await store.append([stored, message(6, "#other")])

    assert await store.find(CHAN, stored.msgid) == stored
    assert await store.find("#other", stored.msgid) is None
    assert await store.find(CHAN, "no-such-id") is None
    assert await store.find(CHAN, "") is None


async def test_a_duplicate_msgid_is_ignored_and_the_first_copy_kept(
    store: Store, count_rows: CountRows
) -> None:
    first = message(1, text="the original")
    await store.append([first])
    await store.append([message(1, text="a replay"), message(2)])
    # Twice in one batch, too.
    await store.append([message(3), message(3, text="again")])

    assert texts(await store.before(CHAN, math.inf, 10)) == [
        "the original",
        "message 2",
        "message 3",
    ]
    assert await store.find(CHAN, first.msgid) == first
    assert await count_rows() == 3


async def test_an_empty_append_is_a_no_op(store: Store) -> None:
    await store.append([])
    assert await store.before(CHAN, math.inf, 10) == []


async def test_every_field_tags_and_lines_round_trip(store: Store) -> None:
    stored = StoredMessage(
        msgid="AbC-123_x",
        time=T0 + 0.123456,
        conversation="alice bob",
        target="Bob",
        sender="Alice!~alice@203.0.113.9",
        kind="NOTICE",
        text="first line",
        tags=(("+draft/reply", "XyZ"), ("+example.com/k", "a;b c\\d"), ("+empty", "")),
        lines=("first line", "second line", ""),
    )
    await store.append([stored])

    (got,) = await store.before("alice bob", math.inf, 1)
    assert got == stored
    assert isinstance(got.tags, tuple)
    assert isinstance(got.lines, tuple)
    assert got.time == stored.time


async def test_messages_with_and_without_tags_in_one_append_keep_their_order(
    store: Store,
) -> None:
    # All at one time: only the order of storing tells them apart.
    tagged = {2, 3, 6}
    batch = [
        message(n, at=T0)._replace(
            tags=(("+k", str(n)),) if n in tagged else (),
            lines=(f"line {n}",) if n == 6 else (),
        )
        for n in range(8)
    ]
    await store.append(batch)

    got = await store.after(CHAN, -math.inf, 10)
    assert got == batch
    assert [m.seq for m in got] == sorted(m.seq for m in got)
    assert [m.tags for m in got] == [m.tags for m in batch]
    assert [m.lines for m in got] == [m.lines for m in batch]


HOSTILE_TEXTS = [
    "it's \"quoted\" `back` 'single'",
    "'); DROP TABLE messages; --",
    "Robert'); DELETE FROM messages WHERE 1=1; --",
    '" OR "1"="1',
    "x' UNION SELECT msgid, time, conversation, target, sender, kind, text, tags, lines"
    " FROM messages --",
    "nul\x00inside\x00\x00",
    "\x00",
    "percent % and underscore _ and star * and question ?",
    "back\\slash \\' \\\" \\0 \\n",
    '["json", "looking"]',
    '{"tags": [[1, 2]]}',
    "\x01ACTION waves\x01",
    "\x1b[2J\x07\x08\x7f control bytes \r\n\t",
    "Привет, мир — ünïcødé, 日本語, العربية, עברית",
    "emoji 👩‍👩‍👧‍👦🏳️‍🌈 and combining e\u0301 and zero\u200bwidth",
    "\U0010ffff\ufeff\ufffd",
    "",
    " ",
    "A" * 100_000,
    "日本" * 50_000,
    # What the PostgreSQL store writes NUL as must still read back as itself.
    "\uffff0 \uffff\uffff \x00\uffff \uffff",
]


@pytest.mark.parametrize("text", HOSTILE_TEXTS, ids=range(len(HOSTILE_TEXTS)))
async def test_hostile_texts_round_trip_exactly(
    store: Store, count_rows: CountRows, text: str
) -> None:
    hostile = StoredMessage(
        msgid=text[:200] or "empty",
        time=T0,
        conversation=text[:300],
        target=text[:300],
        sender=text[:300],
        kind="PRIVMSG",
        text=text,
        tags=(("+k", text), (text[:50], "v")),
        lines=(text, text[:10]),
    )
    await store.append([hostile, message(1, text[:300])])

    got = await store.before(text[:300], math.inf, 10)
    assert got == [hostile, message(1, text[:300])]
    assert got[0].text == text
    assert await store.find(text[:300], hostile.msgid) == hostile
    # Nothing was executed: the table is still there with both rows.
    assert await count_rows() == 2


async def test_many_concurrent_appends_and_reads_all_complete(store: Store) -> None:
    writes = [store.append([message(n)]) for n in range(200)]
    reads = [store.before(CHAN, math.inf, 5) for _ in range(50)]
    async with asyncio.timeout(10):
        await asyncio.gather(*writes, *reads)
    assert texts(await store.after(CHAN, -math.inf, 1000)) == [f"message {n}" for n in range(200)]


# -- conversations (CHATHISTORY TARGETS) -----------------------------------------------


async def test_conversations_lists_the_given_channels_by_latest_message(
    store: Store,
) -> None:
    await store.append(
        [
            message(1, "#a", sender="alice!a@h"),
            message(2, "#b", sender="bob!b@h"),
            message(3, "#a", sender="carol!c@h"),
            message(4, "#hidden"),
        ]
    )

    found = await store.conversations(["#a", "#b", "#none"], "zed", 0.0, math.inf, 10)

    assert found == [
        Conversation("#b", "#b", "bob!b@h", T0 + 2),
        Conversation("#a", "#a", "carol!c@h", T0 + 3),
    ]


async def test_conversations_window_is_exclusive_and_limit_keeps_the_oldest(
    store: Store,
) -> None:
    await store.append([message(n, f"#c{n}") for n in range(1, 6)])
    keys = [f"#c{n}" for n in range(1, 6)]

    window = await store.conversations(keys, "zed", T0 + 1, T0 + 5, 10)
    assert [c.conversation for c in window] == ["#c2", "#c3", "#c4"]
    limited = await store.conversations(keys, "zed", 0.0, math.inf, 2)
    assert [c.conversation for c in limited] == ["#c1", "#c2"]
    assert await store.conversations([], "zed", 0.0, math.inf, 10) == []


async def test_private_conversations_are_listed_for_their_owner(
    store: Store,
) -> None:
    await store.append(
        [
            message(1, "alice bob", target="bob"),
            message(2, "bob carol", target="bob"),
            message(3, "alice carol", target="carol"),
        ]
    )

    def names(found: list[Conversation]) -> list[str]:
        return [c.conversation for c in found]

    # A private conversation "<owner> <other>" is listed for its owner only.
    assert names(await store.conversations([], "bob", 0.0, math.inf, 10)) == ["bob carol"]
    assert names(await store.conversations([], "alice", 0.0, math.inf, 10)) == [
        "alice bob",
        "alice carol",
    ]
    # Part of a nick is not a participant.
    for partial in ("al", "ob", "lice", "b", "alice bob", " ", ""):
        assert await store.conversations([], partial, 0.0, math.inf, 10) == [], partial


async def test_an_owner_whose_id_begins_another_owners_id_sees_only_its_own(
    store: Store,
) -> None:
    await store.append(
        [
            message(1, "a:1 bob", target="bob"),
            message(2, "a:10 carol", target="carol"),
            message(3, "a:1! dave", target="dave"),
            message(4, "a:1 erin", target="erin"),
            message(5, "a:1 bob", target="bob"),
        ]
    )
    found = await store.conversations([], "a:1", 0.0, math.inf, 10)
    # Each once, by its latest message, oldest first.
    assert [(c.conversation, c.time) for c in found] == [("a:1 erin", T0 + 4), ("a:1 bob", T0 + 5)]


@pytest.mark.parametrize(
    ("participant", "expected"),
    [
        ("a_b", ["a_b zed"]),
        ("a%b", ["a%b zed"]),
        ("a%", []),
        ("%", []),
        ("_", []),
        ("a_", []),
        ("axb", ["axb zed"]),
        ("zed", []),
        ("a'b", ["a'b zed"]),
        ("a\uffff0b", ["a\uffff0b zed"]),
        ("a\uffff", []),
    ],
)
async def test_participants_with_wildcard_characters_match_literally(
    store: Store, participant: str, expected: list[str]
) -> None:
    # LIKE would read "_" and "%" as wildcards: "a_b" must not match "axb" or "aab".
    # U+FFFF, the PostgreSQL store's escape character, matches as itself too.
    conversations = ["a_b zed", "a%b zed", "axb zed", "aab zed", "a'b zed", "a\uffff0b zed"]
    await store.append([message(n, key) for n, key in enumerate(conversations, 1)])

    found = await store.conversations([], participant, 0.0, math.inf, 10)

    assert [c.conversation for c in found] == expected


# -- retention -------------------------------------------------------------------------


async def test_prune_forgets_messages_older_than_a_time(store: Store) -> None:
    await store.append([message(n) for n in range(10)] + [message(n, "#b") for n in range(3)])

    removed = await store.prune(T0 + 4, 1000)

    assert removed == 4 + 3
    assert texts(await store.before(CHAN, math.inf, 100)) == [f"message {n}" for n in range(4, 10)]
    assert await store.before("#b", math.inf, 100) == []


async def test_prune_keeps_the_newest_per_conversation(store: Store) -> None:
    await store.append(
        [message(n) for n in range(10)]
        + [message(n, "#small") for n in range(2)]
        + [message(n, "alice bob") for n in range(5)]
    )

    removed = await store.prune(0.0, 3)

    assert removed == 7 + 0 + 2
    assert texts(await store.before(CHAN, math.inf, 100)) == [
        "message 7",
        "message 8",
        "message 9",
    ]
    assert texts(await store.before("#small", math.inf, 100)) == ["message 0", "message 1"]
    assert texts(await store.before("alice bob", math.inf, 100)) == [
        "message 2",
        "message 3",
        "message 4",
    ]


async def test_prune_by_age_and_count_together_and_again(store: Store) -> None:
    await store.append([message(n) for n in range(10)])

    assert await store.prune(T0 + 2, 5) == 2 + 3
    assert texts(await store.before(CHAN, math.inf, 100)) == [f"message {n}" for n in range(5, 10)]
    assert await store.prune(T0 + 2, 5) == 0


# -- redaction -------------------------------------------------------------------------


async def test_delete_forgets_messages_by_msgid_in_any_conversation(
    store: Store, count_rows: CountRows
) -> None:
    await store.append([message(n) for n in range(4)] + [message(1, "#b")])

    await store.delete([message(1).msgid, message(1, "#b").msgid, "no-such-id", "'; --"])

    assert texts(await store.before(CHAN, math.inf, 10)) == ["message 0", "message 2", "message 3"]
    assert await store.find(CHAN, message(1).msgid) is None
    assert await store.before("#b", math.inf, 10) == []
    await store.delete([])
    assert await count_rows() == 3


async def test_an_append_larger_than_one_statement_keeps_every_message_in_order(
    store: Store,
) -> None:
    many = [message(number) for number in range(1234)]
    many.insert(700, message(5))  # a repeat in a later statement is ignored
    await store.append(many)
    stored = await store.after(CHAN, -math.inf, 5000)
    assert texts(stored) == [f"message {number}" for number in range(1234)]
