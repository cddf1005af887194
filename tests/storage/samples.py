"""Sample messages for the storage tests."""

from __future__ import annotations

from hubbub.core.history import StoredMessage

T0 = 1_700_000_000.0
CHAN = "#chan"


def message(
    number: int,
    conversation: str = CHAN,
    *,
    at: float | None = None,
    text: str | None = None,
    sender: str = "alice!a@127.0.0.1",
    target: str | None = None,
) -> StoredMessage:
    """Message ``number`` of a conversation, at ``T0 + number`` unless told."""
    return StoredMessage(
        msgid=f"{conversation}-{number}",
        time=T0 + number if at is None else at,
        conversation=conversation,
        target=conversation if target is None else target,
        sender=sender,
        kind="PRIVMSG",
        text=f"message {number}" if text is None else text,
    )


def texts(messages: list[StoredMessage]) -> list[str]:
    return [m.text for m in messages]
