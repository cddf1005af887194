-- The PostgreSQL schema, as SQLite's migrations 0001-0005 leave it.

-- Message history: one row per PRIVMSG or NOTICE, read by conversation and time; a
-- private message is kept once per side, so a msgid is unique within a conversation.
-- id is the order of storing, which breaks ties between equal times.
CREATE TABLE messages (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    msgid TEXT NOT NULL,
    time DOUBLE PRECISION NOT NULL,
    conversation TEXT NOT NULL,
    target TEXT NOT NULL,
    sender TEXT NOT NULL,
    kind TEXT NOT NULL,
    text TEXT NOT NULL,
    tags TEXT NOT NULL DEFAULT '[]',
    lines TEXT NOT NULL DEFAULT '[]',
    UNIQUE (conversation, msgid)
);
CREATE INDEX messages_by_conversation ON messages (conversation, time, id);
CREATE INDEX messages_by_msgid ON messages (msgid);
CREATE INDEX messages_by_time ON messages (time);

-- Accounts: a folded name, the name as registered, an argon2id hash and the
-- SCRAM-SHA-256 verifier.
CREATE TABLE accounts (
    key TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    password TEXT NOT NULL,
    email TEXT NOT NULL DEFAULT '',
    created DOUBLE PRECISION NOT NULL,
    scram TEXT NOT NULL DEFAULT ''
);

-- Client certificates (SASL EXTERNAL), listed in the order they were added.
CREATE TABLE certificates (
    id BIGINT GENERATED ALWAYS AS IDENTITY,
    fingerprint TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    added DOUBLE PRECISION NOT NULL
);
CREATE INDEX certificates_by_account ON certificates (account);

-- Read markers (draft/read-marker) per account and conversation.
CREATE TABLE read_markers (
    account TEXT NOT NULL,
    target TEXT NOT NULL,
    time DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (account, target)
);

-- Registered channels: the state ChanServ keeps, as one JSON document per channel.
CREATE TABLE channels (
    key TEXT PRIMARY KEY,
    data TEXT NOT NULL
);
