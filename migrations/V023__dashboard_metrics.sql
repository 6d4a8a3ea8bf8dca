-- Keel schema, version 23: a workspace's own metrics (seed 004), in its shared dashboards
-- document. A metric is a structured query (`query`, JSON: a measure of the chart builder
-- under filters, or a count of staff) reduced to one number, with its thresholds. Values
-- are computed by each instance off the request path and kept in memory, not here.
CREATE TABLE dashboard_metrics (
    id                 TEXT PRIMARY KEY,
    workspace_id       TEXT NOT NULL,
    name               TEXT NOT NULL,
    description        TEXT NOT NULL DEFAULT '',
    category           TEXT NOT NULL,
    query              TEXT NOT NULL,
    unit               TEXT NOT NULL DEFAULT '',
    format             TEXT NOT NULL DEFAULT 'number',
    target_value       TEXT,
    warning_threshold  TEXT,
    critical_threshold TEXT,
    direction          TEXT NOT NULL DEFAULT 'above',
    refresh_seconds    INTEGER NOT NULL DEFAULT 300,
    is_enabled         INTEGER NOT NULL DEFAULT 1,
    color              TEXT NOT NULL DEFAULT 'blue',
    icon               TEXT NOT NULL DEFAULT '',
    sort_order         INTEGER NOT NULL DEFAULT 0,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    created_by         TEXT,
    deleted_at         TEXT
) STRICT;
CREATE INDEX dashboard_metrics_workspace ON dashboard_metrics(workspace_id, sort_order, name);
