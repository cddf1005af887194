"""Screens over the chat: help (commands and keys), and the multi-line paste question."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

KEYS: tuple[tuple[str, str], ...] = (
    ("enter", "send the line"),
    ("up / down", "previous / next line sent"),
    ("tab", "complete a nick, channel or /command (again: next match)"),
    ("ctrl+n / ctrl+p", "next / previous buffer"),
    ("alt+1 … alt+9", "buffer by number (where the terminal sends alt; else /go N)"),
    ("alt+a", "next buffer with unread messages (mentions first)"),
    ("page up / page down", "scroll the messages"),
    ("f2", "show or hide the member list"),
    ("ctrl+w", "close the buffer (leaves a channel)"),
    ("f1", "this help"),
    ("ctrl+q", "quit"),
)


def help_table(commands: list[tuple[str, str]]) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold #62a0ea", no_wrap=True)
    table.add_column()
    table.add_row(Text("Commands", style="bold underline"), "")
    # Text, not markup: "[#channel]" in a usage line is not a style.
    for usage, summary in commands:
        table.add_row(Text(usage), Text(summary))
    table.add_row("", "")
    table.add_row(Text("Keys", style="bold underline"), "")
    for keys, summary in KEYS:
        table.add_row(Text(keys), Text(summary))
    return table


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,f1,q", "dismiss", "close")]

    def __init__(self, commands: list[tuple[str, str]]) -> None:
        super().__init__()
        self.commands = commands

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box"):
            yield Label("hubbub chat — help (escape closes)", id="help-title")
            with VerticalScroll():
                yield Static(help_table(self.commands), id="help-text")


class PasteScreen(ModalScreen[bool]):
    """Asks whether to send several pasted lines; dismissed with True to send them."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,n", "cancel", "cancel"),
        Binding("y", "send", "send"),
    ]

    def __init__(self, lines: list[str], target: str) -> None:
        super().__init__()
        self.lines = lines
        self.target = target

    def compose(self) -> ComposeResult:
        count = len([line for line in self.lines if line.strip()])
        preview = "\n".join(self.lines[:5]) + ("\n…" if len(self.lines) > 5 else "")
        with Vertical(id="paste-box"):
            yield Label(f"Send {count} pasted lines to {self.target}?", id="paste-title")
            yield Static(Text(preview, no_wrap=True, overflow="ellipsis"), id="paste-preview")
            with Horizontal(id="paste-buttons"):
                yield Button("Send (y)", id="send", variant="warning")
                yield Button("Cancel (n)", id="cancel", variant="primary")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "send")

    def action_send(self) -> None:
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)
