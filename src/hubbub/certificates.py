"""The server's TLS: its certificate and key, and the CA of client certificates."""

from __future__ import annotations

import ssl

from hubbub.settings import ConfigError, Settings


def tls_context(settings: Settings) -> ssl.SSLContext | None:
    """A server TLS context with the configured certificate, or None without one.

    Raises:
        ConfigError: the certificate or key cannot be loaded.
    """
    if settings.tls_cert is None or settings.tls_key is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    load_certificate(context, settings)
    if settings.tls_client_ca is not None:
        # Python's ssl module verifies every certificate a client sends against the
        # loaded CAs and cannot be told to accept self-signed ones; so client
        # certificates (SASL EXTERNAL) are those of a CA the operator names.
        try:
            context.load_verify_locations(settings.tls_client_ca)
        except (OSError, ssl.SSLError) as error:
            raise ConfigError(
                f"cannot load TLS client CA {settings.tls_client_ca}: {error}"
            ) from None
        context.verify_mode = ssl.CERT_OPTIONAL
    return context


def load_certificate(context: ssl.SSLContext, settings: Settings) -> None:
    """(Re)load the certificate into a context: new handshakes use it, open ones go on.

    The pair is tried on a scratch context first: a failed load can leave a context
    holding the new certificate with the old key.
    """
    if settings.tls_cert is None or settings.tls_key is None:
        raise ConfigError("tls_cert and tls_key go together")
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(
            settings.tls_cert, settings.tls_key
        )
        context.load_cert_chain(settings.tls_cert, settings.tls_key)
    except (OSError, ssl.SSLError) as error:
        raise ConfigError(f"cannot load TLS certificate {settings.tls_cert}: {error}") from None
