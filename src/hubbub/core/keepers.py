"""Keepers: what the chat keeps, taken from its events as a bus subscriber would.

Subscribed after the hub's ``apply``, so that each sees an event once the state has
changed by it. Each hands its part to a sink that must not block (the write-behind
writers of :mod:`hubbub.storage`).
"""

from __future__ import annotations

from hubbub.core.events import Fact, MarkerMoved, MessagePosted, MessageRedacted
from hubbub.core.markers import account_of
from hubbub.core.ports import HistorySink, MarkerSink, Subscriber


def history_keeper(sink: HistorySink) -> Subscriber:
    """Messages go to history under the conversations they name; redacted ones leave."""
    record, forget = sink.record, sink.forget

    def keep(event: Fact) -> None:
        if type(event) is MessagePosted:
            for conversation in event.kept_as:
                record(event, conversation)
        elif type(event) is MessageRedacted:
            forget(event.msgid)

    return keep


def marker_keeper(sink: MarkerSink) -> Subscriber:
    """Accounts' read markers are kept; a user's markers before login are not."""

    def keep(event: Fact) -> None:
        if type(event) is not MarkerMoved:
            return
        account = account_of(event.owner)
        if account is None:
            return
        if event.forgotten is not None:
            sink.forget(account, event.forgotten)
        sink.save(account, event.key, event.time)

    return keep
