"""The client's state model, fed IRC lines with no sockets."""

from __future__ import annotations

import pytest

from hubbub.client.handlers.table import Table, ignored, merged
from hubbub.client.incoming import receive
from hubbub.client.state import (
    MAX_LINES,
    SEPARATOR_TEXT,
    SERVER,
    BufferKind,
    BuffersChanged,
    ChatState,
    Focus,
    Joined,
    LineAdded,
    LineKind,
    MembersChanged,
    Update,
    parse_time,
)
from hubbub.wire.casemap import Casemapping, Key
from hubbub.wire.message import parse

ISUPPORT = (
    ":irc.test 005 anna PREFIX=(qaohv)~&@%+ CHANTYPES=#& CASEMAPPING=rfc1459 "
    "CHANMODES=beI,k,l,imnpst NETWORK=TestNet :are supported by this server"
)


def feed(state: ChatState, *lines: str) -> list[Update]:
    updates: list[Update] = []
    for line in lines:
        updates += receive(state, parse(line.encode()))
    return updates


@pytest.fixture
def state() -> ChatState:
    state = ChatState("anna", "irc.test", clock=lambda: 1_700_000_000.0)
    feed(state, ":irc.test 001 anna :Welcome", ISUPPORT)
    return state


@pytest.fixture
def rust(state: ChatState) -> ChatState:
    feed(
        state,
        ":anna!a@h JOIN #rust",
        ":irc.test 332 anna #rust :All about Rust",
        ":irc.test 353 anna = #rust :@anna +bob ~carol",
        ":irc.test 366 anna #rust :End of /NAMES list.",
    )
    return state


def texts(state: ChatState, key: str) -> list[str]:
    return [line.text for line in state.buffers[Key(key)].lines]


def test_isupport_sets_prefixes_casemapping_and_network(state: ChatState) -> None:
    assert state.support.prefix_symbols == "~&@%+"
    assert state.support.casemapping is Casemapping.RFC1459
    assert state.network == "TestNet"
    assert state.buffers[SERVER].name == "TestNet"
    assert state.fold("Anna[]") == state.fold("anna{}")


def test_own_join_opens_a_channel_with_members_topic_and_ranks(rust: ChatState) -> None:
    buffer = rust.buffers[Key("#rust")]
    assert buffer.kind is BufferKind.CHANNEL
    assert buffer.joined
    assert buffer.topic == "All about Rust"
    assert [(m.prefixes, m.nick) for m in rust.sorted_members(buffer)] == [
        ("~", "carol"),
        ("@", "anna"),
        ("+", "bob"),
    ]


def test_join_reports_joined_and_focus_only_when_asked(state: ChatState) -> None:
    state.focus_on_join.add(Key("#asked"))
    asked = feed(state, ":anna!a@h JOIN #asked")
    other = feed(state, ":anna!a@h JOIN #other")
    assert Focus(Key("#asked")) in asked
    assert Joined(Key("#asked"), "#asked") in asked
    assert not any(isinstance(u, Focus) for u in other)


def test_multi_prefix_and_userhost_in_names(state: ChatState) -> None:
    feed(
        state,
        ":anna!a@h JOIN #c",
        ":irc.test 353 anna = #c :+@dee!d@host anna",
        ":irc.test 366 anna #c :End",
    )
    member = state.buffers[Key("#c")].members[Key("dee")]
    assert member.nick == "dee"
    assert member.prefixes == "@+"


def test_messages_count_as_unread_and_mentions_outside_the_active_buffer(
    rust: ChatState,
) -> None:
    updates = feed(
        rust,
        ":bob!b@h PRIVMSG #rust :hello all",
        ":bob!b@h PRIVMSG #rust :anna: are you there?",
        ":bob!b@h JOIN #rust",
    )
    buffer = rust.buffers[Key("#rust")]
    assert buffer.unread == 2
    assert buffer.mentions == 1
    assert BuffersChanged() in updates
    rust.select(Key("#rust"))
    assert (buffer.unread, buffer.mentions) == (0, 0)
    feed(rust, ":bob!b@h PRIVMSG #rust :now I see you")
    assert buffer.unread == 0


def test_private_message_opens_a_query_that_counts_as_a_mention(state: ChatState) -> None:
    feed(state, ":Bob!b@h PRIVMSG anna :psst")
    query = state.buffers[Key("bob")]
    assert query.kind is BufferKind.QUERY
    assert query.name == "Bob"
    assert query.mentions == 1
    # echo-message: our own message to bob lands in the same buffer, not counted.
    feed(state, ":anna!a@h PRIVMSG bob :hi")
    assert query.lines[-1].own
    assert query.unread == 1


