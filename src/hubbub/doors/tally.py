"""What the doors count for the server's metrics: plain integers, bumped where things
happen and read only when ``/metrics`` is asked, so that counting costs the hot path an
addition at most."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from hubbub.doors.ports import Peer


@dataclass(slots=True)
class DoorTally:
    """Counts shared by every door of one server (the gate's, handed to the contexts).

    Attributes:
        connections: sessions begun, by door (``irc``, ``web``, ``plain``): a TCP or
            TLS connection admitted at the gate, or a WebSocket handshake accepted.
        registrations: sessions that became users, by door.
        flood_throttled: times a client's lines were held back by flood control.
        sessions: sessions open now, by door (registered or not).
        sendq_exceeded: clients cut off for not reading their output (the SendQ).
        oper_failures: OPER refused, for a wrong name or password or unchecked while
            the address waits out its failures.
        password_failures: registrations refused for the server password (PASS), wrong,
            missing, or unchecked while the address waits.
    """

    connections: Counter[str] = field(default_factory=Counter)
    registrations: Counter[str] = field(default_factory=Counter)
    sessions: Counter[str] = field(default_factory=Counter)
    flood_throttled: int = 0
    sendq_exceeded: int = 0
    oper_failures: int = 0
    password_failures: int = 0


def irc_door(peer: Peer) -> str:
    """The door an IRC session came through: a WebSocket connection frames its output,
    a TCP or TLS one sends lines as they are."""
    return "irc" if peer.frames is None else "web"
