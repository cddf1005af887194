"""The list of buffers (server, channels, private chats) with unread and mention counts."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from hubbub.client.state import Buffer, BufferKind, ChatState


def buffer_label(buffer: Buffer, index: int, active: bool) -> Text:
    """``3 #rust 4`` — number (for alt+number), name, unread count; ``4 bob 2!`` when
    some of them name the user (or are private): the count is shown once, and stands out."""
    label = Text(no_wrap=True, overflow="ellipsis")
    label.append(f"{index:>2} " if index < 10 else "   ", style="dim")
    name_style = "bold" if active else ""
    if buffer.kind is BufferKind.CHANNEL and not buffer.joined:
        name_style += " dim"
    elif buffer.mentions:
        name_style += " bold #f66151"
    elif buffer.unread:
        name_style += " bold #62a0ea"
    label.append(buffer.name, style=name_style.strip())
    unread = max(buffer.unread, buffer.mentions)
    if unread:
        label.append(" ")
        if buffer.mentions:
            label.append(f"{unread}!", style="bold reverse #f66151")
        else:
            label.append(str(unread), style="#62a0ea")
    return label


class BufferList(OptionList):
    """Click a buffer, or use alt+number / ctrl+n / ctrl+p, to switch to it."""

    can_focus = False

    def show(self, state: ChatState) -> None:
        """Redraw from the state; the active buffer is highlighted."""
        options = [
            Option(buffer_label(buffer, index, buffer.key == state.active), id=buffer.key)
            for index, buffer in enumerate(state.ordered(), start=1)
        ]
        self.set_options(options)
        for index, option in enumerate(options):
            if option.id == state.active:
                self.highlighted = index
