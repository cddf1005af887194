"""IRC command handlers, one module per topic; each lists its table rows in ``COMMANDS``
(gathered by :mod:`hubbub.doors.irc.table`)."""
