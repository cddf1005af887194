"""Draft IRCv3 extensions: multiline, message-redaction, channel-rename, read-marker."""

from __future__ import annotations

from hubbub.settings import Limits, Settings
from hubbub.wire import numerics as n
from tests.doors.irc.support import relay
from tests.helpers import FakeClient, Harness

MULTILINE_CAPS = "message-tags batch echo-message server-time labeled-response draft/multiline"


def with_caps(harness: Harness, nick: str, caps: str, *joins: str) -> FakeClient:
    client = harness.client()
    client.send(f"CAP REQ :{caps}")
    client.send(f"NICK {nick}")
    client.send(f"USER {nick} 0 * :Real {nick}")
    client.send("CAP END")
    for channel in joins:
        client.send(f"JOIN {channel}")
    assert client.session.registered
    client.take()
    return client


def test_multiline_batch_is_held_until_it_ends_then_relayed_as_one_batch(
    harness: Harness,
) -> None:
    alice = with_caps(harness, "alice", MULTILINE_CAPS, "#t")
    bob = with_caps(harness, "bob", MULTILINE_CAPS, "#t")
    carol = with_caps(harness, "carol", "message-tags server-time", "#t")
    alice.take(), bob.take(), carol.take()
    alice.send("@label=xyz BATCH +1 draft/multiline #t")
    alice.send("@batch=1 PRIVMSG #t :hello")
    alice.send("@batch=1;draft/multiline-concat PRIVMSG #t :, world")
    alice.send("@batch=1 PRIVMSG #t :")
    assert alice.take() == []
    assert bob.take() == []
    alice.send("BATCH -1")
    echo = alice.take()
    assert [m.command for m in echo] == ["BATCH", "PRIVMSG", "PRIVMSG", "PRIVMSG", "BATCH"]
    assert echo[0].tags["label"] == "xyz"
    msgid = echo[0].tags["msgid"]
    got = bob.take()
    assert got[0].params[1:] == ("draft/multiline", "#t")
    assert got[0].tags["msgid"] == msgid
    reference = got[0].params[0][1:]
    assert [m.params for m in got[1:-1]] == [("#t", "hello"), ("#t", ", world"), ("#t", "")]
    assert all(m.tags["batch"] == reference for m in got[1:-1])
    assert "draft/multiline-concat" in got[2].tags
    assert got[-1].params == ("-" + reference,)
    fallback = carol.take()
    assert [m.params for m in fallback] == [("#t", "hello"), ("#t", ", world")]
    assert [m.tags.get("msgid") for m in fallback] == [msgid, None]
    assert fallback[0].tags["time"] == fallback[1].tags["time"] == echo[0].tags["time"]


def test_multiline_concat_on_a_blank_line_is_refused_and_nothing_is_relayed(
    harness: Harness,
) -> None:
    alice = with_caps(harness, "alice", MULTILINE_CAPS, "#t")
    bob = with_caps(harness, "bob", MULTILINE_CAPS, "#t")
    alice.take(), bob.take()
    alice.send("BATCH +2 draft/multiline #t")
    alice.send("@batch=2 PRIVMSG #t :hi")
    alice.send("@batch=2;draft/multiline-concat PRIVMSG #t :")
    alice.send("BATCH -2")
    (fail,) = alice.take()
    assert fail.params[:2] == ("BATCH", "MULTILINE_INVALID")
    assert bob.take() == []


def test_multiline_over_the_line_limit_is_refused(harness: Harness) -> None:
    alice = with_caps(harness, "alice", MULTILINE_CAPS, "#t")
    alice.send("BATCH +3 draft/multiline #t")
    for index in range(40):
        alice.send(f"@batch=3 PRIVMSG #t :line {index}")
    alice.send("BATCH -3")
    (fail,) = alice.take()
    assert fail.params[:3] == ("BATCH", "MULTILINE_MAX_LINES", "32")


def test_multiline_limits_are_the_servers_and_are_advertised() -> None:
    limits = Limits(multiline_max_bytes=100, multiline_max_lines=3)
    harness = Harness(Settings(server_name="irc.test").replace(limits=limits))
    client = harness.client()
    client.send("CAP LS 302")
    listed = " ".join(m.params[-1] for m in client.take() if m.command == "CAP")
    assert "draft/multiline=max-bytes=100,max-lines=3" in listed.split()
    alice = with_caps(harness, "alice", MULTILINE_CAPS, "#t")
    alice.send("BATCH +4 draft/multiline #t")
    for index in range(4):
        alice.send(f"@batch=4 PRIVMSG #t :line {index}")
    alice.send("BATCH -4")
    (fail,) = alice.take()
    assert fail.params[:3] == ("BATCH", "MULTILINE_MAX_LINES", "3")
    alice.send("BATCH +5 draft/multiline #t")
    alice.send("@batch=5 PRIVMSG #t :" + "x" * 101)
    alice.send("BATCH -5")
    (fail,) = alice.take()
    assert fail.params[:3] == ("BATCH", "MULTILINE_MAX_BYTES", "100")


def test_redact_by_the_sender_reaches_members_with_the_cap(harness: Harness) -> None:
    caps = "message-tags echo-message draft/message-redaction"
    alice = with_caps(harness, "alice", caps, "#t")
    bob = with_caps(harness, "bob", caps, "#t")
    carol = harness.register("carol", "#t")
    alice.take(), bob.take()
    bob.send("PRIVMSG #t :oops")
    msgid = bob.take()[0].tags["msgid"]
    alice.take(), carol.take()
    bob.send(f"REDACT #t {msgid} :typo")
    assert bob.take() == [relay("bob", "REDACT", "#t", msgid, "typo")]
    assert alice.take() == [relay("bob", "REDACT", "#t", msgid, "typo")]
    assert carol.take() == []


