"""The quick path of a channel message (``say_quickly`` and ``Hub.say_in_channel``) gives
every client exactly the bytes the general path gives.

The general path is reached with the verb in lower case (``privmsg``): parsing makes it
PRIVMSG, but the quick path, which reads the bytes as sent, leaves such a line alone. Two
hubs with the same clock and message ids then run the same steps, one with each spelling,
and every client's output must be the same, byte for byte.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hubbub.doors.irc.commands.messaging import say_quickly
from hubbub.wire import numerics as n
from tests.helpers import FakeClient, Harness

NICKS = ("alice", "bob", "carol")
CHANNEL = "#c"


class Twins:
    """The same clients on two hubs: ``quick`` says channel messages as clients send
    them, ``general`` with the verb in lower case."""

    def __init__(self) -> None:
        self.quick, self.general = Harness(), Harness()
        self.general.hub.state.ids.prefix = self.quick.hub.state.ids.prefix
        self.clients = {
            nick: (self.quick.register(nick, CHANNEL), self.general.register(nick, CHANNEL))
            for nick in NICKS
        }

    def send(self, nick: str, line: str) -> None:
        quick, general = self.clients[nick]
        quick.send(line)
        verb, space, rest = line.partition(" ")
        if verb in ("PRIVMSG", "NOTICE"):
            line = verb.lower() + space + rest
        general.send(line)

    def outputs(self) -> dict[str, tuple[bytes, bytes]]:
        return {nick: (q.take_raw(), g.take_raw()) for nick, (q, g) in self.clients.items()}

    def assert_same(self) -> None:
        for nick, (quick, general) in self.outputs().items():
            assert quick == general, nick


@pytest.fixture
def twins() -> Twins:
    return Twins()


def said_quickly(client: FakeClient, line: bytes) -> bool:
    session = client.session
    assert session.user is not None
    return say_quickly(session, session.user, line)


# -- which lines take the quick path ---------------------------------------------------


def test_a_plain_message_from_a_member_takes_the_quick_path(harness: Harness) -> None:
    alice = harness.register("alice", CHANNEL)
    bob = harness.register("bob", CHANNEL)
    assert said_quickly(alice, b"PRIVMSG #c :hello there")
    assert said_quickly(alice, b"NOTICE #C :in another case")
    assert [m.params for m in bob.take()] == [("#c", "hello there"), ("#c", "in another case")]


@pytest.mark.parametrize(
    "line",
    [
        b"@+draft/react=x PRIVMSG #c :tagged",
        b"PRIVMSG #c,#d :two targets",
        b"PRIVMSG @#c :operators only",
        b"PRIVMSG #c one-word",
        b"PRIVMSG #c :",
        b"PRIVMSG bob :private",
        b"PRIVMSG #nowhere :no such channel",
        b"TAGMSG #c",
        b"PRIVMSG #c :\xff\xfe not UTF-8",
        b"PRIVMSG #\xff :not UTF-8",
        b"PRIVMSG #c :nul \x00 inside",
        b"PRIVMSG #c :a line\nQUIT :break",
        b"PRIVMSG #c :" + b"x" * 480,  # cut to fit once the source is in front
    ],
)
def test_every_other_shape_is_left_to_the_general_path(harness: Harness, line: bytes) -> None:
    alice = harness.register("alice", CHANNEL)
    harness.register("bob")
    assert not said_quickly(alice, line)
    assert alice.take_raw() == b""


@pytest.mark.parametrize(
    ("modes", "text"),
    [
        ("+m", "moderated"),
        ("+b bob!*@*", "banned"),
        ("+b m:bob!*@*", "muted"),
        ("+C", "\x01VERSION\x01"),
    ],
)
def test_a_rule_to_check_is_left_to_the_general_path(
    harness: Harness, modes: str, text: str
) -> None:
    alice = harness.register("alice", CHANNEL)
    bob = harness.register("bob", CHANNEL)
    alice.send(f"MODE #c {modes}")
    bob.take()
    assert not said_quickly(bob, f"PRIVMSG #c :{text}".encode())
    bob.send(f"PRIVMSG #c :{text}")
    assert bob.numerics() == [n.ERR_CANNOTSENDTOCHAN]


def test_an_outsider_is_left_to_the_general_path(harness: Harness) -> None:
    harness.register("alice", CHANNEL)
    mallory = harness.register("mallory")
    assert not said_quickly(mallory, b"PRIVMSG #c :let me in")


# -- the same bytes ---------------------------------------------------------------------


def test_echo_server_time_and_tags_are_the_general_paths(twins: Twins) -> None:
    twins.send("alice", "CAP REQ :echo-message server-time message-tags")
    twins.send("bob", "CAP REQ :server-time")
    twins.outputs()
    twins.send("alice", "PRIVMSG #c :hello")
    twins.send("bob", "NOTICE #c :hi")
    twins.send("carol", "PRIVMSG #c :\x01ACTION waves\x01")
    outputs = twins.outputs()
    assert outputs["alice"][0].count(b"PRIVMSG #c :hello") == 1  # the echo
    assert b"@time=" in outputs["bob"][0]
    for nick, (quick, general) in outputs.items():
        assert quick == general, nick


_RULES = [
    ["MODE #c +m"],
    ["MODE #c +m", "MODE #c +v bob"],
    ["MODE #c +b bob!*@*"],
    ["MODE #c +b bob!*@*", "MODE #c +e bob!*@*"],
    ["MODE #c +b m:bob!*@*"],
    ["MODE #c +b m:bob!*@*", "MODE #c +v bob"],
    ["MODE #c +C"],
    ["MODE #c +C", "MODE #c +o bob"],
    ["MODE #c +n", "MODE #c +C"],
]
_SAID = ["hello", "\x01ACTION waves\x01", "\x01VERSION\x01", "\x01", ":colon"]


@pytest.mark.parametrize("rules", _RULES, ids=" ".join)
def test_each_channel_rule_gives_what_the_general_path_gives(
    twins: Twins, rules: list[str]
) -> None:
    for line in rules:
        twins.send("alice", line)
    twins.send("bob", "PART #c")
    twins.send("bob", "JOIN #c")  # bob's status is gone: only +v/+o given again count
    for line in rules:
        if " +v " in line or " +o " in line:
            twins.send("alice", line)
    twins.outputs()
    for verb in ("PRIVMSG", "NOTICE"):
        for text in _SAID:
            twins.send("bob", f"{verb} #c :{text}")
            twins.assert_same()
    twins.send("carol", "PART #c")
    twins.send("carol", "PRIVMSG #c :from outside")
    twins.assert_same()


_TEXTS = st.sampled_from(
    ["hi", "two words", ":colon first", "\x01ACTION waves\x01", "\x01VERSION\x01", "é ü 😀"]
)
_MESSAGES = st.builds(
    lambda verb, target, text: f"{verb} {target} :{text}",
    st.sampled_from(["PRIVMSG", "NOTICE"]),
    st.sampled_from([CHANNEL, "#C", "@#c", "+#c", "#c,bob", "#other"]),
    _TEXTS,
)
_STEPS = st.one_of(
    _MESSAGES,
    st.builds(lambda text: f"PRIVMSG #c :{text}", st.text(min_size=1, max_size=460)),
    st.builds(lambda text: f"PRIVMSG {CHANNEL} :{text}", st.sampled_from(["x" * 470, "y" * 440])),
    st.builds(lambda text: f"@+draft/react=x;label=l PRIVMSG #c :{text}", _TEXTS),
    st.sampled_from(
        [
            f"JOIN {CHANNEL}",
            f"PART {CHANNEL}",
            "JOIN #other",
            "CAP REQ :echo-message",
            "CAP REQ :-echo-message",
            "CAP REQ :message-tags server-time",
            "CAP REQ :-server-time",
            "CAP REQ :labeled-response",
        ]
    ),
    st.builds(
        lambda mode, nick: f"MODE {CHANNEL} {mode.format(nick=nick)}",
        st.sampled_from(
            [
                "+m",
                "-m",
                "+n",
                "-n",
                "+C",
                "-C",
                "+v {nick}",
                "-v {nick}",
                "+o {nick}",
                "+b {nick}!*@*",
                "-b {nick}!*@*",
                "+b m:{nick}!*@*",
                "-b m:{nick}!*@*",
                "+e {nick}!*@*",
            ]
        ),
        st.sampled_from(NICKS),
    ),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(NICKS), _STEPS), min_size=1, max_size=25))
def test_any_sequence_gives_every_client_the_general_paths_bytes(
    steps: list[tuple[str, str]],
) -> None:
    twins = Twins()
    for nick, line in steps:
        twins.send(nick, line)
        twins.assert_same()
