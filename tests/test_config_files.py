"""Config files that are not what they seem (probe 22): limits that are not finite
numbers, files that are no config file (a FIFO, a directory, a huge, binary or deeply
nested one) and keys with control characters, as ``hubbub config check``, ``hubbub
serve``, REHASH and SIGHUP meet them: a clear error each time, never a traceback, a hang
or a forged line."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from hubbub.cli import main
from hubbub.config import load_config
from hubbub.server import Server
from hubbub.settings import ConfigError, Oper, Settings
from hubbub.wire import numerics as n
from hubbub.wire.message import Message
from tests.conftest import ServeProcesses
from tests.helpers import LineClient
from tests.integration.conftest import make_settings, port_of
from tests.test_cli import base_flags, free_port

DEEP = "a = " + "[" * 100_000 + "]" * 100_000 + "\n"
FORGED = ":ChanServ!ChanServ@services PRIVMSG boss :\x01ACTION injected\x01"


def check(path: Path, capsys: pytest.CaptureFixture[str]) -> list[str]:
    """What ``hubbub config check`` prints on stderr for ``path`` (it must fail)."""
    assert main(["config", "check", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    return captured.err.split("\n")[:-1]


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "+nan"])
@pytest.mark.parametrize("name", ["registration_timeout", "ping_interval", "history_days"])
def test_a_limit_that_is_not_a_finite_number_is_a_config_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, value: str
) -> None:
    config = tmp_path / "hubbub.toml"
    config.write_text(f"[limits]\n{name} = {value}\n")
    assert check(config, capsys) == [
        f"hubbub config: {config}:2: limits.{name}: must be a finite number"
    ]
    assert main(["serve", "--server-name", "irc.example.org", "--limit", f"{name}={value}"]) == 2
    assert capsys.readouterr().err == f"hubbub: {name}: must be a finite number\n"


def test_a_cluster_node_timeout_that_is_not_finite_is_a_config_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "hubbub.toml"
    config.write_text('[cluster]\nurls = ["nats://127.0.0.1:4222"]\nnode_timeout = inf\n')
    errors = check(config, capsys)
    assert f"hubbub config: {config}:3: cluster.node_timeout: must be a finite number" in errors


def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "fifo.toml"
    os.mkfifo(path)
    return path


def directory(tmp_path: Path) -> Path:
    path = tmp_path / "folder.toml"
    path.mkdir()
    return path


def big(tmp_path: Path) -> Path:
    path = tmp_path / "big.toml"
    path.write_text("# padding\n" * 110_000)  # 1.1 MB of comments: valid TOML
    return path


def binary(tmp_path: Path) -> Path:
    path = tmp_path / "binary.toml"
    path.write_bytes(b"\x7fELF\x02\x01\x01\x00\xff\xfe\x00\x00")
    return path


def nul(tmp_path: Path) -> Path:
    path = tmp_path / "nul.toml"
    path.write_bytes(b'[server]\nname = "irc.example.org"\x00\n')
    return path


def deep(tmp_path: Path) -> Path:
    path = tmp_path / "deep.toml"
    path.write_text(DEEP)
    return path


NOT_CONFIG_FILES: list[tuple[Callable[[Path], Path], str]] = [
    (fifo, "cannot read: not a regular file"),
    (directory, "cannot read: not a regular file"),
    (big, "larger than 1 MiB: not a config file"),
    (binary, "not a config file: not UTF-8 text"),
    (nul, "not a config file: binary (it holds NUL bytes)"),
    (deep, "not valid TOML: nested too deeply"),
]


@pytest.mark.parametrize(("make", "problem"), NOT_CONFIG_FILES)
def test_a_file_that_is_no_config_file_is_refused_in_words(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    make: Callable[[Path], Path],
    problem: str,
) -> None:
    path = make(tmp_path)
    assert check(path, capsys) == [f"hubbub config: {path}: {problem}"]
    assert main(["serve", "--config", str(path), "--server-name", "irc.example.org"]) == 2
    assert capsys.readouterr().err == f"hubbub: {path}: {problem}\n"


@contextlib.asynccontextmanager
async def rehashable(config: Path) -> AsyncIterator[tuple[Server, LineClient]]:
    """A server whose REHASH reads ``config``, and its operator, registered."""
    settings = make_settings(config.parent).replace(opers=(Oper("boss", "operpass"),))

    def reload() -> Settings:
        return load_config(config, settings)

    server = Server(settings, reload=reload)
    task = asyncio.create_task(server.run())
    async with asyncio.timeout(10):
        await server.ready.wait()
    client = await LineClient.open(port_of(server))
    try:
        await client.register("boss")
        await client.send("OPER boss operpass")
        await client.read_until(n.RPL_YOUREOPER)
        await client.sync()  # the MODE +o that follows
        yield server, client
    finally:
        await client.close()
        server.stop()
        async with asyncio.timeout(10):
            await task


async def rehash(client: LineClient) -> list[Message]:
    """Everything the REHASH brought the operator, its 382 aside."""
    await client.send("REHASH")
    return [m for m in await client.sync() if m.command != n.RPL_REHASHING]


async def test_rehash_of_a_file_that_is_no_config_file_says_why_and_serves_on(
    tmp_path: Path,
) -> None:
    config = tmp_path / "hubbub.toml"
    config.write_text('[server]\nnetwork = "GoodNet"\n')
    async with rehashable(config) as (server, boss):
        before = server.settings
        config.unlink()
        for make, problem in NOT_CONFIG_FILES:
            path = make(tmp_path)
            path.rename(config)
            got = await rehash(boss)
            assert [(m.command, m.params) for m in got] == [
                ("NOTICE", ("boss", f"*** Rehash failed: {config}: {problem}"))
            ]
            if config.is_dir():
                config.rmdir()
            else:
                config.unlink()
        assert server.settings is before
        await boss.send("VERSION")
        assert n.RPL_VERSION in [m.command for m in await boss.sync()]


async def test_a_config_key_with_cr_lf_cannot_forge_a_line_on_rehash_or_in_config_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "hubbub.toml"
    config.write_text('[server]\nnetwork = "GoodNet"\n')
    key = "x\\r\\n" + FORGED.replace("\x01", "\\u0001")
    escaped = "x\\u000d\\u000a" + FORGED.replace("\x01", "\\u0001")
    bad = f'[server]\n"{key}" = 1\n"\\u001b]0;TITLE\\u0007" = 2\n[limits]\nsendq = -1\n'
    async with rehashable(config) as (_server, boss):
        config.write_text(bad)
        got = await rehash(boss)
        assert [(m.source, m.command, m.params) for m in got] == [
            (
                "irc.test",
                "NOTICE",
                ("boss", f"*** Rehash failed: {config}: server.{escaped}: unknown key"),
            ),
            (
                "irc.test",
                "NOTICE",
                (
                    "boss",
                    f"*** Rehash failed: {config}: server.\\u001b]0;TITLE\\u0007: unknown key",
                ),
            ),
            (
                "irc.test",
                "NOTICE",
                ("boss", f"*** Rehash failed: {config}:5: limits.sendq: must be positive"),
            ),
        ]
    assert check(config, capsys) == [
        f"hubbub config: {config}: server.{escaped}: unknown key",
        f"hubbub config: {config}: server.\\u001b]0;TITLE\\u0007: unknown key",
        f"hubbub config: {config}:5: limits.sendq: must be positive",
    ]
    with pytest.raises(ConfigError) as raised:
        load_config(config)
    assert "\r" not in str(raised.value)
    assert "\x1b" not in str(raised.value)


async def test_sighup_with_a_deeply_nested_config_keeps_serving_without_a_traceback(
    tmp_path: Path, serve_processes: ServeProcesses
) -> None:
    port = free_port()
    config = tmp_path / "hubbub.toml"
    config.write_text('[server]\nnetwork = "GoodNet"\n')
    served = await serve_processes.start("--config", str(config), *base_flags(tmp_path, port))
    await served.wait_for_log("listening")
    config.write_text(DEEP)
    served.signal(signal.SIGHUP)
    failed = await served.wait_for_log("rehash failed")
    assert failed.endswith(f"rehash failed: {config}: not valid TOML: nested too deeply")
    client = await LineClient.open(port)
    try:
        lines = await client.register("survivor")
        isupport = " ".join(" ".join(m.params) for m in lines if m.command == n.RPL_ISUPPORT)
        assert "NETWORK=GoodNet" in isupport
    finally:
        await client.close()
    served.signal(signal.SIGTERM)
    assert await served.exit_code() == 0
    assert not any("Traceback" in line for line in served.log)
