"""What the server says about itself, in words: the welcome burst (002-004), LUSERS,
the MOTD, and the answers to VERSION, TIME, INFO, ADMIN, LINKS, USERHOST, ISON and a
user-mode query. No I/O.

The welcome burst and LUSERS go to the server buffer; an answer to something the user
asked goes where the user is looking. Counts the user has no use for (invisible users,
unregistered connections, the local server's share of a network) are not shown.
"""

from __future__ import annotations

import re

from hubbub.client.handlers.table import Table, ignored
from hubbub.client.state import SERVER, ChatState, Line, LineKind
from hubbub.wire import numerics as n
from hubbub.wire.message import Message

TABLE = Table()
handles = TABLE.handles


def _server_line(state: ChatState, message: Message, text: str, kind: LineKind) -> None:
    state._add(state.buffers[SERVER], Line(state._time(message), kind, "", text))


def _count(digits: str, one: str, many: str) -> str:
    return f"{digits} {one if digits == '1' else many}"


@handles(n.RPL_YOURHOST, n.RPL_CREATED)
def _about_server(state: ChatState, message: Message) -> None:
    if len(message.params) > 1:
        _server_line(state, message, message.params[-1], LineKind.DETAIL)


# The server's modes, ISUPPORT's summary line; the 005 tokens themselves are read by
# replies.py. Their ends and headers say nothing either.
handles(
    n.RPL_MYINFO,
    n.RPL_LUSERCLIENT,
    n.RPL_LUSERUNKNOWN,
    n.RPL_LUSERME,
    n.RPL_LOCALUSERS,
    n.RPL_MOTDSTART,
    n.RPL_ENDOFMOTD,
    n.ERR_NOMOTD,
    n.RPL_ENDOFINFO,
    n.RPL_ENDOFLINKS,
    n.RPL_ENDOFWHO,
)(ignored)


@handles(n.RPL_LUSEROP, n.RPL_LUSERCHANNELS)
def _luser_count(state: ChatState, message: Message) -> None:
    """``252 anna 2 :operator(s) online`` → "2 operators online"; none is not worth a line."""
    if len(message.params) < 3 or not message.params[1].isdigit():
        return
    count = message.params[1]
    if message.command == n.RPL_LUSEROP:
        if count != "0":
            _server_line(
                state, message, _count(count, "operator", "operators") + " online", LineKind.DETAIL
            )
        return
    _server_line(state, message, _count(count, "channel", "channels") + " open", LineKind.INFO)


_USERS_AND_MAX = re.compile(r"(\d+)\D+(\d+)")


@handles(n.RPL_GLOBALUSERS)
def _users_online(state: ChatState, message: Message) -> None:
    """``266 anna 1 1 :Current global users 1, max 1`` → "1 user online (max 1)"."""
    numbers = [p for p in message.params[1:3] if p.isdigit()]
    if len(numbers) < 2:
        # The older form: the numbers only in the text.
        found = _USERS_AND_MAX.search(message.params[-1]) if message.params else None
        numbers = list(found.groups()) if found else []
    if len(numbers) < 2:
        return
    current, most = numbers
    text = _count(current, "user", "users") + f" online (max {most})"
    _server_line(state, message, text, LineKind.INFO)


@handles(n.RPL_MOTD)
def _motd(state: ChatState, message: Message) -> None:
    # RFC 2812 has each MOTD line start with "- "; it is the server's frame, not its text.
    text = message.params[-1] if len(message.params) > 1 else ""
    _server_line(
        state, message, text.removeprefix("- ").removeprefix("-").rstrip() or " ", LineKind.INFO
    )


@handles(n.RPL_UMODEIS)
def _user_modes(state: ChatState, message: Message) -> None:
    modes = " ".join(message.params[1:]).strip()
    state.note(f"Your modes: {modes}" if modes.strip("+") else "You have no user modes set")


@handles(n.RPL_VERSION)
def _version(state: ChatState, message: Message) -> None:
    """``351 anna hubbub-0.1.0 irc.test :comments`` → "irc.test runs hubbub-0.1.0"."""
    if len(message.params) < 3:
        return
    version, server = message.params[1], message.params[2]
    comments = message.params[3] if len(message.params) > 3 else ""
    state.note(f"{server} runs {version}" + (f" ({comments})" if comments else ""))


@handles(n.RPL_TIME)
def _time(state: ChatState, message: Message) -> None:
    if len(message.params) >= 3:
        state.note(f"Time at {message.params[1]}: {message.params[-1]}")


@handles(n.RPL_INFO, n.RPL_ADMINME, n.RPL_ADMINLOC1, n.RPL_ADMINLOC2, n.RPL_ADMINEMAIL)
def _text_answer(state: ChatState, message: Message) -> None:
    """INFO and ADMIN answers are written for people: their text, as it is ("-" is none)."""
    if len(message.params) < 2 or message.params[-1].strip("- ") == "":
        return
    about = f" ({message.params[1]})" if message.command == n.RPL_ADMINME else ""
    state.note(message.params[-1] + about)


@handles(n.RPL_LINKS)
def _link(state: ChatState, message: Message) -> None:
    """``364 anna irc.test irc.test :0 info`` → "irc.test (info)": the hop count is noise."""
    if len(message.params) < 4:
        return
    info = message.params[-1].partition(" ")[2]
    state.note(f"Server {message.params[2]}" + (f" ({info})" if info else ""))


@handles(n.RPL_WHOREPLY)
def _who(state: ChatState, message: Message) -> None:
    """``352 anna #x ~a host server nick H@ :0 Real`` → "@nick in #x: ~a@host (Real)"."""
    if len(message.params) < 8:
        return
    _, channel, user, host, _, nick, flags, last = message.params[:8]
    real = last.partition(" ")[2]
    rank = flags.lstrip("HG*")[:1]
    away = " (away)" if flags.startswith("G") else ""
    where = f" in {channel}" if channel != "*" else ""
    state.note(f"{rank}{nick}{where}: {user}@{host}" + (f" ({real})" if real else "") + away)


@handles(n.RPL_USERHOST)
def _userhost(state: ChatState, message: Message) -> None:
    """``302 anna :bob=+~b@host`` → "bob is ~b@host" (``*`` marks an operator)."""
    for entry in (message.params[-1] if len(message.params) > 1 else "").split():
        nick, _, rest = entry.partition("=")
        away = rest.startswith("-")
        note = f"{nick.rstrip('*')} is {rest[1:]}"
        note += " (an operator)" if nick.endswith("*") else ""
        state.note(note + (" (away)" if away else ""))


@handles(n.RPL_ISON)
def _ison(state: ChatState, message: Message) -> None:
    online = message.params[-1].split() if len(message.params) > 1 else []
    state.note("Online: " + ", ".join(online) if online else "None of them is online")
