"""Password hashes for operator blocks and the server password (scrypt, from the stdlib)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

_PREFIX = "scrypt"
_N, _R, _P = 2**14, 8, 1


def hash_password(password: str) -> str:
    """Hash a password as ``scrypt$<salt>$<hash>`` (base64)."""
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return "$".join((_PREFIX, base64.b64encode(salt).decode(), base64.b64encode(digest).decode()))


def is_hash(value: str) -> bool:
    return value.startswith(_PREFIX + "$") and value.count("$") == 2


def verify_password(password: str, stored: str) -> bool:
    """Check a password against a stored hash, or against a plain stored password.

    Plain values come from the command line (``--oper``, ``--password``) and are compared
    in constant time like hashes.
    """
    if not is_hash(stored):
        return hmac.compare_digest(password.encode(), stored.encode())
    _, salt_text, digest_text = stored.split("$")
    try:
        salt = base64.b64decode(salt_text, validate=True)
        expected = base64.b64decode(digest_text, validate=True)
    except ValueError:
        return False
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=len(expected))
    return hmac.compare_digest(digest, expected)


_DECOY: list[str] = []


def decoy_hash() -> str:
    """A hash no password matches, made once: checking a password against it takes as
    long as against a real one, so that the time an answer takes does not tell whether
    a name exists."""
    if not _DECOY:
        _DECOY.append(hash_password(os.urandom(16).hex()))
    return _DECOY[0]
