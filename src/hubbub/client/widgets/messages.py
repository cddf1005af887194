"""The message view: one buffer's lines with times, nick colours, actions and notices."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from rich.text import Text
from textual.widgets import RichLog

from hubbub.client.state import Line, LineKind
from hubbub.client.text import nick_colour

SHOWN_ON_SWITCH = 500  # lines drawn when a buffer comes on screen


def format_line(line: Line, own_nick: str = "") -> Text:
    """One line as styled text: ``12:04 <anna> hello``."""
    text = Text()
    stamp = datetime.fromtimestamp(line.time).strftime("%H:%M") if line.dated else "--:--"
    text.append(stamp + " ", style="dim")
    colour = nick_colour(line.nick) if line.nick else ""
    body_style = "on #3d2b00" if line.mention else ""
    if line.kind is LineKind.MESSAGE:
        text.append("<", style="dim")
        if line.display:
            # A display name is the sender's words: the nick beside it says who it is.
            text.append(line.display, style=f"bold {colour}" if line.own else colour)
            text.append(f" ({line.nick})", style="dim")
        else:
            text.append(line.nick, style=f"bold {colour}" if line.own else colour)
        text.append("> ", style="dim")
        text.append(line.text, style=body_style)
    elif line.kind is LineKind.ACTION:
        text.append("* ", style="bold")
        text.append(line.nick, style=colour)
        text.append(" " + line.text, style=f"italic {body_style}".strip())
    elif line.kind is LineKind.NOTICE:
        text.append("-", style="dim")
        text.append(line.nick, style=colour)
        text.append("- ", style="dim")
        text.append(line.text, style=body_style or "#c0c0c0")
    elif line.kind is LineKind.PRESENCE:
        text.append(line.text, style="dim")
    elif line.kind is LineKind.EVENT:
        text.append("-- " + line.text, style="#99c1f1")
    elif line.kind is LineKind.ERROR:
        text.append("!! " + line.text, style="bold #f66151")
    elif line.kind is LineKind.SEPARATOR:
        text.append(line.text, style="bold #99c1f1")
    elif line.kind is LineKind.DETAIL:
        text.append("   " + line.text, style="dim italic")
    else:
        text.append("-- " + line.text, style="dim")
    if line.history:
        text.stylize("dim", 0, len(stamp))
    return text


class MessageView(RichLog):
    """A buffer's lines; redrawn whole when the buffer changes, appended to otherwise."""

    can_focus = False

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, wrap=True, markup=False, highlight=False, min_width=20)
        self.plain_lines: list[str] = []  # what is on screen as text, for tests and search

    def show(self, lines: Iterable[Line], own_nick: str) -> None:
        self.clear()
        self.plain_lines = []
        recent = list(lines)[-SHOWN_ON_SWITCH:]
        for line in recent:
            self.add(line, own_nick)

    def add(self, line: Line, own_nick: str) -> None:
        text = format_line(line, own_nick)
        self.plain_lines.append(text.plain)
        self.write(text)
