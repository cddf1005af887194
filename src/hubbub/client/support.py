"""The server's ISUPPORT (RPL_ISUPPORT, 005) as far as the client uses it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from hubbub.client.text import clean
from hubbub.wire.casemap import Casemapping

LOBBY_TOKEN = "HUBBUB/LOBBY"  # compared upper-cased, as every token name here
_CASEMAPPINGS = {
    "ascii": Casemapping.ASCII,
    "rfc1459": Casemapping.RFC1459,
    "rfc1459-strict": Casemapping.RFC1459,
    "strict-rfc1459": Casemapping.RFC1459,
    "rfc8265": Casemapping.PRECIS,
    "rfc7613": Casemapping.PRECIS,
}


@dataclass(frozen=True, slots=True)
class Support:
    """The ISUPPORT tokens the client uses, with the defaults of the modern IRC client
    protocol for servers that send none."""

    prefix_modes: str = "ov"
    prefix_symbols: str = "@+"
    chantypes: str = "#&"
    casemapping: Casemapping = Casemapping.RFC1459
    network: str = ""
    # CHANMODES: A (list, always a parameter), B (always), C (only when set), D (never).
    list_modes: str = "beI"
    param_modes: str = "k"
    set_param_modes: str = "l"
    statusmsg: str = ""
    # The room a newcomer starts in, advertised by hubbub as ``hubbub/LOBBY=#lobby``.
    lobby: str = ""

    def apply(self, tokens: Iterable[str]) -> Support:
        """This support with the tokens of one RPL_ISUPPORT applied."""
        changes: dict[str, object] = {}
        for token in tokens:
            key, _, value = token.partition("=")
            negated = key.startswith("-")
            key = key.removeprefix("-").upper()
            if key == "PREFIX":
                modes, _, symbols = value.removeprefix("(").partition(")")
                if negated or len(modes) != len(symbols):
                    modes = symbols = ""
                changes["prefix_modes"], changes["prefix_symbols"] = modes, symbols
            elif key == "CHANTYPES":
                changes["chantypes"] = "" if negated else value
            elif key == "CASEMAPPING":
                changes["casemapping"] = _CASEMAPPINGS.get(value.lower(), Casemapping.RFC1459)
            elif key == "NETWORK":
                changes["network"] = "" if negated else clean(value, 64)
            elif key == "STATUSMSG":
                changes["statusmsg"] = "" if negated else value
            elif key == LOBBY_TOKEN:
                changes["lobby"] = "" if negated else clean(value, 64)
            elif key == "CHANMODES" and not negated:
                groups = [*value.split(","), "", "", ""]
                changes["list_modes"], changes["param_modes"] = groups[0], groups[1]
                changes["set_param_modes"] = groups[2]
        return replace(self, **changes)  # type: ignore[arg-type]
