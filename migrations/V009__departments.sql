-- Departments of a workspace (issue 14, seed 003): a tree of at most five levels, in the
-- workspace document. A department's level is not stored: it follows from its parents, so
-- a move never has to rewrite its subtree and a merge cannot leave levels stale. Codes
-- are unique among a workspace's live departments by the record rules, not by an index:
-- two devices may create the same code offline, and both rows must project so the merge
-- can be resolved.
CREATE TABLE departments (
    id                TEXT PRIMARY KEY,
    workspace_id      TEXT NOT NULL,
    name              TEXT NOT NULL,
    code              TEXT NOT NULL,
    short_name        TEXT NOT NULL,
    dept_code         TEXT NOT NULL,
    parent_id         TEXT,
    manager_id        TEXT,
    linked_project_id TEXT,
    is_active         INTEGER NOT NULL DEFAULT 1,
    sort_order        INTEGER NOT NULL DEFAULT 0,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    created_by        TEXT,
    deleted_at        TEXT
) STRICT;
CREATE INDEX departments_tree ON departments(workspace_id, parent_id, sort_order) WHERE deleted_at IS NULL;
CREATE INDEX departments_code ON departments(workspace_id, code) WHERE deleted_at IS NULL;
