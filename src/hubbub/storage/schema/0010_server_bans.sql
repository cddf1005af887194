-- Server bans (K-lines, D-lines, bans of accounts): one JSON document each
-- (hubbub.core.server_bans.to_json), by kind and key. ``set_at`` is the document's,
-- kept as a column so that a running server can tell cheaply whether the list changed.
CREATE TABLE IF NOT EXISTS server_bans (
    kind TEXT NOT NULL,
    mask TEXT NOT NULL,
    set_at REAL NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (kind, mask)
);

-- What an operator ordered from the shell for a registered channel (``hubbub admin
-- channels drop`` and ``transfer``): the running server takes each and carries it out
-- as ChanServ would, so that its own copy of the registration stays the one that counts.
CREATE TABLE IF NOT EXISTS channel_orders (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL,
    data TEXT NOT NULL
);
