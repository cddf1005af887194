"""The floor: the least a Python server on uvloop does for the load generator's scenarios.

Not a chat server: it registers whoever sends NICK and USER, puts a JOIN's sender in the
channel, answers PING, and relays each PRIVMSG to the channel's other members with the
sender's prefix in front, its output gathered per loop pass and written once per
connection, with Nagle's algorithm on but for writes of a segment or more (as hubbub's
batcher does). No parsing beyond the verb, no modes, no rules, no
ids, times, history or flood control.

It is measured beside hubbub (``run.py --servers hubbub,floor``) to tell what is the cost
of Python and uvloop, which no design on them can go under, from the cost of hubbub's
own path. Usage: ``python benchmarks/floor.py PORT``.
"""

from __future__ import annotations

import asyncio
import socket
import sys
from typing import cast

import uvloop

_NAME = b"bench.floor"
_PUSH_AT = 1400  # bytes: about a TCP segment


class Relay:
    """The channels and the connections with output waiting for the end of the pass."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.channels: dict[bytes, set[Client]] = {}
        self.dirty: list[Client] = []
        self.scheduled = False

    def flush(self) -> None:
        self.scheduled = False
        for client in self.dirty:
            data = b"".join(client.output)
            client.output.clear()
            client.transport.write(data)
            if (len(data) >= _PUSH_AT) is not client.pushing:
                client.pushing = not client.pushing
                client.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, client.pushing)
        self.dirty.clear()


class Client(asyncio.Protocol):
    def __init__(self, relay: Relay) -> None:
        self.relay = relay
        self.transport: asyncio.Transport
        self.output: list[bytes] = []
        self.rest = b""
        self.nick = b"*"
        self.prefix = b""
        self.socket: socket.socket
        self.pushing = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but act as one.
        self.transport = cast(asyncio.Transport, transport)
        # As hubbub by default: Nagle joins small writes (uvloop turns it off), and a
        # write of a segment or more goes at once (see hubbub.doors.output).
        self.socket = transport.get_extra_info("socket")
        self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 0)

    def send(self, data: bytes) -> None:
        if not self.output:
            relay = self.relay
            relay.dirty.append(self)
            if not relay.scheduled:
                relay.scheduled = True
                relay.loop.call_soon(relay.flush)
        self.output.append(data)

    def data_received(self, data: bytes) -> None:
        *lines, self.rest = (self.rest + data).split(b"\n")
        for line in lines:
            verb, _, rest = line.rstrip(b"\r").partition(b" ")
            if verb == b"PRIVMSG":
                target, _, text = rest.partition(b" ")
                relayed = b"%sPRIVMSG %s %s\r\n" % (self.prefix, target, text)
                for member in self.relay.channels.get(target, ()):
                    if member is not self:
                        member.send(relayed)
            elif verb == b"PING":
                self.send(b":%s PONG %s %s\r\n" % (_NAME, _NAME, rest))
            elif verb == b"NICK":
                self.nick = rest
            elif verb == b"USER":
                self.prefix = b":%s!%s@127.0.0.1 " % (self.nick, self.nick)
                nick = self.nick
                self.send(
                    b":%s 001 %s :Welcome\r\n:%s 422 %s :No MOTD\r\n" % (_NAME, nick, _NAME, nick)
                )
            elif verb == b"JOIN":
                members = self.relay.channels.setdefault(rest, set())
                members.add(self)
                joined = b"%sJOIN %s\r\n" % (self.prefix, rest)
                for member in members:
                    member.send(joined)
                nick = self.nick
                self.send(
                    b":%s 353 %s = %s :%s\r\n:%s 366 %s %s :End of NAMES\r\n"
                    % (_NAME, nick, rest, nick, _NAME, nick, rest)
                )
            elif verb == b"CAP" and rest.startswith(b"LS"):
                self.send(b":%s CAP * LS :\r\n" % _NAME)
            elif verb == b"QUIT":
                self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        for members in self.relay.channels.values():
            members.discard(self)


async def serve(port: int) -> None:
    loop = asyncio.get_running_loop()
    relay = Relay(loop)
    server = await loop.create_server(lambda: Client(relay), "127.0.0.1", port, backlog=4096)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    uvloop.run(serve(int(sys.argv[1])))
