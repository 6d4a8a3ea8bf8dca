-- Keel schema, version 21: dashboards and their widgets (seeds 000, 002, 004). They live in
-- the dashboards documents: the workspace's shared one (`user_id` null) and each person's
-- own (`user_id` that person). A widget's position is one JSON field `{x, y, w, h}` on a
-- 24-column grid.
CREATE TABLE dashboards (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    user_id      TEXT,
    name         TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    is_default   INTEGER NOT NULL DEFAULT 0,
    config       TEXT NOT NULL DEFAULT '{}',
    sort_order   INTEGER NOT NULL DEFAULT 0,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    created_by   TEXT,
    deleted_at   TEXT
) STRICT;
CREATE INDEX dashboards_workspace ON dashboards(workspace_id, user_id, name);

CREATE TABLE dashboard_widgets (
    id              TEXT PRIMARY KEY,
    workspace_id    TEXT NOT NULL,
    user_id         TEXT,
    dashboard_id    TEXT NOT NULL,
    widget_type     TEXT NOT NULL,
    title           TEXT NOT NULL DEFAULT '',
    config          TEXT NOT NULL DEFAULT '{}',
    position        TEXT NOT NULL,
    sort_order      INTEGER NOT NULL DEFAULT 0,
    refresh_seconds INTEGER NOT NULL DEFAULT 300,
    is_visible      INTEGER NOT NULL DEFAULT 1,
    chart_type      TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    created_by      TEXT,
    deleted_at      TEXT
) STRICT;
CREATE INDEX dashboard_widgets_dashboard ON dashboard_widgets(dashboard_id, sort_order);
