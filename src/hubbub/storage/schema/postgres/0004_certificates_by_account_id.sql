-- Client certificates by account id (SQLite's migration 0009): kept under the name, one
-- added while the account was being dropped outlived it, and logged in to whoever
-- registered the name next. The foreign key makes an account's drop and a certificate
-- added at that moment wait for each other: the certificate goes with the account.
DELETE FROM certificates WHERE account NOT IN (SELECT key FROM accounts);
UPDATE certificates
SET account = (SELECT uid FROM accounts WHERE accounts.key = certificates.account);
ALTER TABLE certificates ADD CONSTRAINT certificates_account_fkey
    FOREIGN KEY (account) REFERENCES accounts (uid) ON DELETE CASCADE;
