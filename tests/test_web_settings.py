"""The web listener's settings: defaults, the ``[web]`` section, the flags, and what
``hubbub serve`` says of it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hubbub.cli import build_parser, settings_from
from hubbub.config import load_config
from hubbub.settings import ConfigError, Listen, Settings, validate
from tests.conftest import ServeProcesses
from tests.integration.web import get, http


def parse_serve(*flags: str) -> Settings:
    return settings_from(build_parser().parse_args(["serve", *flags]))


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "hubbub.toml"
    path.write_text(text, encoding="utf-8")
    return path


def config_error(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text))
    return str(caught.value)


def test_by_default_the_web_listener_is_on_8081_and_plain_http() -> None:
    settings = parse_serve("--server-name", "irc.example.org")
    assert settings.web == Listen("127.0.0.1", 8081)
    assert settings.web_origins == ()
    assert settings.web_root is None
    assert not settings.web_secure


def test_with_a_certificate_the_web_listener_is_https_unless_told_not() -> None:
    settings = Settings(server_name="irc.example.org", tls_cert=Path("c"), tls_key=Path("k"))
    assert settings.web_secure
    assert not settings.replace(web_tls=False).web_secure


def test_the_web_section_is_read(tmp_path: Path) -> None:
    settings = load_config(
        write(
            tmp_path,
            '[web]\nhost = "::"\nport = 8443\norigins = ["https://chat.example.org", "*"]\n'
            'root = "client"\n',
        )
    )
    assert settings.web == Listen("::", 8443)
    assert settings.web_origins == ("https://chat.example.org", "*")
    assert settings.web_root == tmp_path / "client"


def test_the_web_section_turns_it_off(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, "[web]\nenabled = false\n")).web is None


@pytest.mark.parametrize(
    ("text", "key", "line"),
    [
        ("[web]\nport = 70000\n", "web.port", 2),
        ("[web]\ncolour = 1\n", "web.colour", 2),
        ('[web]\norigins = ["chat.example.org"]\n', "web.origins", 2),
        ('[web]\norigins = ["https://x.org/path"]\n', "web.origins", 2),
        ('[web]\norigins = "https://x.org"\n', "web.origins", 2),
        ("[web]\ntls = true\n", "web.tls", 2),
    ],
)
def test_a_bad_web_setting_is_named_with_its_line(
    tmp_path: Path, text: str, key: str, line: int
) -> None:
    message = config_error(tmp_path, text)
    assert key in message
    assert re.search(rf"hubbub\.toml:{line}\b", message), message


def test_web_flags_override_the_config_file(tmp_path: Path) -> None:
    config = write(tmp_path, '[web]\nhost = "::1"\nport = 9000\norigins = ["https://a.org"]\n')
    settings = parse_serve("--config", str(config), "--web-port", "9001")
    assert settings.web == Listen("::1", 9001)
    settings = parse_serve(
        "--config", str(config), "--web-host", "0.0.0.0", "--web-origin", "https://b.org"
    )
    assert settings.web == Listen("0.0.0.0", 9000)
    assert settings.web_origins == ("https://a.org", "https://b.org")
    assert parse_serve("--config", str(config), "--no-web").web is None


def test_a_web_port_beside_no_web_turns_the_listener_on() -> None:
    settings = parse_serve("--no-web", "--web-host", "127.0.0.2", "--web-port", "0")
    assert settings.web == Listen("127.0.0.2", 0)


def test_a_bad_origin_flag_is_refused() -> None:
    with pytest.raises(ConfigError, match="origins"):
        parse_serve("--web-origin", "example.org")


def test_validate_accepts_ipv6_and_port_origins() -> None:
    settings = Settings(
        server_name="irc.example.org",
        web_origins=("http://[::1]:8081", "https://chat.example.org:8443"),
    )
    assert validate(settings) == settings


async def test_serve_prints_the_address_of_the_web_client(
    tmp_path: Path, serve_processes: ServeProcesses
) -> None:
    served = await serve_processes.start(
        *("--port", "0", "--no-plain", "--web-port", "0", "--data-dir", str(tmp_path / "d"))
    )
    line = await served.wait_for_log("web client on ")
    found = re.search(r"web client on http://127\.0\.0\.1:(\d+)/$", line)
    assert found is not None, line
    status, fields, _ = await http(int(found[1]), get("/"))
    assert status in (200, 404)  # 404 until the client's files are installed
    assert fields["x-content-type-options"] == "nosniff"
