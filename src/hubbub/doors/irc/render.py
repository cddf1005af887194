"""Events rendered as IRC lines, built once per event and capability variant."""

from __future__ import annotations

import calendar
import re
import time
from collections.abc import Callable

from hubbub.core.events import (
    AccountChanged,
    AwayChanged,
    Banned,
    ChannelModeChanged,
    ChannelRenamed,
    Event,
    Invited,
    Joined,
    Kicked,
    Killed,
    MarkerMoved,
    MessageKind,
    MessagePosted,
    MessageRedacted,
    MetadataChanged,
    MonitoredOffline,
    MonitoredOnline,
    NickChanged,
    Parted,
    Quit,
    RealnameChanged,
    TopicChanged,
    UserModeChanged,
    Wallops,
)
from hubbub.core.modes import PREFIXES, ModeChange
from hubbub.doors.irc.caps import Variant
from hubbub.wire.message import escape_tag_value, fit_line


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


# Bytes of a line a MODE line leaves unused: CR LF, and a margin for the tags-free prefix.
_MODE_LINE_MARGIN = 12


def _mode_lines(
    changes: tuple[ModeChange, ...], overhead: int, line_length: int
) -> list[list[str]]:
    """Mode changes split over as many lines as keep each within the line length."""
    room = line_length - _MODE_LINE_MARGIN
    groups: list[list[ModeChange]] = [[]]
    size = overhead
    for change in changes:
        cost = 2 + len((change.param or "").encode()) + 1
        if groups[-1] and size + cost > room:
            groups.append([])
            size = overhead
        groups[-1].append(change)
        size += cost
    return [format_modes(group) for group in groups]


_TIMESTAMP = re.compile(
    r"^([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2})(?:\.([0-9]{1,6}))?Z$"
)


def parse_time(text: str) -> float | None:
    """The moment a server-time timestamp names, or None if it is not one."""
    match = _TIMESTAMP.match(text)
    if match is None:
        return None
    try:
        seconds = calendar.timegm(time.strptime(match.group(1), "%Y-%m-%dT%H:%M:%S"))
    except ValueError:
        return None
    fraction = match.group(2) or "0"
    return seconds + int(fraction) / (10.0 ** len(fraction))


