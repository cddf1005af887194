"""``/healthz`` and ``/readyz`` on the web listener: what a load balancer asks before it
sends a server (or a cluster's node) new clients (issue 17)."""

from __future__ import annotations

import asyncio
import email.utils
import logging
import time
from pathlib import Path

from tests.helpers import running_server
from tests.integration.web import get, http, web_port, web_settings
from tests.postgres import PostgresServer


async def test_health_and_readiness_answer_plainly_and_are_never_cached(tmp_path: Path) -> None:
    async with running_server(web_settings(tmp_path)) as server:
        port = web_port(server)
        status, fields, body = await http(port, get("/healthz"))
        assert (status, body) == (200, b"ok\n")
        assert fields["cache-control"] == "no-store"
        status, fields, body = await http(port, get("/readyz?verbose=1"))
        assert (status, body) == (200, b"ready\n")
        assert fields["cache-control"] == "no-store"
        before = int(time.time())
        status, fields, _ = await http(port, get("/readyz", method="POST"))
        assert status == 405
        # Probe 19: its Date was the process's start, made once at import.
        assert email.utils.parsedate_to_datetime(fields["date"]).timestamp() >= before
        # A page of another site whose name points here learns nothing (DNS rebinding).
        request = b"GET /readyz HTTP/1.1\r\nHost: evil.example\r\n\r\n"
        status, _, _ = await http(port, request)
        assert status == 421


class Heard(logging.Handler):
    """Sets :attr:`event` once a log record holds ``text``."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text
        self.event = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if self.text in record.getMessage():
            self.event.set()


async def readiness(port: int) -> tuple[int, bytes]:
    status, _, body = await http(port, get("/readyz"))
    return status, body


async def test_readiness_says_when_the_database_does_not_answer(tmp_path: Path) -> None:
    database = PostgresServer.start()
    try:
        name = await database.create_database()
        settings = web_settings(tmp_path).replace(database_url=database.url(name))
        async with running_server(settings) as server:
            port = web_port(server)
            assert await readiness(port) == (200, b"ready\n")
            heard = Heard("not ready: the database does not answer")
            logging.getLogger("hubbub.readiness").addHandler(heard)
            try:
                database.stop()
                # Asked every 2 s, each answer within 2 s.
                await asyncio.wait_for(heard.event.wait(), 15)
            finally:
                logging.getLogger("hubbub.readiness").removeHandler(heard)
            assert await readiness(port) == (503, b"not ready: the database does not answer\n")
            # The process itself is up.
            status, _, _ = await http(port, get("/healthz"))
            assert status == 200
    finally:
        database.stop()
