"""Recent messages, remembered by msgid so that they can be withdrawn (REDACT)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import ItemsView
from typing import NamedTuple

from hubbub.core.model import User


class Sent(NamedTuple):
    """What is remembered of a recent message, to allow its redaction.

    People are named by user id and account id, never by nick: whoever takes a nick
    later must not withdraw what its earlier holder said. A named tuple: one is made for
    every message, and a frozen dataclass took twice as long to make.
    """

    sender: str
    sender_account: str | None
    target: str  # a channel's incarnation, or the recipient's user id
    target_name: str
    recipient_account: str | None  # the other party of a private message, if logged in

    def said_by(self, user: User) -> bool:
        return self.sender == user.id or (
            self.sender_account is not None and self.sender_account == user.account_id
        )

    def said_to(self, user: User) -> bool:
        return self.target == user.id or (
            self.recipient_account is not None and self.recipient_account == user.account_id
        )


class RecentMessages:
    """The last ``limit`` messages by msgid, oldest first."""

    __slots__ = ("_sent", "limit")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._sent: OrderedDict[str, Sent] = OrderedDict()

    def get(self, msgid: str) -> Sent | None:
        return self._sent.get(msgid)

    def keep(self, msgid: str, sent: Sent) -> None:
        recent = self._sent
        recent[msgid] = sent
        if len(recent) > self.limit:
            # popitem, not next(iter(...)): a plain dict's iterator walks deleted slots.
            recent.popitem(last=False)

    def items(self) -> ItemsView[str, Sent]:
        """Every message remembered, oldest first."""
        return self._sent.items()

    def forget(self, msgid: str) -> None:
        self._sent.pop(msgid, None)
