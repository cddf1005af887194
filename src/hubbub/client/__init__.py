"""The terminal chat client, ``hubbub chat``: Textual on top of :mod:`hubbub.wire`.

Modules, outside in: :mod:`~hubbub.client.app` (the screen), :mod:`~hubbub.client.widgets`,
:mod:`~hubbub.client.connection` (the one asyncio driver: connect, read, reconnect),
:mod:`~hubbub.client.session` (IRC registration, capabilities, SASL, sans-I/O),
:mod:`~hubbub.client.plain` (plain text, sans-I/O),
:mod:`~hubbub.client.commands` (slash commands), :mod:`~hubbub.client.state` (buffers,
members and modes fed by IRC messages, no I/O), :mod:`~hubbub.client.config` (addresses and
the TOML file) and :mod:`~hubbub.client.text` (making server text safe to show).
"""
