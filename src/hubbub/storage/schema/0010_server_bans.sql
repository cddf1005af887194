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
