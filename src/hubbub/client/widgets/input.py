"""The input line: history (up/down), tab completion, and protection from pasting many
lines by mistake."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from textual import events
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Input

HISTORY = 200  # lines remembered


@dataclass(frozen=True, slots=True)
class Completion:
    """One tab-completion round: what was typed and what it can become."""

    start: int  # where the completed word starts
    rest: str  # the text after the cursor
    candidates: tuple[str, ...]
    index: int


Completer = Callable[[str, bool], list[str]]


class ChatInput(Input):
    """An :class:`~textual.widgets.Input` for chat.

    Args:
        complete: given the word before the cursor and whether it starts the line, what
            it may become (with the text that follows it, like ``": "``), best first.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "history(-1)", "previous line", show=False),
        Binding("down", "history(1)", "next line", show=False),
        Binding("tab", "complete", "complete a nick, channel or command", show=False),
    ]

    class MultilinePaste(Message):
        """Several lines were pasted; the app asks before sending them."""

        def __init__(self, lines: list[str]) -> None:
            super().__init__()
            self.lines = lines

    class Send(Message):
        """The user pressed enter on a line (already cleared from the input)."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self, complete: Completer, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._complete = complete
        self.history: list[str] = []
        self._position: int | None = None  # index into history while browsing it
        self._draft = ""
        self._completion: Completion | None = None
        self._completed = ""  # the value the last completion produced

    def remember(self, line: str) -> None:
        """Add a sent line to the history."""
        if line and (not self.history or self.history[-1] != line):
            self.history.append(line)
            del self.history[:-HISTORY]
        self._position = None

    async def action_submit(self) -> None:
        # The line is taken and cleared here, at once: keys typed (or pasted without
        # bracketed paste) before the app handles the message start a new line.
        text = self.value
        self.value = ""
        if text.strip():
            self.remember(text)
            self.post_message(self.Send(text))

    def action_history(self, step: int) -> None:
        if not self.history:
            return
        if self._position is None:
            if step > 0:
                return
            self._draft = self.value
            position = len(self.history) - 1
        else:
            position = self._position + step
        if position < 0:
            position = 0
        if position >= len(self.history):
            self._position = None
            self.value = self._draft
        else:
            self._position = position
            self.value = self.history[position]
        self.cursor_position = len(self.value)

    def action_complete(self) -> None:
        value, cursor = self.value, self.cursor_position
        round_ = self._completion
        if round_ is None or value != self._completed:
            start = value.rfind(" ", 0, cursor) + 1
            word = value[start:cursor]
            candidates = self._complete(word, start == 0)
            if not word or not candidates:
                self._completion = None
                self.app.bell()
                return
            round_ = Completion(start, value[cursor:], tuple(candidates), 0)
        else:
            round_ = Completion(
                round_.start,
                round_.rest,
                round_.candidates,
                (round_.index + 1) % len(round_.candidates),
            )
        choice = round_.candidates[round_.index]
        if round_.rest.startswith(" "):
            choice = choice.rstrip(" ")
        head = value[: round_.start] + choice
        self._completion = round_
        self.value = self._completed = head + round_.rest
        self.cursor_position = len(head)

    def _on_paste(self, event: events.Paste) -> None:
        lines = event.text.splitlines()
        if len([line for line in lines if line.strip()]) > 1:
            # A paste of many lines would flood the channel: ask first (see the app).
            event.prevent_default()
            event.stop()
            self.post_message(self.MultilinePaste(lines))
