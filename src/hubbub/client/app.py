"""The Textual app of ``hubbub chat``: the screen, the keys, and the link from what the
user does to the session and from the session's updates to the widgets.

Layout::

    ┌ buffers ─┐┌ topic ───────────────────────────────┐┌ members ┐
    │ 1 net    ││ 12:04 <anna> hello                   ││ @anna   │
    │ 2 #rust 3││ 12:05 → bo joined                    ││  bo     │
    │ 3 bo     │├ status ──────────────────────────────┤│         │
    └──────────┘└ input ───────────────────────────────┘└─────────┘
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from pathlib import Path
from typing import ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.widgets import OptionList

from hubbub.client.commands import COMMANDS
from hubbub.client.config import ChatConfigError, Network, default_config_path, load_file, resolve
from hubbub.client.connection import Connection, Dialect, Timing
from hubbub.client.plain import PlainSession
from hubbub.client.session import IrcSession
from hubbub.client.state import (
    SERVER,
    BufferKind,
    BuffersChanged,
    ChatState,
    Focus,
    Line,
    LineAdded,
    MembersChanged,
    QuitRequested,
    Redraw,
    ShowHelp,
    StatusChanged,
    TopicChanged,
    Update,
)
from hubbub.client.widgets.bars import StatusBar, TopicBar
from hubbub.client.widgets.buffers import BufferList
from hubbub.client.widgets.input import ChatInput
from hubbub.client.widgets.members import MemberList
from hubbub.client.widgets.messages import MessageView
from hubbub.client.widgets.screens import HelpScreen, PasteScreen
from hubbub.wire.casemap import Key

logger = logging.getLogger(__name__)

__all__ = ["ChatApp", "ChatConfigError", "main"]


class ChatApp(App[None]):
    """A chat client for one network.

    Args:
        network: where to connect, as whom, what to join.
        timing: reconnection and keep-alive delays (tests make them short).
    """

    CSS_PATH = "chat.tcss"
    TITLE = "hubbub chat"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1", "help", "help"),
        Binding("ctrl+n,alt+down", "cycle(1)", "next buffer", show=False),
        Binding("ctrl+p,alt+up", "cycle(-1)", "previous buffer", show=False),
        Binding("alt+a", "next_unread", "next unread buffer", show=False),
        Binding("pageup", "scroll(-1)", "scroll up", show=False),
        Binding("pagedown", "scroll(1)", "scroll down", show=False),
        Binding("f2", "toggle_members", "member list", show=False),
        Binding("ctrl+w", "close_buffer", "close buffer", show=False),
        Binding("ctrl+q", "quit", "quit", priority=True),
        *(Binding(f"alt+{i}", f"goto({i})", show=False) for i in range(1, 10)),
    ]

    def __init__(self, network: Network, timing: Timing | None = None) -> None:
        super().__init__()
        self.network = network
        self.state = ChatState(network.nick, network.name)
        self.session: Dialect = (
            PlainSession(network, self.state) if network.plain else IrcSession(network, self.state)
        )
        self.connection = Connection(network, self.session, self.apply, timing)
        # Set after every batch of updates is drawn: tests wait on it instead of sleeping.
        self.updated = asyncio.Event()

    # -- layout ---------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Horizontal(id="main"):
            yield BufferList(id="buffers")
            with Vertical(id="centre"):
                yield TopicBar(id="topic")
                yield MessageView(id="messages")
                yield StatusBar(id="status")
                yield ChatInput(self.complete, id="input", placeholder="Type a message, or /help")
            yield MemberList(id="members")

    def on_mount(self) -> None:
        if self.network.plain:
            # One conversation: no buffers to list, no members known.
            self.query_one(MemberList).display = False
            self.query_one(BufferList).display = False
        self.redraw()
        self.query_one(ChatInput).focus()
        self.run_worker(self.connection.run(), name="connection", group="connection")

    def on_unmount(self) -> None:
        self.connection.stop()

    # -- from the session to the screen ---------------------------------------------------

    def apply(self, updates: list[Update]) -> None:
        """Draw what changed; the only way updates reach the widgets."""
        try:
            view = self.query_one(MessageView)
        except NoMatches:  # the app is closing, its screen gone: nothing left to draw
            return
        state = self.state
        focus = [update.buffer for update in updates if isinstance(update, Focus)]
        if focus:
            # Drawing the newly focused buffer whole already shows every line of this
            # batch, including those added after the Focus.
            state.select(focus[-1])
        added: list[Line] = []
        redraw_view = buffers = members = topic = status = bool(focus)
        # Whether what is on screen changed: the user has read it.
        seen = bool(focus)
        for update in updates:
            match update:
                case LineAdded(buffer=key, line=line, replaced=replaced):
                    if key == state.active:
                        redraw_view = redraw_view or replaced
                        added.append(line)
                        seen = True
                case Redraw(buffer=key):
                    redraw_view = redraw_view or key == state.active
                    seen = seen or key == state.active
                case BuffersChanged():
                    buffers = True
                case MembersChanged(buffer=key):
                    members = members or key == state.active
                case TopicChanged(buffer=key):
                    topic = topic or key == state.active
                case StatusChanged():
                    status = True
                case ShowHelp():
                    self.action_help()
                case QuitRequested():
                    self.connection.stop()
                    self.exit()
        if redraw_view:
            view.show(state.current.lines, state.nick)
        else:
            for line in added:
                view.add(line, state.nick)
        if buffers:
            self.query_one(BufferList).show(state)
        if members:
            self.query_one(MemberList).show(state, state.current)
        if topic:
            self.query_one(TopicBar).show(state.current)
        if status:
            self.query_one(StatusBar).show(state, self.network.address)
        if seen:
            self.session.seen(state.active)
        self.updated.set()

    def redraw(self) -> None:
        state = self.state
        self.query_one(MessageView).show(state.current.lines, state.nick)
        self.query_one(BufferList).show(state)
        self.query_one(MemberList).show(state, state.current)
        self.query_one(TopicBar).show(state.current)
        self.query_one(StatusBar).show(state, self.network.address)
        self.updated.set()

    def switch_to(self, key: Key) -> None:
        """Put a buffer on screen."""
        self.state.select(key)
        self.session.seen(key)
        self.redraw()

    # -- from the user to the session -----------------------------------------------------

    def on_chat_input_send(self, event: ChatInput.Send) -> None:
        self.apply(self.session.submit(self.state.active, event.text))

    def on_chat_input_multiline_paste(self, event: ChatInput.MultilinePaste) -> None:
        lines = [line for line in event.lines if line.strip()]
        key = self.state.active

        def answered(send: bool | None) -> None:
            if not send:
                return
            for line in lines:
                # Pasted text is said, never run as a command ("//" says a leading "/").
                text = "/" + line if line.startswith("/") else line
                self.apply(self.session.submit(key, text))

        self.push_screen(PasteScreen(lines, self.state.current.name), answered)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option_list.id == "buffers" and event.option.id is not None:
            self.switch_to(Key(event.option.id))

    def complete(self, word: str, at_start: bool) -> list[str]:
        """What the word before the cursor may become: commands, channels or nicks."""
        state = self.state
        if word.startswith("/") and at_start:
            prefix = word[1:].lower()
            return [f"/{name} " for name in sorted(COMMANDS) if name.startswith(prefix)]
        folded = state.fold(word)
        if state.is_channel(word):
            names = [b.name for b in state.ordered() if b.kind is BufferKind.CHANNEL]
            return [f"{name} " for name in names if state.fold(name).startswith(folded)]
        buffer = state.current
        nicks = [m.nick for m in state.sorted_members(buffer)]
        if buffer.kind is BufferKind.QUERY:
            nicks.append(buffer.name)
        # Who spoke last comes first: that is usually who is being answered.
        recent = [line.nick for line in reversed(buffer.lines) if line.nick][:200]
        order = {state.fold(nick): index for index, nick in enumerate(dict.fromkeys(recent))}
        matches = [
            nick
            for nick in dict.fromkeys(nicks)
            if state.fold(nick).startswith(folded) and not state.is_me(nick)
        ]
        matches.sort(key=lambda nick: order.get(state.fold(nick), len(order)))
        suffix = ": " if at_start else " "
        return [nick + suffix for nick in matches]

    # -- keys -----------------------------------------------------------------------------

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        listed = [(c.usage, c.summary) for c in COMMANDS.values()]
        if self.network.plain:
            listed = [
                ("/quit", "leave and close the client"),
                ("anything else", "sent to the server as it is (hubbub's plain door: /help)"),
            ]
        self.push_screen(HelpScreen(listed))

    def action_cycle(self, step: int) -> None:
        keys = [buffer.key for buffer in self.state.ordered()]
        index = keys.index(self.state.active) if self.state.active in keys else 0
        self.switch_to(keys[(index + step) % len(keys)])

    def action_goto(self, number: int) -> None:
        buffers = self.state.ordered()
        if 0 < number <= len(buffers):
            self.switch_to(buffers[number - 1].key)

    def action_next_unread(self) -> None:
        buffers = self.state.ordered()
        waiting = [b for b in buffers if b.mentions] or [b for b in buffers if b.unread]
        if waiting:
            self.switch_to(waiting[0].key)

    def action_scroll(self, step: int) -> None:
        view = self.query_one(MessageView)
        if step < 0:
            view.scroll_page_up()
        else:
            view.scroll_page_down()

    def action_toggle_members(self) -> None:
        members = self.query_one(MemberList)
        members.display = not members.display

    def action_close_buffer(self) -> None:
        if self.state.active != SERVER:
            self.apply(self.session.submit(self.state.active, "/close"))

    async def action_quit(self) -> None:
        if self.state.registered and not self.network.plain:
            self.apply(self.session.submit(self.state.active, "/quit"))
        self.connection.stop()
        self.exit()


def main(
    target: str | None,
    *,
    nick: str | None = None,
    join: str | None = None,
    plain: bool = False,
    device: str | None = None,
    config: Path | None = None,
    insecure: bool = False,
    log_file: Path | None = None,
) -> None:
    """Run the client until the user quits (``hubbub chat``).

    Raises:
        ChatConfigError: an invalid address, flag or config file.
    """
    table = load_file(config or default_config_path())
    network = resolve(target, nick=nick, join=join, plain=plain, device=device, config=table)
    if insecure:
        network = replace(network, verify_tls=False)
    if log_file is not None:
        # The terminal belongs to the app: logs go to a file or nowhere.
        logging.basicConfig(
            filename=log_file,
            level=logging.DEBUG,
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )
    ChatApp(network).run()
