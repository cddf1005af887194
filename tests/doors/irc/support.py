"""Small builders shared by the IRC session tests: expected lines from the server or a user."""

from __future__ import annotations

import re

from hubbub.wire.message import Message
from tests.helpers import SERVER_NAME, FakeClient

HOST = "127.0.0.1"


def username(nick: str) -> str:
    """The username :meth:`Harness.register` gives ``nick``: ``~`` and at most 8 letters."""
    return "~" + (re.sub(r"[^A-Za-z0-9._-]", "", nick.lower()[:8]) or "user")


def mask(nick: str) -> str:
    """The hostmask of a user made by :meth:`Harness.register`."""
    return f"{nick}!{username(nick)}@{HOST}"


def reply(code: str, *params: str) -> Message:
    """A line from the server: a numeric or a command."""
    return Message(code, params, SERVER_NAME)


def relay(nick: str, command: str, *params: str) -> Message:
    """A line relayed from a user made by :meth:`Harness.register`."""
    return Message(command, params, mask(nick))


def lines(client: FakeClient) -> list[bytes]:
    """The raw lines (CR LF removed) the client received since the last take."""
    return [line for line in client.take_raw().split(b"\r\n") if line]


def pong(client: FakeClient, token: str = "sync") -> bool:
    """Whether the session still answers: PING gets its PONG, and nothing else is pending."""
    client.take()
    client.send(f"PING {token}")
    return client.take() == [reply("PONG", SERVER_NAME, token)]