def format_time(moment: float) -> str:
    """IRCv3 server-time: ``2011-10-19T16:40:51.620Z`` (UTC, milliseconds)."""
    seconds, millis = divmod(round(moment * 1000), 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"


def _last(param: str) -> str:
    return param if param and " " not in param and not param.startswith(":") else ":" + param


def render_body(event: Event, variant: int, line_length: int = 512) -> str:
    """The line of an event, without tags and without CRLF (a long MODE: several lines,
    each within ``line_length``)."""
    if isinstance(event, MessagePosted):
        return _message_body(event)
    match event:
        case Joined(actor, channel):
            if variant & Variant.EXTENDED_JOIN:
                return f":{actor.mask} JOIN {channel} {actor.account or '*'} :{actor.realname}"
            return f":{actor.mask} JOIN {channel}"
        case Parted(actor, channel, reason):
            return f":{actor.mask} PART {channel}" + (f" :{reason}" if reason else "")
        case Kicked(actor, channel, nick, reason):
            return f":{actor.mask} KICK {channel} {nick} :{reason}"
        case Quit(actor, reason):
            return f":{actor.mask} QUIT :{reason}"
        case Killed(actor, nick, reason):
            return f":{actor.mask} KILL {nick} :{reason}"
        case NickChanged(actor, nick):
            return f":{actor.mask} NICK {nick}"
        case TopicChanged(actor, channel, topic):
            return f":{actor.mask} TOPIC {channel} :{topic}"
        case ChannelModeChanged(actor, channel, changes):
            return "\r\n".join(
                f":{actor.mask} MODE {channel} " + " ".join([*modes[:-1], _last(modes[-1])])
                for modes in _mode_lines(changes, len(actor.mask) + len(channel) + 8, line_length)
            )
        case UserModeChanged(actor, nick, changes):
            return f":{actor.nick} MODE {nick} :" + format_modes(changes)[0]
        case Invited(actor, nick, channel):
            return f":{actor.mask} INVITE {nick} {channel}"
        case AwayChanged(actor, message):
            return f":{actor.mask} AWAY" + (f" :{message}" if message is not None else "")
        case AccountChanged(actor, account):
            return f":{actor.mask} ACCOUNT {account or '*'}"
        case RealnameChanged(actor, realname):
            return f":{actor.mask} SETNAME :{realname}"
        case Wallops(actor, text):
            return f":{actor.mask} WALLOPS :{text}"
        case MarkerMoved(target, moment):
            return f"MARKREAD {target} timestamp={format_time(moment)}"
        case MessageRedacted(actor, target, msgid, reason):
            return f":{actor.mask} REDACT {target} {msgid}" + (f" :{reason}" if reason else "")
        case ChannelRenamed(actor, old, new, reason):
            return f":{actor.mask} RENAME {old} {new} :{reason}"
        case MonitoredOnline() | MonitoredOffline() | Banned() | MetadataChanged():
            raise ValueError(
                "MONITOR events, bans and metadata are numerics, rendered by the session"
            )


def _message_body(event: MessagePosted) -> str:
    # Unpacked as a tuple: a class pattern's attribute lookups were 0.35 µs a message.
    actor, target, text, kind, status = event[:5]
    prefix = PREFIXES[status] if status else ""
    if kind is MessageKind.TAGMSG:
        return f":{actor.mask} TAGMSG {prefix}{target}"
    return f":{actor.mask} {kind} {prefix}{target} :{text}"


def render_tags(event: Event, variant: int, when: str) -> str:
    """The tag section for a variant (without ``@``), or ""."""
    tags: list[str] = []
    if variant & Variant.SERVER_TIME:
        tags.append(f"time={when}")
    actor = getattr(event, "actor", None)
    if variant & Variant.ACCOUNT_TAG and actor is not None and actor.account:
        tags.append(f"account={escape_tag_value(actor.account)}")
    if variant & Variant.MESSAGE_TAGS and isinstance(event, MessagePosted):
        tags.append(f"msgid={event.msgid}")
        if event.actor.bot:
            tags.append("bot")
        if event.tags:
            tags.append(render_client_tags(event))
    elif variant & Variant.MESSAGE_TAGS and type(event) is TopicChanged and event.msgid:
        # Kept in history like a message: its id lets a client find it there.
        tags.append(f"msgid={event.msgid}")
    return ";".join(tags)


# The longest client-only tags repeated on each line of a multi-line message sent as
# separate lines (longer ones go on the first line only), in bytes.
REPEATED_TAGS = 512


def render_multiline(
    event: MessagePosted, variant: int, when: str, line_length: int = 512
) -> bytes:
    """A multi-line message: one batch for draft/multiline clients, separate lines for
    the others (the first with the msgid and the client-only tags, blank lines left
    out), each line within ``line_length``."""
    head = f":{event.actor.mask} {event.kind} {event.target}"
    out: list[str] = []
    if variant & Variant.MULTILINE:
        reference = "ml" + event.msgid
        tags = render_tags(event, variant, when)
        start = f":{event.actor.mask} BATCH +{reference} draft/multiline {event.target}"
        out.append(f"@{tags} {start}" if tags else start)
        for part in event.parts:
            concat = ";draft/multiline-concat" if part.concat else ""
            line = fit_line(f"{head} :{part.text}", line_length)
            out.append(f"@batch={reference}{concat} {line}")
        out.append(f":{event.actor.mask} BATCH -{reference}")
    else:
        # IRCv3 multiline, "Fallback": "Any tags that would have been added to the batch,
        # e.g. message IDs, account tags etc MUST be included on the first message line
        # to be sent. Tags MAY also be included on subsequent lines where it makes sense
        # to do so." The msgid goes on the first line only; the sender's client-only
        # tags on every line (as clients expect, irctest's testBlankLines among them)
        # unless they are long: up to 4 KB repeated on up to max-lines lines made one
        # message over 100 KB for every member. The time and account stay on every line.
        first = render_tags(event, variant, when)
        rest = render_tags(event, variant & ~Variant.MESSAGE_TAGS, when)
        client_tags = render_client_tags(event) if variant & Variant.MESSAGE_TAGS else ""
        if len(client_tags) <= REPEATED_TAGS:
            rest = ";".join(t for t in (rest, client_tags) if t)
        for part in (p for p in event.parts if p.text):
            tags, first = first or rest, rest
            line = fit_line(f"{head} :{part.text}", line_length)
            out.append(f"@{tags} {line}" if tags else line)
    return "".join(line + "\r\n" for line in out).encode()


def render_client_tags(event: MessagePosted) -> str:
    return ";".join(
        f"{key}={escape_tag_value(value)}" if value else key for key, value in event.tags.items()
    )


def render(event: Event, variant: int, when: str, line_length: int = 512) -> bytes:
    """One event as one line for a capability variant, CRLF included, within
    ``line_length`` bytes but for its tags: a reason, topic or message that fitted the
    sender's line may not fit once the server has put the sender's mask before it, and
    is cut (on a character boundary)."""
    if type(event) is MessagePosted:
        if event.parts:
            return render_multiline(event, variant, when, line_length)
        return _render_message(event, variant, when, line_length)
    tags = render_tags(event, variant, when)
    # A body of several lines (a long MODE) carries the tags on each.
    lines = [
        fit_line(line, line_length)
        for line in render_body(event, variant, line_length).split("\r\n")
    ]
    if tags:
        lines = [f"@{tags} {line}" for line in lines]
    return "".join(f"{line}\r\n" for line in lines).encode()


def _render_message(event: MessagePosted, variant: int, when: str, line_length: int) -> bytes:
    """:func:`render` for the commonest event, a one-line message: the same line, with
    one encoding and no list (it was a tenth of a message's Python time)."""
    body = _message_body(event)
    data = body.encode()
    if len(data) + 2 > line_length:
        data = fit_line(body, line_length).encode()
    tags = render_tags(event, variant, when)
    return b"@%s %s\r\n" % (tags.encode(), data) if tags else data + b"\r\n"


class RenderCache:
    """Remembers the lines of the last event rendered, one per variant.

    A fan-out delivers one event to many sessions in one synchronous pass, so a
    one-event cache renders each event once per variant present among the recipients.

    Args:
        clock: the wall clock, for the server-time of events that carry no time.
        line_length: the longest line to send (the ``line_length`` limit).
    """

    __slots__ = ("_clock", "_second", "_second_text", "event", "line_length", "lines")

    def __init__(self, clock: Callable[[], float] = time.time, line_length: int = 512) -> None:
        self._clock = clock
        self.line_length = line_length
        # Public so that a session's delivery can try the cache without a call.
        self.event: Event | None = None
        self.lines: dict[int, bytes] = {}
        self._second = -1
        self._second_text = ""

    def line(self, event: Event, variant: int) -> bytes:
        if event is not self.event:
            self.event = event
            self.lines = {}
        line = self.lines.get(variant)
        if line is None:
            when = self._time_of(event) if variant & Variant.SERVER_TIME else ""
            line = self.lines[variant] = render(event, variant, when, self.line_length)
        return line

    def _time_of(self, event: Event) -> str:
        """server-time of an event; the date part is formatted once per second."""
        if isinstance(event, MessagePosted) or (type(event) is TopicChanged and event.time):
            # Kept in history under this time: the live line must say the same.
            moment = event.time
        else:
            moment = self._clock()
        seconds, millis = divmod(round(moment * 1000), 1000)
        if seconds != self._second:
            self._second = seconds
            self._second_text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
        return f"{self._second_text}.{millis:03d}Z"
