"""Keepers: what the chat keeps, taken from its events as a bus subscriber would.

Subscribed after the hub's ``apply``, so that each sees an event once the state has
changed by it. Each hands its part to a sink that must not block (the write-behind
writers of :mod:`hubbub.storage`).
"""

from __future__ import annotations

from collections.abc import Callable

from hubbub.core.events import (
    Fact,
    MarkerMoved,
    MessagePosted,
    MessageRedacted,
    MetadataChanged,
    TopicChanged,
)
from hubbub.core.markers import account_of
from hubbub.core.ports import HistorySink, Kinds, MarkerSink, MetadataSink, Subscriber


def store_keepers(
    history: HistorySink,
    markers: MarkerSink,
    metadata: MetadataSink,
    restamped: Callable[[], MessagePosted | None],
) -> list[tuple[Subscriber, Kinds]]:
    """The keepers of a server with a store, each with the facts it takes (see
    :meth:`~hubbub.core.ports.Bus.subscribe`)."""
    return [
        (
            history_keeper(history, restamped),
            frozenset({MessagePosted, TopicChanged, MessageRedacted}),
        ),
        (marker_keeper(markers), frozenset({MarkerMoved})),
        (metadata_keeper(metadata), frozenset({MetadataChanged})),
    ]


def history_keeper(
    sink: HistorySink, restamped: Callable[[], MessagePosted | None] = lambda: None
) -> Subscriber:
    """Messages and topic changes go to history under the conversations they name;
    redacted messages leave. ``restamped``: the message whose time ``apply`` moved last
    (``Applier.restamped``), kept with its time as applied."""
    record, forget = sink.record, sink.forget

    def keep(event: Fact) -> None:
        if type(event) is MessagePosted:
            moved = restamped()
            if moved is not None and moved.msgid == event.msgid:
                event = moved
            for conversation in event.kept_as:
                record(event, conversation)
        elif type(event) is TopicChanged:
            for conversation in event.kept_as:
                sink.record_topic(event, conversation)
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


def metadata_keeper(sink: MetadataSink) -> Subscriber:
    """The keys of users logged in to an account are kept for it (by its id); those of a
    user logged in to none go with its connection; a channel's go with its registration
    (see RegisteredChannel). The keys loaded at login are written back, as they name
    the user's whole set then, and the kept ones that did not fit (probe 23; see
    :func:`hubbub.core.metadata.loaded`)."""

    def keep(event: Fact) -> None:
        if type(event) is not MetadataChanged or event.channel:
            return
        if event.account_id is None:
            return
        for entry in event.changes:
            sink.save(event.account_id, entry.key, entry.value)

    return keep
