"""The IRC command table and the checks the session makes before calling a handler:
registration (451), parameters (461), operator rights (481), registration already done
(462), and unknown verbs (421), as exact bytes; and look up, then call."""

from __future__ import annotations

import pytest

from hubbub.core.model import User
from hubbub.doors.irc import table
from hubbub.doors.irc.client import IrcClient
from hubbub.doors.irc.command import ConnectionCommand, UserCommand
from hubbub.wire.message import Message
from tests.doors.irc.support import lines, pong
from tests.helpers import Harness

ME = b":irc.test"


# -- the table itself ------------------------------------------------------------------


def test_every_row_is_filed_under_its_own_upper_case_verb() -> None:
    assert table.COMMANDS
    for verb, row in table.COMMANDS.items():
        assert row.name == verb
        assert verb == verb.upper()


def test_only_connection_commands_are_open_before_registration() -> None:
    open_verbs = {verb for verb, row in table.COMMANDS.items() if not row.registered}
    assert open_verbs == {
        "PASS",
        "NICK",
        "USER",
        "CAP",
        "PING",
        "PONG",
        "QUIT",
        "AUTHENTICATE",
        "REGISTER",
        "VERIFY",
        "METADATA",  # draft/metadata-3 before-connect
    }


def test_operator_commands_are_marked_in_the_table() -> None:
    oper_verbs = {
        verb for verb, row in table.COMMANDS.items() if isinstance(row, UserCommand) and row.oper
    }
    assert oper_verbs == {"KILL", "REHASH", "WALLOPS", "KLINE", "UNKLINE", "DLINE", "UNDLINE"}


def test_a_verb_listed_twice_is_refused_when_the_table_is_built() -> None:
    def nothing(session: IrcClient, message: Message) -> None:
        """Never called."""

    row = ConnectionCommand("FROB", nothing)
    with pytest.raises(ValueError, match="FROB"):
        table.build_table([row], [row])


# -- registration: 451 -------------------------------------------------------------------


@pytest.mark.parametrize("line", ["JOIN #c", "JOIN", "PRIVMSG bob :hi", "KILL", "NS HELP"])
def test_a_user_command_before_registration_gets_451_whatever_its_parameters(
    harness: Harness, line: str
) -> None:
    client = harness.client()
    client.send(line)
    assert lines(client) == [ME + b" 451 * :You have not registered"]


def test_an_unknown_verb_before_registration_gets_451_too(harness: Harness) -> None:
    client = harness.client()
    client.send("FROBNICATE now")
    assert lines(client) == [ME + b" 451 * :You have not registered"]


def test_an_unknown_verb_after_registration_gets_421(harness: Harness) -> None:
    alice = harness.register("alice")
    alice.send("FROBNICATE now")
    assert lines(alice) == [ME + b" 421 alice FROBNICATE :Unknown command"]


# -- parameters: 461 ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "verb"),
    [("JOIN", b"JOIN"), ("KICK #c", b"KICK"), ("WHOIS", b"WHOIS"), ("mode", b"MODE")],
)
def test_a_user_command_with_too_few_parameters_gets_461(
    harness: Harness, line: str, verb: bytes
) -> None:
    alice = harness.register("alice")
    alice.send(line)
    assert lines(alice) == [ME + b" 461 alice " + verb + b" :Not enough parameters"]


@pytest.mark.parametrize(
    ("line", "verb"), [("CAP", b"CAP"), ("USER a 0 *", b"USER"), ("AUTHENTICATE", b"AUTHENTICATE")]
)
def test_a_connection_command_with_too_few_parameters_gets_461_before_registration(
    harness: Harness, line: str, verb: bytes
) -> None:
    client = harness.client()
    client.send(line)
    assert lines(client) == [ME + b" 461 * " + verb + b" :Not enough parameters"]


# -- operators: 481 ----------------------------------------------------------------------


@pytest.mark.parametrize("line", ["KILL bob :go away", "REHASH", "WALLOPS :hello"])
def test_an_operator_command_from_a_non_operator_gets_481(harness: Harness, line: str) -> None:
    alice = harness.register("alice")
    bob = harness.register("bob")
    alice.send(line)
    assert lines(alice) == [ME + b" 481 alice :Permission Denied- You're not an IRC operator"]
    assert bob.take() == []
    assert pong(bob)


def test_too_few_parameters_are_answered_before_operator_rights(harness: Harness) -> None:
    alice = harness.register("alice")
    alice.send("KILL bob")
    assert lines(alice) == [ME + b" 461 alice KILL :Not enough parameters"]


def test_an_operator_command_from_an_operator_reaches_its_handler(harness: Harness) -> None:
    alice = harness.register("alice")
    bob = harness.register("bob")
    alice.send("OPER oper operpass")
    alice.take()
    alice.send("KILL bob :go away")
    assert bob.closed
    assert pong(alice)


# -- registration already done: 462 ------------------------------------------------------


@pytest.mark.parametrize("line", ["USER again 0 * :Again", "PASS secret"])
def test_a_command_of_registration_after_it_gets_462(harness: Harness, line: str) -> None:
    alice = harness.register("alice")
    alice.send(line)
    assert lines(alice) == [ME + b" 462 alice :You may not reregister"]


def test_too_few_parameters_are_answered_before_registration_already_done(
    harness: Harness,
) -> None:
    alice = harness.register("alice")
    alice.send("PASS")
    assert lines(alice) == [ME + b" 461 alice PASS :Not enough parameters"]


# -- look up, then call ------------------------------------------------------------------


def test_a_failing_handler_raises_to_the_driver_and_never_reads_as_unknown(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(session: IrcClient, user: User, message: Message) -> None:
        raise RuntimeError("a bug in a handler")

    monkeypatch.setitem(table.COMMANDS, "BROKEN", UserCommand("BROKEN", broken))
    alice = harness.register("alice")
    with pytest.raises(RuntimeError, match="a bug in a handler"):
        alice.send("BROKEN")
    assert lines(alice) == []


def test_a_handler_is_given_the_registered_user(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[User, tuple[str, ...]]] = []

    def record(session: IrcClient, user: User, message: Message) -> None:
        seen.append((user, message.params))

    monkeypatch.setitem(table.COMMANDS, "RECORD", UserCommand("RECORD", record, min_params=1))
    alice = harness.register("alice")
    alice.send("RECORD one two")
    assert seen == [(harness.hub.find_user("alice"), ("one", "two"))]
