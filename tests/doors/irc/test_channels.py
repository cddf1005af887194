"""Channels through an IRC session: JOIN, PART, TOPIC, NAMES, LIST, KICK and INVITE."""

from __future__ import annotations

import pytest

from hubbub.wire import numerics as n
from hubbub.wire.message import parse
from tests.doors.irc.support import lines, mask, relay, reply
from tests.helpers import FakeClient, Harness

NOW = 1_700_000_000


@pytest.fixture
def pair(harness: Harness) -> tuple[FakeClient, FakeClient]:
    """alice (operator of #c) and bob, both in #c, with nothing pending."""
    alice = harness.register("alice", "#c")
    bob = harness.register("bob", "#c")
    alice.take()
    return alice, bob


def names_reply(client: str, channel: str, names: str, symbol: str = "=") -> list[object]:
    return [
        reply(n.RPL_NAMREPLY, client, symbol, channel, names),
        reply(n.RPL_ENDOFNAMES, client, channel, "End of /NAMES list"),
    ]


# -- JOIN ------------------------------------------------------------------------------


def test_join_creates_channel_with_the_joiner_as_operator(harness: Harness) -> None:
    alice = harness.register("alice")
    alice.send("JOIN #new")
    assert alice.take() == [
        relay("alice", "JOIN", "#new"),
        *names_reply("alice", "#new", "@alice"),
    ]


def test_join_existing_channel_is_announced_to_members(
    pair: tuple[FakeClient, FakeClient], harness: Harness
) -> None:
    alice, bob = pair
    carol = harness.client()
    carol.send("NICK carol")
    carol.send("USER carol 0 * :Real carol")
    carol.take()
    carol.send("JOIN #c")
    assert carol.take() == [
        relay("carol", "JOIN", "#c"),
        *names_reply("carol", "#c", "@alice bob carol"),
    ]
    assert alice.take() == [relay("carol", "JOIN", "#c")]
    assert bob.take() == [relay("carol", "JOIN", "#c")]


def test_join_shows_the_topic_first(pair: tuple[FakeClient, FakeClient], harness: Harness) -> None:
    alice, _ = pair
    alice.send("TOPIC #c :Welcome!")
    carol = harness.register("carol")
    carol.send("JOIN #c")
    assert carol.take() == [
        relay("carol", "JOIN", "#c"),
        reply(n.RPL_TOPIC, "carol", "#c", "Welcome!"),
        reply(n.RPL_TOPICWHOTIME, "carol", "#c", mask("alice"), str(NOW)),
        *names_reply("carol", "#c", "@alice bob carol"),
    ]


def test_join_with_other_case_uses_the_channel_name(pair: tuple[FakeClient, FakeClient]) -> None:
    alice, bob = pair
    bob.send("PART #c")
    alice.take()
    bob.take()
    bob.send("JOIN #C")
    assert bob.take()[0] == relay("bob", "JOIN", "#c")


def test_join_of_a_list_joins_each_channel(harness: Harness) -> None:
    alice = harness.register("alice")
    alice.send("JOIN #a,#b")
    assert alice.take() == [
        relay("alice", "JOIN", "#a"),
        *names_reply("alice", "#a", "@alice"),
        relay("alice", "JOIN", "#b"),
        *names_reply("alice", "#b", "@alice"),
    ]


def test_join_of_a_list_with_keys_uses_each_key_for_its_channel(harness: Harness) -> None:
    alice = harness.register("alice", "#a", "#b", "#c")
    alice.send("MODE #a +k ka")
    alice.send("MODE #b +k kb")
    bob = harness.register("bob")
    bob.send("JOIN #a,#b,#c ka,kb")
    assert [m.command for m in bob.take()] == [
        "JOIN",
        n.RPL_NAMREPLY,
        n.RPL_ENDOFNAMES,
        "JOIN",
        n.RPL_NAMREPLY,
        n.RPL_ENDOFNAMES,
        "JOIN",
        n.RPL_NAMREPLY,
        n.RPL_ENDOFNAMES,
    ]


def test_join_of_a_list_with_a_wrong_key_joins_the_others(harness: Harness) -> None:
    alice = harness.register("alice", "#a", "#b")
    alice.send("MODE #a +k ka")
    bob = harness.register("bob")
    bob.send("JOIN #a,#b wrong")
    assert bob.take() == [
        reply(n.ERR_BADCHANNELKEY, "bob", "#a", "Cannot join channel (+k)"),
        relay("bob", "JOIN", "#b"),
        *names_reply("bob", "#b", "@alice bob"),
    ]


