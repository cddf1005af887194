"""IRCv3 capabilities this server offers in ``CAP LS``."""

from __future__ import annotations

# cap-notify is implied by CAP LS 302 (IRCv3 capability negotiation).
SUPPORTED: tuple[str, ...] = ("cap-notify", "multi-prefix", "userhost-in-names")
