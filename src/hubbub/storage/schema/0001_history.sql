-- Message history: one row per PRIVMSG or NOTICE, read by conversation and time.
CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    msgid TEXT NOT NULL UNIQUE,
    time REAL NOT NULL,
    conversation TEXT NOT NULL,
    target TEXT NOT NULL,
    sender TEXT NOT NULL,
    kind TEXT NOT NULL,
    text TEXT NOT NULL,
    tags TEXT NOT NULL DEFAULT '[]',
    lines TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX messages_by_conversation ON messages (conversation, time);
