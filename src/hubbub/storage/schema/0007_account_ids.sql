-- Stable account ids: what an account owns (private history, founded channels, access,
-- read markers) is kept under its id, so that a dropped name registered again by
-- someone else owns nothing of the old account's. Accounts made before this keep their
-- folded name as id, which is what their data is kept under already.
ALTER TABLE accounts ADD COLUMN uid TEXT NOT NULL DEFAULT '';
UPDATE accounts SET uid = key WHERE uid = '';
CREATE UNIQUE INDEX accounts_by_uid ON accounts (uid);
