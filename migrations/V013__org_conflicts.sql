-- Merges that broke the organisation's rules, as this instance repaired them (issue 14):
-- in the admin-only staff document, each under a key derived from its repair, listed for
-- admins with the other resolved conflicts.
CREATE TABLE org_conflicts (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    kind         TEXT NOT NULL,
    record_id    TEXT NOT NULL,
    old_value    TEXT,
    new_value    TEXT,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    created_by   TEXT,
    deleted_at   TEXT
) STRICT;
CREATE INDEX org_conflicts_workspace ON org_conflicts(workspace_id, created_at);