def test_join_zero_parts_every_channel(harness: Harness) -> None:
    alice = harness.register("alice", "#a", "#b")
    bob = harness.register("bob", "#a", "#b")
    alice.take()
    bob.send("JOIN 0")
    assert bob.take() == [relay("bob", "PART", "#a"), relay("bob", "PART", "#b")]
    assert alice.take() == [relay("bob", "PART", "#a"), relay("bob", "PART", "#b")]
    user = harness.hub.find_user("bob")
    assert user is not None
    assert user.channels == {}


def test_join_of_a_channel_already_joined_does_nothing(
    pair: tuple[FakeClient, FakeClient],
) -> None:
    alice, bob = pair
    bob.send("JOIN #c")
    bob.send("JOIN #C")
    assert bob.take() == []
    assert alice.take() == []


@pytest.mark.parametrize(
    ("name", "detail"),
    [
        ("c", "channel names start with #"),
        ("#", "channel names start with #"),
        ("&local", "channel names start with #"),
        ("#" + "x" * 64, "channel name longer than 64 characters"),
        ("#a\x07b", "channel name has characters that are not allowed"),
    ],
)
def test_join_of_an_invalid_name_is_refused_with_476(
    harness: Harness, name: str, detail: str
) -> None:
    alice = harness.register("alice")
    alice.send(f"JOIN {name}")
    assert alice.take() == [
        reply(n.ERR_BADCHANMASK, "alice", name, f"Bad channel name ({detail})")
    ]


def test_join_of_a_name_of_exactly_channellen_is_accepted(harness: Harness) -> None:
    alice = harness.register("alice")
    name = "#" + "x" * 63
    alice.send(f"JOIN {name}")
    assert alice.take()[0] == relay("alice", "JOIN", name)


def test_join_past_chanlimit_is_refused_with_405(harness: Harness) -> None:
    alice = harness.register("alice")
    for index in range(50):
        alice.send(f"JOIN #c{index}")
    alice.take()
    alice.send("JOIN #one-too-many")
    assert alice.take() == [
        reply(n.ERR_TOOMANYCHANNELS, "alice", "#one-too-many", "You have joined too many channels")
    ]
    assert harness.hub.find_channel("#one-too-many") is None


def test_join_of_invite_only_channel_is_refused_with_473(
    pair: tuple[FakeClient, FakeClient], harness: Harness
) -> None:
    alice, bob = pair
    alice.send("MODE #c +i")
    bob.take()
    carol = harness.register("carol")
    carol.send("JOIN #c")
    assert carol.take() == [reply(n.ERR_INVITEONLYCHAN, "carol", "#c", "Cannot join channel (+i)")]
    assert bob.take() == []


def test_invite_exception_lets_a_user_into_invite_only_channel(harness: Harness) -> None:
    alice = harness.register("alice", "#c")
    alice.send("MODE #c +iI carol!*@*")
    carol = harness.register("carol")
    carol.send("JOIN #c")
    assert carol.take()[0] == relay("carol", "JOIN", "#c")


def test_invitation_lets_a_user_into_invite_only_channel_once(harness: Harness) -> None:
    alice = harness.register("alice", "#c")
    alice.send("MODE #c +i")
    carol = harness.register("carol")
    alice.send("INVITE carol #c")
    carol.take()
    carol.send("JOIN #c")
    assert carol.take()[0] == relay("carol", "JOIN", "#c")
    carol.send("PART #c")
    carol.take()
    carol.send("JOIN #c")
    assert carol.take() == [reply(n.ERR_INVITEONLYCHAN, "carol", "#c", "Cannot join channel (+i)")]


def test_join_of_keyed_channel_needs_the_key_or_is_refused_with_475(harness: Harness) -> None:
    alice = harness.register("alice", "#c")
    alice.send("MODE #c +k sesame")
    bob = harness.register("bob")
    bob.send("JOIN #c")
    assert bob.take() == [reply(n.ERR_BADCHANNELKEY, "bob", "#c", "Cannot join channel (+k)")]
    bob.send("JOIN #c wrong")
    assert bob.take() == [reply(n.ERR_BADCHANNELKEY, "bob", "#c", "Cannot join channel (+k)")]
    bob.send("JOIN #c sesame")
    assert bob.take()[0] == relay("bob", "JOIN", "#c")


