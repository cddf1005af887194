"""Plain sessions against names owned by accounts, and against hostile text in the
fields of events: bytes in, bytes out, no sockets (issue 20)."""

from __future__ import annotations

import re

import pytest

from hubbub.doors.plain.context import PlainContext
from hubbub.doors.plain.session import PlainSession
from tests.doors.plain.support import ROOM, TERMINAL_CONTROL, PlainClient, PlainDoor
from tests.helpers import FakePeer, Harness

PROMPT = "Enter your name: "
OWNED = "The name {} belongs to a registered account. Try another one."
REORDERING = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
HOSTILE = "\x1b]0;PWNED\x07\x1b[2J\u202eevil\u202c \u2066x\u2069\x07"


class Owners:
    """Account names as :class:`hubbub.accounts.Accounts` answers for them: folded."""

    def __init__(self, harness: Harness, *names: str) -> None:
        self.fold = harness.hub.casemap.fold
        self.names = {self.fold(name) for name in names}

    def is_registered(self, nick: str) -> bool:
        return self.fold(nick) in self.names


def client_of(ctx: PlainContext) -> PlainClient:
    client = PlainClient()
    client.session = PlainSession(ctx, client.sent.append, FakePeer(on_close=client.close))
    client.take()
    return client


@pytest.fixture
def owned(door: PlainDoor, harness: Harness) -> PlainContext:
    """The door's English context, where victor is an account."""
    ctx = door.context()
    ctx.accounts = Owners(harness, "victor")
    return ctx


# -- names owned by accounts -----------------------------------------------------------


@pytest.mark.parametrize("name", ["victor", "Victor", "VICTOR"])
def test_a_registered_name_is_refused_at_the_prompt_and_asked_again(
    owned: PlainContext, harness: Harness, name: str
) -> None:
    client = client_of(owned)
    client.send(name)
    assert client.take() == [OWNED.format(name), PROMPT]
    assert not client.plain.registered
    assert harness.hub.find_user("victor") is None
    client.send("viktor")
    assert client.plain.registered


def test_a_registered_name_is_refused_in_russian(harness: Harness) -> None:
    ctx = PlainContext(harness.hub, ROOM, "ru", accounts=Owners(harness, "victor"))
    client = client_of(ctx)
    client.send("victor")
    assert client.take() == [
        "Имя victor принадлежит зарегистрированной учётной записи. Попробуйте другое.",
        "Введите ваше имя: ",
    ]


def test_nick_to_a_registered_name_is_refused_and_nobody_sees_a_change(
    owned: PlainContext, harness: Harness
) -> None:
    irc = harness.register("ircbob", ROOM)
    client = client_of(owned)
    client.send("alice")
    client.take()
    irc.take()
    client.send("/nick VICTOR extra")
    assert client.take() == [OWNED.format("VICTOR")]
    assert harness.hub.find_user("alice") is not None
    assert irc.take() == []


@pytest.mark.parametrize("name", ["\x1b[1mvic\x07tor\x1b[0m", "\u202evic\u2066tor\u200f"])
def test_control_characters_cannot_smuggle_a_registered_name_past_the_check(
    owned: PlainContext, harness: Harness, name: str
) -> None:
    client = client_of(owned)
    client.send(name)
    assert client.take() == [OWNED.format("victor"), PROMPT]
    assert harness.hub.find_user("victor") is None


def test_without_accounts_every_valid_name_is_free(door: PlainDoor) -> None:
    assert door.context().accounts is None
    door.connect("victor")


def assert_safe(raw: bytes) -> None:
    assert TERMINAL_CONTROL.search(raw) is None, raw
    assert REORDERING.search(raw.decode()) is None, raw
    assert b"PWNED" not in raw


# -- every field from someone else is cleaned ------------------------------------------


def test_an_invitation_to_a_room_named_with_escapes_is_shown_cleaned(
    door: PlainDoor, harness: Harness
) -> None:
    alice = door.connect("alice")
    irc = harness.register("ircbob")
    irc.send(f"INVITE alice #{HOSTILE}")
    raw = alice.take_raw()
    assert_safe(raw)
    # IRC ends the room name at the space.
    assert raw in (b"", b"ircbob invites you to #evil. Type /join #evil\n")


def test_a_kill_reason_is_cleaned_in_both_lines_the_victim_sees(
    door: PlainDoor, harness: Harness
) -> None:
    alice = door.connect("alice")
    oper = harness.register("boss")
    oper.send("OPER oper operpass")
    oper.send(f"KILL alice :{HOSTILE}")
    assert alice.take() == [
        "You were disconnected by boss: evil x",
        "Killed (boss (evil x))",
    ]
    assert alice.closed


def test_a_message_is_cleaned_once_for_every_plain_user_in_the_room(
    door: PlainDoor, harness: Harness
) -> None:
    alice = door.connect("alice")
    bob = door.connect("bob")
    alice.take()
    irc = harness.register("ircbob", ROOM)
    alice.take()
    bob.take()
    irc.send(f"PRIVMSG {ROOM} :{HOSTILE}")
    assert alice.take_raw() == bob.take_raw() == b"ircbob: evil x\n"


def test_a_topic_with_bidi_controls_is_listed_without_them(
    door: PlainDoor, harness: Harness
) -> None:
    # Room names cannot hold them (the core refuses format characters in names).
    irc = harness.register("ircbob", "#ved")
    irc.send("TOPIC #ved :\u2067topic\u2069")
    assert [m.command for m in irc.take()] == ["TOPIC"]
    alice = door.connect("alice")
    alice.send("/rooms")
    assert alice.take() == ["Rooms:", "  #ved (1) - topic", f"  {ROOM} (1)"]
