"""One message from the server applied to the client's state: cleaned, then handed to
its handler (:data:`hubbub.client.handlers.HANDLERS`), or shown as text when it has
none. No I/O."""

from __future__ import annotations

from hubbub.client.handlers import HANDLERS
from hubbub.client.state import SERVER, ChatState, Line, LineKind, Update
from hubbub.client.text import clean
from hubbub.wire.message import Message


def receive(state: ChatState, message: Message) -> list[Update]:
    """Apply one message from the server; return what changed."""
    message = safe_message(message)
    handler = HANDLERS.get(message.command)
    if handler is None:
        _show_unknown(state, message)
    else:
        handler(state, message)
    return state.take_updates()


def _show_unknown(state: ChatState, message: Message) -> None:
    """Show what the client has no handler for, as text, in the server buffer."""
    params = message.params[1:] if message.command.isdigit() else message.params
    text = " ".join(p for p in params if p)
    if not message.command.isdigit():
        text = f"{message.command} {text}".strip()
    if not text:
        return
    # Words the client has none of its own for: shown, but quietly (errors stand out).
    kind = LineKind.ERROR if message.command[:1] in "45" else LineKind.DETAIL
    state._add(state.buffers[SERVER], Line(state._time(message), kind, "", clean(text)))


def safe_message(message: Message) -> Message:
    """``message`` with control characters and escape sequences removed from its source
    and parameters, so no name or text the server sends can reach the screen with them.
    A CTCP message keeps the ``\x01`` around its cleaned text."""
    source = clean(message.source, 512) if message.source else message.source
    params = [clean(param) for param in message.params]
    if params and message.params[-1].startswith("\x01"):
        params[-1] = "\x01" + clean(message.params[-1].strip("\x01")) + "\x01"
    if source == message.source and tuple(params) == message.params:
        return message
    return message._replace(source=source, params=tuple(params))
