"""One-line bars: the topic of the buffer on screen, and the status above the input."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from hubbub.client.state import Buffer, BufferKind, ChatState


class TopicBar(Static):
    def show(self, buffer: Buffer | None) -> None:
        text = Text(no_wrap=True, overflow="ellipsis")
        if buffer is None:
            self.update(text)
            return
        text.append(buffer.name, style="bold")
        if buffer.kind is BufferKind.CHANNEL and buffer.modes:
            text.append(f" (+{buffer.modes})", style="dim")
        if buffer.topic:
            text.append("  " + buffer.topic)
        elif buffer.kind is BufferKind.QUERY:
            text.append("  private chat", style="dim")
        self.update(text)


class StatusBar(Static):
    def show(self, state: ChatState, address: str) -> None:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f"[{state.nick}]", style="bold")
        if state.away:
            text.append(" (away)", style="dim")
        if state.registered:
            text.append(f" on {state.network}", style="")
        elif state.connected:
            text.append(f" connecting to {address}", style="#e5a50a")
        else:
            text.append(f" disconnected from {address}", style="bold #f66151")
        text.append("   F1 help · ctrl+n/ctrl+p buffers · ctrl+q quit", style="dim")
        self.update(text)
