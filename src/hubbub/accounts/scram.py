"""SCRAM-SHA-256 (RFC 5802, RFC 7677), the server's side, without I/O.

Theory of operation. An account keeps a verifier, never the password: a salt, an
iteration count, ``StoredKey = H(HMAC(SaltedPassword, "Client Key"))`` and
``ServerKey = HMAC(SaltedPassword, "Server Key")``. The exchange is three messages:

    client-first   n,,n=alice,r=<client nonce>
    server-first   r=<client nonce><server nonce>,s=<salt>,i=<iterations>
    client-final   c=biws,r=<both nonces>,p=<proof>
    server-final   v=<server signature>

The proof shows the client knows ``ClientKey`` (``H(ClientKey) == StoredKey``); the
server signature shows the server knows ``ServerKey``. An :class:`Exchange` takes the
client's messages one at a time and raises :class:`ScramError` on anything else.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from dataclasses import dataclass

ITERATIONS = 4096
_SALT_BYTES = 16
_NONCE_BYTES = 18
_MAX_NAME = 300


class ScramError(Exception):
    """A malformed or failed exchange; the message says which, for the client."""


@dataclass(frozen=True, slots=True)
class Verifier:
    """What an account keeps for SCRAM-SHA-256."""

    salt: bytes
    iterations: int
    stored_key: bytes
    server_key: bytes

    def encode(self) -> str:
        """As stored: ``SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>``."""
        b64 = _b64
        return (
            f"SCRAM-SHA-256${self.iterations}:{b64(self.salt)}"
            f"${b64(self.stored_key)}:{b64(self.server_key)}"
        )

    @classmethod
    def decode(cls, text: str) -> Verifier:
        """Raises ValueError for text that :meth:`encode` did not make."""
        scheme, salting, keys = text.split("$")
        iterations, salt = salting.split(":")
        stored_key, server_key = keys.split(":")
        if scheme != "SCRAM-SHA-256" or int(iterations) < 1:
            raise ValueError("not a SCRAM-SHA-256 verifier")
        try:
            return cls(
                base64.b64decode(salt, validate=True),
                int(iterations),
                base64.b64decode(stored_key, validate=True),
                base64.b64decode(server_key, validate=True),
            )
        except binascii.Error as error:
            raise ValueError(str(error)) from None


def make_verifier(
    password: str, salt: bytes | None = None, iterations: int = ITERATIONS
) -> Verifier:
    """The verifier for a password. CPU-bound (PBKDF2): run it off the event loop.

    The password is used as its UTF-8 bytes, without SASLprep: IRC clients send it so,
    and for ASCII passwords the two agree.
    """
    salt = secrets.token_bytes(_SALT_BYTES) if salt is None else salt
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = _hmac(salted, b"Client Key")
    return Verifier(
        salt, iterations, hashlib.sha256(client_key).digest(), _hmac(salted, b"Server Key")
    )


def decoy_verifier(name: str, secret: bytes) -> Verifier:
    """A stable verifier for a name with no account, so that the exchange looks the
    same whether or not the account exists, and fails at the proof."""
    salt = _hmac(secret, b"salt " + name.encode())[:_SALT_BYTES]
    return Verifier(salt, ITERATIONS, _hmac(secret, b"stored " + salt), b"")


class Exchange:
    """One SCRAM-SHA-256 exchange, on the server.

    Call :meth:`receive_first` with the client-first message to learn the user name,
    :meth:`server_first` with that user's verifier, then :meth:`receive_final` with the
    client-final message; it returns the server-final message when the proof holds.

    Args:
        server_nonce: the server's part of the nonce; random unless given (for tests
            against published exchanges).
    """

    def __init__(self, server_nonce: str | None = None) -> None:
        self._server_nonce = server_nonce or secrets.token_urlsafe(_NONCE_BYTES)
        self.name = ""
        self.authzid = ""
        self._gs2_header = ""
        self._client_first_bare = ""
        self._nonce = ""
        self._server_first = ""
        self._verifier: Verifier | None = None

    def receive_first(self, message: str) -> str:
        """Parse the client-first message; return the user name it gives.

        Raises:
            ScramError: a malformed message, or channel binding asked for.
        """
        # RFC 5802 §7: gs2-header = gs2-cbind-flag "," [ authzid ] ","
        parts = message.split(",", 2)
        if len(parts) != 3:
            raise ScramError("malformed client-first message")
        flag, authzid, bare = parts
        if flag.startswith("p="):
            raise ScramError("channel binding is not supported")
        if flag not in ("n", "y"):
            raise ScramError("malformed client-first message")
        if authzid:
            if not authzid.startswith("a="):
                raise ScramError("malformed client-first message")
            self.authzid = _unescape(authzid[2:])
        attributes = bare.split(",")
        if len(attributes) < 2 or not attributes[0].startswith("n="):
            raise ScramError("malformed client-first message")
        if not attributes[1].startswith("r=") or len(attributes[1]) < 3:
            raise ScramError("malformed client-first message")
        # RFC 5802 §5.1: "m: This attribute is reserved for future extensibility."
        if any(a.startswith("m=") for a in attributes[2:]):
            raise ScramError("mandatory extensions are not supported")
        self.name = _unescape(attributes[0][2:])
        if not 0 < len(self.name) <= _MAX_NAME:
            raise ScramError("malformed user name")
        client_nonce = attributes[1][2:]
        if not all(0x21 <= ord(c) <= 0x7E and c != "," for c in client_nonce):
            raise ScramError("malformed nonce")
        self._gs2_header = f"{flag},{authzid},"
        self._client_first_bare = bare
        self._nonce = client_nonce + self._server_nonce
        return self.name

    def server_first(self, verifier: Verifier) -> str:
        """The server-first message, for the user's verifier (or a decoy's)."""
        self._verifier = verifier
        salt = _b64(verifier.salt)
        self._server_first = f"r={self._nonce},s={salt},i={verifier.iterations}"
        return self._server_first

    def receive_final(self, message: str) -> str:
        """Check the client-final message's proof; return the server-final message.

        Raises:
            ScramError: a malformed message or a wrong proof.
        """
        verifier = self._verifier
        if verifier is None:
            raise ScramError("unexpected message")
        without_proof, separator, proof_text = message.rpartition(",p=")
        if not separator:
            raise ScramError("malformed client-final message")
        attributes = without_proof.split(",")
        if len(attributes) < 2 or not attributes[0].startswith("c="):
            raise ScramError("malformed client-final message")
        try:
            binding = base64.b64decode(attributes[0][2:], validate=True)
            proof = base64.b64decode(proof_text, validate=True)
        except binascii.Error:
            raise ScramError("malformed client-final message") from None
        if binding != self._gs2_header.encode():
            raise ScramError("channel binding data does not match")
        if attributes[1] != f"r={self._nonce}":
            raise ScramError("nonce does not match")
        auth_message = f"{self._client_first_bare},{self._server_first},{without_proof}"
        signature = _hmac(verifier.stored_key, auth_message.encode())
        if len(proof) != len(signature):
            raise ScramError("invalid credentials")
        client_key = bytes(a ^ b for a, b in zip(proof, signature, strict=True))
        if not hmac.compare_digest(hashlib.sha256(client_key).digest(), verifier.stored_key):
            raise ScramError("invalid credentials")
        return "v=" + _b64(_hmac(verifier.server_key, auth_message.encode()))


def _hmac(key: bytes, data: bytes) -> bytes:
    return hmac.new(key, data, hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unescape(name: str) -> str:
    # RFC 5802 §5.1: "," and "=" in names are sent as "=2C" and "=3D"; any other "="
    # is an error.
    out = name.replace("=2C", ",").replace("=3D", "=")
    if "=" in name.replace("=2C", "").replace("=3D", ""):
        raise ScramError("malformed user name")
    return out
