"""``hubbub mkcert``: the files it writes, what the certificate names, and a real
``hubbub serve`` whose TLS port clients verify against it."""

from __future__ import annotations

import asyncio
import datetime
import os
import ssl
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from hubbub.wire import numerics as n
from tests.conftest import ServeProcesses
from tests.helpers import LineClient

ROOT = Path(__file__).resolve().parent.parent


def run_mkcert(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m hubbub mkcert`` with ``args``, to completion."""
    return subprocess.run(
        [sys.executable, "-m", "hubbub", "mkcert", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )


def made(folder: Path, *args: str) -> tuple[Path, Path]:
    """The certificate and key ``hubbub mkcert --dir folder`` writes."""
    result = run_mkcert("--dir", str(folder), *args)
    assert result.returncode == 0, result.stderr
    return folder / "tls-cert.pem", folder / "tls-key.pem"


def names_in(cert: Path) -> list[str]:
    certificate = x509.load_pem_x509_certificate(cert.read_bytes())
    alternatives = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    return [str(name.value) for name in alternatives.value]


def trusting(cert: Path) -> ssl.SSLContext:
    """A client context that trusts ``cert`` alone, verifying strictly (the checks Python
    3.13 makes by default, here on 3.11 too)."""
    context = ssl.create_default_context(cafile=str(cert))
    context.verify_flags |= ssl.VERIFY_X509_STRICT
    return context


def test_mkcert_writes_the_key_for_its_owner_alone_in_a_folder_it_makes_private(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "new" / "certs"
    cert, key = made(folder)
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(cert.stat().st_mode) == 0o644
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    private = serialization.load_pem_private_key(key.read_bytes(), password=None)
    certificate = x509.load_pem_x509_certificate(cert.read_bytes())
    assert isinstance(private, ec.EllipticCurvePrivateKey)
    assert private.public_key() == certificate.public_key()
    assert sorted(path.name for path in folder.iterdir()) == ["tls-cert.pem", "tls-key.pem"]


def test_the_certificate_names_the_local_machine_and_each_name_given_once(
    tmp_path: Path,
) -> None:
    cert, _ = made(
        tmp_path, "--name", "IRC.Example.Test.", "--name", "192.0.2.7", "--name", "localhost"
    )
    assert names_in(cert) == ["localhost", "127.0.0.1", "::1", "irc.example.test", "192.0.2.7"]
    certificate = x509.load_pem_x509_certificate(cert.read_bytes())
    constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.value.ca is False


def test_the_certificate_is_valid_from_now_for_the_days_asked(tmp_path: Path) -> None:
    before = datetime.datetime.now(datetime.UTC)
    cert, _ = made(tmp_path, "--days", "3")
    after = datetime.datetime.now(datetime.UTC)
    certificate = x509.load_pem_x509_certificate(cert.read_bytes())
    assert certificate.not_valid_before_utc <= before
    lifetime = certificate.not_valid_after_utc
    assert before + datetime.timedelta(days=3) - datetime.timedelta(seconds=1) <= lifetime
    assert lifetime <= after + datetime.timedelta(days=3)


def test_by_default_it_writes_in_the_data_folder(tmp_path: Path) -> None:
    result = run_mkcert(env={**os.environ, "XDG_DATA_HOME": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    data = tmp_path / "hubbub"
    assert (data / "tls-key.pem").is_file()
    assert (data / "tls-cert.pem").is_file()
    # What to do next, with the paths written.
    assert f"--tls-cert {data / 'tls-cert.pem'} --tls-key {data / 'tls-key.pem'}" in result.stdout


def test_it_refuses_to_write_over_a_certificate_unless_forced(tmp_path: Path) -> None:
    cert, key = made(tmp_path)
    old_cert, old_key = cert.read_bytes(), key.read_bytes()

    again = run_mkcert("--dir", str(tmp_path))
    assert again.returncode == 1
    assert "--force" in again.stderr
    assert (cert.read_bytes(), key.read_bytes()) == (old_cert, old_key)

    key.chmod(0o644)  # someone opened it up meanwhile
    forced = run_mkcert("--dir", str(tmp_path), "--force")
    assert forced.returncode == 0, forced.stderr
    assert cert.read_bytes() != old_cert
    assert key.read_bytes() != old_key
    assert stat.S_IMODE(key.stat().st_mode) == 0o600


@pytest.mark.parametrize(
    "args",
    [
        ("--name", "bad name"),
        ("--name", "under_score.example"),
        ("--name", "-leading.example"),
        ("--name", "пример.рф"),
        ("--name", "a" * 64 + ".example"),
        ("--days", "0"),
        ("--days", "366"),
        ("--days", "soon"),
    ],
)
def test_a_bad_name_or_validity_is_a_usage_error_and_writes_nothing(
    tmp_path: Path, args: tuple[str, str]
) -> None:
    result = run_mkcert("--dir", str(tmp_path / "certs"), *args)
    assert result.returncode == 2
    assert args[0] in result.stderr
    assert not (tmp_path / "certs").exists()


async def test_hubbub_serve_speaks_tls_with_it_and_clients_verify_it(
    tmp_path: Path, serve_processes: ServeProcesses
) -> None:
    cert, key = made(tmp_path / "certs", "--name", "irc.example.test")
    served = await serve_processes.start(
        *("--host", "127.0.0.1", "--port", "0", "--tls-port", "0", "--no-plain", "--no-web"),
        *("--data-dir", str(tmp_path / "data"), "--server-name", "irc.example.test"),
        *("--tls-cert", str(cert), "--tls-key", str(key)),
    )
    listening = await served.wait_for_log("IRC (TLS) listening on")
    port = int(listening.rsplit(" ", 1)[1])

    for number, name in enumerate(("localhost", "127.0.0.1", "irc.example.test")):
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", port, ssl=trusting(cert), server_hostname=name
        )
        client = LineClient(reader, writer)
        try:
            welcome = await client.register(f"secure{number}")
            assert welcome[0].command == n.RPL_WELCOME
            peer = writer.get_extra_info("peercert")
            assert peer is not None
            assert ("DNS", "irc.example.test") in peer["subjectAltName"]
        finally:
            await client.close()

    # A name the certificate does not carry is refused by the client.
    with pytest.raises(ssl.SSLCertVerificationError, match=r"not valid for 'other\.example'"):
        await asyncio.open_connection(
            "127.0.0.1", port, ssl=trusting(cert), server_hostname="other.example"
        )
