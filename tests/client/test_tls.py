"""``ircs://``: the client over TLS to the real server, with a certificate from a test CA."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trustme

from hubbub.client.state import SERVER, LineKind
from hubbub.server import Server
from hubbub.settings import Listen
from hubbub.wire.casemap import Key
from tests.client.support import make_app, server_settings, until
from tests.helpers import running_server


@pytest.fixture
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
async def server(tmp_path: Path, ca: trustme.CA) -> AsyncIterator[Server]:
    leaf = ca.issue_cert("127.0.0.1", "localhost")
    cert, key = tmp_path / "server.pem", tmp_path / "server.key"
    cert.write_bytes(b"".join(blob.bytes() for blob in leaf.cert_chain_pems))
    leaf.private_key_pem.write_to_path(str(key))
    settings = server_settings(tmp_path).replace(
        listen=(Listen("127.0.0.1", 0), Listen("127.0.0.1", 0, tls=True)),
        tls_cert=cert,
        tls_key=key,
    )
    async with running_server(settings) as server:
        yield server


async def test_tls_with_a_trusted_ca_registers_and_joins(
    server: Server, ca: trustme.CA, tmp_path: Path
) -> None:
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    port = server.tls_addresses[0][1]
    app = make_app(port, "anna", ("#secure",), tls=True, ca_file=str(ca_file))
    async with app.run_test(size=(100, 30)):
        await until(app, lambda: app.state.active == Key("#secure"))
        assert app.state.buffers[Key("#secure")].joined


async def test_an_untrusted_certificate_is_refused_and_said(server: Server) -> None:
    port = server.tls_addresses[0][1]
    app = make_app(port, "anna", tls=True)
    async with app.run_test(size=(100, 30)):
        errors = app.state.buffers[SERVER].lines

        def refused() -> bool:
            return any(
                line.kind is LineKind.ERROR and "CERTIFICATE_VERIFY_FAILED" in line.text
                for line in errors
            )

        await until(app, refused)
        assert not app.state.registered
        assert app.is_running


async def test_insecure_mode_accepts_any_certificate(server: Server) -> None:
    port = server.tls_addresses[0][1]
    app = make_app(port, "anna", tls=True, verify_tls=False)
    async with app.run_test(size=(100, 30)):
        await until(app, lambda: app.state.registered)
