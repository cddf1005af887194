-- Private messages are kept once per side: a msgid is unique within a conversation.
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
    lines TEXT NOT NULL DEFAULT '[]',
    UNIQUE (conversation, msgid)
);
-- Earlier private history was keyed by nicks alone, which later holders of a nick
-- could read: it is not carried over.
INSERT INTO messages_new SELECT * FROM messages WHERE conversation NOT LIKE '% %';
DROP TABLE messages;
ALTER TABLE messages_new RENAME TO messages;
CREATE INDEX messages_by_conversation ON messages (conversation, time);
CREATE INDEX messages_by_msgid ON messages (msgid);
