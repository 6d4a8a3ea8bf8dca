-- Keel schema, version 22: a dashboard's saved layouts (seed 002's "save and restore
-- dashboard layouts"), and people's favourite and default dashboards. Each save keeps the whole grid as it was saved (`positions`: widget id
-- to `{x, y, w, h}`), in the dashboard's own document; a version is never changed, only
-- retired (`deleted_at`) when it falls out of the kept history.
CREATE TABLE dashboard_layouts (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    user_id      TEXT,
    dashboard_id TEXT NOT NULL,
    positions    TEXT NOT NULL,
    note         TEXT NOT NULL DEFAULT '',
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    created_by   TEXT,
    deleted_at   TEXT
) STRICT;
CREATE INDEX dashboard_layouts_dashboard ON dashboard_layouts(dashboard_id, created_at);

-- A person's choices among the dashboards they see: favourites, and their own default (in
-- their own document, one record per dashboard: `{user}:{dashboard}`).
CREATE TABLE dashboard_prefs (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    dashboard_id TEXT NOT NULL,
    is_favorite  INTEGER NOT NULL DEFAULT 0,
    is_default   INTEGER NOT NULL DEFAULT 0,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    created_by   TEXT,
    deleted_at   TEXT
) STRICT;
CREATE INDEX dashboard_prefs_user ON dashboard_prefs(workspace_id, user_id);