def test_actions_notices_and_ctcp(state: ChatState) -> None:
    feed(
        state,
        ":anna!a@h JOIN #rust",
        ":bob!b@h PRIVMSG #rust :\x01ACTION waves\x01",
        ":bob!b@h NOTICE #rust :a notice",
        ":bob!b@h PRIVMSG anna :\x01VERSION\x01",
    )
    lines = state.buffers[Key("#rust")].lines
    assert [(line.kind, line.text) for line in list(lines)[-2:]] == [
        (LineKind.ACTION, "waves"),
        (LineKind.NOTICE, "a notice"),
    ]
    assert Key("bob") not in state.buffers  # a CTCP request opens no private chat
    assert "CTCP from bob" in texts(state, "*")[-1]


def test_joins_parts_and_quits_fold_into_one_quiet_line(rust: ChatState) -> None:
    updates = feed(
        rust,
        ":dee!d@h JOIN #rust",
        ":eve!e@h JOIN #rust",
        ":bob!b@h PART #rust :bye",
        ":carol!c@h QUIT :gone",
        ":eve!e@h NICK eve_",
    )
    last = rust.buffers[Key("#rust")].lines[-1]
    assert last.kind is LineKind.PRESENCE
    assert last.text == "→ dee, eve joined · ← bob left · ← carol quit · eve is now eve_"
    assert sum(1 for u in updates if isinstance(u, LineAdded) and u.replaced) == 4
    members = rust.buffers[Key("#rust")].members
    assert set(members) == {Key("anna"), Key("dee"), Key("eve_")}
    assert rust.buffers[Key("#rust")].unread == 0  # presence is not unread


def test_a_message_ends_the_fold(rust: ChatState) -> None:
    feed(rust, ":dee!d@h JOIN #rust", ":dee!d@h PRIVMSG #rust :hi", ":eve!e@h JOIN #rust")
    kinds = [line.kind for line in rust.buffers[Key("#rust")].lines][-3:]
    assert kinds == [LineKind.PRESENCE, LineKind.MESSAGE, LineKind.PRESENCE]


def test_mode_changes_update_prefixes_and_channel_modes(rust: ChatState) -> None:
    updates = feed(rust, ":carol!c@h MODE #rust +o-v+lk bob bob 10 secret")
    buffer = rust.buffers[Key("#rust")]
    assert buffer.members[Key("bob")].prefixes == "@"
    assert set(buffer.modes) == {"l", "k"}
    assert MembersChanged(Key("#rust")) in updates
    feed(rust, ":carol!c@h MODE #rust -l+b *!*@spam")
    assert buffer.modes == "k"
    feed(rust, ":irc.test 324 anna #rust +nt")
    assert buffer.modes == "nt"


def test_own_nick_change_renames_self_and_members(rust: ChatState) -> None:
    feed(rust, ":anna!a@h NICK Anna2")
    assert rust.nick == "Anna2"
    assert Key("anna2") in rust.buffers[Key("#rust")].members


def test_a_query_follows_a_nick_change(state: ChatState) -> None:
    feed(state, ":bob!b@h PRIVMSG anna :hi")
    state.select(Key("bob"))
    feed(state, ":bob!b@h NICK robert")
    assert Key("bob") not in state.buffers
    assert state.buffers[Key("robert")].name == "robert"
    assert state.active == Key("robert")


def test_kick_of_self_leaves_the_buffer_open_but_not_joined(rust: ChatState) -> None:
    feed(rust, ":carol!c@h KICK #rust anna :behave")
    buffer = rust.buffers[Key("#rust")]
    assert not buffer.joined
    assert not buffer.members
    assert "You were kicked by carol: behave" in texts(rust, "#rust")


def test_away_notify_marks_members(rust: ChatState) -> None:
    feed(rust, ":bob!b@h AWAY :lunch")
    assert rust.buffers[Key("#rust")].members[Key("bob")].away
    feed(rust, ":bob!b@h AWAY")
    assert not rust.buffers[Key("#rust")].members[Key("bob")].away


def test_server_time_is_used_for_the_line_time(rust: ChatState) -> None:
    feed(rust, "@time=2024-05-01T12:00:00.500Z :bob!b@h PRIVMSG #rust :then")
    assert rust.buffers[Key("#rust")].lines[-1].time == 1714564800.5


def test_history_batches_are_read_and_deduplicated_by_msgid(rust: ChatState) -> None:
    lines = [
        ":irc.test BATCH +h1 chathistory #rust",
        "@batch=h1;msgid=m1;time=2024-05-01T12:00:00Z :bob!b@h PRIVMSG #rust :old",
        ":irc.test BATCH -h1",
        "@msgid=m1 :bob!b@h PRIVMSG #rust :old",
    ]
    feed(rust, *lines)
    buffer = rust.buffers[Key("#rust")]
    assert texts(rust, "#rust").count("old") == 1
    assert next(line for line in buffer.lines if line.text == "old").history
    assert buffer.unread == 0


