-- Keel schema, version 4: cycles, modules and saved views (project documents), and what
-- belongs to one person in a workspace (their own document): favorites, user properties,
-- home preferences, quick links, recent visits, stickies. Projection tables as before.

-- An issue is in at most one cycle and at most one module: a field of the issue.
ALTER TABLE issues ADD COLUMN cycle_id TEXT;
ALTER TABLE issues ADD COLUMN module_id TEXT;
CREATE INDEX issues_cycle ON issues(cycle_id) WHERE cycle_id IS NOT NULL AND deleted_at IS NULL;
CREATE INDEX issues_module ON issues(module_id) WHERE module_id IS NOT NULL AND deleted_at IS NULL;

CREATE TABLE cycles (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    project_id   TEXT NOT NULL,
    name         TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    start_date   TEXT,
    end_date     TEXT,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    created_by   TEXT,
    deleted_at   TEXT
) STRICT;
CREATE INDEX cycles_project ON cycles(project_id, start_date);

CREATE TABLE modules (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    project_id   TEXT NOT NULL,
    name         TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    status       TEXT NOT NULL DEFAULT 'planned',
    lead_id      TEXT,
    start_date   TEXT,
    target_date  TEXT,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    created_by   TEXT,
    deleted_at   TEXT
) STRICT;
CREATE INDEX modules_project ON modules(project_id, name);

-- A saved view: a named set of issue-list filters (the list's query parameters, as JSON).
CREATE TABLE issue_views (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    project_id   TEXT NOT NULL,
    name         TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    query        TEXT NOT NULL DEFAULT '{}',
    is_private   INTEGER NOT NULL DEFAULT 0,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    created_by   TEXT,
    deleted_at   TEXT
) STRICT;
CREATE INDEX issue_views_project ON issue_views(project_id, name);

-- Personal records: keyed by what they are about, so two devices of one person write one.
CREATE TABLE favorites (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    entity_type  TEXT NOT NULL,
    entity_id    TEXT NOT NULL,
    project_id   TEXT,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    created_by   TEXT,
    deleted_at   TEXT
) STRICT;
CREATE INDEX favorites_user ON favorites(user_id, entity_id) WHERE deleted_at IS NULL;

CREATE TABLE user_properties (
    id                 TEXT PRIMARY KEY,
    workspace_id       TEXT NOT NULL,
    user_id            TEXT NOT NULL,
    entity_type        TEXT NOT NULL,
    entity_id          TEXT NOT NULL,
    project_id         TEXT,
    filters            TEXT NOT NULL DEFAULT '{}',
    display_filters    TEXT NOT NULL DEFAULT '{}',
    display_properties TEXT NOT NULL DEFAULT '{}',
    rich_filters       TEXT NOT NULL DEFAULT '{}',
    extra              TEXT NOT NULL DEFAULT '{}',
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    created_by         TEXT,
    deleted_at         TEXT
) STRICT;
CREATE INDEX user_properties_entity ON user_properties(user_id, entity_type, entity_id);

CREATE TABLE home_preferences (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    key          TEXT NOT NULL,
    is_enabled   INTEGER NOT NULL DEFAULT 1,
    sort_order   INTEGER NOT NULL DEFAULT 65535,
    config       TEXT NOT NULL DEFAULT '{}',
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    created_by   TEXT,
    deleted_at   TEXT
) STRICT;
CREATE INDEX home_preferences_user ON home_preferences(workspace_id, user_id);

CREATE TABLE quick_links (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    title        TEXT NOT NULL,
    url          TEXT NOT NULL,
    sort_order   INTEGER NOT NULL DEFAULT 65535,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    created_by   TEXT,
    deleted_at   TEXT
) STRICT;
CREATE INDEX quick_links_user ON quick_links(workspace_id, user_id) WHERE deleted_at IS NULL;

CREATE TABLE recent_visits (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    entity_type  TEXT NOT NULL,
    entity_id    TEXT NOT NULL,
    project_id   TEXT,
    visited_at   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    created_by   TEXT,
    deleted_at   TEXT
) STRICT;
CREATE INDEX recent_visits_user ON recent_visits(workspace_id, user_id, visited_at);

CREATE TABLE stickies (
    id               TEXT PRIMARY KEY,
    workspace_id     TEXT NOT NULL,
    user_id          TEXT NOT NULL,
    name             TEXT NOT NULL DEFAULT '',
    description_html TEXT NOT NULL DEFAULT '',
    color            TEXT,
    sort_order       INTEGER NOT NULL DEFAULT 65535,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    created_by       TEXT,
    deleted_at       TEXT
) STRICT;
CREATE INDEX stickies_user ON stickies(workspace_id, user_id, sort_order) WHERE deleted_at IS NULL;
