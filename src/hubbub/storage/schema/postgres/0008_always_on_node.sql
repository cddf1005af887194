-- Between nodes of a cluster, the node (its stable name, [cluster] node) that keeps
-- each always-on user (SQLite's migration 0013): the one that brings it back when it
-- starts again. '' on one server.
ALTER TABLE always_on ADD COLUMN IF NOT EXISTS node TEXT NOT NULL DEFAULT '';