def test_history_goes_above_the_join_line_with_a_separator_and_no_mention(
    state: ChatState,
) -> None:
    feed(
        state,
        ":anna!a@h JOIN #rust",
        ":anna!a@h JOIN #go",  # #go is on screen; #rust is not
        ":irc.test BATCH +h1 chathistory #rust",
        "@batch=h1;time=2024-05-01T12:00:00Z :bob!b@h PRIVMSG #rust :anna: still there?",
        "@batch=h1;time=2024-05-01T12:01:00Z :bob!b@h PRIVMSG #rust :hm",
        ":irc.test BATCH -h1",
        ":bob!b@h PRIVMSG #rust :live now",
    )
    state.select(Key("#go"))
    assert texts(state, "#rust") == [
        "anna: still there?",
        "hm",
        "— end of earlier messages —",
        "You joined #rust",
        "live now",
    ]
    rust = state.buffers[Key("#rust")]
    assert not any(line.mention for line in rust.lines)
    assert rust.lines[2].kind is LineKind.SEPARATOR
    assert (rust.unread, rust.mentions) == (1, 0)  # only the live line counts


def test_lines_older_than_the_join_are_history_without_a_batch(state: ChatState) -> None:
    feed(
        state,
        "@time=2024-05-01T12:00:00Z :anna!a@h JOIN #rust",
        "@time=2024-05-01T11:00:00Z :bob!b@h PRIVMSG #rust :anna: earlier",
        "@time=2024-05-01T12:00:01Z :bob!b@h PRIVMSG #rust :anna: now",
    )
    lines = list(state.buffers[Key("#rust")].lines)
    assert [line.text for line in lines] == [
        "anna: earlier",
        "— end of earlier messages —",
        "You joined #rust",
        "anna: now",
    ]
    assert [line.mention for line in lines] == [False, False, False, True]


def test_an_empty_replay_adds_no_separator(rust: ChatState) -> None:
    feed(rust, ":irc.test BATCH +h1 chathistory #rust", ":irc.test BATCH -h1")
    assert SEPARATOR_TEXT not in texts(rust, "#rust")


def test_history_in_a_full_buffer_keeps_the_newest_lines(state: ChatState) -> None:
    feed(state, ":bob!b@h PRIVMSG #rust :before", ":anna!a@h JOIN #rust")
    feed(state, *(f":bob!b@h PRIVMSG #rust :{i}" for i in range(MAX_LINES - 3)))
    buffer = state.buffers[Key("#rust")]
    assert len(buffer.lines) == MAX_LINES - 1
    old = "@batch=h1;time=2024-05-01T12:00:00Z :bob!b@h PRIVMSG #rust :"
    feed(state, ":irc.test BATCH +h1 chathistory #rust", old + "first", old + "second")
    assert texts(state, "#rust")[:3] == ["second", SEPARATOR_TEXT, "You joined #rust"]
    assert len(buffer.lines) == MAX_LINES


def test_history_older_than_a_full_buffer_is_dropped(state: ChatState) -> None:
    feed(state, ":anna!a@h JOIN #rust")
    feed(state, *(f":bob!b@h PRIVMSG #rust :{i}" for i in range(MAX_LINES - 1)))
    old = "@batch=h1;time=2024-05-01T12:00:00Z :bob!b@h PRIVMSG #rust :too old"
    feed(state, ":irc.test BATCH +h1 chathistory #rust", old)
    assert texts(state, "#rust")[0] == "You joined #rust"
    assert "too old" not in texts(state, "#rust")


def test_end_of_names_after_names_request_lists_members(rust: ChatState) -> None:
    rust.names_requested.add(Key("#rust"))
    feed(
        rust,
        ":irc.test 353 anna = #rust :@anna +bob ~carol",
        ":irc.test 366 anna #rust :End",
    )
    assert texts(rust, "#rust")[-1] == "3 in #rust: ~carol @anna +bob"


def test_errors_go_to_the_buffer_they_are_about(rust: ChatState) -> None:
    feed(rust, ":irc.test 404 anna #rust :Cannot send to channel")
    line = rust.buffers[Key("#rust")].lines[-1]
    assert line.kind is LineKind.ERROR
    assert line.text == "#rust Cannot send to channel"


def test_unknown_commands_and_numerics_are_shown_in_the_server_buffer(state: ChatState) -> None:
    feed(state, ":irc.test 999 anna foo :something new", ":irc.test WIBBLE a :b c")
    assert texts(state, "*")[-2:] == ["foo something new", "WIBBLE a b c"]


