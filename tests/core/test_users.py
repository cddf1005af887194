"""The users owner: nicks claimed through the registry by their skeleton, look-alikes,
reserved service names, releasing on rename and removal, and WHOWAS."""

from __future__ import annotations

import pytest

from hubbub.cluster.local import LocalRegistry
from hubbub.core.errors import ChatError, Reason
from hubbub.core.hub import Hub
from hubbub.core.model import User
from hubbub.core.presence import ELSEWHERE
from hubbub.core.users import SERVICES, Users, same
from hubbub.wire.casemap import Casemap, Casemapping, Key
from tests.core.world import Recorder, add

CASEMAP = Casemap(Casemapping.PRECIS)


@pytest.fixture
def registry() -> LocalRegistry:
    return LocalRegistry()


@pytest.fixture
def users(registry: LocalRegistry) -> Users:
    return Users(CASEMAP, registry, whowas_length=3)


def person(users: Users, nick: str, user_id: str) -> User:
    """A user that claimed ``nick`` and was added, as arriving does."""
    nick = users.check_nick(nick, user_id)
    users.claim(nick, user_id)
    user = User(
        user_id,
        nick,
        same(nick, CASEMAP.fold(nick)),
        same(nick, CASEMAP.skeleton(nick)),
        nick.lower(),
        "host",
        "Real",
        ELSEWHERE,
        1.0,
    )
    users.add(user)
    return user


def test_a_nick_is_checked_into_its_normal_form() -> None:
    users = Users(CASEMAP, LocalRegistry(), 3)
    decomposed = "Zoe\u0301"
    assert users.check_nick(decomposed) == "Zoé"


@pytest.mark.parametrize(
    ("nick", "detail"),
    [
        ("", "empty nickname"),
        ("9lives", "nickname has characters that are not allowed"),
        ("alicе", "nickname mixes Cyrillic and Latin"),
    ],
)
def test_an_invalid_nick_is_refused_as_erroneous_with_why(
    users: Users, nick: str, detail: str
) -> None:
    with pytest.raises(ChatError) as caught:
        users.check_nick(nick)
    assert caught.value.reason is Reason.ERRONEOUS_NICK
    assert caught.value.detail == detail


@pytest.mark.parametrize("nick", ["coco", "COCO", "сосо", "cOcO"])
def test_a_held_nick_and_its_look_alikes_are_in_use_for_everyone_else(
    users: Users, nick: str
) -> None:
    person(users, "coco", "u1")
    with pytest.raises(ChatError) as caught:
        users.check_nick(nick, "u2")
    assert caught.value.reason is Reason.NICK_IN_USE
    assert users.check_nick(nick, "u1") == nick


@pytest.mark.parametrize(("held", "wanted"), [("alice", "aIice"), ("mike", "rnike")])
def test_nicks_drawn_alike_collide(users: Users, held: str, wanted: str) -> None:
    person(users, held, "u1")
    with pytest.raises(ChatError) as caught:
        users.check_nick(wanted)
    assert caught.value.reason is Reason.NICK_IN_USE


def test_a_claim_is_held_in_the_registry_by_the_nicks_skeleton(
    users: Users, registry: LocalRegistry
) -> None:
    users.claim("aIice", "u1")
    assert registry.holder(CASEMAP.skeleton("alice")) == "u1"


def test_a_claim_on_a_nick_another_node_claimed_meanwhile_is_refused(
    users: Users, registry: LocalRegistry
) -> None:
    registry.claim(CASEMAP.skeleton("bob"), "elsewhere")
    with pytest.raises(ChatError) as caught:
        users.claim("bob", "u1")
    assert caught.value.reason is Reason.NICK_IN_USE
    assert caught.value.subject == "bob"
    assert registry.holder(CASEMAP.skeleton("bob")) == "elsewhere"


@pytest.mark.parametrize("nick", ["NickServ", "NICKSERV", "N1ckServ", "NlckServ"])
def test_a_reserved_service_name_and_its_look_alikes_are_in_use_for_every_user(
    users: Users, registry: LocalRegistry, nick: str
) -> None:
    users.reserve("NickServ")
    assert registry.holder(CASEMAP.skeleton("nickserv")) == SERVICES
    with pytest.raises(ChatError) as caught:
        users.check_nick(nick, "u1")
    assert caught.value.reason is Reason.NICK_IN_USE


def test_reserving_a_name_a_user_holds_leaves_it_to_the_user(
    users: Users, registry: LocalRegistry
) -> None:
    person(users, "ChanServ", "u1")
    users.reserve("ChanServ")
    assert registry.holder(CASEMAP.skeleton("chanserv")) == "u1"


def test_users_are_found_by_any_case_of_their_nick_and_by_id(users: Users) -> None:
    alice = person(users, "Alice", "u1")
    assert users.find("ALICE") is alice
    assert users.by_id["u1"] is alice
    assert users.find("bob") is None
    assert list(users) == [alice]
    assert len(users) == 1


