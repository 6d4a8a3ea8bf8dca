-- Keel schema, version 6: sync between devices.

-- Devices paired with this instance: a device token is bound to one user and one device,
-- listed in the user's devices and revocable there. Only its SHA-256 is stored.
CREATE TABLE devices (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id),
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   TEXT NOT NULL,
    last_seen_at TEXT,
    revoked_at   TEXT
) STRICT;
CREATE INDEX devices_user ON devices(user_id);

-- A document's state vector and the sequence number of its latest update: a sync manifest
-- is read from here without loading documents; the sequence orders catch-up.
ALTER TABLE documents ADD COLUMN state_vector BLOB;
ALTER TABLE documents ADD COLUMN last_seq INTEGER NOT NULL DEFAULT 0;
-- The latest update made here (not received from a peer): what peers may still lack.
ALTER TABLE documents ADD COLUMN local_seq INTEGER NOT NULL DEFAULT 0;
UPDATE documents SET last_seq = COALESCE((SELECT MAX(seq) FROM doc_updates WHERE doc_id = documents.id), snapshot_seq);
UPDATE documents SET local_seq = last_seq;

-- The peers this instance connects to (a team server, another desktop). The device token
-- is not here: it is in `sync/<peer id>.token` in the data dir, mode 0600.
CREATE TABLE sync_peers (
    id           TEXT PRIMARY KEY,
    url          TEXT NOT NULL UNIQUE,
    device_id    TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    -- The highest local update sequence the peer has acknowledged.
    acked_seq    INTEGER NOT NULL DEFAULT 0,
    last_sync_at TEXT,
    last_error   TEXT,
    created_at   TEXT NOT NULL
) STRICT;
