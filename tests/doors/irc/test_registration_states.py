"""Registration as a state machine: the transition table on its own, then each
transition through an IRC session (lines in, state and lines out), the three ends of
completing registration, and the orders clients get wrong."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hubbub.accounts.service import Accounts
from hubbub.doors.irc.registration import TRANSITIONS, Registration, Step, advance
from hubbub.settings import Settings
from hubbub.storage.sqlite import SqliteStore
from hubbub.wire import numerics as n
from tests.doors.irc.support import lines, mask
from tests.helpers import SERVER_NAME, FakeClient, Harness

R = Registration
ME = b":irc.test"

# -- the table alone ---------------------------------------------------------------------

# Every transition that changes the state, written out independently of the table.
MOVES = [
    (R.NEW, Step.NICK, R.NICK_GIVEN),
    (R.NEW, Step.USER, R.USER_GIVEN),
    (R.NEW, Step.CAP_BEGIN, R.NEGOTIATING),
    (R.NICK_GIVEN, Step.USER, R.READY),
    (R.NICK_GIVEN, Step.CAP_BEGIN, R.NEGOTIATING_NICK_GIVEN),
    (R.USER_GIVEN, Step.NICK, R.READY),
    (R.USER_GIVEN, Step.CAP_BEGIN, R.NEGOTIATING_USER_GIVEN),
    (R.READY, Step.COMPLETED, R.REGISTERED),
    (R.READY, Step.NICK_REFUSED, R.USER_GIVEN),
    (R.NEGOTIATING, Step.NICK, R.NEGOTIATING_NICK_GIVEN),
    (R.NEGOTIATING, Step.USER, R.NEGOTIATING_USER_GIVEN),
    (R.NEGOTIATING, Step.CAP_END, R.NEW),
    (R.NEGOTIATING_NICK_GIVEN, Step.USER, R.NEGOTIATING_READY),
    (R.NEGOTIATING_NICK_GIVEN, Step.CAP_END, R.NICK_GIVEN),
    (R.NEGOTIATING_USER_GIVEN, Step.NICK, R.NEGOTIATING_READY),
    (R.NEGOTIATING_USER_GIVEN, Step.CAP_END, R.USER_GIVEN),
    (R.NEGOTIATING_READY, Step.CAP_END, R.READY),
]


@pytest.mark.parametrize(("state", "step", "after"), MOVES)
def test_each_transition_leads_where_the_theory_says(
    state: Registration, step: Step, after: Registration
) -> None:
    assert advance(state, step) is after


def test_any_other_step_leaves_the_state_as_it_is() -> None:
    moving = {(state, step) for state, step, _ in MOVES}
    for state in Registration:
        for step in Step:
            if (state, step) not in moving:
                assert advance(state, step) is state, (state, step)


def test_the_table_lists_every_state_and_nothing_leaves_registered() -> None:
    assert set(TRANSITIONS) == set(Registration)
    assert TRANSITIONS[R.REGISTERED] == {}


# -- each transition through a session ---------------------------------------------------

NICK = "NICK alice"
USER = "USER alice 0 * :Alice"
CAP_REQ = "CAP REQ :multi-prefix"
CAP_END = "CAP END"

# The lines that bring a new session to each state READY does not last past.
REACH: dict[Registration, list[str]] = {
    R.NEW: [],
    R.NICK_GIVEN: [NICK],
    R.USER_GIVEN: [USER],
    R.NEGOTIATING: ["CAP LS 302"],
    R.NEGOTIATING_NICK_GIVEN: ["CAP LS 302", NICK],
    R.NEGOTIATING_USER_GIVEN: ["CAP LS 302", USER],
    R.NEGOTIATING_READY: ["CAP LS 302", NICK, USER],
    R.REGISTERED: [NICK, USER],
}


def at(harness: Harness, state: Registration) -> FakeClient:
    client = harness.client()
    for line in REACH[state]:
        client.send(line)
    assert state_of(client) is state
    client.take()
    return client


# Stands for the welcome burst, checked by its first and last lines (001, 376).
WELCOMED: list[bytes] = [b"001 ... 376"]


def state_of(client: FakeClient) -> Registration:
    """The session's state now (a call, so that type checkers do not keep an earlier
    reading across the lines sent since)."""
    return client.session.registration


@pytest.mark.parametrize(
    ("state", "line", "after", "replies"),
    [
        (R.NEW, NICK, R.NICK_GIVEN, []),
        (R.NEW, USER, R.USER_GIVEN, []),
        (R.NEW, CAP_REQ, R.NEGOTIATING, [b" CAP * ACK multi-prefix"]),
        (R.NEW, CAP_END, R.NEW, []),
        (R.NICK_GIVEN, USER, R.REGISTERED, WELCOMED),
        (R.NICK_GIVEN, "NICK bob", R.NICK_GIVEN, []),
        (R.NICK_GIVEN, CAP_REQ, R.NEGOTIATING_NICK_GIVEN, [b" CAP alice ACK multi-prefix"]),
        (R.NICK_GIVEN, CAP_END, R.NICK_GIVEN, []),
        (R.USER_GIVEN, NICK, R.REGISTERED, WELCOMED),
        (R.USER_GIVEN, "USER bob 0 * :Bob", R.USER_GIVEN, []),
        (R.USER_GIVEN, CAP_REQ, R.NEGOTIATING_USER_GIVEN, [b" CAP * ACK multi-prefix"]),
        (R.USER_GIVEN, CAP_END, R.USER_GIVEN, []),
        (R.NEGOTIATING, NICK, R.NEGOTIATING_NICK_GIVEN, []),
        (R.NEGOTIATING, USER, R.NEGOTIATING_USER_GIVEN, []),
        (R.NEGOTIATING, CAP_REQ, R.NEGOTIATING, [b" CAP * ACK multi-prefix"]),
        (R.NEGOTIATING, CAP_END, R.NEW, []),
        (R.NEGOTIATING_NICK_GIVEN, USER, R.NEGOTIATING_READY, []),
        (R.NEGOTIATING_NICK_GIVEN, CAP_END, R.NICK_GIVEN, []),
        (R.NEGOTIATING_USER_GIVEN, NICK, R.NEGOTIATING_READY, []),
        (R.NEGOTIATING_USER_GIVEN, CAP_END, R.USER_GIVEN, []),
        (R.NEGOTIATING_READY, CAP_END, R.REGISTERED, WELCOMED),
        (R.NEGOTIATING_READY, "NICK bob", R.NEGOTIATING_READY, []),
        (R.NEGOTIATING_READY, CAP_REQ, R.NEGOTIATING_READY, [b" CAP alice ACK multi-prefix"]),
        (R.REGISTERED, CAP_REQ, R.REGISTERED, [b" CAP alice ACK multi-prefix"]),
        (R.REGISTERED, CAP_END, R.REGISTERED, []),
        (R.REGISTERED, USER, R.REGISTERED, [b" 462 alice :You may not reregister"]),
        (R.REGISTERED, "PASS secret", R.REGISTERED, [b" 462 alice :You may not reregister"]),
    ],
)
def test_a_line_in_each_state_moves_it_and_answers_as_the_table_says(
    harness: Harness,
    state: Registration,
    line: str,
    after: Registration,
    replies: list[bytes],
) -> None:
    client = at(harness, state)
    client.send(line)
    assert state_of(client) is after
    sent = lines(client)
    if replies is WELCOMED:
        assert sent[0].startswith(ME + b" 001 alice :Welcome")
        assert sent[-1] == ME + b" 376 alice :End of /MOTD command."
    else:
        assert sent == [ME + reply for reply in replies]
    assert client.session.registered is (after is R.REGISTERED)


@pytest.mark.parametrize("state", [R.NEW, R.NICK_GIVEN, R.USER_GIVEN, R.NEGOTIATING_READY])
def test_pass_is_recorded_and_moves_nothing(harness: Harness, state: Registration) -> None:
    client = at(harness, state)
    client.send("PASS secret")
    assert state_of(client) is state
    assert client.session.password == "secret"
    assert lines(client) == []


# -- the three ends of completing registration ------------------------------------------


def test_completion_with_the_nick_taken_meanwhile_waits_for_another_nick(
    harness: Harness,
) -> None:
    client = at(harness, R.NEGOTIATING_READY)
    harness.register("alice")
    client.send(CAP_END)
    assert lines(client) == [ME + b" 433 alice alice :Nickname is already in use"]
    assert state_of(client) is R.USER_GIVEN
    assert client.session.nick is None
    client.send("NICK alice2")
    assert state_of(client) is R.REGISTERED
    assert harness.hub.find_user("alice2") is not None


def test_completion_with_a_wrong_server_password_closes_the_connection() -> None:
    harness = Harness(Settings(server_name=SERVER_NAME, password="letmein"))
    client = harness.client()
    client.send("PASS guess")
    client.send(NICK)
    client.send(USER)
    assert lines(client) == [
        ME + b" 464 alice :Password incorrect",
        b"ERROR :Closing link: (~alice@127.0.0.1) [Bad password]",
    ]
    assert client.closed
    assert not client.session.registered
    assert harness.hub.find_user("alice") is None
    client.send("NICK again")
    assert lines(client) == []


def test_completion_with_the_right_server_password_welcomes() -> None:
    harness = Harness(Settings(server_name=SERVER_NAME, password="letmein"))
    client = harness.client()
    for line in ("PASS letmein", NICK, USER):
        client.send(line)
    assert state_of(client) is R.REGISTERED
    assert harness.hub.find_user("alice") is not None


# -- orders clients get wrong ------------------------------------------------------------


def test_user_twice_before_nick_keeps_the_second(harness: Harness) -> None:
    client = harness.client()
    client.send("USER first 0 * :First")
    client.send("USER second 0 * :Second")
    assert lines(client) == []
    client.send(NICK)
    user = harness.hub.find_user("alice")
    assert user is not None
    assert (user.username, user.realname) == ("~second", "Second")


def test_user_twice_around_registration_refuses_the_second(harness: Harness) -> None:
    client = at(harness, R.NICK_GIVEN)
    client.send(USER)
    client.take()
    client.send(USER)
    assert lines(client) == [ME + b" 462 alice :You may not reregister"]


def test_a_refused_nick_before_registration_moves_nothing(harness: Harness) -> None:
    client = at(harness, R.USER_GIVEN)
    client.send("NICK 1bad")
    assert lines(client)[0].startswith(ME + b" 432 * 1bad :Erroneous nickname")
    assert state_of(client) is R.USER_GIVEN
    harness.register("taken")
    client.send("NICK taken")
    assert lines(client) == [ME + b" 433 * taken :Nickname is already in use"]
    assert state_of(client) is R.USER_GIVEN


def test_a_refused_user_before_registration_moves_nothing(harness: Harness) -> None:
    client = at(harness, R.NICK_GIVEN)
    client.send("USER alice 0 * :")
    assert lines(client) == [ME + b" 461 alice USER :Not enough parameters"]
    assert state_of(client) is R.NICK_GIVEN


def test_a_refused_nick_change_after_registration_keeps_the_user_registered(
    harness: Harness,
) -> None:
    harness.register("bob")
    alice = harness.register("alice")
    alice.send("NICK bob")
    assert lines(alice) == [ME + b" 433 alice bob :Nickname is already in use"]
    alice.send("NICK 1bad")
    assert lines(alice)[0].startswith(ME + b" 432 alice 1bad :Erroneous nickname")
    assert state_of(alice) is R.REGISTERED
    assert alice.session.client == "alice"


def test_a_nick_change_after_registration_is_announced_and_moves_nothing(
    harness: Harness,
) -> None:
    alice = harness.register("alice")
    alice.send("NICK alicia")
    assert lines(alice) == [b":" + mask("alice").encode() + b" NICK alicia"]
    assert state_of(alice) is R.REGISTERED


def test_cap_end_without_cap_ls_neither_answers_nor_holds_later(harness: Harness) -> None:
    client = harness.client()
    client.send(CAP_END)
    assert lines(client) == []
    client.send(NICK)
    client.send(USER)
    assert state_of(client) is R.REGISTERED


def test_cap_ls_after_cap_end_holds_registration_again(harness: Harness) -> None:
    client = harness.client()
    for line in ("CAP LS", CAP_END, NICK, "CAP LS", USER):
        client.send(line)
    assert state_of(client) is R.NEGOTIATING_READY
    client.take()
    client.send(CAP_END)
    assert state_of(client) is R.REGISTERED


def test_authenticate_without_accounts_fails_whatever_the_state(harness: Harness) -> None:
    client = harness.client()
    client.send("AUTHENTICATE PLAIN")
    assert lines(client) == [
        ME + b" 904 * :SASL authentication failed: no accounts here",
    ]
    assert state_of(client) is R.NEW


@pytest.fixture
async def accounts(tmp_path: Path, harness: Harness) -> AsyncIterator[Accounts]:
    store = await SqliteStore.open(tmp_path / "hubbub.db")
    accounts = Accounts(store, harness.hub.casemap)
    await accounts.load()
    await accounts.register("alice", "correct horse battery")
    harness.ctx.accounts = accounts
    try:
        yield accounts
    finally:
        await store.close()


async def test_authenticate_before_cap_req_sasl_is_answered_and_kept_for_registration(
    harness: Harness, accounts: Accounts
) -> None:
    client = harness.client()
    client.send("AUTHENTICATE PLAIN")
    assert lines(client) == [b"AUTHENTICATE +"]
    payload = base64.b64encode(b"alice\0alice\0correct horse battery").decode()
    pending = client.session.receive_line(f"AUTHENTICATE {payload}".encode())
    assert pending is not None
    await pending
    assert [line.split(b" ")[1] for line in lines(client)] == [
        n.RPL_LOGGEDIN.encode(),
        n.RPL_SASLSUCCESS.encode(),
    ]
    assert state_of(client) is R.NEW
    client.send(NICK)
    client.send(USER)
    user = harness.hub.find_user("alice")
    assert user is not None
    assert user.account == "alice"
