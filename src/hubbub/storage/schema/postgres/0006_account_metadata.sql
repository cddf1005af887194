-- Metadata keys of accounts, by account id (SQLite's migration 0011).
CREATE TABLE IF NOT EXISTS account_metadata (
    account TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (account, key)
);