def test_redact_refusals_name_target_and_msgid(harness: Harness) -> None:
    caps = "message-tags echo-message draft/message-redaction"
    alice = with_caps(harness, "alice", caps, "#t")
    bob = with_caps(harness, "bob", caps, "#t")
    alice.take()
    alice.send("PRIVMSG #t :mine")
    msgid = alice.take()[0].tags["msgid"]
    bob.take()
    bob.send(f"REDACT #t {msgid}")
    assert [m.params[:4] for m in bob.take()] == [("REDACT", "REDACT_FORBIDDEN", "#t", msgid)]
    assert alice.take() == []
    alice.send("REDACT #t nosuchid")
    assert [m.params[:4] for m in alice.take()] == [("REDACT", "UNKNOWN_MSGID", "#t", "nosuchid")]
    alice.send(f"REDACT #elsewhere {msgid}")
    assert [m.params[:3] for m in alice.take()] == [("REDACT", "INVALID_TARGET", "#elsewhere")]


def test_rename_moves_members_and_frees_the_old_name(harness: Harness) -> None:
    alice = with_caps(harness, "alice", "draft/channel-rename", "#old")
    bob = harness.register("bob", "#old")
    alice.take()
    alice.send("TOPIC #old :kept")
    alice.take(), bob.take()
    alice.send("RENAME #old #new :tidy")
    assert alice.take() == [relay("alice", "RENAME", "#old", "#new", "tidy")]
    without_cap = bob.take()
    assert [m.command for m in without_cap[:2]] == ["PART", "JOIN"]
    assert without_cap[1].params == ("#new",)
    assert (n.RPL_TOPIC, "kept") in [(m.command, m.params[-1]) for m in without_cap]
    channel = harness.hub.find_channel("#new")
    assert channel is not None
    assert set(channel.members) == {alice.session.user, bob.session.user}
    assert harness.hub.find_channel("#old") is None


def test_rename_by_a_non_operator_is_refused_with_482(harness: Harness) -> None:
    harness.register("alice", "#old")
    bob = harness.register("bob", "#old")
    bob.send("RENAME #old #new")
    assert [m.command for m in bob.take()] == [n.ERR_CHANOPRIVSNEEDED]


def test_markread_only_moves_forward_and_is_sent_on_join(harness: Harness) -> None:
    alice = with_caps(harness, "alice", "draft/read-marker")
    alice.send("MARKREAD #t")
    assert [m.params for m in alice.take()] == [("#t", "*")]
    alice.send("MARKREAD #t timestamp=2026-01-02T03:04:05.678Z")
    alice.send("MARKREAD #t timestamp=2020-01-01T00:00:00.000Z")
    assert [m.params[1] for m in alice.take()] == [
        "timestamp=2026-01-02T03:04:05.678Z",
        "timestamp=2026-01-02T03:04:05.678Z",
    ]
    alice.send("JOIN #t")
    commands = [m.command for m in alice.take()]
    assert commands.index("MARKREAD") < commands.index(n.RPL_ENDOFNAMES)


def test_markread_refuses_bad_timestamps_and_missing_target(harness: Harness) -> None:
    alice = with_caps(harness, "alice", "draft/read-marker")
    for line in ("MARKREAD", "MARKREAD #t *", "MARKREAD #t timestamp=yesterday"):
        alice.send(line)
    assert [m.params[:2] for m in alice.take()] == [
        ("MARKREAD", "NEED_MORE_PARAMS"),
        ("MARKREAD", "INVALID_PARAMS"),
        ("MARKREAD", "INVALID_PARAMS"),
    ]


def test_invite_notify_tells_other_members_with_the_cap_only(harness: Harness) -> None:
    alice = harness.register("alice", "#t")
    carol = with_caps(harness, "carol", "invite-notify", "#t")
    dave = harness.register("dave", "#t")
    bob = harness.register("bob")
    alice.take(), carol.take(), dave.take()
    alice.send("INVITE bob #t")
    assert carol.take() == [relay("alice", "INVITE", "bob", "#t")]
    assert dave.take() == []
    assert bob.take() == [relay("alice", "INVITE", "bob", "#t")]


def test_a_multiline_batch_may_not_carry_a_ctcp_past_no_ctcp_mode(harness: Harness) -> None:
    # Probe 21: +C looked at the joined text only, and members without the capability
    # get each part as a line of its own.
    alice = with_caps(harness, "alice", MULTILINE_CAPS, "#t")
    carol = with_caps(harness, "carol", "message-tags", "#t")
    alice.send("MODE #t +C")
    alice.take(), carol.take()
    alice.send("BATCH +9 draft/multiline #t")
    alice.send("@batch=9 PRIVMSG #t :hello")
    alice.send("@batch=9 PRIVMSG #t :\x01VERSION\x01")
    alice.send("BATCH -9")
    assert [m.command for m in alice.take()] == [n.ERR_CANNOTSENDTOCHAN]
    assert carol.take() == []
    alice.send("BATCH +10 draft/multiline #t")
    alice.send("@batch=10 PRIVMSG #t :hello")
    alice.send("@batch=10 PRIVMSG #t :\x01ACTION waves\x01")
    alice.send("BATCH -10")
    assert [m.params[-1] for m in carol.take()] == ["hello", "\x01ACTION waves\x01"]
