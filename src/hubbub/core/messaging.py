"""Messages: PRIVMSG, NOTICE and TAGMSG to channels and users, and who may speak."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from hubbub.core.errors import ChatError, Reason
from hubbub.core.events import MessageKind, MessagePart, MessagePosted, MessageRedacted
from hubbub.core.hub_base import HubBase
from hubbub.core.model import Channel, User
from hubbub.core.modes import statuses_from
from hubbub.wire.casemap import Key

_NO_TAGS: Mapping[str, str] = {}


@dataclass(frozen=True, slots=True)
class Sent:
    """What is remembered of a recent message, to allow its redaction.

    People are named by user id and account id, never by nick: whoever takes a nick
    later must not withdraw what its earlier holder said.
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


class Messaging(HubBase):
    """The hub's message operations."""

    def history_owner(self, user: User) -> str:
        """Who a user's private history belongs to: their account, or else this session
        alone (a nick is no proof of being the same person later)."""
        if user.account_id is not None:
            return "a:" + user.account_id
        return "s:" + user.id

    def private_conversation(self, user: User, other: Key) -> str:
        """The history key of ``user``'s private conversation with the nick ``other``."""
        return f"{self.history_owner(user)} {other}"

    def say(
        self,
        user: User,
        target: str,
        text: str,
        kind: MessageKind = MessageKind.PRIVMSG,
        status: str = "",
        tags: Mapping[str, str] = _NO_TAGS,
        parts: tuple[MessagePart, ...] = (),
    ) -> tuple[User | Channel, MessagePosted]:
        """Send a message to a channel (its members, or those with at least the status
        mode ``status``) or to a user.

        Returns:
            the channel or user that was messaged, and the event (for echoes).

        Raises:
            ChatError: NO_SUCH_NICK, NO_SUCH_CHANNEL or CANNOT_SEND.
        """
        now = self.clock()
        if kind is not MessageKind.TAGMSG:
            user.last_active = now
        msgid = f"{self._msgid_prefix}{next(self._msgid_counter):x}"
        if target.startswith("#"):
            channel = self.find_channel(target)
            if channel is None:
                raise ChatError(Reason.NO_SUCH_CHANNEL, target)
            self._check_speech(user, channel, target, text)
            event = MessagePosted(
                user.actor, channel.name, text, kind, status, tags, now, msgid, parts
            )
            if status:
                # STATUSMSG: "@#chan" reaches operators, "+#chan" voiced users and up.
                ranks = statuses_from(status)
                for member, modes in channel.members.items():
                    if member is not user and not ranks.isdisjoint(modes):
                        member.deliver(event)
            else:
                for member in channel.members:
                    if member is not user:
                        member.deliver(event)
            sent = Sent(user.id, user.account_id, channel.incarnation, channel.name, None)
            self._keep(msgid, sent)
            if self.history is not None and not status and kind is not MessageKind.TAGMSG:
                self.history.record(event, channel.history_key)
            return channel, event
        recipient = self.find_user(target)
        if recipient is None:
            raise ChatError(Reason.NO_SUCH_NICK, target)
        event = MessagePosted(user.actor, recipient.nick, text, kind, "", tags, now, msgid, parts)
        recipient.listener.deliver(event)
        sent = Sent(user.id, user.account_id, recipient.id, recipient.nick, recipient.account_id)
        self._keep(msgid, sent)
        if self.history is not None and kind is not MessageKind.TAGMSG:
            self.history.record(event, self.private_conversation(user, recipient.key))
            self.history.record(event, self.private_conversation(recipient, user.key))
        return recipient, event

    def _keep(self, msgid: str, sent: Sent) -> None:
        recent = self.recent_messages
        recent[msgid] = sent
        if len(recent) > self.limits.recent_messages:
            # popitem, not next(iter(...)): a plain dict's iterator walks deleted slots.
            recent.popitem(last=False)

    def redact(self, user: User, target: str, msgid: str, reason: str = "") -> None:
        """Withdraw a recent message: its sender or a channel operator may.

        Raises:
            ChatError: NO_SUCH_CHANNEL, NOT_ON_CHANNEL or NO_SUCH_NICK for the target,
                UNKNOWN_MESSAGE, or FORBIDDEN.
        """
        sent = self.recent_messages.get(msgid)
        if target.startswith("#"):
            channel = self.member_channel(user, target)
            # Said in this channel, not in an earlier one of the same name.
            if sent is None or sent.target != channel.incarnation:
                raise ChatError(Reason.UNKNOWN_MESSAGE, channel.name, msgid)
            if not sent.said_by(user) and not channel.is_op(user):
                raise ChatError(Reason.FORBIDDEN, channel.name, msgid)
            audience: list[User] = list(channel.members)
        else:
            other = self.find_user(target)
            if other is None:
                raise ChatError(Reason.NO_SUCH_NICK, target)
            if sent is None or not (
                (sent.said_by(user) and sent.said_to(other))
                or (sent.said_by(other) and sent.said_to(user))
            ):
                raise ChatError(Reason.UNKNOWN_MESSAGE, other.nick, msgid)
            if not sent.said_by(user):
                raise ChatError(Reason.FORBIDDEN, other.nick, msgid)
            audience = [user, other]
        del self.recent_messages[msgid]
        if self.history is not None:
            self.history.forget(msgid)
        self._deliver(audience, MessageRedacted(user.actor, sent.target_name, msgid, reason))

    def _check_speech(self, user: User, channel: Channel, name: str, text: str) -> None:
        status = channel.members.get(user)
        if status is None:
            if "n" in channel.flags:
                if not channel.visible_to(user):
                    # A refusal must not tell an outsider that a secret channel exists.
                    raise ChatError(Reason.NO_SUCH_CHANNEL, name)
                raise ChatError(Reason.CANNOT_SEND, channel.name, "no external messages (+n)")
            status = ""
        # +C: CTCP requests other than ACTION are not relayed.
        if "C" in channel.flags and text.startswith("\x01") and not text.startswith("\x01ACTION"):
            raise ChatError(Reason.CANNOT_SEND, channel.name, "CTCPs are not allowed (+C)")
        if status:
            return
        if "m" in channel.flags:
            raise ChatError(Reason.CANNOT_SEND, channel.name, "channel is moderated (+m)")
        if not channel.lists["b"]:
            return
        masks = self.masks_of(user)
        if channel.matches("b", masks, speaking=True) and not channel.matches(
            "e", masks, speaking=True
        ):
            raise ChatError(Reason.CANNOT_SEND, channel.name, "you are banned (+b)")
