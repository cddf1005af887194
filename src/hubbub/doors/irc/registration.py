"""Connection registration as a state machine: how far an IRC connection is on its way
from connecting to being welcomed, and where each step of the client takes it.

Theory of operation
-------------------
A client registers by sending NICK and USER, in either order (modern IRC client protocol,
"Connection Registration"). As soon as both have arrived the session completes
registration: the client becomes a user of the chat and gets the welcome burst (001-005,
LUSERS, MOTD).

CAP negotiation holds registration. IRCv3 capability negotiation: "Upon receiving either
a CAP LS or CAP REQ command during connection registration, the server MUST not complete
registration until the client sends a CAP END command." So each state before the welcome
has a twin with negotiation open: NICK and USER move between the twins as between the
plain states, but having both leads to NEGOTIATING_READY rather than READY, and only CAP
END goes on from there. CAP END with no negotiation open changes nothing, and a new CAP
LS or REQ after CAP END (while NICK or USER is still missing) opens it again.

The state only moves on what was accepted: a NICK refused (432 erroneous, 433 in use) or
a USER refused (461) leaves it as it was. A nick in use by a user logged in to an
account is accepted while negotiation is open (or once logged in to that account): the
connection may log in and become one of that user's devices (doors/irc/attach.py), and
completion refuses it if not. A NICK or USER sent again before registration
replaces the first and keeps the state. Once registered, the table refuses USER and PASS
(462), NICK changes the nick, and CAP no longer holds anything: nothing moves
REGISTERED.

READY lasts no longer than the handler that reached it: the session completes
registration right after that handler returns, and the completion has three ends.

* A server password is configured, and PASS did not give it: ERR_PASSWDMISMATCH, then
  ERROR, and the connection closes (a closed session takes no more lines, so its state
  no longer matters). PASS itself only records the password; it moves nothing.
* The hub refuses the nick (someone took it since NICK, typically while negotiation held
  registration): the refusal (433) is sent, the nick is forgotten, and NICK_REFUSED
  leads back to USER_GIVEN, to wait for another NICK.
* Otherwise COMPLETED leads to REGISTERED, and the client is welcomed.

Accounts do not move the state. SASL (AUTHENTICATE) and account registration before
connecting (REGISTER, draft/account-registration's ``before-connect``) log the connection
in to an account in any state before REGISTERED; registration completes with that
account. AUTHENTICATE is not tied to ``CAP REQ sasl``: a client that skips the request
is answered all the same.

::

    NEW ──NICK──▶ NICK_GIVEN ──USER──▶ READY ──COMPLETED──▶ REGISTERED
     │                                  ▲ │
     └───USER──▶ USER_GIVEN ───NICK─────┘ └──NICK_REFUSED──▶ USER_GIVEN

    NEW, NICK_GIVEN, USER_GIVEN ──CAP_BEGIN──▶ NEGOTIATING, NEGOTIATING_NICK_GIVEN,
    NEGOTIATING_USER_GIVEN (and back with CAP_END); both given while negotiating:
    NEGOTIATING_READY ──CAP_END──▶ READY

The whole table is :data:`TRANSITIONS`; a step a state does not list leaves it as it is.
"""

from __future__ import annotations

import enum


class Registration(enum.Enum):
    """How far a connection is through registration."""

    NEW = enum.auto()  # neither NICK nor USER yet
    NICK_GIVEN = enum.auto()  # a nick accepted; USER awaited
    USER_GIVEN = enum.auto()  # USER given; a nick awaited
    READY = enum.auto()  # both given, nothing holds: completed at once
    NEGOTIATING = enum.auto()  # CAP negotiation open; neither NICK nor USER yet
    NEGOTIATING_NICK_GIVEN = enum.auto()
    NEGOTIATING_USER_GIVEN = enum.auto()
    NEGOTIATING_READY = enum.auto()  # both given; CAP END awaited
    REGISTERED = enum.auto()  # welcomed: the client is a user of the chat


class Step(enum.Enum):
    """What moves registration on."""

    NICK = enum.auto()  # NICK with a nick the hub accepts
    USER = enum.auto()  # USER with its four parameters
    CAP_BEGIN = enum.auto()  # CAP LS or CAP REQ
    CAP_END = enum.auto()  # CAP END
    COMPLETED = enum.auto()  # the hub added the user
    NICK_REFUSED = enum.auto()  # the hub refused the nick at completion


_R = Registration
TRANSITIONS: dict[Registration, dict[Step, Registration]] = {
    _R.NEW: {
        Step.NICK: _R.NICK_GIVEN,
        Step.USER: _R.USER_GIVEN,
        Step.CAP_BEGIN: _R.NEGOTIATING,
    },
    _R.NICK_GIVEN: {
        Step.USER: _R.READY,
        Step.CAP_BEGIN: _R.NEGOTIATING_NICK_GIVEN,
    },
    _R.USER_GIVEN: {
        Step.NICK: _R.READY,
        Step.CAP_BEGIN: _R.NEGOTIATING_USER_GIVEN,
    },
    _R.READY: {
        Step.COMPLETED: _R.REGISTERED,
        Step.NICK_REFUSED: _R.USER_GIVEN,
    },
    _R.NEGOTIATING: {
        Step.NICK: _R.NEGOTIATING_NICK_GIVEN,
        Step.USER: _R.NEGOTIATING_USER_GIVEN,
        Step.CAP_END: _R.NEW,
    },
    _R.NEGOTIATING_NICK_GIVEN: {
        Step.USER: _R.NEGOTIATING_READY,
        Step.CAP_END: _R.NICK_GIVEN,
    },
    _R.NEGOTIATING_USER_GIVEN: {
        Step.NICK: _R.NEGOTIATING_READY,
        Step.CAP_END: _R.USER_GIVEN,
    },
    _R.NEGOTIATING_READY: {
        Step.CAP_END: _R.READY,
    },
    _R.REGISTERED: {},
}


def advance(state: Registration, step: Step) -> Registration:
    """The state ``step`` leads to from ``state`` (``state`` itself when it lists none)."""
    return TRANSITIONS[state].get(step, state)