@pytest.mark.parametrize(
    "line",
    [
        ":irc.test 332 anna",
        ":irc.test 353 anna =",
        ":x JOIN",
        ":x PRIVMSG",
        ":x MODE #rust",
        ":x KICK #rust",
        ":x TOPIC",
        ":irc.test 005 anna PREFIX=(ov)@ :x",
        ":irc.test 005 anna PREFIX -CHANTYPES CASEMAPPING=weird :x",
        "BATCH",
        ":irc.test 324 anna #nowhere +k",
        ":irc.test 401",
        ":irc.test 322 anna",
    ],
)
def test_short_and_odd_messages_change_nothing_they_should_not(rust: ChatState, line: str) -> None:
    feed(rust, line)
    assert Key("#rust") in rust.buffers


def test_connection_lost_marks_channels_unjoined(rust: ChatState) -> None:
    rust.connection_lost("reset")
    buffer = rust.buffers[Key("#rust")]
    assert not buffer.joined
    assert not rust.registered
    assert buffer.lines[-1].kind is LineKind.ERROR
    assert rust.joined_channels() == []


def test_escape_sequences_in_messages_are_removed(rust: ChatState) -> None:
    feed(rust, ":bob!b@h PRIVMSG #rust :\x1b[2J\x1b]0;owned\x07\x0304red\x03 text\x9b31m")
    text = rust.buffers[Key("#rust")].lines[-1].text
    assert text == "red text"


def test_a_command_handled_in_two_tables_is_refused() -> None:
    first, second = Table(), Table()
    first.handles("PRIVMSG")(ignored)
    second.handles("PRIVMSG", "NOTICE")(ignored)
    with pytest.raises(ValueError, match="PRIVMSG"):
        merged(first, second)


def test_display_names_are_forgotten_by_a_new_connection(state: ChatState) -> None:
    feed(
        state,
        ":anna!a@h JOIN #rust",
        ":irc.test 761 anna carol display-name * :Carol C.",
    )
    assert state.display_names == {state.fold("carol"): "Carol C."}
    # Reconnected (the server restarted): told afresh, or not at all.
    feed(state, ":irc.test 001 anna :Welcome back")
    assert state.display_names == {}


def test_display_names_are_forgotten_with_the_last_channel_shared(rust: ChatState) -> None:
    feed(
        rust,
        ":anna!a@h JOIN #go",
        ":irc.test 353 anna = #go :anna bob dave",
        ":irc.test 366 anna #go :End of /NAMES list.",
        ":irc.test 761 anna anna display-name * :Anna K.",
        *(f":irc.test 761 anna {n} display-name * :{n.title()}" for n in ("bob", "carol", "dave")),
    )
    # bob is still in #go, so still followed; carol shares nothing more.
    feed(rust, ":bob!b@h PART #rust", ":anna!a@h KICK #rust carol :out")
    assert set(rust.display_names) == {Key("anna"), Key("bob"), Key("dave")}
    # Kicked from #go: only one's own name stays.
    feed(rust, ":op!o@h KICK #go anna :bye")
    assert rust.display_names == {Key("anna"): "Anna K."}


def test_a_read_marker_from_the_server_leaves_unread_only_what_came_after(
    rust: ChatState,
) -> None:
    buffer = rust.buffers[Key("#rust")]
    feed(
        rust,
        "@time=2024-05-01T12:00:00.000Z :bob!b@h PRIVMSG #rust :anna: one",
        "@time=2024-05-01T12:00:01.000Z :bob!b@h PRIVMSG #rust :two",
        "@time=2024-05-01T12:00:02.000Z :bob!b@h PRIVMSG #rust :three",
    )
    assert (buffer.unread, buffer.mentions) == (3, 1)
    # Another device of the account read up to "two": "three" is all that is left.
    updates = feed(rust, ":irc.test MARKREAD #rust timestamp=2024-05-01T12:00:01.000Z")
    assert (buffer.unread, buffer.mentions) == (1, 0)
    assert BuffersChanged() in updates
    # An older marker, "*" (never read) or one for no buffer changes nothing.
    for line in (
        ":irc.test MARKREAD #rust timestamp=2024-05-01T11:00:00.000Z",
        ":irc.test MARKREAD #rust *",
        ":irc.test MARKREAD #nowhere timestamp=2024-05-01T12:00:02.000Z",
        ":irc.test MARKREAD #rust",
    ):
        assert feed(rust, line) == []
    assert buffer.unread == 1
    feed(rust, ":irc.test MARKREAD #rust timestamp=2024-05-01T12:00:02.000Z")
    assert buffer.unread == 0
    assert buffer.read_to == parse_time("2024-05-01T12:00:02.000Z")