def test_join_of_full_channel_is_refused_with_471(harness: Harness) -> None:
    alice = harness.register("alice", "#c")
    alice.send("MODE #c +l 2")
    harness.register("bob", "#c")
    carol = harness.register("carol")
    carol.send("JOIN #c")
    assert carol.take() == [reply(n.ERR_CHANNELISFULL, "carol", "#c", "Cannot join channel (+l)")]


def test_join_while_banned_is_refused_with_474(harness: Harness) -> None:
    alice = harness.register("alice", "#c")
    alice.send("MODE #c +b carol")
    carol = harness.register("carol")
    carol.send("JOIN #c")
    assert carol.take() == [reply(n.ERR_BANNEDFROMCHAN, "carol", "#c", "Cannot join channel (+b)")]


def test_ban_matches_whatever_the_case(harness: Harness) -> None:
    alice = harness.register("alice", "#c")
    alice.send("MODE #c +b CAROL!*@*")
    carol = harness.register("carol")
    carol.send("JOIN #c")
    assert carol.take() == [reply(n.ERR_BANNEDFROMCHAN, "carol", "#c", "Cannot join channel (+b)")]


def test_ban_exception_lets_a_banned_user_join(harness: Harness) -> None:
    alice = harness.register("alice", "#c")
    alice.send("MODE #c +be *!*@* carol!*@*")
    carol = harness.register("carol")
    dave = harness.register("dave")
    carol.send("JOIN #c")
    dave.send("JOIN #c")
    assert carol.take()[0] == relay("carol", "JOIN", "#c")
    assert dave.take() == [reply(n.ERR_BANNEDFROMCHAN, "dave", "#c", "Cannot join channel (+b)")]


def test_join_without_a_channel_is_refused_with_461(harness: Harness) -> None:
    alice = harness.register("alice")
    alice.send("JOIN")
    assert alice.take() == [reply(n.ERR_NEEDMOREPARAMS, "alice", "JOIN", "Not enough parameters")]


# -- PART ------------------------------------------------------------------------------


def test_part_with_a_reason_is_shown_to_every_member(pair: tuple[FakeClient, FakeClient]) -> None:
    alice, bob = pair
    bob.send("PART #c :off to bed")
    assert bob.take() == [relay("bob", "PART", "#c", "off to bed")]
    assert alice.take() == [relay("bob", "PART", "#c", "off to bed")]


def test_part_without_a_reason(pair: tuple[FakeClient, FakeClient]) -> None:
    alice, bob = pair
    bob.send("PART #c")
    assert bob.take() == [relay("bob", "PART", "#c")]
    assert alice.take() == [relay("bob", "PART", "#c")]


def test_part_of_a_list_leaves_each_channel(harness: Harness) -> None:
    alice = harness.register("alice", "#a", "#b")
    alice.send("PART #a,#b :bye")
    assert alice.take() == [
        relay("alice", "PART", "#a", "bye"),
        relay("alice", "PART", "#b", "bye"),
    ]
    assert harness.hub.channels == {}


def test_part_of_missing_channel_is_refused_with_403(harness: Harness) -> None:
    alice = harness.register("alice")
    alice.send("PART #nowhere")
    assert alice.take() == [reply(n.ERR_NOSUCHCHANNEL, "alice", "#nowhere", "No such channel")]


def test_part_of_channel_not_joined_is_refused_with_442(
    pair: tuple[FakeClient, FakeClient], harness: Harness
) -> None:
    alice, _ = pair
    carol = harness.register("carol")
    carol.send("PART #c")
    assert carol.take() == [reply(n.ERR_NOTONCHANNEL, "carol", "#c", "You're not on that channel")]
    assert alice.take() == []


def test_part_without_a_channel_is_refused_with_461(harness: Harness) -> None:
    alice = harness.register("alice")
    alice.send("PART")
    assert alice.take() == [reply(n.ERR_NEEDMOREPARAMS, "alice", "PART", "Not enough parameters")]


def test_last_member_leaving_removes_the_channel(harness: Harness) -> None:
    alice = harness.register("alice", "#c")
    alice.send("MODE #c +k key")
    alice.send("PART #c")
    assert harness.hub.find_channel("#c") is None
    bob = harness.register("bob")
    bob.send("JOIN #c")
    assert bob.take() == [relay("bob", "JOIN", "#c"), *names_reply("bob", "#c", "@bob")]


# -- TOPIC -----------------------------------------------------------------------------


