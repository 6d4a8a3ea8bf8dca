-- An account created by the desktop app for its local owner has no password anyone knows
-- until the owner sets one (needed to sign in from another machine when sharing on the LAN).
ALTER TABLE users ADD COLUMN has_password INTEGER NOT NULL DEFAULT 1;
