-- Client certificates were kept under the account's name: one added while the account
-- was being dropped outlived it, and logged in to whoever registered the name next.
-- They are kept under the account's id now (a new account of the same name has another),
-- and those of accounts that are gone are forgotten.
DELETE FROM certificates WHERE account NOT IN (SELECT key FROM accounts);
UPDATE certificates
SET account = (SELECT uid FROM accounts WHERE accounts.key = certificates.account);