def test_topic_set_by_operator_is_shown_to_members(pair: tuple[FakeClient, FakeClient]) -> None:
    alice, bob = pair
    alice.send("TOPIC #c :Rust and friends")
    assert alice.take() == [relay("alice", "TOPIC", "#c", "Rust and friends")]
    assert bob.take() == [relay("alice", "TOPIC", "#c", "Rust and friends")]


def test_topic_query_answers_332_and_333(
    pair: tuple[FakeClient, FakeClient], harness: Harness
) -> None:
    alice, bob = pair
    harness.clock.now = NOW + 60
    alice.send("TOPIC #c :Rust and friends")
    bob.take()
    bob.send("TOPIC #c")
    assert bob.take() == [
        reply(n.RPL_TOPIC, "bob", "#c", "Rust and friends"),
        reply(n.RPL_TOPICWHOTIME, "bob", "#c", mask("alice"), str(NOW + 60)),
    ]


def test_topic_query_without_topic_answers_331(pair: tuple[FakeClient, FakeClient]) -> None:
    _, bob = pair
    bob.send("TOPIC #c")
    assert bob.take() == [reply(n.RPL_NOTOPIC, "bob", "#c", "No topic is set")]


def test_topic_change_by_non_operator_with_t_is_refused_with_482(
    pair: tuple[FakeClient, FakeClient],
) -> None:
    alice, bob = pair
    bob.send("TOPIC #c :mine now")
    assert bob.take() == [
        reply(n.ERR_CHANOPRIVSNEEDED, "bob", "#c", "You're not a channel operator")
    ]
    assert alice.take() == []


def test_topic_change_by_anyone_without_t(pair: tuple[FakeClient, FakeClient]) -> None:
    alice, bob = pair
    alice.send("MODE #c -t")
    alice.take()
    bob.take()
    bob.send("TOPIC #c :mine now")
    assert alice.take() == [relay("bob", "TOPIC", "#c", "mine now")]


def test_topic_with_empty_text_clears_it(pair: tuple[FakeClient, FakeClient]) -> None:
    alice, bob = pair
    alice.send("TOPIC #c :something")
    alice.send("TOPIC #c :")
    assert bob.take() == [
        relay("alice", "TOPIC", "#c", "something"),
        relay("alice", "TOPIC", "#c", ""),
    ]
    bob.send("TOPIC #c")
    assert bob.take() == [reply(n.RPL_NOTOPIC, "bob", "#c", "No topic is set")]


def test_topic_is_cut_to_topiclen(pair: tuple[FakeClient, FakeClient]) -> None:
    alice, bob = pair
    alice.send("TOPIC #c :" + "t" * 400)
    assert bob.take() == [relay("alice", "TOPIC", "#c", "t" * 390)]


def test_topic_of_missing_channel_is_refused_with_403(harness: Harness) -> None:
    alice = harness.register("alice")
    alice.send("TOPIC #nowhere")
    assert alice.take() == [reply(n.ERR_NOSUCHCHANNEL, "alice", "#nowhere", "No such channel")]
    alice.send("TOPIC #nowhere :set")
    assert alice.take() == [reply(n.ERR_NOSUCHCHANNEL, "alice", "#nowhere", "No such channel")]


def test_topic_change_by_non_member_is_refused_with_442(
    pair: tuple[FakeClient, FakeClient], harness: Harness
) -> None:
    carol = harness.register("carol")
    carol.send("TOPIC #c :hijack")
    assert carol.take() == [reply(n.ERR_NOTONCHANNEL, "carol", "#c", "You're not on that channel")]


def test_topic_of_secret_channel_is_hidden_from_non_members_with_403(
    pair: tuple[FakeClient, FakeClient], harness: Harness
) -> None:
    alice, _ = pair
    alice.send("MODE #c +s")
    alice.send("TOPIC #c :secret plans")
    carol = harness.register("carol")
    carol.send("TOPIC #c")
    assert carol.take() == [reply(n.ERR_NOSUCHCHANNEL, "carol", "#c", "No such channel")]


# -- NAMES -----------------------------------------------------------------------------


def test_names_lists_members_with_their_highest_prefix(
    pair: tuple[FakeClient, FakeClient],
) -> None:
    alice, bob = pair
    alice.send("MODE #c +v bob")
    alice.take()
    bob.take()
    bob.send("NAMES #c")
    assert bob.take() == names_reply("bob", "#c", "@alice +bob")


@pytest.mark.parametrize(("flag", "symbol"), [("s", "@"), ("p", "*")])
def test_names_shows_secret_and_private_channel_symbols(
    pair: tuple[FakeClient, FakeClient], flag: str, symbol: str
) -> None:
    alice, _ = pair
    alice.send(f"MODE #c +{flag}")
    alice.take()
    alice.send("NAMES #c")
    assert alice.take() == names_reply("alice", "#c", "@alice bob", symbol)


