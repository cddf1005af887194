-- Between nodes of a cluster, the node (its stable name, [cluster] node) that keeps
-- each always-on user: the one that brings it back when it starts again. '' on one
-- server. The table made again with the column, for SQLite's ADD COLUMN cannot be run
-- twice, and a script may be (a database put back to an earlier schema version).
CREATE TABLE IF NOT EXISTS always_on_kept (
    account TEXT PRIMARY KEY,
    record TEXT NOT NULL,
    node TEXT NOT NULL DEFAULT ''
);
INSERT OR IGNORE INTO always_on_kept (account, record) SELECT account, record FROM always_on;
DROP TABLE always_on;
ALTER TABLE always_on_kept RENAME TO always_on;
