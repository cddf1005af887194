"""Fixtures for every test package."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from pathlib import Path

import pytest

try:
    import uvloop
except ImportError:  # pragma: no cover - not on Windows or PyPy
    uvloop = None  # type: ignore[assignment]

# Its helpers assert (World.refusal): their failures should read like the tests' own.
# Registered here, not in tests/core: the cluster's tests use its Recorder too.
pytest.register_assert_rewrite("tests.core.world")

from tests.helpers import Harness  # noqa: E402
from tests.postgres import PostgresServer  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> dict[str, Callable[[], asyncio.AbstractEventLoop]]:
    """Tests marked ``both_loops`` run on asyncio's loop and on uvloop, the loop of
    ``hubbub serve`` where it is installed; every other test on asyncio's."""
    factories: dict[str, Callable[[], asyncio.AbstractEventLoop]] = {
        "asyncio": asyncio.new_event_loop
    }
    if item.get_closest_marker("both_loops") is not None and uvloop is not None:
        factories["uvloop"] = uvloop.new_event_loop
    return factories


@pytest.fixture
def harness() -> Harness:
    return Harness()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A real PostgreSQL, started once per test process on first use."""
    server = PostgresServer.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def postgres_url(postgres_server: PostgresServer) -> AsyncIterator[str]:
    """The URL of a new, empty database, dropped after the test."""
    name = await postgres_server.create_database()
    try:
        yield postgres_server.url(name)
    finally:
        await postgres_server.drop_database(name)


class ServeProcess:
    """``hubbub serve`` in a subprocess, with its stderr collected line by line.

    Args:
        process: the running process, its stderr a pipe.
        wait: how long, by default, to wait for a log line or the exit.
    """

    def __init__(self, process: asyncio.subprocess.Process, wait: float) -> None:
        self.process = process
        self.wait = wait
        self.log: list[str] = []
        self._changed = asyncio.Event()
        self._collector = asyncio.create_task(self._collect())

    async def _collect(self) -> None:
        assert self.process.stderr is not None
        while line := await self.process.stderr.readline():
            self.log.append(line.decode(errors="replace").rstrip("\n"))
            self._changed.set()
        self._changed.set()

    async def wait_for_log(self, text: str, seconds: float | None = None) -> str:
        """The first stderr line containing ``text``, waiting for it if needed."""
        try:
            async with asyncio.timeout(self.wait if seconds is None else seconds):
                while True:
                    for line in self.log:
                        if text in line:
                            return line
                    if self.process.returncode is not None:
                        raise AssertionError(f"exited {self.process.returncode}: {self.log}")
                    self._changed.clear()
                    await self._changed.wait()
        except TimeoutError:
            last = self.log[-20:]
            raise AssertionError(f"no line with {text!r}; the last ones: {last}") from None

    async def port(self) -> int:
        """The IRC port, from the log line that announces it (the server chose it)."""
        line = await self.wait_for_log("IRC listening on")
        return int(line.rsplit(" ", 1)[1])

    def signal(self, number: signal.Signals) -> None:
        self.process.send_signal(number)

    async def exit_code(self, seconds: float | None = None) -> int:
        """Wait for the process to end; its whole log is then in :attr:`log`."""
        async with asyncio.timeout(self.wait if seconds is None else seconds):
            code = await self.process.wait()
            await self._collector
        return code

    async def stop(self) -> None:
        """Kill the process if it still runs, and finish reading its log."""
        if self.process.returncode is None:
            self.process.kill()
        await self.exit_code()


class ServeProcesses:
    """Starts ``hubbub serve`` subprocesses; the fixture kills those still running."""

    def __init__(self) -> None:
        self.started: list[ServeProcess] = []

    async def start(
        self,
        *flags: str,
        python: Sequence[str] = ("-m", "hubbub"),
        wait: float = 30.0,
        program: Sequence[str] = (),
    ) -> ServeProcess:
        """``hubbub serve`` with ``flags``, from the repository's root: run by ``program``
        when given (another environment's hubbub), else by this interpreter with
        ``python`` (its arguments)."""
        process = await asyncio.create_subprocess_exec(
            *(program or (sys.executable, *python)),
            "serve",
            *flags,
            cwd=ROOT,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        served = ServeProcess(process, wait)
        self.started.append(served)
        return served

    async def stop_all(self) -> None:
        for served in self.started:
            await served.stop()


@pytest.fixture
async def serve_processes() -> AsyncIterator[ServeProcesses]:
    """Starts ``hubbub serve`` subprocesses, and kills any still running after the test."""
    processes = ServeProcesses()
    try:
        yield processes
    finally:
        await processes.stop_all()