def test_names_with_multi_prefix_shows_every_prefix(harness: Harness) -> None:
    alice = harness.client()
    alice.send("CAP REQ :multi-prefix")
    alice.send("NICK alice")
    alice.send("USER alice 0 * :Real alice")
    alice.send("CAP END")
    alice.send("JOIN #c")
    alice.send("MODE #c +v alice")
    alice.take()
    alice.send("NAMES #c")
    assert alice.take() == names_reply("alice", "#c", "@+alice")


def test_names_with_userhost_in_names_shows_full_masks(harness: Harness) -> None:
    harness.register("bob", "#c")
    alice = harness.client()
    alice.send("CAP REQ :userhost-in-names")
    alice.send("NICK alice")
    alice.send("USER alice 0 * :Real alice")
    alice.send("CAP END")
    alice.send("JOIN #c")
    assert alice.take()[-2:] == names_reply("alice", "#c", f"@{mask('bob')} {mask('alice')}")


def test_names_of_missing_channel_answers_only_366(harness: Harness) -> None:
    alice = harness.register("alice")
    alice.send("NAMES #nowhere")
    assert alice.take() == [reply(n.RPL_ENDOFNAMES, "alice", "#nowhere", "End of /NAMES list")]


def test_names_lists_a_channel_named_many_times_once_and_at_most_targmax_channels(
    harness: Harness,
) -> None:
    # Issue 20, eighth probe: NAMES #big,#big,… (101 times) answered each, about a
    # megabyte for one line.
    alice = harness.register("alice", *(f"#c{i}" for i in range(6)))
    alice.send("NAMES " + ",".join(["#c0"] * 101))
    assert [m.command for m in alice.take()] == [n.RPL_NAMREPLY, n.RPL_ENDOFNAMES]
    limit = harness.settings.limits.targets
    alice.send("NAMES " + ",".join(f"#c{i}" for i in range(6)))
    listed = [m.params[2] for m in alice.take() if m.command == n.RPL_NAMREPLY]
    assert listed == [f"#c{i}" for i in range(min(6, limit))]


def test_names_of_secret_channel_is_hidden_from_non_members(
    pair: tuple[FakeClient, FakeClient], harness: Harness
) -> None:
    alice, _ = pair
    alice.send("MODE #c +s")
    carol = harness.register("carol")
    carol.send("NAMES #c")
    assert carol.take() == [reply(n.RPL_ENDOFNAMES, "carol", "#c", "End of /NAMES list")]


def test_names_hides_invisible_users_from_non_members(
    pair: tuple[FakeClient, FakeClient], harness: Harness
) -> None:
    _, bob = pair
    bob.send("MODE bob +i")
    carol = harness.register("carol")
    carol.send("NAMES #c")
    assert carol.take() == names_reply("carol", "#c", "@alice")


def test_names_without_channel_answers_366_with_star(harness: Harness) -> None:
    alice = harness.register("alice")
    alice.send("NAMES")
    assert alice.take() == [reply(n.RPL_ENDOFNAMES, "alice", "*", "End of /NAMES list")]


def _check_namreply_split(client: FakeClient, channel: str, expected: list[str]) -> None:
    raw = lines(client)
    parsed = [parse(line) for line in raw]
    assert [m.command for m in parsed[-1:]] == [n.RPL_ENDOFNAMES]
    names: list[str] = []
    for line, message in zip(raw[:-1], parsed[:-1], strict=True):
        assert message.command == n.RPL_NAMREPLY
        assert message.params[:3] == ("alice", "=", channel)
        # Modern IRC client protocol: a message is at most 512 bytes, CR LF included.
        assert len(line) + 2 <= 512, len(line)
        names += message.params[3].split(" ")
    assert sorted(names) == sorted(expected)


def test_long_names_list_is_split_into_lines_under_512_bytes(harness: Harness) -> None:
    alice = harness.register("alice", "#c")
    nicks = [f"member{i:03d}" + "x" * 21 for i in range(60)]
    for nick in nicks:
        harness.register(nick, "#c")
    alice.take()
    alice.send("NAMES #c")
    _check_namreply_split(alice, "#c", ["@alice", *nicks])


