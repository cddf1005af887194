-- SCRAM-SHA-256 verifiers, client certificates (SASL EXTERNAL) and read markers.
ALTER TABLE accounts ADD COLUMN scram TEXT NOT NULL DEFAULT '';
CREATE TABLE certificates (
    fingerprint TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    added REAL NOT NULL
);
CREATE INDEX certificates_by_account ON certificates (account);
CREATE TABLE read_markers (
    account TEXT NOT NULL,
    target TEXT NOT NULL,
    time REAL NOT NULL,
    PRIMARY KEY (account, target)
);
