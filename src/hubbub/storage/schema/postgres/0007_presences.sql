-- One account on many devices, by account id (SQLite's migration 0012).
-- What an account chose: "multiclient" or "always-on", "on" or "off" (no row: the
-- server's default).
CREATE TABLE IF NOT EXISTS account_settings (
    account TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (account, key)
);
-- When each device of an account last left ("" names the device that gave no name):
-- where the replay of what it missed starts.
CREATE TABLE IF NOT EXISTS account_devices (
    account TEXT NOT NULL,
    device TEXT NOT NULL,
    seen DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (account, device)
);
-- An always-on user, brought back after a restart: a JSON record of its nick, modes,
-- away state and channels.
CREATE TABLE IF NOT EXISTS always_on (
    account TEXT PRIMARY KEY,
    record TEXT NOT NULL
);
