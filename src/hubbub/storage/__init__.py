"""Storage behind ports: message history, accounts, read markers and registered channels,
in SQLite (the default) or PostgreSQL (see :mod:`hubbub.storage.backends`)."""
