"""The server's numeric replies: registration, ISUPPORT, WHOIS, LIST, refusals and
errors, and the rest shown as text in the server buffer. No I/O."""

from __future__ import annotations

from hubbub.client.handlers.table import Table, ignored
from hubbub.client.state import (
    SERVER,
    BuffersChanged,
    ChatState,
    Line,
    LineKind,
    StatusChanged,
    TopicChanged,
    nick_of,
)
from hubbub.client.text import clean, duration, moment
from hubbub.wire import numerics as n
from hubbub.wire.casemap import Key
from hubbub.wire.message import Message

TABLE = Table()
handles = TABLE.handles

_WHOIS_REPLIES = frozenset(
    {
        n.RPL_WHOISUSER,
        n.RPL_WHOISSERVER,
        n.RPL_WHOISOPERATOR,
        n.RPL_WHOISIDLE,
        n.RPL_WHOISCHANNELS,
        n.RPL_WHOISACCOUNT,
        n.RPL_WHOISACTUALLY,
        n.RPL_WHOISHOST,
        n.RPL_WHOISMODES,
        n.RPL_WHOISSECURE,
        n.RPL_WHOISCERTFP,
        n.RPL_WHOISBOT,
        n.RPL_WHOISREGNICK,
        n.RPL_WHOISSPECIAL,
        n.RPL_ENDOFWHOIS,
        n.RPL_WHOWASUSER,
        n.RPL_ENDOFWHOWAS,
    }
)
# Registration numerics the session answers; shown as text but not as errors.
_QUIET = frozenset({n.RPL_ENDOFNAMES, n.RPL_LISTSTART, n.RPL_TOPICWHOTIME, n.RPL_CREATIONTIME})


@handles(n.RPL_WELCOME)
def _welcome(state: ChatState, message: Message) -> None:
    if message.params:
        state.nick = message.params[0]
    state.registered = True
    # A new connection (after a reconnect too): the server tells the display names
    # again as channels are joined; one it forgot meanwhile (a guest's, at its restart)
    # must not stay on screen.
    state.display_names.clear()
    state._updates.append(StatusChanged())
    if len(message.params) < 2:
        return
    # "Welcome to the Network anna!~anna@host": the address is no news to its owner.
    words = message.params[-1].split(" ")
    if "!" in words[-1] and state.is_me(nick_of(words[-1])):
        words[-1] = nick_of(words[-1])
    text = " ".join(words)
    state._add(state.buffers[SERVER], Line(state._time(message), LineKind.INFO, "", text))


@handles(n.RPL_ISUPPORT)
def _isupport(state: ChatState, message: Message) -> None:
    old = state.support
    state.support = old.apply(message.params[1:-1])
    if state.support.casemapping is not old.casemapping:
        state._rekey()
    if state.support.network and state.support.network != old.network:
        state.network = state.buffers[SERVER].name = state.support.network
        state._updates.extend((BuffersChanged(), StatusChanged(), TopicChanged(SERVER)))


@handles(n.RPL_LIST)
def _list(state: ChatState, message: Message) -> None:
    if len(message.params) < 3:
        return
    topic = clean(message.params[3]) if len(message.params) > 3 else ""
    text = f"{clean(message.params[1], 64)} ({clean(message.params[2], 8)}) {topic}".rstrip()
    state._add(state.buffers[SERVER], Line(state._time(message), LineKind.INFO, "", text))


@handles(n.RPL_LISTEND)
def _list_end(state: ChatState, message: Message) -> None:
    state.note("End of the channel list", SERVER)


@handles(*_WHOIS_REPLIES, n.RPL_AWAY)
def _whois(state: ChatState, message: Message) -> None:
    """WHOIS replies (and "is away" for a message just sent) go where the user looks."""
    if len(message.params) < 2 or message.command in (n.RPL_ENDOFWHOIS, n.RPL_ENDOFWHOWAS):
        return
    subject = message.params[1]
    if message.command == n.RPL_AWAY and (buffer := state.buffers.get(state.fold(subject))):
        key: Key | None = buffer.key
    else:
        key = None
    state.note(_whois_sentence(state, message) or subject, key)


def _whois_sentence(state: ChatState, message: Message) -> str:
    """One WHOIS reply as a sentence about its subject: ``anna is ~a@host (Anna)``."""
    nick, rest = message.params[1], list(message.params[2:])
    match message.command, rest:
        case ((n.RPL_WHOISUSER | n.RPL_WHOWASUSER), [user, host, _, real, *_]):
            verb = "is" if message.command == n.RPL_WHOISUSER else "was"
            return f"{nick} {verb} {user}@{host}" + (f" ({real})" if real else "")
        case n.RPL_WHOISSERVER, [server, info, *_]:
            return f"{nick} is on {server}" + (f" ({info})" if info else "")
        case n.RPL_WHOISIDLE, [idle, signon, *_] if idle.isdigit() and signon.isdigit():
            since = moment(int(signon), state.clock())
            return f"{nick} has been idle {duration(int(idle))}, connected since {since}"
        case n.RPL_WHOISIDLE, [idle, *_] if idle.isdigit():
            return f"{nick} has been idle {duration(int(idle))}"
        case n.RPL_WHOISCHANNELS, [channels, *_]:
            return f"{nick} is in {channels}"
        case n.RPL_WHOISACCOUNT, [account, *_]:
            return f"{nick} is logged in as {account}"
        case n.RPL_AWAY, [text, *_]:
            return f"{nick} is away: {text}"
    # The others read as sentences with the nick in front ("is using a secure connection").
    return " ".join([nick, *(part for part in rest if part)])


# Every 4xx and 5xx but "no MOTD", which is no error to a user (server_info.py).
_ERRORS = {c for c in vars(n).values() if isinstance(c, str) and c[:1] in "45"} - {n.ERR_NOMOTD}


@handles(*sorted(_ERRORS))
def _error_reply(state: ChatState, message: Message) -> None:
    """Refusals and errors: shown where the user is looking, with what they are about."""
    if message.command in (n.ERR_NICKNAMEINUSE, n.ERR_ERRONEUSNICKNAME) and not state.registered:
        return  # the session tries another nick
    subjects = [p for p in message.params[1:-1] if p]
    text = clean(" ".join([*subjects, message.params[-1]])) if message.params else ""
    key = None
    for subject in subjects:
        if state.fold(subject) in state.buffers:
            key = state.fold(subject)
            break
    state.note(text or message.command, key, LineKind.ERROR)


def numeric_text(state: ChatState, message: Message) -> None:
    text = " ".join(p for p in message.params[1:] if p)
    if text and message.command not in _QUIET:
        line = Line(state._time(message), LineKind.INFO, "", clean(text))
        state._add(state.buffers[SERVER], line)


# The session shows how SASL went; the rest are details nobody needs to read.
handles(
    n.RPL_TOPICWHOTIME,
    n.RPL_CREATIONTIME,
    n.RPL_LISTSTART,
    n.RPL_SASLSUCCESS,
    n.ERR_SASLFAIL,
    n.ERR_SASLTOOLONG,
    n.ERR_SASLABORTED,
    n.ERR_SASLALREADY,
    n.RPL_SASLMECHS,
)(ignored)
