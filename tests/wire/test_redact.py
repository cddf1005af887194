"""Credentials never reach a log: what redact keeps and hides."""

from __future__ import annotations

import pytest

from hubbub.wire.redact import redact


@pytest.mark.parametrize(
    ("line", "shown"),
    [
        (b"AUTHENTICATE AGFsaWNlAHNlY3JldA==", b"AUTHENTICATE <hidden>"),
        (b"authenticate PLAIN", b"authenticate <hidden>"),
        (b"PASS hunter2", b"PASS <hidden>"),
        (b"OPER root hunter2", b"OPER <hidden>"),
        (b"REGISTER * a@b.org hunter2", b"REGISTER <hidden>"),
        (b"@label=1 PASS :hunter2 with spaces", b"@label=1 PASS <hidden>"),
        (b"PRIVMSG NickServ :IDENTIFY alice hunter2", b"PRIVMSG NickServ :IDENTIFY <hidden>"),
        (b"privmsg nickserv :register hunter2 a@b.org", b"privmsg nickserv :register <hidden>"),
        (b"NS PASSWORD hunter2", b"NS PASSWORD <hidden>"),
        (b"NICKSERV drop hunter2", b"NICKSERV drop <hidden>"),
        (
            b":alice!a@h PRIVMSG NickServ :IDENTIFY hunter2",
            b":alice!a@h PRIVMSG NickServ :IDENTIFY <hidden>",
        ),
    ],
)
def test_credentials_are_hidden(line: bytes, shown: bytes) -> None:
    assert redact(line) == shown
    assert b"hunter2" not in redact(line)


@pytest.mark.parametrize(
    "line",
    [
        b"PRIVMSG #chan :my password is not a command",
        b"PRIVMSG NickServ :INFO alice",
        b"PRIVMSG alice :IDENTIFY hunter2",
        b"PASSWORD",
        b"NICK pass",
        b"",
        b"\xff\xfe",
    ],
)
def test_other_lines_are_logged_as_they_are(line: bytes) -> None:
    assert redact(line) == line


def test_each_line_of_several_is_looked_at() -> None:
    data = b"NICK alice\r\nAUTHENTICATE c2VjcmV0\r\nPRIVMSG #a :hi\r\n"
    assert redact(data) == b"NICK alice\r\nAUTHENTICATE <hidden>\r\nPRIVMSG #a :hi\r\n"
