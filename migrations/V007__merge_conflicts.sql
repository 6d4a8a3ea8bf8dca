-- Keel schema, version 7: merge conflicts between devices, and cheap catch-up.

-- Two devices can create projects offline with one identifier; the sync resolves it after
-- the merge (work::resolve_identifiers), so the projection must be able to hold both first.
DROP INDEX projects_identifier;
CREATE INDEX projects_identifier ON projects(workspace_id, identifier) WHERE deleted_at IS NULL;

-- Conflicts resolved by a merge rule, kept in the project's document (issue renumberings
-- stay in the issue's activity).
CREATE TABLE sync_conflicts (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    project_id   TEXT NOT NULL,
    kind         TEXT NOT NULL,
    record_id    TEXT NOT NULL,
    old_value    TEXT,
    new_value    TEXT,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    created_by   TEXT,
    deleted_at   TEXT
) STRICT;
CREATE INDEX sync_conflicts_workspace ON sync_conflicts(workspace_id, created_at);

-- Cheap catch-up: this instance's identity, and for each peer what both sides held at the
-- last complete sync. A device names the server's sequence it holds everything up to; the
-- server then lists only documents changed since (see sync::session).
INSERT OR IGNORE INTO instance_settings (key, value) VALUES ('instance_id', lower(hex(randomblob(16))));
-- Our own sequence at the start of the last complete sync with the peer.
ALTER TABLE sync_peers ADD COLUMN synced_seq INTEGER NOT NULL DEFAULT 0;
-- The peer's instance id and its sequence at that sync.
ALTER TABLE sync_peers ADD COLUMN remote_instance TEXT;
ALTER TABLE sync_peers ADD COLUMN remote_seq INTEGER NOT NULL DEFAULT 0;
