"""labeled-response: the reply collector on its own (no reply → ACK, one → a labeled
line, several → a labeled batch), then labeled commands through a session."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from hubbub.core.model import User
from hubbub.doors.irc import table
from hubbub.doors.irc.client import IrcClient
from hubbub.doors.irc.command import UserCommand
from hubbub.doors.irc.labels import ReplyCollector
from hubbub.wire.message import Message
from tests.doors.irc.support import lines, mask, pong
from tests.helpers import FakeClient, Harness

SERVER = "irc.test"


def references() -> Iterator[str]:
    number = 0
    while True:
        number += 1
        yield f"b{number}"


def collected(*replies: bytes, label: str = "abc", batch: bool = True) -> bytes:
    collector = ReplyCollector(label)
    for reply in replies:
        collector.add(reply)
    return collector.labeled(SERVER, batch, references().__next__)


# -- the collector alone -----------------------------------------------------------------


def test_no_reply_is_a_labeled_ack() -> None:
    assert collected() == b"@label=abc :irc.test ACK\r\n"


def test_one_reply_is_that_line_labeled() -> None:
    assert collected(b":irc.test PONG irc.test token\r\n") == (
        b"@label=abc :irc.test PONG irc.test token\r\n"
    )


def test_the_label_joins_the_tags_a_reply_has_already() -> None:
    assert collected(b"@time=2024-01-01T00:00:00.000Z :a!b@c PRIVMSG #c :hi\r\n") == (
        b"@label=abc;time=2024-01-01T00:00:00.000Z :a!b@c PRIVMSG #c :hi\r\n"
    )


def test_several_replies_are_a_labeled_batch() -> None:
    assert collected(b":irc.test 311 a b\r\n:irc.test 318 a b :End\r\n") == (
        b"@label=abc :irc.test BATCH +b1 labeled-response\r\n"
        b"@batch=b1 :irc.test 311 a b\r\n"
        b"@batch=b1 :irc.test 318 a b :End\r\n"
        b":irc.test BATCH -b1\r\n"
    )


def test_replies_added_apart_or_together_are_the_same_lines() -> None:
    together = collected(b":irc.test 311 a b\r\n:irc.test 318 a b :End\r\n")
    apart = collected(b":irc.test 311 a b\r\n", b":irc.test 318 a b :End\r\n")
    assert together == apart


def test_several_replies_to_a_client_without_batch_go_bare() -> None:
    replies = b":irc.test 311 a b\r\n:irc.test 318 a b :End\r\n"
    assert collected(replies, batch=False) == replies


def test_a_reply_that_is_one_batch_already_carries_the_label_on_its_opening() -> None:
    history = (
        b":irc.test BATCH +b7 chathistory #c\r\n"
        b"@batch=b7 :a!b@c PRIVMSG #c :old\r\n"
        b":irc.test BATCH -b7\r\n"
    )
    assert collected(history) == b"@label=abc " + history


def test_lines_of_a_nested_batch_keep_their_own_batch_tag() -> None:
    out = collected(
        b":irc.test 001 a :hi\r\n",
        b":irc.test BATCH +n1 netjoin\r\n",
        b"@batch=n1 :a!b@c JOIN #c\r\n",
        b":irc.test BATCH -n1\r\n",
    )
    assert b"@batch=n1 :a!b@c JOIN #c\r\n" in out
    assert b"@batch=b1 :irc.test BATCH +n1 netjoin\r\n" in out


def test_a_label_with_special_characters_is_escaped() -> None:
    assert collected(label="a;b c") == b"@label=a\\:b\\sc :irc.test ACK\r\n"


# -- labeled commands through a session --------------------------------------------------

LABELED = "CAP REQ :labeled-response batch message-tags"


def labeler(harness: Harness, nick: str = "alice", *joins: str) -> FakeClient:
    client = harness.register(nick, *joins)
    client.send(LABELED)
    client.take()
    return client


def test_a_labeled_command_without_reply_gets_an_ack(harness: Harness) -> None:
    alice = labeler(harness)
    alice.send("@label=p1 PONG :whatever")
    assert lines(alice) == [b"@label=p1 :irc.test ACK"]


def test_a_labeled_command_with_one_reply_gets_it_labeled(harness: Harness) -> None:
    alice = labeler(harness)
    alice.send("@label=p2 PING token")
    assert lines(alice) == [b"@label=p2 :irc.test PONG irc.test token"]


def test_a_labeled_refusal_is_labeled_too(harness: Harness) -> None:
    alice = labeler(harness)
    alice.send("@label=r1 KILL bob :go")
    assert lines(alice) == [
        b"@label=r1 :irc.test 481 alice :Permission Denied- You're not an IRC operator"
    ]


def test_a_labeled_join_batches_the_clients_own_join_with_its_replies(
    harness: Harness,
) -> None:
    alice = labeler(harness)
    alice.send("@label=j1 JOIN #room")
    assert lines(alice) == [
        b"@label=j1 :irc.test BATCH +b1 labeled-response",
        b"@batch=b1 :" + mask("alice").encode() + b" JOIN #room",
        b"@batch=b1 :irc.test 353 alice = #room @alice",
        b"@batch=b1 :irc.test 366 alice #room :End of /NAMES list",
        b":irc.test BATCH -b1",
    ]


def test_replies_after_a_labeled_command_are_not_labeled(harness: Harness) -> None:
    alice = labeler(harness)
    alice.send("@label=p3 PING one")
    alice.take()
    alice.send("PING two")
    assert lines(alice) == [b":irc.test PONG irc.test two"]


def test_a_failing_labeled_command_stops_collecting(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(session: IrcClient, user: User, message: Message) -> None:
        session.numeric("NOTICE", "half a reply")
        raise RuntimeError("a bug in a handler")

    monkeypatch.setitem(table.COMMANDS, "BROKEN", UserCommand("BROKEN", broken))
    alice = labeler(harness)
    with pytest.raises(RuntimeError):
        alice.send("@label=x1 BROKEN")
    assert alice.session.collector is None
    assert pong(alice)


async def test_a_waiting_labeled_command_labels_its_replies_but_not_what_others_do(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    stored = asyncio.Event()

    async def slow(session: IrcClient, user: User, message: Message) -> None:
        session.message("NOTICE", user.nick, "before the wait")
        await stored.wait()
        session.message("NOTICE", user.nick, "after the wait")

    monkeypatch.setitem(table.COMMANDS, "SLOW", UserCommand("SLOW", slow))
    alice = labeler(harness, "alice", "#room")
    bob = harness.register("bob")
    pending = alice.session.receive_line(b"@label=s1 SLOW")
    assert pending is not None
    bob.send("JOIN #room")
    assert lines(alice) == [b":" + mask("bob").encode() + b" JOIN #room"]
    task = asyncio.ensure_future(pending)
    await asyncio.sleep(0)
    stored.set()
    await task
    assert lines(alice) == [
        b"@label=s1 :irc.test BATCH +b1 labeled-response",
        b"@batch=b1 :irc.test NOTICE alice :before the wait",
        b"@batch=b1 :irc.test NOTICE alice :after the wait",
        b":irc.test BATCH -b1",
    ]
    assert alice.session.collector is None
