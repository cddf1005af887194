"""What a client has under way across several lines, kept on its session between them:
a SASL attempt (AUTHENTICATE) and a multiline batch being received (BATCH)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from hubbub.core.events import MessageKind, MessagePart

if TYPE_CHECKING:
    from hubbub.accounts import scram
    from hubbub.accounts.ports import Account
    from hubbub.wire.message import Message

CONCAT = "draft/multiline-concat"


@dataclass(slots=True)
class SaslAttempt:
    """A client's SASL attempt in progress: the mechanism, the chunks of the message
    being received, and (for SCRAM) the exchange and how far it has gone."""

    mechanism: str
    received: bytes = b""
    exchange: scram.Exchange | None = None
    step: int = 0
    account: Account | None = None


@dataclass(slots=True)
class OpenBatch:
    """A multiline batch being received: the lines tagged with its reference are held
    here (see :meth:`collect`) until ``BATCH -ref`` sends them as one message."""

    reference: str
    target: str
    label: str | None
    tags: dict[str, str]
    max_bytes: int
    max_lines: int
    kind: MessageKind | None = None
    parts: list[MessagePart] = field(default_factory=list)
    size: int = 0
    error: tuple[str, ...] | None = None

    def collect(self, message: Message) -> None:
        """Hold one line of the batch (or note why the batch is refused)."""
        if self.error is not None:
            return
        try:
            kind = MessageKind(message.command)
        except ValueError:
            kind = None
        if kind not in (MessageKind.PRIVMSG, MessageKind.NOTICE) or len(message.params) < 2:
            self.error = ("MULTILINE_INVALID", "Only PRIVMSG and NOTICE lines may be batched")
            return
        if self.kind not in (None, kind) or message.params[0] != self.target:
            self.error = (
                "MULTILINE_INVALID",
                "Every line must have the same command and target",
            )
            return
        self.kind = kind
        text = message.params[1]
        concat = CONCAT in message.tags
        if concat and not text:
            self.error = ("MULTILINE_INVALID", "A blank line cannot be concatenated")
            return
        self.size += len(text.encode()) + (0 if concat else 1)
        if len(self.parts) >= self.max_lines:
            self.error = ("MULTILINE_MAX_LINES", str(self.max_lines), "Too many lines")
            return
        if self.size > self.max_bytes:
            self.error = ("MULTILINE_MAX_BYTES", str(self.max_bytes), "Too many bytes")
            return
        self.parts.append(MessagePart(text, concat))
