-- Accounts: a folded name, the name as registered, an argon2id hash.
CREATE TABLE accounts (
    key TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    password TEXT NOT NULL,
    email TEXT NOT NULL DEFAULT '',
    created REAL NOT NULL
);
