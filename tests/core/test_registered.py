"""Registered channels' records: statuses by account id, and a channel's state kept and
restored."""

from __future__ import annotations

from dataclasses import replace

from hubbub.core.model import Channel, ListEntry, Topic
from hubbub.core.registered import RegisteredChannel
from hubbub.wire.casemap import Key

RECORD = RegisteredChannel(
    Key("#a"), "#A", "founder", 1.0, access={"friend": "v", "deputy": "o"}, names={"f": "F"}
)


def test_the_founder_is_an_operator_and_the_access_list_says_the_rest() -> None:
    assert RECORD.status_for("founder") == "o"
    assert RECORD.status_for("deputy") == "o"
    assert RECORD.status_for("friend") == "v"
    assert RECORD.status_for("stranger") == ""
    assert RECORD.status_for(None) == ""


def test_an_account_is_shown_by_its_name_or_else_its_id() -> None:
    assert RECORD.name_of("f") == "F"
    assert RECORD.name_of("friend") == "friend"


def test_a_channels_state_is_kept_and_restored_as_it_was() -> None:
    live = Channel("#A", Key("#a"), 5.0, "#a 7")
    live.topic = Topic("news", "f!u@h", 4.0)
    live.flags.update("tnmi")
    live.password, live.limit = "pw", 9
    live.lists["b"].append(ListEntry("x!*@*", "f", 3.0, "x!*@*"))
    live.lists["I"].append(ListEntry("y!*@*", "f", 3.0, "y!*@*"))
    kept = RECORD.with_state_of(live)
    assert (kept.flags, kept.password, kept.limit, kept.topic) == ("imnt", "pw", 9, live.topic)
    assert kept.founder == "founder"
    again = Channel("#A", Key("#a"), 6.0, "ignored")
    replace(kept, incarnation="#a 7").restore(again)
    assert again.incarnation == "#a 7"
    assert (again.topic, again.flags, again.password, again.limit) == (
        live.topic,
        {"t", "n", "m", "i"},
        "pw",
        9,
    )
    assert again.lists == live.lists


def test_a_registration_older_than_incarnations_restores_under_its_key() -> None:
    again = Channel("#A", Key("#a"), 6.0, "new")
    RECORD.restore(again)
    assert again.incarnation == "#a"
