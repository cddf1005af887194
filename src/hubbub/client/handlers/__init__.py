"""How the client's state follows each command and numeric from the server: one handler
per command, kept by topic (:mod:`.messages`, :mod:`.channels`, :mod:`.replies`,
:mod:`.server_info`) and merged into :data:`HANDLERS`, which :mod:`hubbub.client.incoming`
looks up. No I/O."""

from __future__ import annotations

from hubbub.client.handlers import channels, messages, profiles, replies, server_info
from hubbub.client.handlers.table import Handler, merged

__all__ = ["HANDLERS", "Handler"]

HANDLERS: dict[str, Handler] = merged(
    messages.TABLE, channels.TABLE, replies.TABLE, server_info.TABLE, profiles.TABLE
)
