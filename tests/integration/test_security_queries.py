"""Security issue 20, findings 9 and 10: what IRC queries tell non-members of a channel.

A non-member of a secret (+s) channel learns nothing of it: every query is answered as for
a channel that does not exist. A private (+p) channel admits that it exists, but not who is
in it nor what it is about. Members, and server operators, still see everything but the
key, which only members read.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from hubbub.server import Server
from hubbub.settings import Oper
from hubbub.wire import numerics as n
from hubbub.wire.message import Message
from tests.helpers import LineClient, running_server
from tests.integration.conftest import Clients, make_settings, port_of


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    """The integration server, with one server operator account: oper / operpass."""
    settings = make_settings(tmp_path).replace(opers=(Oper("oper", "operpass"),))
    async with running_server(settings) as server:
        yield server


@dataclass
class Room:
    """alice (operator of all three channels), bob (a plain member of them), eve (on
    none of them) and boss (on none, but a server operator).

    #hidden is +s, #priv is +p, #open neither; each has the key ``sesame``, a topic, a
    ban, a ban exception and an invite exception.
    """

    alice: LineClient
    bob: LineClient
    eve: LineClient
    boss: LineClient


CHANNELS = ("#hidden", "#priv", "#open")


@pytest.fixture
async def room(server: Server, clients: Clients) -> Room:
    alice = await clients.connect(server, "alice", *CHANNELS)
    bob = await clients.connect(server, "bob", *CHANNELS)
    for name, flag in zip(CHANNELS, "sp", strict=False):
        await alice.send(f"MODE {name} +{flag}")
    for name in CHANNELS:
        await alice.send(
            f"MODE {name} +kbeI sesame spammer friend guest",
            f"TOPIC {name} :plans for {name}",
        )
    eve = await clients.connect(server, "eve")
    boss = await clients.connect(server, "boss")
    await boss.send("OPER oper operpass")
    await boss.read_until(n.RPL_YOUREOPER)
    await alice.sync()
    await bob.sync()
    await boss.sync()
    return Room(alice, bob, eve, boss)


async def ask(client: LineClient, *lines: str) -> list[Message]:
    """Every reply to ``lines``, up to the PING barrier."""
    await client.send(*lines)
    return await client.sync()


def numerics(replies: list[Message]) -> list[tuple[str, ...]]:
    """The replies as (numeric, parameters after the client's nick...)."""
    return [(m.command, *m.params[1:]) for m in replies]


def no_such_channel(name: str) -> tuple[str, ...]:
    return (n.ERR_NOSUCHCHANNEL, name, "No such channel")


async def nothing_reached(*bystanders: LineClient) -> None:
    for client in bystanders:
        assert await client.sync() == []


# -- finding 9: MODE on a secret channel -----------------------------------------------


@pytest.mark.parametrize(
    "query",
    ["", " b", " e", " I", " +b", " beI", " +b eve", " +I eve!*@*", " -b spammer", " +zq", " +s"],
)
async def test_mode_on_secret_channel_by_non_member_reads_as_missing_channel_with_403(
    room: Room, query: str
) -> None:
    hidden = await ask(room.eve, f"MODE #hidden{query}")
    missing = await ask(room.eve, f"MODE #nowhere{query}")
    assert numerics(hidden) == [no_such_channel("#hidden")]
    assert numerics(missing) == [no_such_channel("#nowhere")]
    # The name as the client typed it, not as the channel spells it.
    assert numerics(await ask(room.eve, f"MODE #HIDDEN{query}")) == [no_such_channel("#HIDDEN")]
    await nothing_reached(room.alice, room.bob)


async def test_mode_on_secret_channel_by_non_member_changes_nothing(room: Room) -> None:
    await ask(room.eve, "MODE #hidden +b alice", "MODE #hidden -b spammer", "MODE #hidden -s")
    await nothing_reached(room.alice, room.bob)
    bans = await ask(room.alice, "MODE #hidden b")
    assert [(m.command, m.params[2]) for m in bans] == [
        (n.RPL_BANLIST, "spammer!*@*"),
        (n.RPL_ENDOFBANLIST, "End of channel ban list"),
    ]
    assert (await ask(room.alice, "MODE #hidden"))[0].params[2] == "+nstk"


async def test_mode_on_secret_channel_shows_modes_key_and_lists_to_members(room: Room) -> None:
    modes = await ask(room.bob, "MODE #hidden")
    assert [m.command for m in modes] == [n.RPL_CHANNELMODEIS, n.RPL_CREATIONTIME]
    assert modes[0].params[1:] == ("#hidden", "+nstk", "sesame")
    bans = await ask(room.bob, "MODE #hidden b")
    assert [(m.command, m.params[2]) for m in bans[:-1]] == [(n.RPL_BANLIST, "spammer!*@*")]
    assert bans[-1].command == n.RPL_ENDOFBANLIST
    # The exception lists are for channel operators, even among members.
    for letter in "eI":
        assert numerics(await ask(room.bob, f"MODE #hidden {letter}")) == [
            (n.ERR_CHANOPRIVSNEEDED, "#hidden", "You're not a channel operator")
        ]
    exceptions = await ask(room.alice, "MODE #hidden e", "MODE #hidden I")
    assert [(m.command, m.params[2]) for m in exceptions] == [
        (n.RPL_EXCEPTLIST, "friend!*@*"),
        (n.RPL_ENDOFEXCEPTLIST, "End of channel exception list"),
        (n.RPL_INVEXLIST, "guest!*@*"),
        (n.RPL_ENDOFINVEXLIST, "End of channel invite list"),
    ]


async def test_server_operator_sees_secret_channel_modes_and_lists_but_not_its_key(
    room: Room,
) -> None:
    modes = await ask(room.boss, "MODE #hidden")
    assert [m.command for m in modes] == [n.RPL_CHANNELMODEIS, n.RPL_CREATIONTIME]
    assert modes[0].params[1:] == ("#hidden", "+nstk", "*")
    lists = await ask(room.boss, "MODE #hidden beI")
    assert [(m.command, m.params[2]) for m in lists] == [
        (n.RPL_BANLIST, "spammer!*@*"),
        (n.RPL_ENDOFBANLIST, "End of channel ban list"),
        (n.RPL_EXCEPTLIST, "friend!*@*"),
        (n.RPL_ENDOFEXCEPTLIST, "End of channel exception list"),
        (n.RPL_INVEXLIST, "guest!*@*"),
        (n.RPL_ENDOFINVEXLIST, "End of channel invite list"),
    ]


# -- finding 9: MODE on channels that are not secret -----------------------------------


async def test_mode_on_public_channel_shows_non_member_its_modes_and_bans_only(
    room: Room,
) -> None:
    modes = await ask(room.eve, "MODE #open")
    assert [m.command for m in modes] == [n.RPL_CHANNELMODEIS, n.RPL_CREATIONTIME]
    assert modes[0].params[1:] == ("#open", "+ntk", "*")
    assert "sesame" not in str(modes)
    bans = await ask(room.eve, "MODE #open b")
    assert [(m.command, m.params[2]) for m in bans[:-1]] == [(n.RPL_BANLIST, "spammer!*@*")]
    assert numerics(await ask(room.eve, "MODE #open e", "MODE #open I")) == [
        (n.ERR_CHANOPRIVSNEEDED, "#open", "You're not a channel operator"),
        (n.ERR_CHANOPRIVSNEEDED, "#open", "You're not a channel operator"),
    ]


async def test_mode_on_private_channel_hides_its_lists_and_key_from_non_members(
    room: Room,
) -> None:
    modes = await ask(room.eve, "MODE #priv")
    assert modes[0].params[1:] == ("#priv", "+nptk", "*")
    # A ban list names the operators who set it, and so who is in the channel.
    assert numerics(await ask(room.eve, "MODE #priv b", "MODE #priv I")) == [
        (n.ERR_NOTONCHANNEL, "#priv", "You're not on that channel"),
        (n.ERR_CHANOPRIVSNEEDED, "#priv", "You're not a channel operator"),
    ]
    bans = await ask(room.bob, "MODE #priv b")
    assert [(m.command, m.params[2]) for m in bans[:-1]] == [(n.RPL_BANLIST, "spammer!*@*")]


async def test_setting_list_modes_as_non_member_is_refused_with_482(room: Room) -> None:
    for line in ("MODE #open +b alice", "MODE #open -b spammer", "MODE #priv +I eve"):
        replies = await ask(room.eve, line)
        assert [m.command for m in replies] == [n.ERR_CHANOPRIVSNEEDED], line
    await nothing_reached(room.alice, room.bob)
    bans = await ask(room.alice, "MODE #open b")
    assert [m.params[2] for m in bans[:-1]] == ["spammer!*@*"]


# -- finding 10: LIST ------------------------------------------------------------------


def listed(replies: list[Message]) -> list[str]:
    return [m.params[1] for m in replies if m.command == n.RPL_LIST]


@pytest.mark.parametrize(
    "query",
    ["LIST", "LIST #hidden,#priv,#open", "LIST #*", "LIST !#nothing", "LIST >0", "LIST C<60"],
)
async def test_list_shows_private_and_secret_channels_only_to_members_and_opers(
    room: Room, query: str
) -> None:
    assert listed(await ask(room.eve, query)) == ["#open"]
    assert sorted(listed(await ask(room.bob, query))) == sorted(CHANNELS)
    assert sorted(listed(await ask(room.boss, query))) == sorted(CHANNELS)


async def test_list_of_only_a_private_or_secret_channel_is_empty_for_non_members(
    room: Room,
) -> None:
    for name in ("#priv", "#hidden"):
        assert numerics(await ask(room.eve, f"LIST {name}")) == [
            (n.RPL_LISTSTART, "Channel", "Users  Name"),
            (n.RPL_LISTEND, "End of /LIST"),
        ]


# -- finding 10: TOPIC -----------------------------------------------------------------


async def test_topic_of_private_channel_is_refused_to_non_members_with_442(room: Room) -> None:
    assert numerics(await ask(room.eve, "TOPIC #priv", "TOPIC #priv :defaced")) == [
        (n.ERR_NOTONCHANNEL, "#priv", "You're not on that channel"),
        (n.ERR_NOTONCHANNEL, "#priv", "You're not on that channel"),
    ]
    await nothing_reached(room.alice, room.bob)


@pytest.mark.parametrize(
    ("line", "name"),
    [("TOPIC {}", "#hidden"), ("TOPIC {} :defaced", "#hidden"), ("TOPIC {}", "#HIDDEN")],
)
async def test_topic_of_secret_channel_reads_as_missing_channel_with_403(
    room: Room, line: str, name: str
) -> None:
    missing = name.replace("HIDDEN", "NOWHERE").replace("hidden", "nowhere")
    assert numerics(await ask(room.eve, line.format(name))) == [no_such_channel(name)]
    assert numerics(await ask(room.eve, line.format(missing))) == [no_such_channel(missing)]
    await nothing_reached(room.alice, room.bob)


async def test_topic_of_private_and_secret_channels_is_shown_to_members_and_opers(
    room: Room,
) -> None:
    for client in (room.bob, room.boss):
        for name in ("#priv", "#hidden"):
            replies = await ask(client, f"TOPIC {name}")
            assert [(m.command, m.params[1:3]) for m in replies][:1] == [
                (n.RPL_TOPIC, (name, f"plans for {name}"))
            ]
            assert replies[1].command == n.RPL_TOPICWHOTIME


# -- finding 10: WHOIS -----------------------------------------------------------------


def whois_channels(replies: list[Message]) -> list[str]:
    """The channels of RPL_WHOISCHANNELS, prefixes stripped, or [] without one."""
    found = [m.params[2].split() for m in replies if m.command == n.RPL_WHOISCHANNELS]
    return [name.lstrip("@+") for names in found for name in names]


async def test_whois_lists_private_and_secret_channels_only_to_who_shares_them(
    room: Room, server: Server, clients: Clients
) -> None:
    assert whois_channels(await ask(room.eve, "WHOIS bob")) == ["#open"]
    assert sorted(whois_channels(await ask(room.alice, "WHOIS bob"))) == sorted(CHANNELS)
    assert sorted(whois_channels(await ask(room.boss, "WHOIS bob"))) == sorted(CHANNELS)
    assert sorted(whois_channels(await ask(room.bob, "WHOIS bob"))) == sorted(CHANNELS)
    # Sharing one private channel shows that one, not the secret one.
    carol = await clients.connect(server, "carol")
    await carol.send("JOIN #priv sesame")
    await carol.read_until(n.RPL_ENDOFNAMES)
    assert sorted(whois_channels(await ask(carol, "WHOIS bob"))) == ["#open", "#priv"]


async def test_whois_of_user_only_in_hidden_channels_sends_no_319(room: Room) -> None:
    await ask(room.bob, "PART #open")
    replies = await ask(room.eve, "WHOIS bob")
    assert n.RPL_WHOISCHANNELS not in [m.command for m in replies]
    assert replies[-1].command == n.RPL_ENDOFWHOIS


# -- finding 10: NAMES and WHO ---------------------------------------------------------


@pytest.mark.parametrize("name", ["#priv", "#hidden"])
async def test_names_of_private_or_secret_channel_is_empty_for_non_members(
    room: Room, name: str
) -> None:
    assert numerics(await ask(room.eve, f"NAMES {name}")) == [
        (n.RPL_ENDOFNAMES, name, "End of /NAMES list")
    ]
    together = await ask(room.eve, f"NAMES {name},#open")
    assert [(m.command, m.params[2]) for m in together] == [
        (n.RPL_NAMREPLY, "#open"),
        (n.RPL_ENDOFNAMES, "End of /NAMES list"),
    ]
    for client in (room.bob, room.boss):
        names = await ask(client, f"NAMES {name}")
        assert [m.command for m in names] == [n.RPL_NAMREPLY, n.RPL_ENDOFNAMES]
        assert names[0].params[3].split() == ["@alice", "bob"]


@pytest.mark.parametrize("name", ["#priv", "#hidden"])
async def test_who_of_private_or_secret_channel_is_empty_for_non_members(
    room: Room, name: str
) -> None:
    for line in (f"WHO {name}", f"WHO {name} %tcnf,42"):
        assert numerics(await ask(room.eve, line)) == [(n.RPL_ENDOFWHO, name, "End of /WHO list")]
    for client in (room.bob, room.boss):
        who = await ask(client, f"WHO {name}")
        assert sorted(m.params[5] for m in who if m.command == n.RPL_WHOREPLY) == [
            "alice",
            "bob",
        ]


async def test_who_by_nick_mask_names_no_channel(room: Room) -> None:
    """WHO on a mask answers ``*`` for the channel, so no hidden channel shows there."""
    replies = await ask(room.eve, "WHO b?b", "WHO bob %tcn,7")
    assert [m.params[1] for m in replies if m.command == n.RPL_WHOREPLY] == ["*"]
    assert [m.params[1:3] for m in replies if m.command == n.RPL_WHOSPCRPL] == [("7", "*")]


# -- the same leak in PART and KICK ----------------------------------------------------


@pytest.mark.parametrize("line", ["PART #hidden", "PART #hidden :bye", "KICK #hidden bob"])
async def test_part_and_kick_on_secret_channel_read_as_missing_channel(
    room: Room, line: str
) -> None:
    hidden = await ask(room.eve, line)
    missing = await ask(room.eve, line.replace("#hidden", "#nowhere"))
    assert numerics(hidden) == [no_such_channel("#hidden")]
    assert numerics(missing) == [no_such_channel("#nowhere")]
    await nothing_reached(room.alice, room.bob)


async def test_part_and_kick_on_private_channel_by_non_member_are_refused_with_442(
    room: Room,
) -> None:
    assert numerics(await ask(room.eve, "PART #priv", "KICK #priv bob")) == [
        (n.ERR_NOTONCHANNEL, "#priv", "You're not on that channel"),
        (n.ERR_NOTONCHANNEL, "#priv", "You're not on that channel"),
    ]
    await nothing_reached(room.alice, room.bob)


async def test_digits_that_are_not_ascii_are_refused_not_a_server_error(
    server: Server, clients: Clients, caplog: pytest.LogCaptureFixture
) -> None:
    # Probe 15: "²" is a digit to str.isdigit and not to int(): each of these answered
    # 400 (internal error) and logged a traceback, as often as a client liked.
    client = await LineClient.open(port_of(server))
    await client.send("CAP LS ²", "NICK sup", "USER s 0 * :S", "CAP END")
    welcome = await client.read_until(n.RPL_ENDOFMOTD)
    for line in ("WHOWAS nobody ²", "LIST >²", "LIST C>²", "LIST <٣"):
        await client.send(line)
    answers = await client.sync()
    assert n.ERR_UNKNOWNERROR not in [m.command for m in welcome + answers]
    assert [m.command for m in answers].count(n.RPL_LISTEND) == 3
    assert n.ERR_WASNOSUCHNICK in [m.command for m in answers]
    assert not [r for r in caplog.records if r.exc_info]
    await client.close()
    assert (await clients.connect(server, "after")) is not None
