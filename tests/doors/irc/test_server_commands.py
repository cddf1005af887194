"""Server facts and operator commands through an IRC session: MOTD, LUSERS, VERSION,
TIME, ADMIN, INFO, LINKS, HELP, OPER, KILL and REHASH."""

from __future__ import annotations

import time

import pytest

from hubbub.doors.irc.help import HELP_TOPICS, INDEX
from hubbub.wire import numerics as n
from hubbub.wire.message import Message
from tests.doors.irc.support import HOST, pong, relay, reply
from tests.helpers import SERVER_NAME, Harness

NOW = 1_700_000_000
NO_PRIVILEGES = "Permission Denied- You're not an IRC operator"


def test_motd_answers_375_372_376(harness: Harness) -> None:
    harness.ctx.motd = ["line one", "line two"]
    alice = harness.register("alice")
    alice.send("MOTD")
    assert alice.take() == [
        reply(n.RPL_MOTDSTART, "alice", f"- {SERVER_NAME} Message of the day - "),
        reply(n.RPL_MOTD, "alice", "- line one"),
        reply(n.RPL_MOTD, "alice", "- line two"),
        reply(n.RPL_ENDOFMOTD, "alice", "End of /MOTD command."),
    ]


def test_missing_motd_answers_422(harness: Harness) -> None:
    harness.ctx.motd = []
    alice = harness.register("alice")
    alice.send("MOTD")
    assert alice.take() == [reply(n.ERR_NOMOTD, "alice", "MOTD File is missing")]


def test_lusers_counts_users_invisible_operators_unregistered_and_channels(
    harness: Harness,
) -> None:
    alice = harness.register("alice", "#a", "#b")
    bob = harness.register("bob")
    harness.register("carol")
    bob.send("MODE bob +i")
    alice.send("OPER oper operpass")
    harness.client()
    half = harness.client()
    half.send("NICK halfway")
    leaving = harness.client()
    leaving.send("QUIT")
    alice.take()
    alice.send("LUSERS")
    assert alice.take() == [
        reply(n.RPL_LUSERCLIENT, "alice", "There are 2 users and 1 invisible on 1 servers"),
        reply(n.RPL_LUSEROP, "alice", "1", "operator(s) online"),
        reply(n.RPL_LUSERUNKNOWN, "alice", "2", "unknown connection(s)"),
        reply(n.RPL_LUSERCHANNELS, "alice", "2", "channels formed"),
        reply(n.RPL_LUSERME, "alice", "I have 3 clients and 0 servers"),
        reply(n.RPL_LOCALUSERS, "alice", "3", "3", "Current local users 3, max 3"),
        reply(n.RPL_GLOBALUSERS, "alice", "3", "3", "Current global users 3, max 3"),
    ]


def test_lusers_remembers_the_peak(harness: Harness) -> None:
    alice = harness.register("alice")
    harness.register("bob").send("QUIT")
    alice.send("LUSERS")
    replies = alice.take()
    assert replies[-2:] == [
        reply(n.RPL_LOCALUSERS, "alice", "1", "2", "Current local users 1, max 2"),
        reply(n.RPL_GLOBALUSERS, "alice", "1", "2", "Current global users 1, max 2"),
    ]


def test_unregistered_connection_lost_is_no_longer_counted(harness: Harness) -> None:
    alice = harness.register("alice")
    client = harness.client()
    client.session.connection_lost("reset")
    alice.send("LUSERS")
    assert reply(n.RPL_LUSERUNKNOWN, "alice", "0", "unknown connection(s)") in alice.take()


def test_version_answers_351_then_isupport(harness: Harness) -> None:
    alice = harness.register("alice")
    alice.send("VERSION")
    replies = alice.take()
    assert replies[0] == reply(
        n.RPL_VERSION, "alice", harness.ctx.version, SERVER_NAME, "https://hubbub.chat"
    )
    assert replies[1:]
    assert all(m.command == n.RPL_ISUPPORT for m in replies[1:])
    tokens = [t for m in replies[1:] for t in m.params[1:-1]]
    assert "NICKLEN=30" in tokens


