"""What the client asks of the server's history, bytes in and bytes out: which private
chats had messages (CHATHISTORY TARGETS), their lines as their buffers open, and which
of those are unread."""

from __future__ import annotations

from hubbub.client.config import Network
from hubbub.client.state import SERVER, BufferKind, Opened
from hubbub.wire.casemap import Key
from tests.client.test_session import Wire

NOW = 1714564800.0  # 2024-05-01T12:00:00Z
CAPS = "sasl batch draft/chathistory draft/read-marker server-time echo-message"


def account(caps: str = CAPS) -> Wire:
    """A session logging in with ``caps``, up to (not including) its 001."""
    wire = Wire(Network("net", nick="anna", account="anna", password="pw", device="desk"))
    wire.session.state.clock = lambda: NOW
    wire.feed(f":irc.test CAP * LS :{caps}", f":irc.test CAP * ACK :{caps}")
    wire.feed("AUTHENTICATE +", ":irc.test 903 anna :ok")
    wire.take()
    return wire


def registered(caps: str = CAPS) -> Wire:
    wire = account(caps)
    wire.feed(":irc.test 001 anna :Welcome")
    wire.take()
    return wire


def at(second: int) -> str:
    return f"@time=2024-05-01T12:00:{second:02d}.000Z"


def test_logged_in_the_client_asks_which_chats_had_messages_in_the_last_30_days() -> None:
    wire = account()
    wire.feed(":irc.test 001 anna :Welcome")
    assert wire.lines() == [
        "CHATHISTORY TARGETS timestamp=2024-04-01T12:00:00.000Z "
        "timestamp=2024-05-01T13:00:00.000Z 50"
    ]


def test_not_logged_in_or_without_batch_no_targets_are_asked_for() -> None:
    guest = Wire(Network("net", nick="anna"))
    guest.feed(
        ":irc.test CAP * LS :batch draft/chathistory",
        ":irc.test CAP * ACK :batch draft/chathistory",
        ":irc.test 001 anna :Welcome",
    )
    assert not any("TARGETS" in line for line in guest.lines())
    wire = account("sasl draft/chathistory")
    wire.feed(":irc.test 001 anna :Welcome")
    assert not any("TARGETS" in line for line in wire.lines())


def test_a_listed_private_chat_opens_unfocused_and_its_marker_and_lines_are_asked_for() -> None:
    wire = registered()
    wire.feed(
        ":irc.test BATCH +t draft/chathistory-targets",
        "@batch=t :irc.test CHATHISTORY TARGETS Bob 2024-05-01T11:00:00.000Z",
        "@batch=t :irc.test CHATHISTORY TARGETS #rust 2024-05-01T11:30:00.000Z",
        ":irc.test BATCH -t",
    )
    assert wire.lines() == ["MARKREAD Bob", "CHATHISTORY LATEST Bob * 50"]
    state = wire.session.state
    assert state.buffers[Key("bob")].kind is BufferKind.QUERY
    assert state.buffers[Key("bob")].name == "Bob"
    assert Key("#rust") not in state.buffers  # channels are joined as configured
    assert state.active == SERVER


def test_replayed_private_lines_are_unread_after_the_marker_and_the_users_own_answer() -> None:
    wire = registered()
    wire.feed(
        ":irc.test MARKREAD bob timestamp=2024-05-01T12:00:01.000Z",
        ":irc.test BATCH +h chathistory bob",
        f"@batch=h;{at(0)[1:]} :bob!b@h PRIVMSG anna :read on another device",
        f"@batch=h;{at(2)[1:]} :bob!b@h PRIVMSG anna :answered",
        f"@batch=h;{at(3)[1:]} :anna!a@h PRIVMSG bob :my answer",
        f"@batch=h;{at(4)[1:]} :bob!b@h PRIVMSG anna :new one",
        f"@batch=h;{at(5)[1:]} :bob!b@h NOTICE anna :new two",
    )
    query = wire.session.state.buffers[Key("bob")]
    assert query.unread == 0  # counted once the batch is whole
    wire.feed(":irc.test BATCH -h")
    assert (query.unread, query.mentions) == (2, 2)
    # Another device reads up to "new one": one is left.
    wire.feed(":irc.test MARKREAD bob timestamp=2024-05-01T12:00:04.000Z")
    assert (query.unread, query.mentions) == (1, 1)


def test_a_chat_opened_by_a_message_gets_its_history_above_it_and_not_twice() -> None:
    wire = registered()
    updates = wire.session.receive_data(
        f"{at(9)};msgid=m9 :bob!b@h PRIVMSG anna :live\r\n".encode()
    )
    assert Opened(Key("bob"), "bob") in updates
    assert wire.lines() == ["MARKREAD bob", "CHATHISTORY LATEST bob * 50"]
    wire.feed(
        ":irc.test MARKREAD bob *",
        ":irc.test BATCH +h chathistory bob",
        f"@batch=h;{at(1)[1:]};msgid=m1 :bob!b@h PRIVMSG anna :before",
        f"@batch=h;{at(9)[1:]};msgid=m9 :bob!b@h PRIVMSG anna :live",
        ":irc.test BATCH -h",
    )
    query = wire.session.state.buffers[Key("bob")]
    assert [(line.text, line.history) for line in query.lines] == [
        ("before", True),
        ("live", False),
    ]
    assert query.unread == 2  # never read


def test_query_fetches_the_conversations_history() -> None:
    wire = registered()
    wire.session.submit(SERVER, "/query carol")
    assert wire.lines() == ["MARKREAD carol", "CHATHISTORY LATEST carol * 50"]
    wire.session.submit(SERVER, "/query carol")  # open already: nothing asked again
    assert wire.lines() == []


def test_after_a_reconnection_open_chats_are_fetched_and_targets_start_at_the_last_line() -> None:
    wire = registered("sasl batch draft/chathistory server-time")
    wire.feed(f"{at(7)} :bob!b@h PRIVMSG anna :hi")
    wire.session.seen(Key("bob"))  # no read-marker: remembered here only
    assert wire.lines() == ["CHATHISTORY LATEST bob * 50"]
    wire.session.connection_lost("gone")
    wire.session.connection_made(wire.sent.append)
    wire.feed(
        ":irc.test CAP * LS :sasl batch draft/chathistory server-time",
        ":irc.test CAP * ACK :sasl batch draft/chathistory server-time",
        "AUTHENTICATE +",
        ":irc.test 903 anna :ok",
    )
    wire.take()
    wire.feed(":irc.test 001 anna :Welcome")
    assert wire.lines() == [
        "CHATHISTORY LATEST bob timestamp=2024-05-01T12:00:07.000Z 50",
        "CHATHISTORY TARGETS timestamp=2024-05-01T12:00:07.000Z "
        "timestamp=2024-05-01T13:00:00.000Z 50",
    ]
    wire.feed(
        ":irc.test BATCH +h chathistory bob",
        f"@batch=h;{at(8)[1:]} :bob!b@h PRIVMSG anna :while you were away",
        ":irc.test BATCH -h",
    )
    # Seen before the loss, "hi" stays read; the line missed meanwhile is not.
    query = wire.session.state.buffers[Key("bob")]
    assert [line.text for line in query.lines if line.nick] == ["hi", "while you were away"]
    assert query.unread == 1
