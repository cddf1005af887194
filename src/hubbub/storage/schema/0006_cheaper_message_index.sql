-- One unique index by (msgid, conversation) instead of a unique (conversation, msgid)
-- beside a plain msgid index: a stored message updates two indexes, not three, and
-- msgids (a counter behind a per-process prefix) land near each other in it.
CREATE TABLE messages_new (
    id INTEGER PRIMARY KEY,
    msgid TEXT NOT NULL,
    time REAL NOT NULL,
    conversation TEXT NOT NULL,
    target TEXT NOT NULL,
    sender TEXT NOT NULL,
    kind TEXT NOT NULL,
    text TEXT NOT NULL,
    tags TEXT NOT NULL DEFAULT '[]',
    lines TEXT NOT NULL DEFAULT '[]'
);
INSERT INTO messages_new SELECT * FROM messages;
DROP TABLE messages;
ALTER TABLE messages_new RENAME TO messages;
CREATE INDEX messages_by_conversation ON messages (conversation, time);
CREATE UNIQUE INDEX messages_by_msgid ON messages (msgid, conversation);
