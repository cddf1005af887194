"""The server under test: starting and stopping it, and /proc CPU, RSS and io measurement."""

from __future__ import annotations

import asyncio
import os
import resource
import shlex
import signal
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from benchmarks.common import HOST, NOFILE_WANTED, BenchError

# -- the server process -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TreeSample:
    """Counters summed over a process tree at one moment."""

    cpu_s: float
    syscw: int
    hwm_kib: int
    rss_kib: int


_TICK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True, slots=True)
class MachineSample:
    """CPU-seconds all cores have spent since boot (``/proc/stat``)."""

    busy_s: float  # everything but idle and iowait, steal included
    softirq_s: float  # part of busy_s: interrupt-time work, such as loopback TCP


def machine_busy_s() -> MachineSample:
    """How busy the whole machine has been.

    The machine may be shared: whatever was busy during a run beyond the server and the
    generator is reported, so a run disturbed by other work can be told apart. Loopback
    TCP is partly processed in softirq time, which the kernel may count to no process:
    it is reported on its own.
    """
    with open("/proc/stat") as stat:
        numbers = [int(n) for n in stat.readline().split()[1:]]
    idle = numbers[3] + numbers[4]  # idle, iowait
    guest = sum(numbers[8:10])  # guest time is already counted in user time
    return MachineSample((sum(numbers) - idle - guest) / _TICK, numbers[6] / _TICK)


def process_tree(root: int) -> list[int]:
    """``root`` and its live descendants (children are found by their parent id)."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            text = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(text[text.rindex(")") + 2 :].split()[1])
        parents.setdefault(ppid, []).append(int(entry))
    tree: list[int] = []
    stack = [root]
    while stack and len(tree) < 10_000:
        pid = stack.pop()
        if pid in tree:
            continue
        tree.append(pid)
        stack.extend(parents.get(pid, ()))
    return tree


def sample_tree(root: int) -> TreeSample:
    """CPU seconds (with reaped children's), write calls and memory of a process tree."""
    cpu = 0
    syscw = hwm = rss = 0
    for pid in process_tree(root):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            io = Path(f"/proc/{pid}/io").read_text()
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue  # it exited between the listing and the reading
        numbers = stat[stat.rindex(")") + 2 :].split()
        # utime, stime, cutime, cstime: a reaped child's time moves into its parent's
        # cutime/cstime, so the sum over live processes counts everything once.
        cpu += sum(int(numbers[i]) for i in (11, 12, 13, 14))
        syscw += _field(io, "syscw:")
        hwm += _field(status, "VmHWM:")
        rss += _field(status, "VmRSS:")
    return TreeSample(cpu / _TICK, syscw, hwm, rss)


def _field(text: str, name: str) -> int:
    start = text.find(name)
    if start < 0:
        return 0
    return int(text[start + len(name) :].split()[0])


def free_port() -> int:
    """A port nobody listens on now (the server binds it a moment later)."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def raise_open_file_limit(wanted: int = NOFILE_WANTED) -> int:
    """Raise the soft open-file limit toward ``wanted`` (the server inherits it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    ceiling = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < ceiling:
        resource.setrlimit(resource.RLIMIT_NOFILE, (ceiling, hard))
        soft = ceiling
    return int(soft)


class ServerProcess:
    """The server under test, started from a command template and stopped at the end."""

    def __init__(
        self,
        command: str,
        port: int,
        plain_port: int,
        files: tuple[tuple[str, str], ...] = (),
        web_port: int = 0,
    ) -> None:
        self.port = port
        self.plain_port = plain_port
        self.web_port = web_port
        self.argv = shlex.split(self.fill(command))
        self.files = files
        # Open as long as the server runs; closed by stop().
        self._log: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115
        self.proc: subprocess.Popen[bytes] | None = None

    def fill(self, text: str) -> str:
        """``text`` with the ``{port}``, ``{plain_port}`` and ``{web_port}`` placeholders
        filled in."""
        filled = text.replace("{port}", str(self.port))
        filled = filled.replace("{plain_port}", str(self.plain_port))
        return filled.replace("{web_port}", str(self.web_port))

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> None:
        for template, output in self.files:
            Path(output).write_text(self.fill(Path(template).read_text()))
        # A session of its own: a ^C meant for the generator does not reach the server
        # before the generator has stopped it properly.
        self.proc = subprocess.Popen(
            self.argv,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def log_tail(self, size: int = 2000) -> str:
        self._log.flush()
        self._log.seek(0, os.SEEK_END)
        end = self._log.tell()
        self._log.seek(max(0, end - size))
        return self._log.read().decode("utf-8", "replace")

    def check_alive(self) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            raise BenchError(
                f"{self.argv[0]} exited with {self.proc.returncode}:\n{self.log_tail()}"
            )

    async def wait_for_port(self, port: int, seconds: float = 30.0) -> None:
        """Poll until the port accepts a connection (each try is an event, not a guess)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        for _ in range(int(seconds / 0.02) + 1):
            self.check_alive()
            with socket.socket() as probe:
                probe.setblocking(False)
                try:
                    await loop.sock_connect(probe, (HOST, port))
                except OSError:
                    pass
                else:
                    return
            if loop.time() > deadline:
                break
            await asyncio.sleep(0.02)
        raise BenchError(f"{self.argv[0]} did not listen on {port}:\n{self.log_tail()}")

    async def stop(self, seconds: float = 10.0) -> None:
        """SIGTERM, then SIGKILL if it has not exited within ``seconds``."""
        proc = self.proc
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            for _ in range(int(seconds / 0.05)):
                if proc.poll() is not None:
                    break
                await asyncio.sleep(0.05)
            else:
                proc.kill()
            proc.wait()
        self._log.close()
