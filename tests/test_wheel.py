"""hubbub as a user installs it: the wheel (built here with ``python -m build``, or the
one .ci/run built, named by ``HUBBUB_WHEEL``) in a fresh virtual environment, with no
extra, and ``hubbub serve`` run from there.

Building and installing take a minute or two (pip fetches the dependencies), so these
tests are marked ``slow``: ``pytest -m 'not slow'`` leaves them out.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shlex
import shutil
import subprocess
import sys
import venv
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from hubbub.wire import numerics as n
from tests.conftest import ServeProcesses
from tests.helpers import LineClient

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parent.parent
WAIT = 60.0


@dataclass(frozen=True)
class Installed:
    """A fresh virtual environment with the wheel installed in it."""

    wheel: Path
    folder: Path

    @property
    def python(self) -> Path:
        return self.folder / "bin" / "python"

    @property
    def hubbub(self) -> Path:
        return self.folder / "bin" / "hubbub"

    def run(self, *args: str | Path) -> subprocess.CompletedProcess[str]:
        """A program of the environment, from the repository's root (whose ``src`` must
        not be what is imported)."""
        return subprocess.run(
            [str(arg) for arg in args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


def tracked_files() -> list[str]:
    """The files git holds under src/, as paths relative to it."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "src"],
        cwd=ROOT,
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout.decode()
    return [name.removeprefix("src/") for name in listed.split("\0") if name]


def build_wheel(out: Path) -> Path:
    """``python -m build`` on a copy of the files git holds: an sdist, then the wheel
    from it, as a release is made (and nothing untracked, nor a stale ``build/``, gets
    in; tests running at once do not share one source tree's ``build/``)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, timeout=60
    ).stdout.decode()
    source = out / "source"
    for name in filter(None, listed.split("\0")):
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    dist = out / "dist"
    result = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(dist), str(source)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    [wheel] = dist.glob("hubbub-*.whl")
    return wheel


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    work = tmp_path_factory.mktemp("wheel")
    given = os.environ.get("HUBBUB_WHEEL")
    wheel = Path(given) if given else build_wheel(work)
    assert wheel.is_file(), f"HUBBUB_WHEEL names no file: {wheel}"
    folder = work / "venv"
    venv.create(folder, with_pip=True)
    environment = Installed(wheel, folder)
    result = environment.run(environment.python, "-m", "pip", "install", "--quiet", wheel)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return environment


def test_the_wheel_holds_every_file_of_the_package(installed: Installed) -> None:
    with zipfile.ZipFile(installed.wheel) as wheel:
        inside = set(wheel.namelist())
    package = [name for name in tracked_files() if name.startswith("hubbub/")]
    missing = [name for name in package if name not in inside]
    assert missing == []
    # The data files read at run time, which a wheel has only when declared.
    assert "hubbub/web/index.html" in inside
    assert "hubbub/doors/plain/locale/ru/LC_MESSAGES/hubbub.mo" in inside
    assert "hubbub/storage/schema/0001_history.sql" in inside


def test_the_installed_hubbub_is_the_wheels_and_says_its_version(installed: Installed) -> None:
    where = installed.run(installed.python, "-c", "import hubbub; print(hubbub.__file__)")
    assert where.returncode == 0, where.stderr
    assert Path(where.stdout.strip()).is_relative_to(installed.folder)

    metadata = installed.run(
        installed.python, "-c", "import importlib.metadata as m; print(m.version('hubbub'))"
    )
    assert metadata.returncode == 0, metadata.stderr
    version = metadata.stdout.strip()
    # A wheel's name carries its version: hubbub-VERSION-py3-none-any.whl.
    assert installed.wheel.name.split("-")[1] == version
    shown = installed.run(installed.hubbub, "--version")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout == f"hubbub {version}\n"


def test_mkcert_without_the_tls_extra_says_the_command_that_installs_it(
    installed: Installed, tmp_path: Path
) -> None:
    # Only the tls extra brings cryptography; nothing else installed here should.
    found = installed.run(
        installed.python, "-c", "import importlib.util as u; print(u.find_spec('cryptography'))"
    )
    assert found.stdout.strip() == "None"
    refused = installed.run(installed.hubbub, "mkcert", "--dir", tmp_path / "certs")
    assert refused.returncode == 1
    assert "pipx inject hubbub cryptography" in refused.stderr
    assert not (tmp_path / "certs").exists()

    # The command it names, run as printed, is what makes mkcert work.
    said = refused.stderr.splitlines()
    [at] = [number for number, line in enumerate(said) if "install it with" in line]
    command = shlex.split(said[at + 1])
    assert command[1:] == ["-m", "pip", "install", "hubbub[tls]"]
    assert Path(command[0]).is_relative_to(installed.folder)
    extra = installed.run(*command, "--quiet")
    assert extra.returncode == 0, extra.stderr[-3000:]
    made = installed.run(installed.hubbub, "mkcert", "--dir", tmp_path / "certs")
    assert made.returncode == 0, made.stderr
    assert (tmp_path / "certs" / "tls-key.pem").is_file()


async def http_get(port: int, path: str) -> tuple[int, bytes]:
    """A GET over a real socket: the status and the body (the server closes after)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode()
        )
        async with asyncio.timeout(WAIT):
            answer = await reader.read()
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
    head, _, body = answer.partition(b"\r\n\r\n")
    match = re.match(rb"HTTP/1\.1 (\d{3}) ", head)
    assert match is not None, head
    return int(match[1]), body


async def test_hubbub_serve_from_the_wheel_serves_irc_the_web_client_and_the_catalogs(
    installed: Installed, tmp_path: Path, serve_processes: ServeProcesses
) -> None:
    served = await serve_processes.start(
        *("--host", "127.0.0.1", "--port", "0", "--server-name", "irc.wheel.test"),
        *("--plain-host", "127.0.0.1", "--plain-port", "0", "--language", "ru"),
        *("--web-host", "127.0.0.1", "--web-port", "0", "--data-dir", str(tmp_path / "data")),
        program=[str(installed.hubbub)],
        wait=WAIT,
    )
    irc_port = await served.port()
    web_line = await served.wait_for_log("web client on http://127.0.0.1:")
    web_port = int(web_line.rsplit(":", 1)[1].rstrip("/"))
    plain_line = await served.wait_for_log("plain door listening on")
    plain_port = int(plain_line.rsplit(" ", 1)[1])

    client = await LineClient.open(irc_port)
    try:
        welcome = await client.register("wheeled")
        assert welcome[0].command == n.RPL_WELCOME
        assert welcome[0].source == "irc.wheel.test"
    finally:
        await client.close()

    # The web client's files came in the wheel: the page and a module it imports.
    status, page = await http_get(web_port, "/")
    assert status == 200
    assert page == (ROOT / "src" / "hubbub" / "web" / "index.html").read_bytes()
    status, module = await http_get(web_port, "/lib/irc.js")
    assert status == 200
    assert module == (ROOT / "src" / "hubbub" / "web" / "lib" / "irc.js").read_bytes()

    # And the message catalogs: the plain door asks for a name in Russian.
    reader, writer = await asyncio.open_connection("127.0.0.1", plain_port)
    try:
        async with asyncio.timeout(WAIT):
            prompt = await reader.readuntil("имя: ".encode())
        assert "Введите ваше имя: ".encode() in prompt
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
    assert not any("Traceback" in line for line in served.log), served.log
