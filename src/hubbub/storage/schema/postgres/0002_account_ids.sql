-- Stable account ids (SQLite's migration 0007): what an account owns is kept under its
-- id, so that a dropped name registered again owns nothing of the old account's.
-- Accounts made before this keep their folded name as id.
ALTER TABLE accounts ADD COLUMN uid TEXT NOT NULL DEFAULT '';
UPDATE accounts SET uid = key WHERE uid = '';
CREATE UNIQUE INDEX accounts_by_uid ON accounts (uid);
