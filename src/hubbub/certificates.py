"""The server's TLS: its certificate and key, and the CA of client certificates."""

from __future__ import annotations

import ssl

from hubbub.settings import ConfigError, Settings


def tls_context(settings: Settings) -> ssl.SSLContext | None:
    """A server TLS context with the configured certificate, or None without one.

    Made afresh for each start and REHASH: a context cannot forget a client CA it has
    loaded, and a failed load would leave one holding the new certificate with the old
    key; the listeners take the new one for new handshakes, open ones go on.

    Raises:
        ConfigError: the certificate or key cannot be loaded.
    """
    if settings.tls_cert is None or settings.tls_key is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(settings.tls_cert, settings.tls_key)
    except (OSError, ssl.SSLError) as error:
        raise ConfigError(f"cannot load TLS certificate {settings.tls_cert}: {error}") from None
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
