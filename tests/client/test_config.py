"""Addresses, the config file and the defaults of ``hubbub chat``."""

from __future__ import annotations

from pathlib import Path

import pytest

from hubbub.client.config import (
    Address,
    ChatConfigError,
    Network,
    default_device,
    load_file,
    parse_address,
    resolve,
    sanitise_device,
    sanitise_nick,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("localhost", Address("localhost", 6667, False)),
        ("irc.example.org:7000", Address("irc.example.org", 7000, False)),
        ("irc://irc.example.org", Address("irc.example.org", 6667, False)),
        ("ircs://irc.example.org", Address("irc.example.org", 6697, True)),
        ("IRCS://h:7001", Address("h", 7001, True)),
        ("[::1]:6668", Address("::1", 6668, False)),
        ("::1", Address("::1", 6667, False)),
        ("irc://h/rust,#go", Address("h", 6667, False, ("#rust", "#go"))),
    ],
)
def test_addresses(text: str, expected: Address) -> None:
    assert parse_address(text) == expected


def test_plain_addresses_default_to_the_plain_door_port() -> None:
    assert parse_address("localhost", plain=True).port == 8080


@pytest.mark.parametrize("text", ["http://h", "h:port", "h:0", "h:70000", ":6667", "[::1"])
def test_bad_addresses_are_refused(text: str) -> None:
    with pytest.raises(ChatConfigError):
        parse_address(text)


@pytest.mark.parametrize(
    ("name", "nick"),
    [("anna", "anna"), ("anna.smith", "anna_smith"), ("1root", "root"), ("-", "guest")],
)
def test_os_user_names_become_valid_nicks(name: str, nick: str) -> None:
    assert sanitise_nick(name) == nick


def test_no_flags_reach_a_local_hubbub_serve(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("LOGNAME", "USER", "LNAME", "USERNAME"):
        monkeypatch.setenv(variable, "test.user")
    monkeypatch.delenv("HUBBUB_CHAT_PASSWORD", raising=False)
    network = resolve(None)
    assert (network.host, network.port, network.tls) == ("127.0.0.1", 6667, False)
    assert network.nick == "test_user"
    assert not network.plain
    plain = resolve(None, plain=True)
    assert (plain.port, plain.plain) == (8080, True)


def test_flags_choose_nick_and_channels() -> None:
    network = resolve("ircs://irc.example.org/#a", nick="bo", join="b, #c")
    assert network == Network(
        "irc.example.org",
        host="irc.example.org",
        port=6697,
        tls=True,
        nick="bo",
        username="bo",
        realname="bo",
        join=("#a", "#b", "#c"),
        password=network.password,
        device=default_device(),
    )


def test_the_device_is_the_flags_or_the_files_or_the_host_name() -> None:
    config = {"device": "desk", "networks": {"home": {"address": "h", "device": "phone"}}}
    assert resolve("h", config=config).device == "desk"
    assert resolve("home", config=config).device == "phone"
    assert resolve("home", device="tablet", config=config).device == "tablet"
    assert resolve("h", config={}).device == default_device()
    # A host name keeps its first label and only the characters a device's name may have.
    assert sanitise_device("Anna's MacBook.local") == "AnnasMacBook"
    assert sanitise_device("work-pc_2.corp.example") == "work-pc_2"
    assert sanitise_device("ÿ") == "chat"
    assert sanitise_device("x" * 40) == "x" * 32


@pytest.mark.parametrize("device", ["my phone", "a@b", "x" * 33, 5])
def test_a_device_the_server_would_refuse_is_a_config_error(device: object) -> None:
    with pytest.raises(ChatConfigError, match="device"):
        resolve("h", config={"device": device})


def test_a_network_from_the_config_file(tmp_path: Path) -> None:
    path = tmp_path / "chat.toml"
    path.write_text(
        'nick = "anna"\n'
        'default = "home"\n'
        "[networks.home]\n"
        'address = "ircs://irc.home.example:7000"\n'
        'account = "anna"\n'
        'password = "secret"\n'
        'join = ["#rust", "lobby"]\n'
        "verify_tls = false\n"
    )
    table = load_file(path)
    network = resolve(None, config=table)
    assert network.name == "home"
    assert (network.host, network.port, network.tls, network.verify_tls) == (
        "irc.home.example",
        7000,
        True,
        False,
    )
    assert (network.nick, network.account, network.password) == ("anna", "anna", "secret")
    assert network.join == ("#rust", "#lobby")
    assert resolve("home", nick="other", config=table).nick == "other"
    # An address that is not a network name is an address.
    assert resolve("elsewhere:6000", config=table).host == "elsewhere"


def test_a_missing_config_file_is_empty_and_a_broken_one_is_an_error(tmp_path: Path) -> None:
    assert load_file(tmp_path / "none.toml") == {}
    broken = tmp_path / "broken.toml"
    broken.write_text("nick = [")
    with pytest.raises(ChatConfigError, match=r"broken\.toml"):
        load_file(broken)
    with pytest.raises(ChatConfigError, match="must be a str"):
        resolve(None, config={"nick": 5})
    with pytest.raises(ChatConfigError, match="no address"):
        resolve("x", config={"networks": {"x": {"nick": "a"}}})
    with pytest.raises(ChatConfigError, match="cannot be a nick"):
        resolve(None, nick="a b")
