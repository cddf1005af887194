-- Metadata keys (draft/metadata-3) of accounts, by account id (accounts.uid), never by
-- name: a logged-in user's display name, avatar or status outlive its connection.
-- Dropping an account deletes its rows with it (the stores' delete_account).
CREATE TABLE IF NOT EXISTS account_metadata (
    account TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (account, key)
);
