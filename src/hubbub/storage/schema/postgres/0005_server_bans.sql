-- Server bans (SQLite's migration 0010): one JSON document each, by kind and key.
CREATE TABLE IF NOT EXISTS server_bans (
    kind TEXT NOT NULL,
    mask TEXT NOT NULL,
    set_at DOUBLE PRECISION NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (kind, mask)
);

-- Orders for registered channels from the shell (SQLite's migration 0010).
CREATE TABLE IF NOT EXISTS channel_orders (
    id BIGSERIAL PRIMARY KEY,
    key TEXT NOT NULL,
    data TEXT NOT NULL
);
