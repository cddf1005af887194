"""Issue 20, sixth probe: glob masks with many stars against long names, through ban
lists, WHO and LIST. As regular expressions (``.*a.*a…``) they backtracked for
exponential time, and one such line stalled the whole server; now each is answered
at once, and the server goes on answering everyone."""

from __future__ import annotations

from pathlib import Path

from hubbub.core.modes import mask_pattern
from hubbub.server import Server
from hubbub.wire import numerics as n
from hubbub.wire.message import Message
from tests.helpers import LineClient, running_server
from tests.integration.conftest import Clients, make_settings

# Twenty stars, each between two a's, and a b that is nowhere in the names it meets: a
# backtracking matcher tries every way to spread the run of a's over the stars.
HOSTILE = "*a" * 20 + "*b"
LONG_NICK = "a" * 30


async def connect_long(clients: Clients, server: Server, nick: str) -> LineClient:
    """A registered client whose nick, user name and real name are runs of ``a``."""
    client = await clients.open(server)
    await client.send(f"NICK {nick}", f"USER {'a' * 10} 0 * :{'a' * 300}")
    await client.read_until(n.RPL_ENDOFMOTD)
    return client


def commands(lines: list[Message]) -> list[str]:
    return [m.command for m in lines]


async def test_a_ban_of_many_stars_leaves_the_server_answering_a_long_nick_joining(
    server: Server, clients: Clients
) -> None:
    op = await clients.connect(server, "op", "#dos")
    await op.send(f"MODE #dos +b {HOSTILE}!*@*", f"MODE #dos +b m:{HOSTILE}!*@*")
    await op.sync()
    long = await connect_long(clients, server, LONG_NICK)

    await long.send("JOIN #dos", "PRIVMSG #dos :still here")
    replies = await long.sync()  # the PING after them has its PONG

    # The ban matched nothing, so the join and the message went through.
    assert "JOIN" in commands(replies)
    assert n.ERR_BANNEDFROMCHAN not in commands(replies)
    assert n.ERR_CANNOTSENDTOCHAN not in commands(replies)
    heard = await op.sync()
    assert [m.params[-1] for m in heard if m.command == "PRIVMSG"] == ["still here"]


async def test_a_ban_of_many_stars_still_bans_whom_it_matches(
    server: Server, clients: Clients
) -> None:
    op = await clients.connect(server, "op", "#dos")
    await op.send(f"MODE #dos +b {HOSTILE}!*@*")
    await op.sync()
    banned = await connect_long(clients, server, LONG_NICK[:-1] + "b")

    await banned.send("JOIN #dos")

    assert n.ERR_BANNEDFROMCHAN in commands(await banned.sync())


async def test_who_with_a_mask_of_many_stars_is_answered_and_the_server_goes_on(
    server: Server, clients: Clients
) -> None:
    await connect_long(clients, server, LONG_NICK)
    asker = await clients.connect(server, "asker")
    other = await clients.connect(server, "other")

    await asker.send(f"WHO {HOSTILE}", f"WHO {HOSTILE[:-1]}")
    replies = await asker.sync()

    assert commands(replies).count(n.RPL_ENDOFWHO) == 2
    # Only the second mask (no b at the end) matches the long user.
    assert [m.params[5] for m in replies if m.command == n.RPL_WHOREPLY] == [LONG_NICK]
    assert await other.sync() == []


async def test_list_with_a_mask_of_many_stars_is_answered_and_the_server_goes_on(
    server: Server, clients: Clients
) -> None:
    channel = "#" + "a" * 60
    await clients.connect(server, "owner", channel)
    asker = await clients.connect(server, "asker")
    other = await clients.connect(server, "other")

    await asker.send(f"LIST #{HOSTILE}", f"LIST !#{HOSTILE}", f"LIST #{HOSTILE[:-1]}")
    replies = await asker.sync()

    assert commands(replies).count(n.RPL_LISTEND) == 3
    # The negated mask and the one without a b list the channel; the first does not.
    assert [m.params[1] for m in replies if m.command == n.RPL_LIST] == [channel, channel]
    assert await other.sync() == []


async def test_thousands_of_distinct_bans_are_not_made_again_at_every_message(
    tmp_path: Path, clients: Clients
) -> None:
    # Issue 20, seventh probe: 45 channels of 100 bans each (more masks than a shared
    # matcher cache held) made every message of an unvoiced member build all of its
    # channels' matchers again, and a few speakers stalled the server for minutes. Each
    # entry now keeps its own matcher: speaking makes none.
    settings = make_settings(tmp_path, flood_rate=0)
    async with running_server(settings) as server:
        channels = [f"#c{number}" for number in range(45)]
        op = await clients.connect(server, "op", *channels)
        for index, channel in enumerate(channels):
            masks = [f"*{index}x{number}*zz*q*{number}!*@*" for number in range(100)]
            lines = [
                f"MODE {channel} +bbbb {' '.join(masks[i : i + 4])}" for i in range(0, 100, 4)
            ]
            await op.send(*lines)
        await op.sync()
        speaker = await clients.connect(server, "speaker", *channels[:4])
        await op.sync()
        looked_up = mask_pattern.cache_info()
        await speaker.send(*[f"PRIVMSG {','.join(channels[:4])} :hello"] * 11)
        await speaker.sync()
        # No matcher looked up (or made) for a check: the entries' own were used.
        assert mask_pattern.cache_info() == looked_up
        heard = await op.sync()
        assert sum(m.command == "PRIVMSG" for m in heard) == 44