def test_time_answers_391_with_the_server_clock(harness: Harness) -> None:
    alice = harness.register("alice")
    alice.send("TIME")
    expected = time.strftime("%A %B %d %Y -- %H:%M:%S +00:00", time.gmtime(NOW))
    assert alice.take() == [reply(n.RPL_TIME, "alice", SERVER_NAME, expected)]


def test_admin_answers_256_to_259(harness: Harness) -> None:
    alice = harness.register("alice")
    alice.send("ADMIN")
    assert alice.take() == [
        reply(n.RPL_ADMINME, "alice", SERVER_NAME, "Administrative info"),
        reply(n.RPL_ADMINLOC1, "alice", "hubbub"),
        reply(n.RPL_ADMINLOC2, "alice", "hubbub"),
        reply(n.RPL_ADMINEMAIL, "alice", "-"),
    ]


def test_info_answers_371_lines_then_374(harness: Harness) -> None:
    alice = harness.register("alice")
    alice.send("INFO")
    replies = alice.take()
    assert [m.command for m in replies] == [n.RPL_INFO] * 3 + [n.RPL_ENDOFINFO]
    assert replies[0] == reply(
        n.RPL_INFO, "alice", f"{harness.ctx.version}: a multi-user chat server in Python"
    )
    assert replies[-1] == reply(n.RPL_ENDOFINFO, "alice", "End of /INFO list")


def test_links_lists_this_server_only(harness: Harness) -> None:
    alice = harness.register("alice")
    alice.send("LINKS")
    assert alice.take() == [
        reply(n.RPL_LINKS, "alice", SERVER_NAME, SERVER_NAME, "0 hubbub chat server"),
        reply(n.RPL_ENDOFLINKS, "alice", "*", "End of /LINKS list"),
    ]


def test_help_without_subject_lists_commands_with_704_705_706(harness: Harness) -> None:
    alice = harness.register("alice")
    alice.send("HELP")
    assert alice.take() == [
        reply(n.RPL_HELPSTART, "alice", "*", INDEX[0]),
        *(reply(n.RPL_HELPTXT, "alice", "*", line) for line in INDEX[1:]),
        reply(n.RPL_ENDOFHELP, "alice", "*", "End of /HELP"),
    ]


@pytest.mark.parametrize("subject", ["privmsg", "PRIVMSG", "Join"])
def test_help_on_a_command_whatever_its_case(harness: Harness, subject: str) -> None:
    alice = harness.register("alice")
    alice.send(f"HELP {subject}")
    topic = subject.upper()
    lines = HELP_TOPICS[topic]
    assert alice.take() == [
        reply(n.RPL_HELPSTART, "alice", topic, lines[0]),
        *(reply(n.RPL_HELPTXT, "alice", topic, line) for line in lines[1:]),
        reply(n.RPL_ENDOFHELP, "alice", topic, "End of /HELP"),
    ]


def test_help_on_an_unknown_subject_is_refused_with_524(harness: Harness) -> None:
    alice = harness.register("alice")
    alice.send("HELP frobnicate")
    assert alice.take() == [
        reply(n.ERR_HELPNOTFOUND, "alice", "frobnicate", "No help available on this topic")
    ]


def test_helpop_is_help(harness: Harness) -> None:
    alice = harness.register("alice")
    alice.send("HELPOP")
    assert alice.take()[0] == reply(n.RPL_HELPSTART, "alice", "*", INDEX[0])


# -- OPER ------------------------------------------------------------------------------


def test_oper_with_right_password_answers_381_and_sets_plus_o(harness: Harness) -> None:
    alice = harness.register("alice")
    alice.send("OPER oper operpass")
    assert alice.take() == [
        reply(n.RPL_YOUREOPER, "alice", "You are now an IRC operator"),
        Message("MODE", ("alice", "+o"), "alice"),
    ]
    alice.send("MODE alice")
    assert alice.take() == [reply(n.RPL_UMODEIS, "alice", "+o")]


