"""Recent messages: remembered by msgid within a bound, and who said them to whom by
user id and account id."""

from __future__ import annotations

from hubbub.core.model import User
from hubbub.core.presence import ELSEWHERE
from hubbub.core.recent import RecentMessages, Sent
from hubbub.wire.casemap import Key


def person(user_id: str, nick: str = "x", account_id: str | None = None) -> User:
    user = User(user_id, nick, Key(nick), Key(nick), nick, "host", "", ELSEWHERE, 1.0)
    user.account_id = account_id
    return user


def sent(n: int) -> Sent:
    return Sent(f"u{n}", None, "#a 1", "#a", None)


def test_a_kept_message_is_found_by_its_msgid_until_forgotten() -> None:
    recent = RecentMessages(3)
    recent.keep("m1", sent(1))
    assert recent.get("m1") == sent(1)
    assert recent.get("m2") is None
    recent.forget("m1")
    assert recent.get("m1") is None
    recent.forget("m1")


def test_past_the_bound_the_oldest_message_is_forgotten_first() -> None:
    recent = RecentMessages(2)
    for n in range(1, 4):
        recent.keep(f"m{n}", sent(n))
    assert recent.get("m1") is None
    assert recent.get("m2") == sent(2)
    assert recent.get("m3") == sent(3)


def test_a_lower_bound_binds_from_the_next_message() -> None:
    recent = RecentMessages(5)
    for n in range(1, 4):
        recent.keep(f"m{n}", sent(n))
    recent.limit = 2
    recent.keep("m4", sent(4))
    assert recent.get("m1") is None
    assert recent.get("m2") == sent(2)


def test_a_message_is_said_by_its_senders_id_or_account_never_its_nick() -> None:
    message = Sent("u1", "acct", "#a 1", "#a", None)
    assert message.said_by(person("u1", "alice"))
    assert message.said_by(person("u2", "laptop", account_id="acct"))
    assert not message.said_by(person("u3", "alice"))
    assert not message.said_by(person("u4", "alice", account_id="other"))


def test_a_message_without_an_account_is_said_by_its_session_alone() -> None:
    message = Sent("u1", None, "#a 1", "#a", None)
    assert not message.said_by(person("u2", account_id=None))


def test_a_private_message_is_said_to_its_recipients_id_or_account() -> None:
    message = Sent("u1", None, "u2", "bob", "bobs")
    assert message.said_to(person("u2", "bob"))
    assert message.said_to(person("u9", "laptop", account_id="bobs"))
    assert not message.said_to(person("u3", "bob"))
    no_account = Sent("u1", None, "u2", "bob", None)
    assert not no_account.said_to(person("u3", "bob", account_id=None))
