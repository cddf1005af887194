"""The member list of a channel: mode prefixes, nick colours, away members dimmed."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from hubbub.client.state import Buffer, BufferKind, ChatState
from hubbub.client.text import nick_colour


class MemberList(OptionList):
    can_focus = False

    def show(self, state: ChatState, buffer: Buffer | None) -> None:
        if buffer is None or buffer.kind is not BufferKind.CHANNEL:
            self.set_options([])
            self.border_title = ""
            return
        members = state.sorted_members(buffer)
        options: list[Option] = []
        for member in members:
            label = Text(no_wrap=True, overflow="ellipsis")
            label.append(member.prefixes[:1] or " ", style="bold #2ec27e")
            style = "dim" if member.away else nick_colour(member.nick)
            label.append(member.nick, style=style)
            display = state.display_names.get(state.fold(member.nick))
            if display:
                label.append(f" {display}", style="dim italic")
            options.append(Option(label, id=member.nick))
        self.set_options(options)
        self.border_title = f"{len(members)} members"