@pytest.mark.parametrize("line", ["OPER oper wrong", "OPER nobody operpass", "OPER OPER operpass"])
def test_oper_with_wrong_name_or_password_is_refused_with_464(harness: Harness, line: str) -> None:
    alice = harness.register("alice")
    alice.send(line)
    assert alice.take() == [reply(n.ERR_PASSWDMISMATCH, "alice", "Password incorrect")]
    alice.send("MODE alice")
    assert alice.take() == [reply(n.RPL_UMODEIS, "alice", "+")]


def test_oper_with_one_parameter_is_refused_with_461(harness: Harness) -> None:
    alice = harness.register("alice")
    alice.send("OPER oper")
    assert alice.take() == [reply(n.ERR_NEEDMOREPARAMS, "alice", "OPER", "Not enough parameters")]


# -- KILL ------------------------------------------------------------------------------


def test_kill_by_non_operator_is_refused_with_481(harness: Harness) -> None:
    alice = harness.register("alice")
    bob = harness.register("bob")
    alice.send("KILL bob :go away")
    assert alice.take() == [reply(n.ERR_NOPRIVILEGES, "alice", NO_PRIVILEGES)]
    assert bob.take() == []
    assert not bob.closed


def test_kill_closes_the_victim_and_neighbours_see_a_quit(harness: Harness) -> None:
    alice = harness.register("alice")
    bob = harness.register("bob", "#c")
    carol = harness.register("carol", "#c")
    alice.send("OPER oper operpass")
    alice.take()
    bob.take()
    alice.send("KILL bob :spamming")
    assert bob.take() == [
        relay("alice", "KILL", "bob", "spamming"),
        Message("ERROR", (f"Closing link: (~bob@{HOST}) [Killed (alice (spamming))]",)),
    ]
    assert bob.closed
    assert carol.take() == [relay("bob", "QUIT", "Killed (alice (spamming))")]
    assert alice.take() == []
    assert harness.hub.find_user("bob") is None
    assert pong(carol)


def test_killed_nick_is_free_again(harness: Harness) -> None:
    alice = harness.register("alice")
    harness.register("bob")
    alice.send("OPER oper operpass")
    alice.send("KILL bob :bye")
    again = harness.register("bob")
    assert again.session.registered


def test_kill_of_missing_nick_is_refused_with_401(harness: Harness) -> None:
    alice = harness.register("alice")
    alice.send("OPER oper operpass")
    alice.take()
    alice.send("KILL ghost :boo")
    assert alice.take() == [reply(n.ERR_NOSUCHNICK, "alice", "ghost", "No such nick/channel")]


def test_kill_of_the_server_is_refused_with_483(harness: Harness) -> None:
    alice = harness.register("alice")
    alice.send("OPER oper operpass")
    alice.take()
    alice.send(f"KILL {SERVER_NAME} :boom")
    assert alice.take() == [reply(n.ERR_CANTKILLSERVER, "alice", "You can't kill a server!")]


def test_kill_with_one_parameter_is_refused_with_461(harness: Harness) -> None:
    alice = harness.register("alice")
    alice.send("KILL bob")
    assert alice.take() == [reply(n.ERR_NEEDMOREPARAMS, "alice", "KILL", "Not enough parameters")]


# -- REHASH ----------------------------------------------------------------------------


def test_rehash_by_non_operator_is_refused_with_481(harness: Harness) -> None:
    alice = harness.register("alice")
    alice.send("REHASH")
    assert alice.take() == [reply(n.ERR_NOPRIVILEGES, "alice", NO_PRIVILEGES)]


def test_rehash_by_operator_answers_382_and_reports_a_failure(harness: Harness) -> None:
    alice = harness.register("alice")
    alice.send("OPER oper operpass")
    alice.take()
    alice.send("REHASH")
    assert alice.take() == [
        reply(n.RPL_REHASHING, "alice", "-", "Rehashing"),
        reply("NOTICE", "alice", "*** Rehash failed: no config file to reload"),
    ]


def test_rehash_by_operator_that_succeeds_sends_no_notice(harness: Harness) -> None:
    harness.ctx.rehash = lambda: None
    alice = harness.register("alice")
    alice.send("OPER oper operpass")
    alice.take()
    alice.send("REHASH")
    assert alice.take() == [reply(n.RPL_REHASHING, "alice", "-", "Rehashing")]
