-- Managers join their departments' projects (issue 14, seed 003). A project membership
-- records why it exists: `manual` (1 or NULL: added by a person; every membership made
-- before this was) and `via_departments` (the departments, comma-separated ids in order,
-- whose management brings the person in; NULL for none). The manager rule removes a
-- membership only when nothing but departments held it.
ALTER TABLE project_members ADD COLUMN manual INTEGER;
ALTER TABLE project_members ADD COLUMN via_departments TEXT;

-- A project's history of its own (who joined or left it, and why), in the project
-- document, derived from the membership changes of every edit.
CREATE TABLE project_activity (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    project_id   TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    verb         TEXT NOT NULL,
    old_value    TEXT,
    new_value    TEXT,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    created_by   TEXT,
    deleted_at   TEXT
) STRICT;
CREATE INDEX project_activity_project ON project_activity(project_id, created_at);