def test_long_names_list_of_unicode_nicks_is_split_under_512_bytes(harness: Harness) -> None:
    """Nicks of 30 Cyrillic letters are 60 bytes each: the split must count bytes."""
    alice = harness.register("alice", "#c")
    letters = "\u0431\u0433\u0434\u0436\u0437\u0438\u043b\u043f\u0444\u0446"  # б г д ж з и л п ф ц
    nicks = [
        "\u044f" * 27 + letters[i // 100] + letters[i // 10 % 10] + letters[i % 10]
        for i in range(40)
    ]
    for nick in nicks:
        client = harness.client()
        client.send(f"NICK {nick}")
        client.send("USER u 0 * :U")
        client.send("JOIN #c")
        assert client.session.registered
    alice.take()
    alice.send("NAMES #c")
    _check_namreply_split(alice, "#c", ["@alice", *nicks])


# -- LIST ------------------------------------------------------------------------------


@pytest.fixture
def three_channels(harness: Harness) -> FakeClient:
    """#one (1 member, created first), #two (2), #three (3, with a topic); alice in all."""
    alice = harness.register("alice", "#one", "#two", "#three")
    harness.register("bob", "#two", "#three")
    harness.register("carol", "#three")
    alice.send("TOPIC #three :third")
    alice.take()
    return alice


def list_reply(client: str, *rows: tuple[str, int, str]) -> list[object]:
    return [
        reply(n.RPL_LISTSTART, client, "Channel", "Users  Name"),
        *(reply(n.RPL_LIST, client, name, str(count), topic) for name, count, topic in rows),
        reply(n.RPL_LISTEND, client, "End of /LIST"),
    ]


def test_list_shows_every_channel_with_members_and_topic(three_channels: FakeClient) -> None:
    three_channels.send("LIST")
    assert three_channels.take() == list_reply(
        "alice", ("#one", 1, ""), ("#two", 2, ""), ("#three", 3, "third")
    )


def test_list_of_named_channels(three_channels: FakeClient) -> None:
    three_channels.send("LIST #two,#nowhere,#ONE")
    assert three_channels.take() == list_reply("alice", ("#two", 2, ""), ("#one", 1, ""))


def test_list_more_than_n_users(three_channels: FakeClient) -> None:
    three_channels.send("LIST >1")
    assert three_channels.take() == list_reply("alice", ("#two", 2, ""), ("#three", 3, "third"))


def test_list_fewer_than_n_users(three_channels: FakeClient) -> None:
    three_channels.send("LIST <2")
    assert three_channels.take() == list_reply("alice", ("#one", 1, ""))


def test_list_by_mask(three_channels: FakeClient) -> None:
    three_channels.send("LIST #t*")
    assert three_channels.take() == list_reply("alice", ("#two", 2, ""), ("#three", 3, "third"))


def test_list_by_negated_mask(three_channels: FakeClient) -> None:
    three_channels.send("LIST !#t*")
    assert three_channels.take() == list_reply("alice", ("#one", 1, ""))


def test_list_filters_combine(three_channels: FakeClient) -> None:
    three_channels.send("LIST #t*,<3")
    assert three_channels.take() == list_reply("alice", ("#two", 2, ""))


def test_list_by_creation_time(harness: Harness) -> None:
    alice = harness.register("alice", "#old")
    harness.clock.now = NOW + 600
    alice.send("JOIN #new")
    harness.clock.now = NOW + 601
    alice.take()
    alice.send("LIST C>5")
    assert alice.take() == list_reply("alice", ("#old", 1, ""))
    alice.send("LIST C<5")
    assert alice.take() == list_reply("alice", ("#new", 1, ""))


def test_list_by_topic_time(harness: Harness) -> None:
    alice = harness.register("alice", "#old", "#new", "#none")
    alice.send("TOPIC #old :old topic")
    harness.clock.now = NOW + 600
    alice.send("TOPIC #new :new topic")
    harness.clock.now = NOW + 601
    alice.take()
    alice.send("LIST T>5")
    assert alice.take() == list_reply("alice", ("#old", 1, "old topic"))
    alice.send("LIST T<5")
    assert alice.take() == list_reply("alice", ("#new", 1, "new topic"))


def test_list_hides_secret_channels_from_non_members(
    three_channels: FakeClient, harness: Harness
) -> None:
    three_channels.send("MODE #two +s")
    dave = harness.register("dave")
    dave.send("LIST")
    assert dave.take() == list_reply("dave", ("#one", 1, ""), ("#three", 3, "third"))
    dave.send("LIST #two")
    assert dave.take() == list_reply("dave")
    three_channels.take()
    three_channels.send("LIST #two")
    assert three_channels.take() == list_reply("alice", ("#two", 2, ""))


# -- KICK ------------------------------------------------------------------------------


def test_kick_without_reason_uses_the_kicker_nick(pair: tuple[FakeClient, FakeClient]) -> None:
    alice, bob = pair
    alice.send("KICK #c bob")
    assert alice.take() == [relay("alice", "KICK", "#c", "bob", "alice")]
    assert bob.take() == [relay("alice", "KICK", "#c", "bob", "alice")]
    channel = alice.session.ctx.hub.find_channel("#c")
    assert channel is not None
    assert [u.nick for u in channel.members] == ["alice"]


def test_kick_with_reason_is_shown_to_every_member(
    pair: tuple[FakeClient, FakeClient], harness: Harness
) -> None:
    alice, bob = pair
    carol = harness.register("carol", "#c")
    alice.take()
    bob.take()
    alice.send("KICK #c BOB :behave")
    expected = [relay("alice", "KICK", "#c", "bob", "behave")]
    assert alice.take() == expected
    assert bob.take() == expected
    assert carol.take() == expected
    bob.send("PRIVMSG #c :hey")
    assert bob.take() == [
        reply(
            n.ERR_CANNOTSENDTOCHAN,
            "bob",
            "#c",
            "Cannot send to channel (no external messages (+n))",
        )
    ]


def test_kick_of_several_users(harness: Harness) -> None:
    alice = harness.register("alice", "#c")
    harness.register("bob", "#c")
    harness.register("carol", "#c")
    alice.take()
    alice.send("KICK #c bob,carol :out")
    assert alice.take() == [
        relay("alice", "KICK", "#c", "bob", "out"),
        relay("alice", "KICK", "#c", "carol", "out"),
    ]


def test_kick_of_several_channels_pairs_each_channel_with_its_user(harness: Harness) -> None:
    """RFC 2812 KICK: "there MUST be either one channel parameter and multiple user
    parameter, or as many channel parameters as there are user parameters" - the
    n-th user is kicked from the n-th channel only."""
    alice = harness.register("alice", "#a", "#b")
    harness.register("bob", "#a", "#b")
    harness.register("carol", "#a", "#b")
    alice.take()
    alice.send("KICK #a,#b bob,carol :pairs")
    assert alice.take() == [
        relay("alice", "KICK", "#a", "bob", "pairs"),
        relay("alice", "KICK", "#b", "carol", "pairs"),
    ]


def test_kick_by_non_operator_is_refused_with_482(pair: tuple[FakeClient, FakeClient]) -> None:
    alice, bob = pair
    bob.send("KICK #c alice")
    assert bob.take() == [
        reply(n.ERR_CHANOPRIVSNEEDED, "bob", "#c", "You're not a channel operator")
    ]
    assert alice.take() == []


def test_kick_of_user_not_in_channel_is_refused_with_441(
    pair: tuple[FakeClient, FakeClient], harness: Harness
) -> None:
    alice, bob = pair
    harness.register("carol")
    alice.send("KICK #c carol")
    assert alice.take() == [
        reply(n.ERR_USERNOTINCHANNEL, "alice", "carol", "#c", "They aren't on that channel")
    ]
    assert bob.take() == []


def test_kick_by_non_member_is_refused_with_442(
    pair: tuple[FakeClient, FakeClient], harness: Harness
) -> None:
    carol = harness.register("carol")
    carol.send("KICK #c bob")
    assert carol.take() == [reply(n.ERR_NOTONCHANNEL, "carol", "#c", "You're not on that channel")]


def test_kick_in_missing_channel_is_refused_with_403(harness: Harness) -> None:
    alice = harness.register("alice")
    alice.send("KICK #nowhere bob")
    assert alice.take() == [reply(n.ERR_NOSUCHCHANNEL, "alice", "#nowhere", "No such channel")]


def test_kick_with_one_parameter_is_refused_with_461(harness: Harness) -> None:
    alice = harness.register("alice", "#c")
    alice.take()
    alice.send("KICK #c")
    assert alice.take() == [reply(n.ERR_NEEDMOREPARAMS, "alice", "KICK", "Not enough parameters")]


def test_kick_reason_is_cut_to_kicklen(pair: tuple[FakeClient, FakeClient]) -> None:
    alice, bob = pair
    alice.send("KICK #c bob :" + "r" * 400)
    assert bob.take() == [relay("alice", "KICK", "#c", "bob", "r" * 390)]


# -- INVITE ----------------------------------------------------------------------------


def test_invite_answers_341_and_tells_the_invitee(
    pair: tuple[FakeClient, FakeClient], harness: Harness
) -> None:
    alice, bob = pair
    carol = harness.register("carol")
    alice.send("INVITE carol #c")
    assert alice.take() == [reply(n.RPL_INVITING, "alice", "carol", "#c")]
    assert carol.take() == [relay("alice", "INVITE", "carol", "#c")]
    assert bob.take() == []


def test_invite_of_away_user_also_answers_301(
    pair: tuple[FakeClient, FakeClient], harness: Harness
) -> None:
    alice, _ = pair
    carol = harness.register("carol")
    carol.send("AWAY :napping")
    alice.send("INVITE carol #c")
    assert alice.take() == [
        reply(n.RPL_INVITING, "alice", "carol", "#c"),
        reply(n.RPL_AWAY, "alice", "carol", "napping"),
    ]


def test_invite_of_a_member_is_refused_with_443(pair: tuple[FakeClient, FakeClient]) -> None:
    alice, bob = pair
    alice.send("INVITE bob #c")
    assert alice.take() == [
        reply(n.ERR_USERONCHANNEL, "alice", "bob", "#c", "is already on channel")
    ]
    assert bob.take() == []


def test_invite_by_non_member_is_refused_with_442(
    pair: tuple[FakeClient, FakeClient], harness: Harness
) -> None:
    carol = harness.register("carol")
    dave = harness.register("dave")
    carol.send("INVITE dave #c")
    assert carol.take() == [reply(n.ERR_NOTONCHANNEL, "carol", "#c", "You're not on that channel")]
    assert dave.take() == []


def test_invite_to_invite_only_channel_by_non_operator_is_refused_with_482(
    pair: tuple[FakeClient, FakeClient], harness: Harness
) -> None:
    alice, bob = pair
    alice.send("MODE #c +i")
    bob.take()
    carol = harness.register("carol")
    bob.send("INVITE carol #c")
    assert bob.take() == [
        reply(n.ERR_CHANOPRIVSNEEDED, "bob", "#c", "You're not a channel operator")
    ]
    assert carol.take() == []


def test_invite_by_non_operator_to_open_channel_is_allowed(
    pair: tuple[FakeClient, FakeClient], harness: Harness
) -> None:
    _, bob = pair
    carol = harness.register("carol")
    bob.send("INVITE carol #c")
    assert bob.take() == [reply(n.RPL_INVITING, "bob", "carol", "#c")]
    assert carol.take() == [relay("bob", "INVITE", "carol", "#c")]


def test_invite_of_missing_nick_is_refused_with_401(pair: tuple[FakeClient, FakeClient]) -> None:
    alice, _ = pair
    alice.send("INVITE ghost #c")
    assert alice.take() == [reply(n.ERR_NOSUCHNICK, "alice", "ghost", "No such nick/channel")]


def test_invite_with_one_parameter_is_refused_with_461(
    pair: tuple[FakeClient, FakeClient],
) -> None:
    alice, _ = pair
    alice.send("INVITE bob")
    assert alice.take() == [
        reply(n.ERR_NEEDMOREPARAMS, "alice", "INVITE", "Not enough parameters")
    ]


def test_invite_without_parameters_lists_pending_invitations_with_336_and_337(
    harness: Harness,
) -> None:
    alice = harness.register("alice", "#a", "#b")
    carol = harness.register("carol")
    alice.send("INVITE carol #a")
    alice.send("INVITE carol #b")
    carol.take()
    carol.send("INVITE")
    assert carol.take() == [
        reply(n.RPL_INVITELIST, "carol", "#a"),
        reply(n.RPL_INVITELIST, "carol", "#b"),
        reply(n.RPL_ENDOFINVITELIST, "carol", "End of /INVITE list"),
    ]


def test_invite_list_is_empty_without_invitations(harness: Harness) -> None:
    carol = harness.register("carol")
    carol.send("INVITE")
    assert carol.take() == [reply(n.RPL_ENDOFINVITELIST, "carol", "End of /INVITE list")]


def test_invitation_overrides_the_limit_and_the_ban(harness: Harness) -> None:
    alice = harness.register("alice", "#c")
    alice.send("MODE #c +lb 1 carol")
    carol = harness.register("carol")
    alice.send("INVITE carol #c")
    carol.take()
    carol.send("JOIN #c")
    assert carol.take()[0] == relay("carol", "JOIN", "#c")
