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
)
from hubbub.client.text import clean
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
    state._updates.append(StatusChanged())
    numeric_text(state, message)


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
    if len(message.params) < 2:
        return
    subject = message.params[1]
    if message.command == n.RPL_AWAY and (buffer := state.buffers.get(state.fold(subject))):
        key: Key | None = buffer.key
    else:
        key = None
    details = " ".join(message.params[2:]).strip()
    state.note(f"[{subject}] {details}", key)


@handles(*(code for code in n.__dict__.values() if isinstance(code, str) and code[:1] in "45"))
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
