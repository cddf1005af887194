"""The ``hubbub`` command: help, flags over config over defaults, and a real server process."""

from __future__ import annotations

import importlib.metadata
import json
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from hubbub.accounts.passwords import hash_password
from hubbub.cli import build_parser, main, settings_from
from hubbub.reference import reference_config
from hubbub.settings import ConfigError, Limits, Listen, Oper, Settings
from hubbub.wire import numerics as n
from hubbub.wire.casemap import Casemapping
from hubbub.wire.redact import shown_url
from tests.conftest import ServeProcesses
from tests.helpers import LineClient

ROOT = Path(__file__).resolve().parent.parent
SERVE_FLAGS = (
    "--host",
    "--port",
    "--data-dir",
    "--config",
    "--server-name",
    "--log-level",
    "--password",
    "--oper",
)


def run_hubbub(*args: str) -> subprocess.CompletedProcess[str]:
    """Run ``python -m hubbub`` with ``args`` to completion."""
    return subprocess.run(
        [sys.executable, "-m", "hubbub", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


# -- help ------------------------------------------------------------------------------


def test_top_level_help_lists_the_subcommands() -> None:
    result = run_hubbub("--help")
    assert result.returncode == 0, result.stderr
    assert "usage: hubbub" in result.stdout
    assert "serve" in result.stdout
    assert "mkpasswd" in result.stdout
    assert "account" in result.stdout
    assert "mkcert" in result.stdout


def test_version_is_the_installed_packages() -> None:
    result = run_hubbub("--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"hubbub {importlib.metadata.version('hubbub')}\n"


def test_hubbub_without_a_command_is_a_usage_error_that_says_what_to_try() -> None:
    result = run_hubbub()
    assert result.returncode == 2
    assert result.stdout == ""
    assert "usage: hubbub" in result.stderr
    assert "hubbub serve" in result.stderr


def test_serve_help_lists_every_required_flag() -> None:
    result = run_hubbub("serve", "--help")
    assert result.returncode == 0, result.stderr
    assert "usage: hubbub serve" in result.stdout
    missing = [flag for flag in SERVE_FLAGS if flag not in result.stdout]
    assert missing == []


def test_serve_help_says_what_the_plain_door_is_and_matches_the_readme() -> None:
    result = run_hubbub("serve", "--help")
    assert result.returncode == 0, result.stderr
    help_text = " ".join(result.stdout.split())
    assert "plain-text door (for nc and telnet) on 127.0.0.1:8080" in help_text
    plain_section = help_text.split("plain-text door: ", 1)[1]
    assert plain_section.startswith("A line-based chat for nc, telnet")
    flags = set(re.findall(r"--[a-z-]+", plain_section))
    assert flags == {"--plain-port", "--plain-host", "--no-plain", "--plain-room", "--language"}
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    door = readme.split("### The plain-text door", 1)[1].split("\n#", 1)[0]
    assert set(re.findall(r"--[a-z-]+", door)) == flags
    assert "127.0.0.1:8080" in door


def test_parser_knows_every_required_serve_flag() -> None:
    args = build_parser().parse_args(
        [
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            "1",
            "--data-dir",
            "d",
            "--config",
            "c.toml",
            "--server-name",
            "irc.x.org",
            "--log-level",
            "debug",
            "--password",
            "pw",
            "--oper",
            "a:b",
        ]
    )
    assert args.command == "serve"
    assert args.port == 1
    assert args.data_dir == Path("d")
    assert args.config == Path("c.toml")
    assert args.log_level == "DEBUG"
    assert args.oper == ["a:b"]


def test_unknown_flag_is_a_usage_error() -> None:
    result = run_hubbub("serve", "--no-such-flag")
    assert result.returncode == 2
    assert "--no-such-flag" in result.stderr


# -- settings_from: flags over config over defaults --------------------------------------


OPER_HASH = hash_password("from-file")


def write_config(tmp_path: Path) -> Path:
    path = tmp_path / "hubbub.toml"
    path.write_text(
        f"""\
[server]
name = "irc.file.org"
network = "FileNet"
log_level = "WARNING"
password = "file-password"

[[listen]]
host = "::1"
port = 6697

[[oper]]
name = "fileoper"
password = "{OPER_HASH}"

[limits]
sendq = 4096
""",
        encoding="utf-8",
    )
    return path


def parse_serve(*flags: str) -> Settings:
    return settings_from(build_parser().parse_args(["serve", *flags]))


def test_settings_from_without_flags_or_config_are_the_defaults() -> None:
    settings = parse_serve("--server-name", "irc.example.org")
    defaults = Settings(server_name="irc.example.org")
    assert settings.listen == defaults.listen == (Listen("127.0.0.1", 6667),)
    assert settings.network_name == defaults.network_name
    assert settings.log_level == defaults.log_level
    assert settings.password is None
    assert settings.opers == ()
    assert settings.limits == Limits()
    assert settings.casemapping is Casemapping.PRECIS


def test_settings_from_config_file_override_the_defaults(tmp_path: Path) -> None:
    settings = parse_serve("--config", str(write_config(tmp_path)))
    assert settings.server_name == "irc.file.org"
    assert settings.network_name == "FileNet"
    assert settings.log_level == "WARNING"
    assert settings.password == "file-password"
    assert settings.listen == (Listen("::1", 6697),)
    assert settings.opers == (Oper("fileoper", OPER_HASH),)
    assert settings.limits.sendq == 4096
    assert settings.limits.nicklen == Limits().nicklen


def test_settings_from_flags_override_the_config_file(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    settings = parse_serve(
        "--config",
        str(write_config(tmp_path)),
        "--server-name",
        "irc.flag.org",
        "--network",
        "FlagNet",
        "--log-level",
        "debug",
        "--password",
        "flag-password",
        "--data-dir",
        str(data_dir),
        "--casemapping",
        "ascii",
    )
    assert settings.server_name == "irc.flag.org"
    assert settings.network_name == "FlagNet"
    assert settings.log_level == "DEBUG"
    assert settings.password == "flag-password"
    assert settings.data_dir == data_dir
    assert settings.casemapping is Casemapping.ASCII
    # Not given as flags: still from the file.
    assert settings.listen == (Listen("::1", 6697),)
    assert settings.limits.sendq == 4096


def test_port_flag_overrides_the_config_port_and_keeps_its_host(tmp_path: Path) -> None:
    settings = parse_serve("--config", str(write_config(tmp_path)), "--port", "7000")
    assert settings.listen == (Listen("::1", 7000),)


def test_host_flag_overrides_the_config_host_and_keeps_its_port(tmp_path: Path) -> None:
    settings = parse_serve("--config", str(write_config(tmp_path)), "--host", "127.0.0.1")
    assert settings.listen == (Listen("127.0.0.1", 6697),)


def test_port_zero_flag_is_kept(tmp_path: Path) -> None:
    settings = parse_serve("--config", str(write_config(tmp_path)), "--port", "0")
    assert settings.listen == (Listen("::1", 0),)


def test_oper_flags_are_added_to_the_config_opers(tmp_path: Path) -> None:
    settings = parse_serve(
        "--config", str(write_config(tmp_path)), "--oper", "alice:pw1", "--oper", "bob:p:w"
    )
    assert settings.opers == (
        Oper("fileoper", OPER_HASH),
        Oper("alice", "pw1"),
        Oper("bob", "p:w"),
    )


@pytest.mark.parametrize("value", ["nocolon", ":pw", "name:"])
def test_malformed_oper_flag_is_a_config_error(value: str) -> None:
    with pytest.raises(ConfigError, match="--oper") as raised:
        parse_serve("--server-name", "irc.example.org", "--oper", value)
    # What was typed may be the password alone: it is not echoed.
    assert (value.strip(":") or "x") not in str(raised.value)


def test_the_server_and_an_oper_password_may_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HUBBUB_PASSWORD", "from-env")
    monkeypatch.setenv("HUBBUB_OPER", "carol:s3cret")
    settings = parse_serve("--server-name", "irc.example.org", "--oper", "alice:pw1")
    assert settings.password == "from-env"
    assert settings.opers == (Oper("alice", "pw1"), Oper("carol", "s3cret"))
    assert parse_serve("--server-name", "irc.example.org", "--password", "flag").password == (
        "flag"
    )
    monkeypatch.setenv("HUBBUB_OPER", "s3cret-alone")
    with pytest.raises(ConfigError, match="HUBBUB_OPER: expected NAME:PASSWORD") as raised:
        parse_serve("--server-name", "irc.example.org")
    assert "s3cret" not in str(raised.value)


def test_invalid_server_name_flag_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="name"):
        parse_serve("--server-name", "not a host")


def test_out_of_range_port_flag_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="port"):
        parse_serve("--server-name", "irc.example.org", "--port", "65536")


def test_trusted_flags_are_collected() -> None:
    settings = parse_serve(
        "--server-name", "irc.example.org", "--trusted", "10.0.0.0/8", "--trusted", "::1"
    )
    assert settings.trusted == ("10.0.0.0/8", "::1")


def test_trusted_flag_that_is_not_a_network_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="trusted"):
        parse_serve("--server-name", "irc.example.org", "--trusted", "intranet")


# -- serve with a bad config -----------------------------------------------------------


def test_serve_with_invalid_config_exits_2_naming_the_key_and_line(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('[server]\nname = "irc.example.org"\nnmae = "x"\n', encoding="utf-8")
    result = run_hubbub("serve", "--config", str(config), "--data-dir", str(tmp_path / "d"))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("hubbub: ")
    assert f"{config}:3" in result.stderr
    assert "server.nmae" in result.stderr
    assert "unknown key" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_with_unparsable_config_exits_2(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("[server\n", encoding="utf-8")
    result = run_hubbub("serve", "--config", str(config))
    assert result.returncode == 2
    assert "not valid TOML" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_with_missing_config_exits_2(tmp_path: Path) -> None:
    result = run_hubbub("serve", "--config", str(tmp_path / "absent.toml"))
    assert result.returncode == 2
    assert "cannot read" in result.stderr


def test_main_returns_2_for_an_invalid_config_in_process(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('[[oper]]\nname = "a"\npassword = "plain"\n', encoding="utf-8")
    assert main(["serve", "--config", str(config)]) == 2
    captured = capsys.readouterr()
    assert "oper.password" in captured.err
    assert f"{config}:3" in captured.err


# -- a real server process -------------------------------------------------------------


def free_port() -> int:
    """A port that was free a moment ago on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def base_flags(tmp_path: Path, port: int) -> list[str]:
    return [
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--data-dir",
        str(tmp_path / "data"),
        "--server-name",
        "irc.proc.test",
        "--log-level",
        "info",
        "--no-plain",
        "--no-web",
    ]


async def test_serve_process_serves_irc_and_exits_0_on_sigterm_after_error_to_clients(
    tmp_path: Path,
    serve_processes: ServeProcesses,
) -> None:
    port = free_port()
    served = await serve_processes.start(*base_flags(tmp_path, port))
    listening = await served.wait_for_log("listening")
    assert str(port) in listening
    client = await LineClient.open(port)
    try:
        welcome = await client.register("procuser")
        assert welcome[0].command == n.RPL_WELCOME
        assert welcome[0].source == "irc.proc.test"
        await client.sync()

        served.signal(signal.SIGTERM)
        lines = await client.read_until("ERROR", seconds=10)
        assert "shutting down" in lines[-1].params[0].lower()
        assert await client.closed(seconds=10)
    finally:
        await client.close()
    assert await served.exit_code() == 0
    assert (tmp_path / "data").is_dir()


async def test_a_password_given_as_a_flag_is_warned_about(
    tmp_path: Path, serve_processes: ServeProcesses
) -> None:
    port = free_port()
    served = await serve_processes.start(*base_flags(tmp_path, port), "--oper", "boss:pw-flag")
    warned = await served.wait_for_log("visible to every user of this machine")
    assert "HUBBUB_OPER" in warned
    await served.wait_for_log("listening")
    assert "pw-flag" not in "".join(served.log)
    served.signal(signal.SIGTERM)
    assert await served.exit_code() == 0


async def test_serve_process_exits_0_on_sigint(
    tmp_path: Path, serve_processes: ServeProcesses
) -> None:
    port = free_port()
    served = await serve_processes.start(*base_flags(tmp_path, port))
    await served.wait_for_log("listening")
    served.signal(signal.SIGINT)
    assert await served.exit_code() == 0
    assert not any("Traceback" in line for line in served.log)


async def test_sighup_reloads_the_config_file(
    tmp_path: Path, serve_processes: ServeProcesses
) -> None:
    port = free_port()
    (tmp_path / "old.txt").write_text("the old motd\n", encoding="utf-8")
    (tmp_path / "new.txt").write_text("the new motd\n", encoding="utf-8")
    config = tmp_path / "hubbub.toml"
    config.write_text('[server]\nmotd = "old.txt"\n', encoding="utf-8")

    served = await serve_processes.start("--config", str(config), *base_flags(tmp_path, port))
    await served.wait_for_log("listening")
    client = await LineClient.open(port)
    try:
        lines = await client.register("rehasher")
        assert any("the old motd" in m.params[-1] for m in lines)

        config.write_text('[server]\nmotd = "new.txt"\n', encoding="utf-8")
        served.signal(signal.SIGHUP)
        await served.wait_for_log("configuration reloaded")

        await client.send("MOTD")
        motd = await client.read_until(n.RPL_ENDOFMOTD)
        assert any("the new motd" in m.params[-1] for m in motd)
        assert not any("the old motd" in m.params[-1] for m in motd)
    finally:
        await client.close()
    served.signal(signal.SIGTERM)
    assert await served.exit_code() == 0


async def test_sighup_with_a_broken_config_keeps_serving_the_old_one(
    tmp_path: Path, serve_processes: ServeProcesses
) -> None:
    port = free_port()
    config = tmp_path / "hubbub.toml"
    config.write_text('[server]\nnetwork = "GoodNet"\n', encoding="utf-8")

    served = await serve_processes.start("--config", str(config), *base_flags(tmp_path, port))
    await served.wait_for_log("listening")
    config.write_text("[server]\nnetwork = \n", encoding="utf-8")
    served.signal(signal.SIGHUP)
    failed = await served.wait_for_log("rehash failed")
    assert "not valid TOML" in failed

    client = await LineClient.open(port)
    try:
        lines = await client.register("survivor")
        isupport = " ".join(" ".join(m.params) for m in lines if m.command == n.RPL_ISUPPORT)
        assert "NETWORK=GoodNet" in isupport
    finally:
        await client.close()
    served.signal(signal.SIGTERM)
    assert await served.exit_code() == 0


async def test_serve_process_on_a_busy_port_exits_1_with_a_message(
    tmp_path: Path, serve_processes: ServeProcesses
) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        served = await serve_processes.start(*base_flags(tmp_path, port))
        assert await served.exit_code() == 1
    assert any("cannot listen" in line for line in served.log), served.log


def test_database_url_comes_from_the_flag_then_the_environment_then_the_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "db.toml"
    config.write_text(
        '[server]\nname = "irc.x.org"\ndatabase_url = "postgresql://config/db"\n', encoding="utf-8"
    )
    monkeypatch.delenv("HUBBUB_DATABASE_URL", raising=False)
    assert parse_serve("--server-name", "irc.x.org").database_url is None
    assert parse_serve("--config", str(config)).database_url == "postgresql://config/db"
    monkeypatch.setenv("HUBBUB_DATABASE_URL", "postgresql://environment/db")
    assert parse_serve("--config", str(config)).database_url == "postgresql://environment/db"
    flag = parse_serve("--config", str(config), "--database-url", "postgresql://flag/db")
    assert flag.database_url == "postgresql://flag/db"


def test_a_database_url_flag_that_is_not_postgresql_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="database_url"):
        parse_serve("--database-url", "sqlite:///x.db")


def test_serve_names_every_mistake_of_its_config_file_on_a_line_of_its_own(
    tmp_path: Path,
) -> None:
    config = tmp_path / "hubbub.toml"
    config.write_text('[server]\nnetwrok = "home"\n\n[limits]\nnicklen = "x"\n')
    result = run_hubbub("serve", "--config", str(config), "--data-dir", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"hubbub: {config}:2: server.netwrok: unknown key (did you mean 'network'?)",
        f"hubbub: {config}:5: limits.nicklen: must be a whole number, not 'x'",
    ]


@pytest.mark.parametrize("wait", ["nan", "inf", "-1", "0", "601", "soon"])
def test_cluster_status_refuses_a_wait_that_is_not_a_sane_number_of_seconds(
    wait: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["cluster", "status", "--cluster", "nats://127.0.0.1:1", "--wait", wait])
    assert exited.value.code == 2
    assert "--wait" in capsys.readouterr().err


def test_flags_complete_a_config_file_that_tunes_a_cluster(tmp_path: Path) -> None:
    # A config file with [cluster] tuning and the NATS URLs and database on the command
    # line was refused: the file was checked as if it had to be whole.
    config = tmp_path / "hubbub.toml"
    config.write_text("[cluster]\nsnapshot_every = 50\nnode_timeout = 5.0\n")
    settings = parse_serve(
        *("--config", str(config), "--cluster", "nats://127.0.0.1:4222"),
        *("--database-url", "postgresql://hubbub@127.0.0.1/hubbub"),
    )
    assert settings.cluster is not None
    assert settings.cluster.urls == ("nats://127.0.0.1:4222",)
    assert settings.cluster.snapshot_every == 50
    assert settings.cluster.node_timeout == 5.0
    # What no flag gave is still needed.
    with pytest.raises(ConfigError, match="at least one NATS URL"):
        parse_serve("--config", str(config), "--database-url", "postgresql://h@127.0.0.1/h")
    with pytest.raises(ConfigError, match="share one PostgreSQL"):
        parse_serve("--config", str(config), "--cluster", "nats://127.0.0.1:4222")


def test_config_check_names_each_mistake_with_its_line_and_passes_a_good_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[server]\nname = "irc.example.org"\n\n[limits]\nsendq = "big"\n')
    assert main(["config", "check", str(bad)]) == 2
    errors = capsys.readouterr().err.splitlines()
    assert errors == [f"hubbub config: {bad}:5: limits.sendq: must be a whole number, not 'big'"]
    good = ROOT / "hubbub.example.toml"
    assert main(["config", "check", str(good)]) == 0
    assert capsys.readouterr().out == f"{good}: no mistakes found\n"
    assert main(["config", "check", str(tmp_path / "missing.toml")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_config_check_reports_a_misspelt_key_a_wrong_type_and_a_bad_value_in_one_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "hubbub.toml"
    config.write_text(
        '[server]\nnmae = "irc.example.org"\nhistory = "yes"\n\n[limits]\nsendq = -5\n'
        "flood_rate = -1\n"
    )
    assert main(["config", "check", str(config)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"hubbub config: {config}:2: server.nmae: unknown key (did you mean 'name'?)",
        f"hubbub config: {config}:3: server.history: must be true or false, not 'yes'",
        f"hubbub config: {config}:6: limits.sendq: must be positive",
        f"hubbub config: {config}:7: limits.flood_rate: must be 0 or more",
    ]


def test_config_show_lists_every_setting_and_hides_secrets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "hubbub.toml"
    config.write_text(
        '[server]\nname = "irc.example.org"\npassword = "s3cret"\n'
        'database_url = "postgresql://u:pw@127.0.0.1/h"\n'
        '[cluster]\nurls = ["nats://127.0.0.1:4222"]\ntoken = "t0ken"\n'
    )
    assert main(["config", "show", str(config)]) == 0
    shown = capsys.readouterr().out
    assert "server_name = 'irc.example.org'" in shown.splitlines()
    assert "limits.sendq = 1048576" in shown.splitlines()
    assert "cluster.urls = ['nats://127.0.0.1:4222']" in shown.splitlines()
    for secret in ("s3cret", "pw@", "t0ken"):
        assert secret not in shown
    assert "password = (set)" in shown.splitlines()
    assert "cluster.token = (set)" in shown.splitlines()


async def test_the_log_may_be_json_lines_with_each_connection_s_id(
    tmp_path: Path, serve_processes: ServeProcesses
) -> None:
    config = tmp_path / "hubbub.toml"
    config.write_text('[server]\nlog_format = "json"\n')
    port = free_port()
    served = await serve_processes.start(*base_flags(tmp_path, port), "--config", str(config))
    await served.wait_for_log("listening")
    client = await LineClient.open(port)
    try:
        await client.register("jsonuser")
        line = await served.wait_for_log("registered as jsonuser")
    finally:
        await client.close()
    record = json.loads(line)
    assert record["level"] == "INFO"
    assert record["logger"].startswith("hubbub.")
    assert record["message"].endswith("registered as jsonuser!~jsonuser@127.0.0.1")
    assert isinstance(record["conn"], int | str)
    assert record["time"].endswith("Z")
    assert all(json.loads(entry) for entry in served.log if entry.strip())


def test_credentials_in_nats_urls_are_never_shown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Probe 20: config show and check printed NATS URLs with their user and password.
    config = tmp_path / "hubbub.toml"
    config.write_text('[cluster]\nurls = ["nats://user:s3cret@127.0.0.1:4222"]\n')
    assert main(["config", "show", str(config)]) == 0
    shown = capsys.readouterr().out
    assert "cluster.urls = ['nats://***@127.0.0.1:4222']" in shown.splitlines()
    config.write_text('[cluster]\nurls = ["natz://user:s3cret@127.0.0.1:4222"]\n')
    assert main(["config", "check", str(config)]) == 2
    error = capsys.readouterr().err
    assert "natz://***@127.0.0.1:4222" in error
    assert "s3cret" not in error


def test_config_check_never_shows_a_secret_given_in_the_wrong_form(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "hubbub.toml"
    config.write_text(
        '[server]\npassword = 12345678\n\n[[oper]]\nname = "boss"\npassword = ["hunter2"]\n'
    )
    assert main(["config", "check", str(config)]) == 2
    errors = capsys.readouterr().err
    assert "server.password: must be text in quotes (what was given is not shown)" in errors
    assert "oper.password" in errors
    assert "12345678" not in errors
    assert "hunter2" not in errors


@pytest.mark.parametrize(
    "url",
    [
        "nats://user:p@ss@127.0.0.1:4222",
        "nats://user:pa/ss@127.0.0.1:4222",
        "nats://user:secret@127.0.0.1:4222",
    ],
)
def test_a_nats_url_is_shown_without_any_part_of_its_password(url: str) -> None:
    assert shown_url(url) == "nats://***@127.0.0.1:4222"


def test_metrics_flags_give_the_metrics_a_listener_of_their_own(tmp_path: Path) -> None:
    config = tmp_path / "hubbub.toml"
    config.write_text('[server]\nname = "irc.example.org"\nmetrics_port = 9100\n')
    from_file = parse_serve("--config", str(config))
    assert (from_file.metrics_host, from_file.metrics_port) == (None, 9100)
    settings = parse_serve(
        "--config", str(config), "--metrics-port", "9108", "--metrics-host", "10.0.0.5"
    )
    assert (settings.metrics_host, settings.metrics_port) == ("10.0.0.5", 9108)
    assert parse_serve("--server-name", "irc.example.org").metrics_port is None


def test_config_example_prints_the_reference_config(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "example"]) == 0
    printed = capsys.readouterr().out
    assert printed == reference_config()
    assert "[limits]\n# Bounds on accounts:\npassword_min = 8" in printed