def test_the_peak_is_the_most_users_there_ever_were_at_once(users: Users) -> None:
    alice = person(users, "alice", "u1")
    person(users, "bob", "u2")
    users.remove(alice, 5.0)
    person(users, "carol", "u3")
    assert users.peak == 2
    person(users, "dave", "u4")
    assert users.peak == 3


def test_a_rename_releases_the_old_nick_and_remembers_it(
    users: Users, registry: LocalRegistry
) -> None:
    alice = person(users, "alice", "u1")
    users.claim("Alicia", "u1")
    users.rename(alice, "Alicia", 5.0)
    assert registry.holder(CASEMAP.skeleton("alice")) is None
    assert registry.holder(CASEMAP.skeleton("alicia")) == "u1"
    assert users.find("alicia") is alice
    assert users.find("alice") is None
    assert (alice.nick, alice.key, alice.skeleton) == ("Alicia", "alicia", "aiicia")
    assert [(e.nick, e.time) for e in users.whowas("ALICE")] == [("alice", 5.0)]


def test_a_rename_to_a_look_alike_of_ones_own_nick_keeps_the_claim(
    users: Users, registry: LocalRegistry
) -> None:
    alice = person(users, "alice", "u1")
    users.rename(alice, "aIice", 5.0)
    assert registry.holder(CASEMAP.skeleton("alice")) == "u1"
    assert users.find("aiice") is alice


def test_removing_a_user_releases_its_nick_and_its_mode_counts(
    users: Users, registry: LocalRegistry
) -> None:
    alice = person(users, "alice", "u1")
    alice.modes = frozenset("iw")
    users.mode_counts.update("iw")
    users.remove(alice, 7.0)
    assert registry.holder(CASEMAP.skeleton("alice")) is None
    assert users.find("alice") is None
    assert "u1" not in users.by_id
    assert +users.mode_counts == {}
    assert [(e.nick, e.time) for e in users.whowas("alice")] == [("alice", 7.0)]


def test_whowas_is_newest_first_and_bounded(users: Users) -> None:
    alice = person(users, "alice", "u1")
    for when, nick in enumerate(["b1", "alice", "b2", "alice"], start=1):
        users.claim(nick, "u1")
        users.rename(alice, nick, float(when))
    # Remembered: alice@1 (pushed out), b1@2, alice@3, b2@4.
    assert len(users.whowas_entries) == 3
    assert [e.time for e in users.whowas("alice")] == [3.0]
    assert [e.time for e in users.whowas("B1")] == [2.0]
    users.remove(alice, 5.0)
    assert [e.time for e in users.whowas("alice")] == [5.0, 3.0]


def test_a_nick_equal_to_its_key_is_kept_as_one_string() -> None:
    nick = "alice"
    assert same(nick, Key("alice")) is nick
    assert same("Alice", Key("alice")) == "alice"


# -- through the hub -----------------------------------------------------------------------


def test_nicks_collide_case_insensitively_and_by_look_alike_letters(hub: Hub) -> None:
    add(hub, "coco")
    for nick in ("COCO", "сосо"):  # the second is all Cyrillic
        with pytest.raises(ChatError) as caught:
            hub.register(nick, "u", "h", "r", Recorder())
        assert caught.value.reason is Reason.NICK_IN_USE


@pytest.mark.parametrize(("first", "second"), [("cIarkx", "clarkx"), ("clarkx", "cIarkx")])
def test_a_look_alike_by_spelling_given_out_at_once_elsewhere_is_refused_as_applied(
    users: Users, registry: LocalRegistry, first: str, second: str
) -> None:
    # Probe 17: two nodes gave out cIarkx and clarkx at once; only skeletons are
    # claimed, and they differ, so both arrived.
    person(users, first, "u1")  # applied first: the log's order
    registry.claim(CASEMAP.skeleton(second), "u2")  # decided on another node meanwhile
    assert not users.settle(second, "u2")
    assert registry.holder(CASEMAP.skeleton(second)) is None
    # Once the first is gone, the name may be given out again.
    users.remove(users.by_id["u1"], 2.0)
    assert users.settle(second, "u2")


def test_a_claim_of_this_node_not_applied_yet_decides_no_look_alike(
    users: Users, registry: LocalRegistry
) -> None:
    # Probe 18: p here decided NICK clarkX (claimed, not applied) as q elsewhere decided
    # NICK cIarkX; q's change came first in the log. Counting p's claim refused q here
    # only, and the nodes disagreed for good.
    p = person(users, "p", "u1")
    users.claim("clarkX", p.id)  # decided here, on its way through the log
    assert users.settle("cIarkX", "u2")  # first in the log: everywhere
    q = User(
        "u2",
        "cIarkX",
        Key("ciarkx"),
        users.skeleton_of("u2", "cIarkX"),
        "q",
        "h",
        "Q",
        ELSEWHERE,
        1.0,
    )
    users.add(q)
    assert not users.settle("clarkX", p.id)  # after it: refused, here as elsewhere
