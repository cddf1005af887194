-- Registered channels: the state ChanServ keeps, as one JSON document per channel.
CREATE TABLE channels (
    key TEXT PRIMARY KEY,
    data TEXT NOT NULL
);
