"""Events rendered as IRC lines, built once per event and shared by every recipient."""

from __future__ import annotations

from hubbub.core.events import (
    ChannelModeChanged,
    Event,
    Invited,
    Joined,
    Kicked,
    Killed,
    MessagePosted,
    NickChanged,
    Parted,
    Quit,
    TopicChanged,
    UserModeChanged,
    Wallops,
)
from hubbub.core.modes import PREFIXES, ModeChange


def format_modes(changes: tuple[ModeChange, ...] | list[ModeChange]) -> list[str]:
    """``+o-v alice bob`` as a mode string followed by its parameters."""
    letters: list[str] = []
    params: list[str] = []
    sign = ""
    for change in changes:
        wanted = "+" if change.adding else "-"
        if wanted != sign:
            letters.append(wanted)
            sign = wanted
        letters.append(change.mode)
        if change.param is not None:
            params.append(change.param)
    return ["".join(letters), *params]


def render(event: Event) -> bytes:
    """One event as one line, CRLF included."""
    match event:
        case MessagePosted(actor, target, text, notice, status):
            verb = "NOTICE" if notice else "PRIVMSG"
            prefix = PREFIXES[status] if status else ""
            line = f":{actor.mask} {verb} {prefix}{target} :{text}"
        case Joined(actor, channel):
            line = f":{actor.mask} JOIN {channel}"
        case Parted(actor, channel, reason):
            line = f":{actor.mask} PART {channel}" + (f" :{reason}" if reason else "")
        case Kicked(actor, channel, nick, reason):
            line = f":{actor.mask} KICK {channel} {nick} :{reason}"
        case Quit(actor, reason):
            line = f":{actor.mask} QUIT :{reason}"
        case Killed(actor, nick, reason):
            line = f":{actor.mask} KILL {nick} :{reason}"
        case NickChanged(actor, nick):
            line = f":{actor.mask} NICK {nick}"
        case TopicChanged(actor, channel, topic):
            line = f":{actor.mask} TOPIC {channel} :{topic}"
        case ChannelModeChanged(actor, channel, changes):
            modes = format_modes(changes)
            line = f":{actor.mask} MODE {channel} " + " ".join([*modes[:-1], _last(modes[-1])])
        case UserModeChanged(actor, nick, changes):
            line = f":{actor.nick} MODE {nick} :" + format_modes(changes)[0]
        case Invited(actor, nick, channel):
            line = f":{actor.mask} INVITE {nick} {channel}"
        case Wallops(actor, text):
            line = f":{actor.mask} WALLOPS :{text}"
    return (line + "\r\n").encode()


def _last(param: str) -> str:
    return param if param and " " not in param and not param.startswith(":") else ":" + param


class RenderCache:
    """Remembers the line of the last event rendered.

    A fan-out delivers one event to many sessions in one synchronous pass, so a
    one-entry cache renders each event once.
    """

    __slots__ = ("_event", "_line")

    def __init__(self) -> None:
        self._event: Event | None = None
        self._line = b""

    def line(self, event: Event) -> bytes:
        if event is not self._event:
            self._line = render(event)
            self._event = event
        return self._line
