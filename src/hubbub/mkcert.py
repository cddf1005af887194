"""``hubbub mkcert``: a self-signed certificate and its key, to try TLS (the IRC TLS port,
HTTPS and wss) before a real certificate is had.

The files go to the data folder by default (``tls-cert.pem``, and ``tls-key.pem`` for
its owner alone), beside the database that is already kept private, rather than to the
current folder, where a key is easily committed or shared by mistake. The certificate
names localhost, 127.0.0.1 and ::1, and each ``--name``; it is valid for a short time
(30 days unless told), because nothing revokes a development key that leaked.

Certificates are made by the ``cryptography`` package, the ``tls`` extra: without it the
command says how to install it.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import ipaddress
import os
import re
import shlex
import sys
import tempfile
from pathlib import Path
from typing import Any

from hubbub.settings import default_data_dir

CERT_FILE = "tls-cert.pem"
KEY_FILE = "tls-key.pem"
DEFAULT_DAYS = 30
MAX_DAYS = 365
# Always named: the machine the development server runs on, however it is reached.
LOCAL_NAMES = ("localhost", "127.0.0.1", "::1")
# RFC 1123 host names as certificates carry them (RFC 5280 4.2.1.6: DNS names in their
# ASCII form): letters, digits and inner hyphens, labels of 1 to 63, 253 in all.
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST_NAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")


class BadName(ValueError):
    """A ``--name`` that is neither an IP address nor a host name."""


def add_parser(commands: Any) -> None:
    mkcert = commands.add_parser(
        "mkcert",
        help="make a self-signed TLS certificate for trying TLS",
        description="Write a self-signed certificate (tls-cert.pem) and its private key "
        "(tls-key.pem, readable by its owner only) for localhost, 127.0.0.1, ::1 and each "
        "--name, then print the 'hubbub serve' flags that use them. For development: "
        "clients must be told to trust the certificate. Needs the tls extra "
        "(pip install 'hubbub[tls]').",
    )
    mkcert.add_argument(
        "--dir",
        type=Path,
        help="folder to write the files in (default: the data folder, ~/.local/share/hubbub)",
    )
    mkcert.add_argument(
        "--name",
        action="append",
        default=[],
        metavar="NAME",
        help="another host name or IP address the certificate is for (repeatable)",
    )
    mkcert.add_argument(
        "--days",
        type=_days,
        default=DEFAULT_DAYS,
        help=f"days the certificate is valid (default {DEFAULT_DAYS}, at most {MAX_DAYS})",
    )
    mkcert.add_argument(
        "--force", action="store_true", help="write over a certificate and key already there"
    )


def _days(text: str) -> int:
    try:
        days = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of days: {text!r}") from None
    if not 1 <= days <= MAX_DAYS:
        raise argparse.ArgumentTypeError(f"give 1 to {MAX_DAYS} days")
    return days


def run(args: argparse.Namespace) -> int:
    folder: Path = args.dir if args.dir is not None else default_data_dir()
    cert_path, key_path = folder / CERT_FILE, folder / KEY_FILE
    try:
        names = certificate_names(args.name)
    except BadName as error:
        print(f"hubbub mkcert: {error}", file=sys.stderr)
        return 2
    now = datetime.datetime.now(datetime.UTC)
    try:
        cert_pem, key_pem = make_certificate(names, args.days, now)
    except ModuleNotFoundError as error:
        if error.name is None or error.name.partition(".")[0] != "cryptography":
            raise
        print(missing_extra_hint(), file=sys.stderr)
        return 1
    there = [path for path in (cert_path, key_path) if path.exists()]
    if there and not args.force:
        listed = " and ".join(str(path) for path in there)
        print(f"hubbub mkcert: {listed} already there; --force writes over", file=sys.stderr)
        return 1
    try:
        # A folder made here is for the owner alone, as the data folder is.
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        replace_file(key_path, key_pem, 0o600)
        replace_file(cert_path, cert_pem, 0o644)
    except OSError as error:
        print(f"hubbub mkcert: cannot write in {folder}: {error.strerror}", file=sys.stderr)
        return 1
    until = now + datetime.timedelta(days=args.days)
    print(
        f"wrote {cert_path} and {key_path}: a self-signed certificate for "
        f"{', '.join(names)}, valid until {until:%Y-%m-%d} ({args.days} days)"
    )
    cert, key = shlex.quote(str(cert_path)), shlex.quote(str(key_path))
    print(f"start the server with: hubbub serve --tls-cert {cert} --tls-key {key}")
    print(f"clients trust it as their CA ({cert}), or accept it: hubbub chat --insecure")
    return 0


def missing_extra_hint() -> str:
    """What to run to get ``cryptography`` into the environment hubbub runs in."""
    python = shlex.quote(sys.executable)
    return (
        "hubbub mkcert: making certificates needs the cryptography package (the tls "
        f"extra); install it with:\n    {python} -m pip install 'hubbub[tls]'\n"
        "or, for hubbub installed with pipx:\n    pipx inject hubbub cryptography"
    )


def certificate_names(given: list[str]) -> list[str]:
    """The local names, then each given name once, IP addresses in their short form.

    Raises:
        BadName: a name that is not an IP address or an ASCII host name.
    """
    names = list(LOCAL_NAMES)
    for name in given:
        try:
            shown = str(ipaddress.ip_address(name))
        except ValueError:
            shown = name.lower().rstrip(".")
            if len(shown) > 253 or not _HOST_NAME.fullmatch(shown):
                raise BadName(
                    f"--name {name!r}: not an IP address or a host name (letters, digits, "
                    "hyphens and dots; an international name in its xn-- form)"
                ) from None
        if shown not in names:
            names.append(shown)
    return names


def make_certificate(names: list[str], days: int, now: datetime.datetime) -> tuple[bytes, bytes]:
    """A self-signed server certificate for ``names`` and its new P-256 key, both PEM.

    Raises:
        ModuleNotFoundError: cryptography is not installed (the ``tls`` extra).
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hubbub development")])
    alternatives: list[x509.GeneralName] = []
    for name in names:
        try:
            alternatives.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alternatives.append(x509.DNSName(name))
    identifier = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        # A few minutes back, for a client whose clock is a little behind this one's.
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName(alternatives), critical=False)
        # A server's certificate that signs nothing else, even when trusted as a root.
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        # Strict verifiers (Python 3.13's default context) want both identifiers.
        .add_extension(identifier, critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(identifier),
            critical=False,
        )
    )
    certificate = builder.sign(key, hashes.SHA256())
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return certificate.public_bytes(serialization.Encoding.PEM), key_pem


def replace_file(path: Path, data: bytes, mode: int) -> None:
    """Write ``path`` whole or not at all, with ``mode`` from its creation on: the key is
    never readable by others, not even for a moment, nor left half written."""
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "wb") as file:
            os.fchmod(file.fileno(), mode)
            file.write(data)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
