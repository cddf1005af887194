"""IRCv3 capabilities: what ``CAP LS`` offers, and how each enabled set renders lines.

Sessions with the same *variant* (the capabilities that change how a relayed line
looks) share one encoding of each event; see :class:`~hubbub.doors.irc.render.RenderCache`.
"""

from __future__ import annotations

import functools
from typing import Final


class Variant:
    """Capabilities that change the bytes of a relayed line: bits of a plain int (an
    ``enum.IntFlag``'s ``&`` runs Python code, and rendering tests these bits for every
    line it makes)."""

    PLAIN: Final = 0
    SERVER_TIME: Final = 1
    MESSAGE_TAGS: Final = 2
    ACCOUNT_TAG: Final = 4
    EXTENDED_JOIN: Final = 8
    MULTILINE: Final = 16


_VARIANT_OF = {
    "server-time": Variant.SERVER_TIME,
    "message-tags": Variant.MESSAGE_TAGS,
    "account-tag": Variant.ACCOUNT_TAG,
    "extended-join": Variant.EXTENDED_JOIN,
    "draft/multiline": Variant.MULTILINE,
}

# Values sent with CAP LS 302 (those that follow the settings are made by offered()).
VALUES = {
    "draft/multiline": "max-bytes=4096,max-lines=32",
    "sasl": "PLAIN,SCRAM-SHA-256",
    "draft/account-registration": "before-connect,custom-account-name",
    "draft/metadata-3": "before-connect,max-subs=50,max-keys=20,max-value-bytes=300",
}
# Offered only where the server keeps history, and accounts.
_NEEDS_HISTORY = frozenset({"draft/chathistory", "draft/event-playback"})
_NEEDS_ACCOUNTS = frozenset({"sasl", "draft/account-registration"})

# In the order CAP LS lists them.
SUPPORTED: tuple[str, ...] = (
    "account-notify",
    "account-tag",
    "away-notify",
    "batch",
    "cap-notify",
    "chghost",
    "draft/account-registration",
    "draft/channel-rename",
    "draft/chathistory",
    "draft/event-playback",
    "draft/message-redaction",
    "draft/metadata-3",
    "draft/multiline",
    "draft/no-implicit-names",
    "draft/read-marker",
    "echo-message",
    "extended-join",
    "extended-monitor",
    "invite-notify",
    "labeled-response",
    "message-tags",
    "multi-prefix",
    "sasl",
    "server-time",
    "setname",
    "standard-replies",
    "userhost-in-names",
)


_SHARED_SETS: dict[frozenset[str], frozenset[str]] = {}
_MAX_SHARED_SETS = 1024


def shared(caps: frozenset[str]) -> frozenset[str]:
    """One object per distinct set of capabilities: clients ask for few different
    sets, and a frozenset costs a connection 216 bytes. (Only supported capabilities
    can be enabled, so the sets are few; the table is bounded all the same.)"""
    found = _SHARED_SETS.get(caps)
    if found is not None:
        return found
    if len(_SHARED_SETS) < _MAX_SHARED_SETS:
        _SHARED_SETS[caps] = caps
    return caps


@functools.lru_cache(maxsize=256)
def variant_of(caps: frozenset[str]) -> int:
    """The variant of a set of capabilities (bits of :class:`Variant`; few distinct sets
    occur: cached)."""
    variant = Variant.PLAIN
    for cap in caps:
        variant |= _VARIANT_OF.get(cap, Variant.PLAIN)
    return variant


def sasl_mechanisms(client_certificates: bool) -> tuple[str, ...]:
    """The SASL mechanisms offered: EXTERNAL only where client certificates are asked
    for (a CA for them is configured)."""
    return (
        ("EXTERNAL", "PLAIN", "SCRAM-SHA-256")
        if client_certificates
        else ("PLAIN", "SCRAM-SHA-256")
    )


def registration_value(before_connect: bool, email_required: bool) -> str:
    """draft/account-registration's value for the server's registration settings."""
    flags = ["before-connect"] if before_connect else []
    flags.append("custom-account-name")
    if email_required:
        flags.append("email-required")
    return ",".join(flags)


def multiline_value(max_bytes: int, max_lines: int) -> str:
    """draft/multiline's value for the server's multiline limits."""
    return f"max-bytes={max_bytes},max-lines={max_lines}"


def metadata_value(subs: int, keys: int, value_bytes: int) -> str:
    """draft/metadata-3's value: the limits a client must know of."""
    return f"before-connect,max-subs={subs},max-keys={keys},max-value-bytes={value_bytes}"


def offered(
    cap_version: int,
    history: bool,
    accounts: bool = False,
    registration: str = VALUES["draft/account-registration"],
    sasl: str = VALUES["sasl"],
    multiline: str = VALUES["draft/multiline"],
    metadata: str = VALUES["draft/metadata-3"],
) -> list[str]:
    """What CAP LS lists: values only for CAP LS 302 clients, draft/chathistory only
    where history is kept, SASL and registration only where accounts are (with the
    registration settings' value)."""
    caps = [
        cap
        for cap in SUPPORTED
        if (history or cap not in _NEEDS_HISTORY) and (accounts or cap not in _NEEDS_ACCOUNTS)
    ]
    if cap_version >= 302:
        values = {
            "draft/account-registration": registration,
            "sasl": sasl,
            "draft/multiline": multiline,
            "draft/metadata-3": metadata,
        }
        return [f"{cap}={values[cap]}" if cap in values else cap for cap in caps]
    return caps
