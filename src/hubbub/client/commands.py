"""What the user types in IRC mode: slash commands (a table of handlers) and plain text.

:func:`submit` takes one line from the input and the buffer it was typed in. A line that
starts with ``/`` runs a command; ``//text`` says ``/text``; anything else is said in the
buffer. Commands send through the :class:`~hubbub.client.session.IrcSession` and tell the
view what to do (switch buffer, show help, quit) through state updates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from hubbub.client.state import (
    SERVER,
    BufferKind,
    ChatState,
    Focus,
    LineKind,
    QuitRequested,
    ShowHelp,
    Update,
)
from hubbub.wire.casemap import Key


class CommandSession(Protocol):
    """What a command uses of the IRC session (:class:`hubbub.client.session.IrcSession`
    is one, and runs the commands: so this module does not import it)."""

    state: ChatState
    wanted_nick: str  # asked for again on each connection

    @property
    def enabled(self) -> set[str]:
        """The capabilities the server acknowledged."""
        ...

    def send(self, command: str, *params: str, tags: dict[str, str] | None = None) -> None: ...

    def send_raw(self, text: str) -> bool:
        """Send a line typed by the user as it is; False if it is not an IRC message."""
        ...

    def say(self, target: str, text: str, action: bool = False) -> None: ...

    def join(self, channels: list[str], keys: list[str] | None = None) -> None: ...


Handler = Callable[[CommandSession, Key, str], None]


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    usage: str
    summary: str
    handler: Handler


COMMANDS: dict[str, Command] = {}
ALIASES: dict[str, str] = {"j": "join", "leave": "part", "m": "msg", "q": "query", "w": "whois"}
QUIT_MESSAGE = "hubbub chat"


def command(name: str, usage: str, summary: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        COMMANDS[name] = Command(name, usage, summary, handler)
        return handler

    return register


def submit(session: CommandSession, key: Key, text: str) -> list[Update]:
    """Handle one line typed in buffer ``key``; return what changed for the view."""
    state = session.state
    if text.startswith("/") and not text.startswith("//"):
        name, _, arguments = text[1:].partition(" ")
        name = ALIASES.get(name.lower(), name.lower())
        found = COMMANDS.get(name)
        if found is None:
            state.note(f"Unknown command /{name}. Type /help for the list.", key, LineKind.ERROR)
        else:
            found.handler(session, key, arguments.strip())
        return state.take_updates()
    text = text.removeprefix("/")
    buffer = state.buffer(key)
    if not text:
        return []
    if buffer is None or buffer.kind is BufferKind.SERVER:
        state.note("This is the server buffer: /join a channel or /query a nick.", key)
    elif not state.registered:
        state.note("Not connected; the message was not sent.", key, LineKind.ERROR)
    else:
        session.say(buffer.name, text)
    return state.take_updates()


def _usage(session: CommandSession, key: Key, name: str) -> None:
    found = COMMANDS[name]
    session.state.note(f"Usage: {found.usage}  ({found.summary})", key, LineKind.ERROR)


def _target(session: CommandSession, key: Key) -> str | None:
    buffer = session.state.buffer(key)
    if buffer is None or buffer.kind is BufferKind.SERVER:
        return None
    return buffer.name


def _channel(session: CommandSession, key: Key) -> str | None:
    buffer = session.state.buffer(key)
    return buffer.name if buffer is not None and buffer.kind is BufferKind.CHANNEL else None


@command("join", "/join #channel[,#other] [key]", "join channels")
def _join(session: CommandSession, key: Key, arguments: str) -> None:
    if not arguments:
        _usage(session, key, "join")
        return
    names, _, keys = arguments.partition(" ")
    state = session.state
    channels = [n if state.is_channel(n) else "#" + n for n in names.split(",") if n]
    for channel in channels:
        ckey = state.fold(channel)
        buffer = state.buffer(ckey)
        if buffer is not None and buffer.joined:
            state.emit(Focus(ckey))
        else:
            state.focus_on_join.add(ckey)
    session.join(channels, keys.split(",") if keys.strip() else None)


@command("part", "/part [#channel] [reason]", "leave a channel (or close a private chat)")
def _part(session: CommandSession, key: Key, arguments: str) -> None:
    state = session.state
    first, _, rest = arguments.partition(" ")
    if first and state.is_channel(first):
        channel, reason = first, rest
    else:
        channel, reason = _channel(session, key) or "", arguments
    if not channel:
        buffer = state.buffer(key)
        if buffer is not None and buffer.kind is BufferKind.QUERY:
            for update in state.close(key):
                state.emit(update)
            return
        _usage(session, key, "part")
        return
    session.send("PART", channel, *([reason] if reason else []))


@command("close", "/close", "leave the channel and close its buffer")
def _close(session: CommandSession, key: Key, arguments: str) -> None:
    state = session.state
    buffer = state.buffer(key)
    if buffer is None or buffer.kind is BufferKind.SERVER:
        state.note("The server buffer stays open; /quit leaves.", key)
        return
    if buffer.kind is BufferKind.CHANNEL and buffer.joined:
        session.send("PART", buffer.name)
    for update in state.close(key):
        state.emit(update)


@command("msg", "/msg nick|#channel text", "send a message without switching buffer")
def _msg(session: CommandSession, key: Key, arguments: str) -> None:
    target, _, text = arguments.partition(" ")
    if not target or not text:
        _usage(session, key, "msg")
        return
    session.say(target, text)


@command("query", "/query nick [text]", "open a private chat (and say text)")
def _query(session: CommandSession, key: Key, arguments: str) -> None:
    nick, _, text = arguments.partition(" ")
    state = session.state
    if not nick or state.is_channel(nick):
        _usage(session, key, "query")
        return
    buffer = state.open(nick, BufferKind.QUERY)
    state.emit(Focus(buffer.key))
    if text:
        session.say(nick, text)


@command("me", "/me text", "an action: * you text")
def _me(session: CommandSession, key: Key, arguments: str) -> None:
    target = _target(session, key)
    if target is None or not arguments:
        _usage(session, key, "me")
        return
    session.say(target, arguments, action=True)


@command("notice", "/notice nick|#channel text", "send a notice")
def _notice(session: CommandSession, key: Key, arguments: str) -> None:
    target, _, text = arguments.partition(" ")
    if not target or not text:
        _usage(session, key, "notice")
        return
    session.send("NOTICE", target, text)
    if "echo-message" not in session.enabled:
        session.state.said(target, text, LineKind.NOTICE)


@command("nick", "/nick newnick", "change your nick")
def _nick(session: CommandSession, key: Key, arguments: str) -> None:
    nick = arguments.split(" ")[0] if arguments else ""
    if not nick:
        _usage(session, key, "nick")
        return
    session.wanted_nick = nick
    session.send("NICK", nick)


@command("topic", "/topic [text]", "show or set the channel topic")
def _topic(session: CommandSession, key: Key, arguments: str) -> None:
    state = session.state
    first, _, rest = arguments.partition(" ")
    if first and state.is_channel(first):
        channel, text = first, rest
    else:
        channel, text = _channel(session, key) or "", arguments
    if not channel:
        _usage(session, key, "topic")
    elif text:
        session.send("TOPIC", channel, text)
    else:
        buffer = state.buffer(state.fold(channel))
        topic = buffer.topic if buffer is not None else ""
        state.note(f"Topic of {channel}: {topic}" if topic else f"{channel} has no topic", key)


@command("away", "/away [message]", "mark yourself away (no message: back)")
def _away(session: CommandSession, key: Key, arguments: str) -> None:
    session.send("AWAY", *([arguments] if arguments else []))


@command("quit", "/quit [reason]", "leave the network and close the client")
def _quit(session: CommandSession, key: Key, arguments: str) -> None:
    session.send("QUIT", arguments or QUIT_MESSAGE)
    session.state.emit(QuitRequested(arguments))


@command("names", "/names [#channel]", "list who is in a channel")
def _names(session: CommandSession, key: Key, arguments: str) -> None:
    channel = arguments.split(" ")[0] if arguments else _channel(session, key)
    if not channel:
        _usage(session, key, "names")
        return
    session.state.names_requested.add(session.state.fold(channel))
    session.send("NAMES", channel)


@command("whois", "/whois nick", "who is this")
def _whois(session: CommandSession, key: Key, arguments: str) -> None:
    nick = arguments.split(" ")[0] if arguments else ""
    if not nick:
        _usage(session, key, "whois")
        return
    session.send("WHOIS", nick)


@command(
    "profile",
    "/profile [key [value]]",
    "your profile: list it, set a key (display-name, status, avatar ...) or clear it",
)
def _profile(session: CommandSession, key: Key, arguments: str) -> None:
    if "draft/metadata-3" not in session.enabled:
        session.state.note("This server keeps no profiles (draft/metadata-3).", key)
        return
    name, _, value = arguments.strip().partition(" ")
    if not name:
        session.send("METADATA", "*", "LIST")
    elif value.strip():
        session.send("METADATA", "*", "SET", name, value.strip())
    else:
        session.send("METADATA", "*", "SET", name)


@command("list", "/list [mask]", "list channels (in the server buffer)")
def _list(session: CommandSession, key: Key, arguments: str) -> None:
    session.send("LIST", *([arguments] if arguments else []))
    session.state.emit(Focus(SERVER))


@command("mode", "/mode [target] modes [args]", "show or change modes")
def _mode(session: CommandSession, key: Key, arguments: str) -> None:
    words = arguments.split()
    state = session.state
    if not words or not (state.is_channel(words[0]) or state.is_me(words[0])):
        channel = _channel(session, key)
        if channel is None:
            _usage(session, key, "mode")
            return
        words.insert(0, channel)
    session.send("MODE", *words)


@command("kick", "/kick nick [reason]", "remove someone from the channel")
def _kick(session: CommandSession, key: Key, arguments: str) -> None:
    nick, _, reason = arguments.partition(" ")
    channel = _channel(session, key)
    if not nick or channel is None:
        _usage(session, key, "kick")
        return
    session.send("KICK", channel, nick, *([reason] if reason else []))


@command("invite", "/invite nick [#channel]", "invite someone to a channel")
def _invite(session: CommandSession, key: Key, arguments: str) -> None:
    nick, _, channel = arguments.partition(" ")
    channel = channel.strip() or _channel(session, key) or ""
    if not nick or not channel:
        _usage(session, key, "invite")
        return
    session.send("INVITE", nick, channel)


@command("go", "/go number|name", "switch to a buffer by its number or name")
def _go(session: CommandSession, key: Key, arguments: str) -> None:
    state = session.state
    buffers = state.ordered()
    wanted = arguments.strip()
    if wanted.isdigit() and 0 < int(wanted) <= len(buffers):
        state.emit(Focus(buffers[int(wanted) - 1].key))
        return
    folded = state.fold(wanted)
    found = [
        b
        for b in buffers
        if wanted and state.fold(b.name.lstrip("#&")).startswith(folded.lstrip("#&"))
    ]
    if found:
        state.emit(Focus(found[0].key))
    else:
        _usage(session, key, "go")


@command("raw", "/raw LINE", "send a line to the server as it is")
def _raw(session: CommandSession, key: Key, arguments: str) -> None:
    if not arguments or not session.send_raw(arguments):
        _usage(session, key, "raw")


@command("help", "/help [command]", "commands and keys")
def _help(session: CommandSession, key: Key, arguments: str) -> None:
    session.state.emit(ShowHelp(arguments.removeprefix("/")))
